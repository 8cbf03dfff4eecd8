// One TLS handshake with Node's tls module, trusting only CAFILE: prints
// "ok" or "CODE: message" as an app's error handler would see it.
//   node node_verify.js HOST PORT SERVERNAME CAFILE
'use strict';
const fs = require('fs');
const tls = require('tls');

const [host, port, servername, cafile] = process.argv.slice(2);
const s = tls.connect({
  host, port: Number(port), servername, ca: fs.readFileSync(cafile),
  timeout: 10000,
});
s.on('secureConnect', () => { console.log('ok'); s.end(); });
s.on('timeout', () => { console.log('timeout'); s.destroy(); process.exitCode = 1; });
s.on('error', (e) => {
  console.log(`${e.code}: ${e.message}`);
  s.destroy();
  process.exitCode = 1;
});
