#!/usr/bin/python3
"""Validates a HAR file against tests/tools/har12.schema.json (written
from the HAR 1.2 specification) with Debian's python3-jsonschema, and
checks what the schema cannot say: time is the sum of the timings that
apply (ssl counted inside connect, -1 left out). Usage: har_check.py HAR."""
import json
import os
import sys

import jsonschema

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "har12.schema.json")) as f:
    schema = json.load(f)
with open(sys.argv[1]) as f:
    har = json.load(f)
jsonschema.validate(har, schema, format_checker=jsonschema.FormatChecker())
for i, e in enumerate(har["log"]["entries"]):
    t = e["timings"]
    total = sum(max(t.get(k, -1), 0)
                for k in ("blocked", "dns", "connect", "send", "wait",
                          "receive"))
    if abs(total - e["time"]) > 0.001:
        sys.exit(f"entry {i}: time {e['time']} is not the sum {total}")
    if t.get("ssl", -1) >= 0 and t.get("connect", -1) < t["ssl"]:
        sys.exit(f"entry {i}: ssl {t['ssl']} is not inside connect")
print(f"valid HAR 1.2: {len(har['log']['entries'])} entries")
