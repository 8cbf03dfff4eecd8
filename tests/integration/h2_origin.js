// An HTTP/2-only TLS origin (allowHTTP1: false, as gRPC-style services
// run): usage: node h2_origin.js CERT KEY; prints "ready PORT".
//   GET  /hello          "hello from h2 origin"
//   POST /echo           the SHA-256 and length of the request body
//   GET  /bytes/N        N bytes
//   GET  /trailers       a body, then trailers (grpc-status: 0)
//   GET  /slow           "slow", after 1.5 s
//   GET  /hang           never answered (prints "got /hang")
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http2 = require('http2');

const [cert, key] = process.argv.slice(2);
const server = http2.createSecureServer({
  cert: fs.readFileSync(cert), key: fs.readFileSync(key), allowHTTP1: false,
});
server.on('stream', (stream, headers) => {
  const path = headers[':path'];
  if (path === '/hello') {
    stream.respond({':status': 200, 'content-type': 'text/plain',
                    'x-seen-via': headers['via'] || ''});
    stream.end('hello from h2 origin\n');
  } else if (path === '/echo') {
    const h = crypto.createHash('sha256');
    let n = 0;
    stream.on('data', (d) => { h.update(d); n += d.length; });
    stream.on('end', () => {
      stream.respond({':status': 200});
      stream.end(`${n} ${h.digest('hex')}\n`);
    });
  } else if (path.startsWith('/bytes/')) {
    const n = parseInt(path.slice(7), 10);
    stream.respond({':status': 200, 'content-length': String(n)});
    stream.end(Buffer.alloc(n, 'x'));
  } else if (path.startsWith('/slow')) {
    console.log('got /slow');
    setTimeout(() => {
      stream.respond({':status': 200});
      stream.end('slow\n');
    }, 1500);
  } else if (path === '/hang') {
    console.log('got /hang'); // and no answer, ever
  } else if (path === '/trailers') {
    stream.respond({':status': 200}, {waitForTrailers: true});
    stream.on('wantTrailers', () => stream.sendTrailers({'grpc-status': '0'}));
    stream.end('body before trailers\n');
  } else {
    stream.respond({':status': 404});
    stream.end();
  }
});
server.listen(0, '127.0.0.1', () => {
  console.log(`ready ${server.address().port}`);
});
