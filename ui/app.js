// chainproxy's web view: the control API's event stream drawn as a table
// of connections and, for one connection, its chains. No framework, no
// request to any other origin; rule changes are the API's own calls.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const MAX_ROWS = 500; // the browser keeps this many connections
const BLOCKING = /^(upstream_verify_failed|upstream_tls_failed|parent_proxy_|connection_refused|dns_failure|connect_failed|connect_timeout|blocked)/;
const PROFILE_ROOT = {
  modern: "chainproxy's modern root (root.pem)",
  legacy: "the expired legacy root (legacy-root.pem), through the cross-sign",
  expired: "the modern root, with an expired leaf",
  "not-yet-valid": "the modern root, with a leaf not yet valid",
  "wrong-host": "the modern root, with a leaf for another name",
  "self-signed": "no root: the leaf signs itself",
  "untrusted-root": "an untrusted root nobody was given",
  incomplete: "the modern root, with the intermediate left out",
};
const conns = new Map();
let lastId = 0; // a reconnecting stream replays: each event counts once
let selected = null;
let dirty = false;

function $(sel) { return document.querySelector(sel); }

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "style") Object.assign(e.style, v); // CSSOM: the CSP forbids style attributes
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) {
    if (k !== null && k !== undefined) e.append(k);
  }
  return e;
}

function withToken(path) {
  if (!token) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

function api(path, opts) {
  opts = opts || {};
  opts.headers = Object.assign({}, opts.headers, token ? { Authorization: "Bearer " + token } : {});
  return fetch(path, opts);
}

function status(text) { $("#status").textContent = text; }

// ---- views -----------------------------------------------------------
function show(view) {
  for (const b of document.querySelectorAll("nav button")) {
    b.setAttribute("aria-pressed", String(b.dataset.view === view));
  }
  for (const s of ["conns", "rules", "trust"]) {
    $("#view-" + s).hidden = s !== view;
  }
  if (view === "rules") loadRules();
}

// ---- the event stream --------------------------------------------------
function conn(ev) {
  let c = conns.get(ev.conn);
  if (!c) {
    c = { id: ev.conn, requests: 0, bytes: 0, faults: [] };
    conns.set(ev.conn, c);
    if (conns.size > MAX_ROWS) conns.delete(conns.keys().next().value);
  }
  if (ev.host) { c.host = ev.host; c.port = ev.port; }
  return c;
}

function onEvent(kind, ev) {
  if (ev.conn === undefined || ev.conn === 0) return;
  const c = conn(ev);
  switch (kind) {
    case "connect": c.ts = ev.ts; c.client = ev.client; c.mode = ev.mode; break;
    case "client_handshake": c.hs = ev; break;
    case "upstream_verify": c.verify = ev; break;
    case "request": c.requests++; c.bytes += ev.bytes_to_client || 0; break;
    case "error": if (BLOCKING.test(ev.error)) c.blocked = ev; else c.error = ev; break;
    case "fault": c.faults.push(ev.fault); break;
    case "close": c.closed = ev.reason; break;
  }
  if (!c.ts) c.ts = ev.ts;
  if (!dirty) { dirty = true; requestAnimationFrame(render); }
}

function clientOutcome(c) {
  if (!c.hs) return { text: "—", cls: "" };
  if (c.hs.accepted) return { text: "✔ accepted" + (c.hs.version ? " (" + c.hs.version + ")" : ""), cls: "ok", state: "accepted" };
  const who = c.hs.refused_by === "chainproxy" ? "refused by chainproxy" : "rejected by the client";
  const why = c.hs.alert ? "alert " + c.hs.alert : "no alert";
  return { text: "✖ " + who + " (" + why + (c.hs.cause ? ", " + c.hs.cause : "") + ")", cls: "fail", state: "rejected" };
}

function upstreamOutcome(c) {
  if (c.blocked) return { text: "✖ blocked: " + (c.verify && !c.verify.ok ? c.verify.cause : c.blocked.error), cls: "fail", state: "blocked" };
  if (!c.verify) return { text: c.mode === "forward" ? "plain HTTP" : "—", cls: "" };
  if (c.verify.ok) return { text: "✔ verified" + (c.verify.warning ? " (⚠ " + c.verify.warning + ")" : ""), cls: c.verify.warning ? "warn" : "ok" };
  return { text: "✖ failed: " + c.verify.cause, cls: "fail", state: "failed" };
}

function visible(c) {
  const host = $("#f-host").value.trim().toLowerCase();
  const want = $("#f-outcome").value;
  if (host && !(c.host || "").toLowerCase().includes(host)) return false;
  if (!want) return true;
  const cs = clientOutcome(c).state, us = upstreamOutcome(c).state;
  if (want === "fail") return cs === "rejected" || us === "blocked";
  if (want === "accepted") return cs === "accepted";
  if (want === "rejected") return cs === "rejected";
  return us === "blocked";
}

function render() {
  dirty = false;
  const body = $("#conns tbody");
  const rows = [...conns.values()].filter((c) => c.host).sort((a, b) => b.id - a.id);
  body.replaceChildren(...rows.filter(visible).map((c) => {
    const co = clientOutcome(c), uo = upstreamOutcome(c);
    const tr = el("tr", {
      tabindex: "0", "data-conn": String(c.id), "data-host": c.host,
      "data-client": co.state || "", "data-upstream": uo.state || "",
      class: c.id === selected ? "selected" : "",
      onclick: () => detail(c.id),
      onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); detail(c.id); } },
    },
      el("td", { "data-label": "Time" }, (c.ts || "").slice(11, 23)),
      el("td", { "data-label": "Client" }, c.client || ""),
      el("td", { "data-label": "Host" }, c.host + ":" + c.port),
      el("td", { "data-label": "Chain served", class: "profile" }, c.hs ? c.hs.profile : "—"),
      el("td", { "data-label": "Client outcome", class: "client " + co.cls }, co.text),
      el("td", { "data-label": "Upstream", class: "upstream " + uo.cls }, uo.text),
      el("td", { "data-label": "Requests" }, String(c.requests)),
      el("td", { "data-label": "Bytes" }, String(c.bytes)));
    return tr;
  }));
  if (selected !== null && conns.has(selected)) detail(selected, true);
}

