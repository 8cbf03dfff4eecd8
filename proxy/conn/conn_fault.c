#include "conn/conn_fault.h"

#include <stdarg.h>
#include <stdio.h>

#include "conn/conn_respond.h"
#include "base/err.h"


const cp_rule_t *cp_conn_fault_rule(const cp_conn_t *c, const char *host,
                                    uint16_t port) {
  const cp_rule_t *ru = cp_rules_find(&c->snap->rules, host, port);

  return ru != NULL && cp_rule_has_faults(ru) ? ru : NULL;
}


void cp_conn_fault_record(cp_conn_t *c, cp_fault_e fault, long long value,
                          const char *fmt, ...) {
  cp_event_base_t b = cp_conn_base(c);
  char detail[256];
  va_list ap;

  if (c->fault.applied & (1u << fault)) {
    return;
  }
  c->fault.applied |= 1u << fault;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof(detail), fmt, ap);
  va_end(ap);
  cp_conn_log(c, CP_LOG_INFO, "fault %s: %s", cp_rule_fault_name(fault),
              detail);
  cp_event_fault(c->env->events, &b, cp_rule_fault_name(fault), value, detail);
}


static void on_reset(void *arg) {
  cp_conn_t *c = arg;

  cp_conn_fault_record(c, CP_FAULT_RESET, (long long)c->client.bytes_out,
                       "connection reset after %llu bytes to the client",
                       (unsigned long long)c->client.bytes_out);
  cp_leg_reset(&c->client);
  cp_conn_abort(c, "fault_reset");
}


int cp_conn_fault_shape(cp_conn_t *c, const cp_rule_t *ru) {
  cp_shape_cfg_t cfg;
  cp_shape_t *shape = NULL;
  int rc;

  if (c->shape != NULL ||
      (ru->latency_ms == 0 && ru->bandwidth == 0 && ru->reset_after == 0)) {
    return 0;
  }
  cfg.latency_ms = ru->latency_ms;
  cfg.jitter_ms = ru->jitter_ms;
  cfg.rate = (uint64_t)ru->bandwidth * 1000;
  cfg.reset_after = ru->reset_after;
  cfg.on_reset = on_reset;
  cfg.arg = c;
  rc = cp_shape_new(&shape, c->env->loop, &cfg);
  if (rc != 0) {
    return rc;
  }
  cp_conn_set_shape(c, shape);
  if (ru->latency_ms > 0) {
    cp_conn_fault_record(c, CP_FAULT_LATENCY, ru->latency_ms,
                         "%u ms +/- %u ms added to each direction",
                         ru->latency_ms, ru->jitter_ms);
  }
  if (ru->bandwidth > 0) {
    cp_conn_fault_record(c, CP_FAULT_BANDWIDTH, ru->bandwidth,
                         "each direction capped at %u KB/s", ru->bandwidth);
  }
  return 0;
}


int cp_conn_fault_sni(cp_conn_t *c, const char *sni) {
  const char *name = sni != NULL && *sni ? sni : c->target.host;
  const cp_rule_t *ru = cp_conn_fault_rule(c, name, c->target.port);

  if (ru == NULL || !ru->sni_block) {
    return 0;
  }
  cp_conn_fault_record(c, CP_FAULT_SNI_BLOCK, -1,
                       "reset after a ClientHello for '%s'", name);
  cp_leg_reset(&c->client);
  cp_conn_abort(c, "fault_sni_block");
  return 1;
}


/* A web filter's block page: the rule's HTML, or chainproxy's. */
static void block_page(cp_conn_t *c, const cp_rule_t *ru) {
  char page[1024], msg[600];

  snprintf(msg, sizeof(msg), "access to %s is blocked by a rule (%s)",
           c->target.host, ru->host);
  snprintf(page, sizeof(page),
           "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<title>Blocked</title></head>\n<body><h1>Access to %s is "
           "blocked</h1>\n<p>This network's web filter does not allow this "
           "site (chainproxy rule <code>%s</code>).</p></body></html>\n",
           c->target.host, ru->host);
  cp_conn_respond_page(c, ru->block_status, "blocked", msg,
                       "text/html; charset=utf-8",
                       ru->block_page ? ru->block_page : page);
}


/* What a corporate network does to this host before any byte reaches the
 * origin: a block page, silence, or a slow or cut path (shaping, set up
 * here and applied by the legs). Nonzero when the conn must stop. */
int cp_conn_fault_request(cp_conn_t *c) {
  const cp_http_target_t *t = &c->http.req.target;
  const cp_rule_t *ru = cp_conn_fault_rule(c, t->host, t->port);

  if (ru == NULL) {
    return 0;
  }
  cp_conn_route(c, t, c->parent);
  if (ru->block_status != 0) {
    cp_conn_fault_record(
        c, CP_FAULT_BLOCK, ru->block_status, "%s answered %d with a block page",
        cp_http_msg_method_name(&c->http.req), ru->block_status);
    cp_conn_emit_connect(c, cp_http_msg_method_name(&c->http.req),
                         c->http.req.is_connect ? "intercept" : "forward");
    block_page(c, ru);
    return -1;
  }
  if (ru->hold) {
    cp_conn_fault_record(c, CP_FAULT_TIMEOUT, -1,
                         "%s accepted and never answered",
                         cp_http_msg_method_name(&c->http.req));
    cp_conn_emit_connect(c, cp_http_msg_method_name(&c->http.req),
                         c->http.req.is_connect ? "intercept" : "forward");
    c->fault.hold = 1;
    cp_conn_set_reason(c, "fault_timeout");
    cp_conn_arm_timer(c);
    return -1;
  }
  if (cp_conn_fault_shape(c, ru) != 0) {
    cp_conn_fail(c, CP_ENOMEM, "out_of_memory");
    return -1;
  }
  return 0;
}
