// A HAR consumer from Debian (node-request, whose `har` option builds a
// request from a HAR entry's request object after validating it with
// har-validator, and ignores an entry that does not validate): replays
// every HTTP/1.1 entry of HAR whose client handshake was accepted (an
// entry refused at CONNECT never reached HTTP) through the proxy,
// trusting CAFILE, and prints "STATUS-IN-HAR STATUS-NOW URL".
// Exit status 1 when a replay's status differs or none was replayed.
//   NODE_PATH=/usr/share/nodejs node har_replay.js HAR PROXY_URL CAFILE
'use strict';
const fs = require('fs');
const request = require('request');

const [file, proxy, cafile] = process.argv.slice(2);
const har = JSON.parse(fs.readFileSync(file));
const ca = fs.readFileSync(cafile);
const todo = har.log.entries.filter((e) =>
  e.request.httpVersion.startsWith('HTTP/1') && e._chainproxy &&
  e._chainproxy.client_handshake && e._chainproxy.client_handshake.accepted);

let bad = todo.length === 0;
let left = todo.length;
for (const e of todo) {
  request({ har: e.request, proxy, ca, timeout: 20000 }, (err, res) => {
    const now = err ? `error ${err.code || err.message}` : res.statusCode;
    console.log(`${e.response.status} ${now} ${e.request.url}`);
    if (now !== e.response.status) {
      bad = true;
    }
    if (--left === 0) {
      process.exitCode = bad ? 1 : 0;
    }
  });
}
if (todo.length === 0) {
  console.log('no entry to replay');
  process.exitCode = 1;
}
