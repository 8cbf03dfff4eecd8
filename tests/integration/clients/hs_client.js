// One HTTPS request with Node's https module, printing what the app sees:
// "ok STATUS" or "CODE: message".
//   node hs_client.js URL CAFILE [--proxy HOST:PORT] [--tls-max 1.0|1.2]
//                     [--ciphers LIST] [--timeout SEC]
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');

const [url, cafile, ...rest] = process.argv.slice(2);
const opt = {};
for (let i = 0; i < rest.length; i += 2) opt[rest[i].slice(2)] = rest[i + 1];
const u = new URL(url);
const timeout = Number(opt.timeout || 5) * 1000;
const tlsOpts = { ca: fs.readFileSync(cafile), agent: false, timeout };
if (opt['tls-max']) {
  tlsOpts.minVersion = 'TLSv1';
  tlsOpts.maxVersion = opt['tls-max'] === '1.0' ? 'TLSv1' : 'TLSv1.2';
  tlsOpts.ciphers = 'DEFAULT:@SECLEVEL=0';
}
if (opt.ciphers) tlsOpts.ciphers = opt.ciphers;

function done(text, code) {
  console.log(text);
  process.exit(code);
}

function get(extra) {
  const req = https.get({ host: u.hostname, port: u.port, path: u.pathname,
                          ...tlsOpts, ...extra },
                        (res) => { res.resume(); done(`ok ${res.statusCode}`, 0); });
  req.on('error', (e) => done(`${e.code}: ${e.message}`, 1));
  req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'),
                                                    { code: 'ETIMEDOUT' })));
}

if (opt.proxy) {
  const [ph, pp] = opt.proxy.split(':');
  http.request({ host: ph, port: pp, method: 'CONNECT',
                 path: `${u.hostname}:${u.port}` })
    .on('connect', (res, socket) => get({ socket }))
    .on('error', (e) => done(`proxy: ${e.message}`, 1))
    .end();
} else {
  get({});
}
