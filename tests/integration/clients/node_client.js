// Node's https stack through an HTTP proxy, with core modules only: an
// http CONNECT request, then tls.connect over the tunnel socket.
//   node node_client.js PROXY_HOST HOST PORT CAFILE LABEL=PROXY_PORT...
// prints "LABEL<TAB>ok" or "LABEL<TAB>CODE: message".
'use strict';
const fs = require('fs');
const http = require('http');
const tls = require('tls');

const [proxyHost, host, port, cafile, ...cells] = process.argv.slice(2);
const ca = fs.readFileSync(cafile);

function one(proxyPort) {
  return new Promise((resolve) => {
    const req = http.request({
      host: proxyHost, port: proxyPort, method: 'CONNECT',
      path: `${host}:${port}`, timeout: 20000,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve(`CONNECT ${res.statusCode}`);
        return;
      }
      const s = tls.connect({ socket, servername: host, ca });
      s.on('secureConnect', () => { s.end(); resolve('ok'); });
      s.on('error', (e) => { s.destroy(); resolve(`${e.code}: ${e.message}`); });
    });
    req.on('error', (e) => resolve(`proxy: ${e.message}`));
    req.on('timeout', () => { req.destroy(); resolve('timeout'); });
    req.end();
  });
}

(async () => {
  for (const cell of cells) {
    const [label, proxyPort] = cell.split('=');
    console.log(`${label}\t${await one(Number(proxyPort))}`);
  }
})();
