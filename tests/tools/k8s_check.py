#!/usr/bin/env python3
"""Checks deploy/k8s without a cluster: each manifest against a JSON
Schema of the fields chainproxy's manifests use (the subset of the
Kubernetes API they rely on, with its types and required fields), then
the links between them that a cluster would only reveal at run time:
selectors and labels, named ports, probes on the control port, the CA
Secret mounted read-only and copied into the CA home, the rules
ConfigMap mounted where --rules points. Prints the container's args, one
per line, for the caller to parse with the real binary.
usage: k8s_check.py DIR"""
import os
import sys

import jsonschema
import yaml

NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
META = {"type": "object", "required": ["name"],
        "properties": {"name": NAME, "labels": {"type": "object"}}}
PORT_REF = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535},
                      NAME]}
PROBE = {"type": "object", "required": ["httpGet"], "properties": {
    "httpGet": {"type": "object", "required": ["path", "port"],
                "properties": {"path": {"type": "string"},
                               "port": PORT_REF}},
    "periodSeconds": {"type": "integer", "minimum": 1},
    "failureThreshold": {"type": "integer", "minimum": 1}}}
MOUNT = {"type": "object", "required": ["name", "mountPath"],
         "properties": {"name": NAME, "mountPath": {"type": "string"},
                        "readOnly": {"type": "boolean"}}}
CONTAINER = {"type": "object", "required": ["name", "image"], "properties": {
    "name": NAME, "image": {"type": "string"},
    "args": {"type": "array", "items": {"type": "string"}},
    "command": {"type": "array", "items": {"type": "string"}},
    "env": {"type": "array", "items": {"type": "object",
                                       "required": ["name"]}},
    "ports": {"type": "array", "items": {
        "type": "object", "required": ["containerPort"],
        "properties": {"name": NAME, "containerPort": {
            "type": "integer", "minimum": 1, "maximum": 65535}}}},
    "livenessProbe": PROBE, "readinessProbe": PROBE,
    "volumeMounts": {"type": "array", "items": MOUNT},
    "securityContext": {"type": "object"}, "resources": {"type": "object"}},
    "additionalProperties": False}
SCHEMAS = {
    ("apps/v1", "Deployment"): {
        "type": "object", "required": ["metadata", "spec"], "properties": {
            "metadata": META,
            "spec": {"type": "object",
                     "required": ["selector", "template"], "properties": {
                         "replicas": {"type": "integer", "minimum": 1},
                         "selector": {"type": "object",
                                      "required": ["matchLabels"]},
                         "template": {
                             "type": "object",
                             "required": ["metadata", "spec"],
                             "properties": {"spec": {
                                 "type": "object",
                                 "required": ["containers"],
                                 "properties": {
                                     "containers": {"type": "array",
                                                    "minItems": 1,
                                                    "items": CONTAINER},
                                     "initContainers": {"type": "array",
                                                        "items": CONTAINER},
                                     "volumes": {"type": "array"},
                                     "securityContext": {"type": "object"}},
                             }}}}}}},
    ("v1", "Service"): {
        "type": "object", "required": ["metadata", "spec"], "properties": {
            "metadata": META,
            "spec": {"type": "object", "required": ["selector", "ports"],
                     "properties": {"ports": {"type": "array", "items": {
                         "type": "object", "required": ["port"],
                         "properties": {"name": NAME, "port": {
                             "type": "integer"}, "targetPort": PORT_REF}}}}}}},
    ("v1", "ConfigMap"): {
        "type": "object", "required": ["metadata", "data"], "properties": {
            "metadata": META,
            "data": {"type": "object",
                     "additionalProperties": {"type": "string"}}}},
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "type": "object", "required": ["metadata", "spec"], "properties": {
            "metadata": META,
            "spec": {"type": "object", "required": ["selector", "endpoints"],
                     "properties": {"endpoints": {"type": "array", "items": {
                         "type": "object", "required": ["port"]}}}}}},
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"): {
        "type": "object", "required": ["resources"], "properties": {
            "resources": {"type": "array", "items": {"type": "string"}}}},
}


def fail(msg):
    sys.exit("k8s_check: " + msg)


