// The Node "ws" client (Debian's node-ws) through chainproxy: wss:// over
// an intercepted CONNECT tunnel, opened by a small https.Agent as proxy
// agents do. usage: node ws_client.js PROXY_PORT HOST ORIGIN_PORT CAFILE
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const tls = require('tls');
const WebSocket = require('ws');

const [proxyPort, host, originPort, cafile] = process.argv.slice(2);
const ca = fs.readFileSync(cafile);
let failed = 0;

function check(cond, what) {
  console.log((cond ? 'ok   ' : 'FAIL ') + what);
  if (!cond) failed++;
}

class ConnectAgent extends https.Agent {
  createConnection(options, cb) {
    const req = http.request({
      host: '127.0.0.1', port: proxyPort, method: 'CONNECT',
      path: `${options.host}:${options.port}`,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        cb(new Error(`CONNECT answered ${res.statusCode}`));
        return;
      }
      cb(null, tls.connect({socket, servername: options.host, ca}));
    });
    req.on('error', cb);
    req.end();
  }
}

const sizes = [1, 125, 126, 65535, 65536, 1 << 20];
const ws = new WebSocket(`wss://${host}:${originPort}/echo`,
                         {agent: new ConnectAgent(), maxPayload: 4 << 20});
let step = -1;
let sent;
ws.on('message', (data, isBinary) => {
  if (step === -1) {
    check(!isBinary && data.toString() === 'hello from origin',
          "the origin's first message arrives");
  } else {
    check(isBinary && Buffer.compare(data, sent) === 0,
          `binary echo of ${sizes[step]} bytes`);
  }
  step++;
  if (step < sizes.length) {
    sent = require('crypto').randomBytes(sizes[step]);
    ws.send(sent);
  } else {
    ws.close(1000);
  }
});
ws.on('close', (code) => {
  check(code === 1000, `close handshake (code ${code})`);
  process.exit(failed || step !== sizes.length ? 1 : 0);
});
ws.on('error', (e) => {
  check(false, `error: ${e.message}`);
  process.exit(1);
});
setTimeout(() => { check(false, 'timed out'); process.exit(1); }, 20000);
