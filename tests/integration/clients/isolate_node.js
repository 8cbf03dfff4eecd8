// Node 20 as most code uses it: https.get with no agent and global fetch,
// neither of which reads HTTPS_PROXY. NODE_EXTRA_CA_CERTS (exported by
// chainproxy run) does the trust. Both run, one after the other, whatever
// the first did; one line each: "https.get 200" / "fetch 200", or
// "https.get error CODE" / "fetch error CODE" (exit status 3).
const https = require("https");
const url = process.argv[2];

function viaFetch() {
  fetch(url).then((r) => console.log("fetch " + r.status)).catch((e) => {
    console.log("fetch error " + (e.cause ? e.cause.code : e.message));
    process.exitCode = 3;
  });
}

https.get(url, (res) => {
  res.resume();
  res.on("end", () => {
    console.log("https.get " + res.statusCode);
    viaFetch();
  });
}).on("error", (e) => {
  console.log("https.get error " + e.code);
  process.exitCode = 3;
  viaFetch();
});
