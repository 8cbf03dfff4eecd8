// GET / from one catalogue case with Node's https module, trusting only
// the catalogue CA (ca replaces Node's roots):
//   node catalogue_node.js CA_FILE NAME PORT
// prints "ok <body's first line>" or "error CODE: message".
'use strict';
const fs = require('fs');
const https = require('https');

const [caFile, name, port] = process.argv.slice(2);
const req = https.get({
  host: '127.0.0.1', port: Number(port), path: '/',
  servername: `${name}.chainproxy.test`,
  headers: { host: `${name}.chainproxy.test` },
  ca: fs.readFileSync(caFile), timeout: 10000,
  checkServerIdentity: (h, cert) =>
    require('tls').checkServerIdentity(`${name}.chainproxy.test`, cert),
}, (res) => {
  let body = '';
  res.on('data', (d) => { body += d; });
  res.on('end', () => { console.log(`ok ${body.split('\n')[0]}`); });
});
req.on('error', (e) => { console.log(`error ${e.code}: ${e.message}`); process.exitCode = 1; });
req.on('timeout', () => { req.destroy(new Error('timeout')); });