// ---- one connection's chains -----------------------------------------
function validityBar(nb, na, from, to) {
  const span = to - from || 1, now = Date.now();
  const left = ((nb - from) / span) * 100, width = ((na - nb) / span) * 100;
  return el("div", { class: "validity", role: "img",
    "aria-label": "valid " + new Date(nb).toISOString().slice(0, 10) + " to " + new Date(na).toISOString().slice(0, 10) + (na < now ? ", expired" : "") },
    el("div", { class: "span" + (na < now ? " expired" : ""), style: { left: left + "%", width: width + "%" } }),
    el("div", { class: "now", style: { left: ((now - from) / span) * 100 + "%" }, title: "now" }));
}

function certBox(cert, failing, v, from, to, inStore) {
  const box = el("div", { class: "cert" + (failing ? " failing" : ""), "data-sha256": cert.sha256 || "" },
    el("h4", {}, (failing ? "✖ " : "") + "depth " + cert.depth + ": " + cert.subject));
  const dl = el("dl", {});
  const add = (k, val) => { if (val) dl.append(el("dt", {}, k), el("dd", {}, val)); };
  add("issuer", cert.issuer);
  add("valid", cert.not_before && (cert.not_before + " – " + cert.not_after));
  add("key", cert.key_type && (cert.key_type + " " + cert.key_bits));
  add("signature", cert.signature);
  add("in store", inStore === undefined ? null : (inStore ? "yes (a trust anchor)" : "no"));
  box.append(dl);
  if (cert.not_before && cert.not_after) {
    box.append(validityBar(Date.parse(cert.not_before), Date.parse(cert.not_after), from, to));
  }
  if (failing) box.append(el("p", { class: "error" }, "✖ error " + v.error_code + ": " + v.error));
  return box;
}

