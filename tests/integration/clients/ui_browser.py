"""Drives a headless Chromium through the DevTools protocol (websockets)
against chainproxy's /ui, and runs the clients whose connections the page
must show. usage:
  ui_browser.py DEVTOOLS_PORT UI_URL SHOT_DIR -- STEP...
where the steps come from the test as JSON on the command line:
  {"curl": [...args]}                 run a client through the proxy
  {"wait_rows": [[host, client, upstream], ...]}   rows the page must show
  {"open": "css selector"}            click a row (opens its detail)
  {"text": [selector, substring]}     an element's text must contain it
  {"click": "css selector"}           click a button
  {"shot": "name", "width": 1280}     a screenshot, SHOT_DIR/name.png
Prints "ok" and every request URL the page made (one per line, "url ").
"""
import asyncio
import base64
import json
import subprocess
import sys
import time
import urllib.request

import websockets


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.urls = []
        self.waiting = {}

    async def reader(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            if msg.get("method") == "Network.requestWillBeSent":
                self.urls.append(msg["params"]["request"]["url"])
            elif msg.get("method") == "Network.loadingFailed":
                print("failed", msg["params"].get("errorText"), file=sys.stderr)
            elif "id" in msg and msg["id"] in self.waiting:
                self.waiting.pop(msg["id"]).set_result(msg)

    async def call(self, method, **params):
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = fut
        await self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                       "params": params}))
        msg = await asyncio.wait_for(fut, 30)
        if "error" in msg:
            raise RuntimeError("%s: %s" % (method, msg["error"]))
        return msg.get("result", {})

    async def js(self, expr):
        r = await self.call("Runtime.evaluate", expression=expr,
                            returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    async def until(self, what, expr, timeout=20):
        end = time.time() + timeout
        value = None
        while time.time() < end:
            value = await self.js(expr)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise RuntimeError("timed out waiting for %s (last: %r)" % (what, value))


ROWS = ("[...document.querySelectorAll('#conns tbody tr')].map(tr => "
        "[tr.dataset.host, tr.dataset.client, tr.dataset.upstream])")


async def main():
    port, url, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    steps = [json.loads(s) for s in sys.argv[sys.argv.index("--") + 1:]]
    targets = json.load(urllib.request.urlopen(
        "http://127.0.0.1:%s/json/list" % port, timeout=10))
    ws_url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
    async with websockets.connect(ws_url, max_size=2 ** 26) as ws:
        page = Page(ws)
        reader = asyncio.create_task(page.reader())
        await page.call("Network.enable")
        await page.call("Page.enable")
        await page.call("Emulation.setDeviceMetricsOverride", width=1280,
                        height=900, deviceScaleFactor=1, mobile=False)
        await page.call("Page.navigate", url=url)
        await page.until("the event stream",
                         "document.querySelector('#status') && "
                         "document.querySelector('#status').textContent"
                         ".startsWith('live')")
        for st in steps:
            if "curl" in st:
                r = subprocess.run(["curl", "-sS", "--max-time", "20"] + st["curl"],
                                   capture_output=True, text=True)
                print("curl:", r.returncode, r.stderr.strip()[:120])
            elif "wait_rows" in st:
                want = json.dumps(st["wait_rows"])
                await page.until("rows " + want,
                                 "(() => { const rows = %s; return %s.every(w => "
                                 "rows.some(r => r[0] === w[0] && (w[1] === null || r[1] === w[1]) "
                                 "&& (w[2] === null || r[2] === w[2]))) })()" % (ROWS, want))
            elif "open" in st:
                await page.until("the row " + st["open"],
                                 "!!document.querySelector(%s)" % json.dumps(st["open"]))
                await page.js("document.querySelector(%s).click()" % json.dumps(st["open"]))
            elif "text" in st:
                sel, sub = st["text"]
                await page.until("%s containing %r" % (sel, sub),
                                 "(() => { const e = document.querySelector(%s); "
                                 "return e && e.textContent.includes(%s) })()"
                                 % (json.dumps(sel), json.dumps(sub)))
            elif "click" in st:
                await page.until("the button " + st["click"],
                                 "!!document.querySelector(%s)" % json.dumps(st["click"]))
                await page.js("document.querySelector(%s).click()" % json.dumps(st["click"]))
            elif "shot" in st:
                width = st.get("width", 1280)
                await page.call("Emulation.setDeviceMetricsOverride", width=width,
                                height=900, deviceScaleFactor=1, mobile=width < 700)
                await asyncio.sleep(0.3)
                png = await page.call("Page.captureScreenshot", format="png",
                                      captureBeyondViewport=True)
                with open("%s/%s.png" % (shots, st["shot"]), "wb") as f:
                    f.write(base64.b64decode(png["data"]))
                await page.call("Emulation.setDeviceMetricsOverride", width=1280,
                                height=900, deviceScaleFactor=1, mobile=False)
        reader.cancel()
        print("ok")
        for u in page.urls:
            print("url", u)


asyncio.run(main())
