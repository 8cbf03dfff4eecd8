// One GET with Node's http2 client (ALPN: h2 only) through chainproxy;
// prints the status, the x-chainproxy-error header and the body.
// usage: node h2_get.js PROXY_PORT HOST PORT PATH CAFILE
'use strict';
const fs = require('fs');
const http = require('http');
const http2 = require('http2');
const tls = require('tls');

const [proxyPort, host, port, path, cafile] = process.argv.slice(2);
const req = http.request({host: '127.0.0.1', port: proxyPort,
                          method: 'CONNECT', path: `${host}:${port}`});
req.on('connect', (res, socket) => {
  const session = http2.connect(`https://${host}:${port}`, {
    createConnection: () => tls.connect({socket, servername: host,
                                         ALPNProtocols: ['h2'],
                                         ca: fs.readFileSync(cafile)}),
  });
  session.on('error', (e) => { console.log(`error ${e.message}`); });
  const r = session.request({':path': path});
  let status, err, body = '';
  r.on('response', (h) => { status = h[':status']; err = h['x-chainproxy-error']; });
  r.on('data', (d) => { body += d; });
  r.on('end', () => {
    console.log(`${status} ${err}\n${body}`);
    session.close();
  });
});
req.end();
