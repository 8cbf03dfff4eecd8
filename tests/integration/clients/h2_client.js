// Node's http2 client through chainproxy (CONNECT, then TLS with ALPN h2
// inside the tunnel). usage: node h2_client.js PROXY_PORT HOST PORT CAFILE
// Checks a GET, a 2 MiB POST echoed as its digest, trailers, and 50
// concurrent streams on the one connection; prints a line per check.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const http2 = require('http2');
const tls = require('tls');

const [proxyPort, host, port, cafile] = process.argv.slice(2);
let failed = 0;

function check(cond, what) {
  console.log((cond ? 'ok   ' : 'FAIL ') + what);
  if (!cond) failed++;
}

function tunnel() {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort,
                              method: 'CONNECT', path: `${host}:${port}`});
    req.on('connect', (res, socket) => res.statusCode === 200
        ? resolve(socket) : reject(new Error(`CONNECT ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

function request(session, headers, body) {
  return new Promise((resolve, reject) => {
    const req = session.request(headers);
    const chunks = [];
    let resHeaders, trailers = {};
    req.on('response', (h) => { resHeaders = h; });
    req.on('trailers', (t) => { trailers = t; });
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => resolve({headers: resHeaders, trailers,
                                 body: Buffer.concat(chunks)}));
    req.on('error', reject);
    req.end(body);
  });
}

(async () => {
  const socket = await tunnel();
  const session = http2.connect(`https://${host}:${port}`, {
    createConnection: () => tls.connect({socket, servername: host,
                                         ALPNProtocols: ['h2'],
                                         ca: fs.readFileSync(cafile)}),
  });
  let r = await request(session, {':path': '/hello'});
  check(r.headers[':status'] === 200 &&
        r.body.toString() === 'hello from h2 origin\n', 'GET over h2');
  check(r.headers['x-seen-via'] === '2 chainproxy', 'Via added upstream');
  const big = crypto.randomBytes(2 << 20);
  r = await request(session, {':path': '/echo', ':method': 'POST'}, big);
  const want = `${big.length} ${crypto.createHash('sha256').update(big)
      .digest('hex')}\n`;
  check(r.body.toString() === want, '2 MiB POST arrives whole');
  r = await request(session, {':path': '/trailers'});
  check(r.trailers['grpc-status'] === '0' &&
        r.body.toString() === 'body before trailers\n', 'trailers relayed');
  const many = await Promise.all(Array.from({length: 50}, (_, i) =>
    request(session, {':path': `/bytes/${1000 + i}`})));
  check(many.every((x, i) => x.body.length === 1000 + i),
        '50 concurrent streams on one connection');
  session.close();
  process.exitCode = failed ? 1 : 0;
})().catch((e) => { check(false, e.message); process.exitCode = 1; });