def main():
    d = sys.argv[1]
    docs = {}
    for f in sorted(os.listdir(d)):
        if not f.endswith(".yaml"):
            continue
        with open(os.path.join(d, f)) as fh:
            for doc in yaml.safe_load_all(fh):
                key = (doc.get("apiVersion"), doc.get("kind"))
                if key not in SCHEMAS:
                    fail("%s: unexpected %s %s" % (f, key[0], key[1]))
                try:
                    jsonschema.validate(doc, SCHEMAS[key])
                except jsonschema.ValidationError as e:
                    fail("%s: %s at %s" % (f, e.message, list(e.path)))
                docs[key[1]] = (f, doc)
    for k in ("Deployment", "Service", "ConfigMap", "ServiceMonitor",
              "Kustomization"):
        if k not in docs:
            fail("no %s" % k)
    for r in docs["Kustomization"][1]["resources"]:
        if not os.path.isfile(os.path.join(d, r)):
            fail("kustomization.yaml lists %s, which does not exist" % r)
    dep = docs["Deployment"][1]
    pod = dep["spec"]["template"]
    labels = pod["metadata"].get("labels", {})
    for k, v in dep["spec"]["selector"]["matchLabels"].items():
        if labels.get(k) != v:
            fail("the Deployment's selector does not match its pods")
    svc = docs["Service"][1]
    for k, v in svc["spec"]["selector"].items():
        if labels.get(k) != v:
            fail("the Service selects no pod of the Deployment")
    c = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    for p in svc["spec"]["ports"]:
        if isinstance(p.get("targetPort"), str) and p["targetPort"] not in ports:
            fail("Service port %s targets no container port" % p["name"])
    names = {p.get("name") for p in svc["spec"]["ports"]}
    for e in docs["ServiceMonitor"][1]["spec"]["endpoints"]:
        if e["port"] not in names:
            fail("ServiceMonitor scrapes a port the Service lacks")
        if e.get("path") != "/metrics":
            fail("ServiceMonitor does not scrape /metrics")
    args = c.get("args", [])
    opt = {args[i]: args[i + 1] for i in range(len(args) - 1)
           if args[i].startswith("--")}
    control = int(opt.get("--control", ":0").rsplit(":", 1)[1])
    if ports.get("control") != control or \
            ports.get("proxy") != int(opt["--listen"].rsplit(":", 1)[1]):
        fail("container ports do not match --listen and --control")
    for probe in ("livenessProbe", "readinessProbe"):
        g = c[probe]["httpGet"]
        if g["path"] != "/healthz" or g["port"] not in ("control", control):
            fail("%s is not GET /healthz on the control port" % probe)
    if opt.get("--events") != "-":
        fail("events do not go to stdout (--events -)")
    if not opt.get("--listen", "").startswith("127.") and "--allow" not in opt:
        fail("a listener off loopback without --allow")
    vols = {v["name"]: v for v in pod["spec"].get("volumes", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    home = next(e["value"] for e in c.get("env", [])
                if e["name"] == "CHAINPROXY_HOME")
    secret = [n for n, v in vols.items() if "secret" in v]
    if not secret or vols[secret[0]]["secret"].get("defaultMode") != 0o400:
        fail("the CA is not a Secret volume of mode 0400")
    init = pod["spec"].get("initContainers", [])
    if not any(m["name"] == secret[0] and m.get("readOnly") for i in init
               for m in i.get("volumeMounts", [])):
        fail("the CA Secret is not mounted read-only by the init container")
    # The CA home is the emptyDir's mount or a directory in it (the
    # emptyDir itself is root's and world-writable: chainproxy refuses it).
    home_vol = [n for n, m in mounts.items()
                if home == m["mountPath"] or
                home.startswith(m["mountPath"].rstrip("/") + "/")]
    if not home_vol or not any(m["name"] == home_vol[0] for i in init
                               for m in i.get("volumeMounts", [])):
        fail("the init container does not fill the CA home %s" % home)
    rules = opt.get("--rules")
    cm = [n for n, v in vols.items() if "configMap" in v]
    if rules:
        m = [mounts[n] for n in cm if n in mounts]
        if not m or os.path.dirname(rules) != m[0]["mountPath"]:
            fail("--rules %s is not in the ConfigMap's mount" % rules)
        key = os.path.basename(rules)
        if key not in docs["ConfigMap"][1]["data"]:
            fail("the ConfigMap has no %s" % key)
        with open(os.path.join(os.environ.get("WORK", "/tmp"),
                               "k8s-rules.json"), "w") as fh:
            fh.write(docs["ConfigMap"][1]["data"][key])
    print("\n".join(args))


if __name__ == "__main__":
    main()