// One family's simulated path, leaf first: each element with where it
// came from; an element with errors is drawn in red with them.
function familyPath(w) {
  const bad = w.simulated_verdict === "fail";
  const col = el("div", { class: "chain", "data-family": w.family },
    el("h5", { class: bad ? "fail" : "ok" }, w.family + ": " + (bad ? "✖ " + (w.simulated_error || "fails") : "✔ passes")));
  for (const [i, p] of w.path.entries()) {
    const failing = p.errors.length > 0;
    col.append(el("div", { class: "cert pathel" + (failing ? " failing" : "") },
      el("h4", {}, (failing ? "✖ " : "") + i + ": " + p.subject),
      el("p", {}, "from " + p.from + (failing ? " — " + p.errors.join(", ") : ""))));
  }
  if (w.horizon) col.append(el("p", {}, "stops accepting this chain on " + w.horizon));
  if (w.fix) {
    for (const k of ["chain", "store"]) if (w.fix[k]) col.append(el("p", { class: "hint fix" }, "fix: " + w.fix[k]));
  }
  return col;
}

function detail(id, quiet) {
  const c = conns.get(id);
  const d = $("#detail");
  if (!c) return;
  selected = id;
  for (const tr of document.querySelectorAll("#conns tbody tr")) {
    tr.classList.toggle("selected", Number(tr.dataset.conn) === id);
  }
  const v = c.verify, kids = [el("h3", {}, c.host + ":" + c.port + " — connection " + c.id)];
  if (v && v.chain) {
    const built = v.built_chain || [];
    const failSha = !v.ok && v.error_depth !== undefined && built[v.error_depth] ? built[v.error_depth].sha256 : null;
    const times = v.chain.flatMap((x) => [Date.parse(x.not_before), Date.parse(x.not_after)]).filter((t) => !isNaN(t));
    const from = Math.min(...times, Date.now()), to = Math.max(...times, Date.now());
    const presented = el("div", { class: "chain" }, el("h4", {}, "Presented by the origin"),
      ...v.chain.map((x) => certBox(x, failSha !== null && x.sha256 === failSha, v, from, to)));
    const byHash = new Map(v.chain.map((x) => [x.sha256, x]));
    const builtCol = el("div", { class: "chain" }, el("h4", {}, "Path built"),
      ...built.map((b) => certBox(Object.assign({}, byHash.get(b.sha256) || { subject: b.subject }, { depth: b.depth, sha256: b.sha256 }),
        failSha !== null && b.sha256 === failSha, v, from, to, b.in_store)));
    kids.push(el("p", { class: v.ok ? "ok" : "fail" }, v.ok ? "✔ the upstream chain verified" : "✖ the upstream chain failed: " + v.cause));
    kids.push(el("div", { class: "chains" }, presented, builtCol));
    if (v.hint) kids.push(el("p", { class: "hint" }, v.hint));
    if (v.clients) {
      kids.push(el("h4", {}, "Who breaks"));
      kids.push(el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Client family"), el("th", { scope: "col" }, "Verdict"), el("th", { scope: "col" }, "Error"))),
        el("tbody", {}, ...v.clients.map((w) => el("tr", {}, el("td", {}, w.family),
          el("td", { class: w.verdict === "fail" ? "fail" : "ok" }, (w.verdict === "fail" ? "✖ " : "✔ ") + w.verdict), el("td", {}, w.error || ""))))));
      const sims = v.clients.filter((w) => w.path);
      if (sims.length) {
        kids.push(el("h4", {}, "Each family's path (simulated)"));
        kids.push(el("div", { class: "chains family-paths" }, ...sims.map(familyPath)));
      }
    }
  } else if (c.blocked || c.error) {
    const e = c.blocked || c.error;
    kids.push(el("p", { class: "fail" }, "✖ " + e.error + ": " + e.message));
  }
  if (c.hs) {
    const co = clientOutcome(c);
    kids.push(el("h4", {}, "Served to the client"));
    kids.push(el("p", {}, "profile ", el("strong", {}, c.hs.profile), ", leading to " + (PROFILE_ROOT[c.hs.profile] || "its profile's root") + "; ",
      el("span", { class: co.cls }, co.text)));
    kids.push(el("ol", { start: "0" }, ...(c.hs.served || []).map((h) => el("li", {}, el("code", {}, h)))));
  }
  kids.push(el("p", {},
    el("button", { type: "button", onclick: () => setRule(c.host, "legacy") }, "Serve legacy to " + c.host),
    " ",
    el("button", { type: "button", onclick: () => setRule(c.host, "modern") }, "Serve modern to " + c.host),
    " ",
    el("button", { type: "button", onclick: () => deleteRule(c.host) }, "Remove " + c.host + "'s rule")));
  kids.push(el("p", { id: "detail-msg", role: "status" }));
  d.replaceChildren(...kids);
  d.hidden = false;
  if (!quiet) d.scrollIntoView({ block: "nearest" });
}

