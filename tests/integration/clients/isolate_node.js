// Node 20 as most code uses it: https.get with no agent and global fetch,
// neither of which reads HTTPS_PROXY. NODE_EXTRA_CA_CERTS (exported by
// chainproxy run) does the trust. Prints one line per request:
// "https.get 200" / "fetch 200", or "... error CODE".
const https = require("https");
const url = process.argv[2];
https.get(url, (res) => {
  res.resume();
  res.on("end", () => {
    console.log("https.get " + res.statusCode);
    fetch(url).then((r) => console.log("fetch " + r.status)).catch((e) => {
      console.log("fetch error " + (e.cause ? e.cause.code : e.message));
      process.exitCode = 3;
    });
  });
}).on("error", (e) => {
  console.log("https.get error " + e.code);
  process.exitCode = 3;
});