// ---- rules -------------------------------------------------------------
async function setRule(host, chain) {
  const r = await api("/rules/" + encodeURIComponent(host), { method: "PUT", body: JSON.stringify({ chain }) });
  const msg = r.ok ? "rule set: " + host + " → " + chain + " (the next connection uses it)" : "error: " + (await r.text());
  for (const m of document.querySelectorAll("#detail-msg, #rule-msg")) m.textContent = msg;
  loadRules();
}

async function deleteRule(host) {
  const r = await api("/rules/" + encodeURIComponent(host), { method: "DELETE" });
  const msg = r.ok ? "rule removed: " + host : "error: " + (await r.text());
  for (const m of document.querySelectorAll("#detail-msg, #rule-msg")) m.textContent = msg;
  loadRules();
}

async function loadRules() {
  const r = await api("/rules");
  if (!r.ok) { $("#rule-msg").textContent = "cannot read the rules: " + r.status; return; }
  const j = await r.json();
  $("#rules tbody").replaceChildren(...j.rules.map((x) => {
    const other = Object.entries(x).filter(([k]) => !["host", "port", "chain"].includes(k))
      .map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join(", ");
    return el("tr", {}, el("td", {}, x.host), el("td", {}, x.port === null ? "any" : String(x.port)),
      el("td", {}, x.chain || "(" + j.default + ")"), el("td", {}, other),
      el("td", {}, el("button", { type: "button", onclick: () => deleteRule(x.host) }, "Remove")));
  }));
}

// ---- start -------------------------------------------------------------
function start() {
  for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => show(b.dataset.view));
  $("#f-host").addEventListener("input", render);
  $("#f-outcome").addEventListener("change", render);
  $("#filters").addEventListener("submit", (e) => e.preventDefault());
  $("#rule-form").addEventListener("submit", (e) => { e.preventDefault(); setRule($("#r-host").value.trim(), $("#r-chain").value); });
  $("#dl-root").href = withToken("/ca.pem");
  $("#dl-har").href = withToken("/har");
  $("#dl-legacy").href = withToken("/ca/legacy-root.pem");
  const es = new EventSource(withToken("/events/stream?since=0"));
  es.onopen = () => status("live: events as they happen");
  // chainproxy's own "error" events arrive as MessageEvents of that type,
  // which EventSource also hands to onerror: only a data-less one is the
  // stream's failure.
  es.onerror = (e) => { if (e.data === undefined) status("the event stream was lost; the browser retries"); };
  for (const k of ["connect", "client_handshake", "upstream_verify", "request", "error", "fault", "close"]) {
    es.addEventListener(k, (e) => {
      if (e.data === undefined) return; // the stream's own error
      const id = Number(e.lastEventId);
      if (id && id <= lastId) return;
      lastId = Math.max(lastId, id);
      onEvent(k, JSON.parse(e.data));
    });
  }
}

document.addEventListener("DOMContentLoaded", start);
