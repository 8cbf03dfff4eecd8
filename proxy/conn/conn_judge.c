#include "conn/conn_judge.h"
#include "conn/conn_pool.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "diag/diag.h"
#include "diag/tls_names.h"
#include "http/alpn.h"
#include "diag/hs_diag.h"
#include "diag/policy.h"
#include "tls/keylog.h"
#include "tls/resume.h"
#include "diag/revoke.h"
#include "diag/roots.h"
#include "tls/tls_client.h"
#include "diag/who.h"
#include "diag/whosim.h"
#include "base/host.h"


void cp_conn_judge_offer(cp_conn_t *c, cp_tls_t *t, const unsigned char *alpn,
                         size_t n) {
  const cp_rule_t *ru = c->tls.rule;

  cp_resume_slot_clear(&c->tls.resume);
  /* The chain cache is keyed by the exact chain: it stays on where
   * sessions are not resumed. */
  cp_tls_client_keep_sessions(t, &c->tls.resume);
  c->tls.resume.chains = c->env->chains;
  c->tls.resume.cache = ru != NULL && ru->no_resume ? NULL : c->env->resume;
  cp_resume_key(&c->tls.resume, c->target.host, c->target.port, c->tls.name,
                alpn, n, ru ? ru->upstream_tls_min : 0,
                ru && ru->client_cert[0] ? ru->client_cert : NULL);
  c->tls.resume.gen = c->snap->data->gen;
  if (c->tls.resume.cache != NULL) {
    cp_resume_offer(&c->tls.resume, t->ssl, time(NULL));
  }
}


/* The origin asked for a client certificate: worth knowing when it
 * refuses later (TLS 1.3). Set for each handshake, whatever verdict
 * came from a cache. */
static void client_cert_facts(cp_conn_t *c, cp_tls_t *t,
                              cp_verify_result_t *r) {
  cp_hs_facts_t f;

  r->client_cert_requested = 0;
  r->client_cert_presented = 0;
  r->ca_names[0] = '\0';
  if (!t->cert_requested) {
    return;
  }
  cp_tls_client_facts(t, &f, r->ca_names, sizeof(r->ca_names));
  r->client_cert_requested = 1;
  r->client_cert_presented = SSL_get_certificate(t->ssl) != NULL;
  c->tls.up_cert_asked = 1;
}


static int stapled(const cp_tls_t *t) {
  const unsigned char *p = NULL;

  return SSL_get_tlsext_status_ocsp_resp(t->ssl, &p) > 0;
}


/* A full handshake: verification record -> result, classified. */
static void diagnose(cp_conn_t *c, cp_tls_t *t, cp_verify_result_t *r) {
  cp_verify_result_build(&t->verify, SSL_get_peer_cert_chain(t->ssl), r);
  cp_revoke_staple(t->ssl, 0, r);
  cp_diag_classify(r, c->tls.name, CP_DIAG_WARN_DAYS);
  cp_roots_check(&c->snap->data->roots, r);
  cp_policy_check(&c->snap->data->distrust, r);
  cp_who_predict(&c->snap->data->who, r);
  /* Each family's own path over the presented chain and the store this
   * proxy verifies with (loaded once per data snapshot); a repeated
   * chain reuses this through the chain cache (cp_conn_judge). */
  cp_whosim_judge(&c->snap->data->sim, &c->snap->data->who,
                  SSL_get_peer_cert_chain(t->ssl), NULL, r->at,
                  cp_host_is_ip(c->tls.name) ? NULL : c->tls.name, r);
}


void cp_conn_judge(cp_conn_t *c, cp_tls_t *t, cp_verify_result_t *r) {
  int full = 0;

  if (cp_resume_reused(&c->tls.resume, t->ssl, r)) {
    /* No certificates came: the session's own diagnosis stands. */
    r->resumed = 1;
    r->chain_cached = 0;
    c->tls.up_cert_asked = r->client_cert_requested;
    c->env->stats->v[CP_STAT_UPSTREAM_RESUMED]++;
    return;
  }
  if (c->tls.resume.chain_blob != NULL && !stapled(t)) {
    /* The same chain as before: the same diagnosis, not built again. */
    cp_resume_unpack(c->tls.resume.chain_blob, r);
    r->chain_cached = 1;
    c->env->stats->v[CP_STAT_CHAIN_CACHE_HITS]++;
  } else {
    diagnose(c, t, r);
    full = 1;
  }
  client_cert_facts(c, t, r);
  if (c->env->horizons != NULL) {
    cp_horizons_note(c->env->horizons, c->tls.name, r, time(NULL));
  }
  /* Packed once, kept for the session's ticket and, for a full diagnosis
   * without a staple (whose verdict is this handshake's only), for the
   * chain. */
  if (cp_resume_keep(&c->tls.resume, r) != 0) {
    cp_conn_log(c, CP_LOG_WARN, "out of memory keeping the diagnosis");
  } else if (full && !stapled(t)) {
    cp_resume_chain_put(&c->tls.resume);
  }
}


void cp_conn_judge_pooled(cp_conn_t *c, cp_verify_result_t *r) {
  cp_resume_unpack(c->dial.pooled->blob, r);
  r->resumed = 0;
  r->chain_cached = 0;
  r->upstream_reused = 1;
  c->tls.up_cert_asked = r->client_cert_requested;
}


void cp_conn_judge_cert_asked(cp_conn_t *c, int asked) {
  c->tls.up_cert_asked = asked != 0;
}


void cp_conn_judge_refusal(cp_conn_t *c, const char *why, int timed_out,
                           int closed, cp_hs_facts_t *f, cp_hs_result_t *hs,
                           char *cas, size_t cap, char *msg, size_t len,
                           char **detail) {
  char offered[CP_ALPN_MAX * 2] = "";
  unsigned char list[CP_ALPN_MAX];
  size_t n;

  memset(f, 0, sizeof(*f));
  f->alert_in = -1;
  cas[0] = '\0';
  if (c->upstream.tls != NULL) {
    cp_tls_client_facts(c->upstream.tls, f, cas, cap);
  }
  if (c->client.tls != NULL) {
    n = cp_alpn_relayable(c->client.tls->alpn_offered,
                          c->client.tls->alpn_offered_len, list, sizeof(list));
    cp_alpn_str(list, n, offered, sizeof(offered));
  }
  f->offered = offered;
  f->timed_out = timed_out;
  f->closed = closed;
  f->min_version = cp_tls_version_name(c->env->cfg->upstream_tls_min);
  cp_hs_classify(f, hs);
  f->offered = NULL; /* points at this frame */
  cp_conn_log(c, CP_LOG_WARN, "TLS with upstream failed: %s [%s]", why,
              hs->name);
  snprintf(msg, len, "TLS handshake with %s:%u failed: %s [%s]", c->target.host,
           c->target.port, why, hs->name);
  *detail = cp_hs_detail(hs);
}


/* The upstream leg's facts for its upstream_verify event; random holds
 * the client random (65 bytes). */
void cp_conn_judge_leg(cp_conn_t *c, cp_event_leg_t *leg, char *random,
                       size_t cap) {
  const cp_conn_dial_t *d = &c->dial;

  c->tls.t_up_done = cp_conn_now(c);
  memset(leg, 0, sizeof(*leg));
  cp_keylog_client_random(c->upstream.tls ? c->upstream.tls->ssl : NULL, random,
                          cap);
  leg->client_random = random;
  leg->server_ip = c->parent == NULL ? d->server_ip : NULL;
  leg->dns_ms = d->t_dial && d->t_resolved >= d->t_dial
                    ? (int64_t)(d->t_resolved - d->t_dial)
                    : -1;
  leg->connect_ms = d->t_connected && d->t_connected >= d->t_resolved
                        ? (int64_t)(d->t_connected - d->t_resolved)
                        : -1;
  leg->ssl_ms = c->tls.t_up_start && c->tls.t_up_done >= c->tls.t_up_start
                    ? (int64_t)(c->tls.t_up_done - c->tls.t_up_start)
                    : -1;
  if (d->pooled != NULL) {
    /* No resolve, connect or handshake: a pooled connection (HAR's -1). */
    leg->dns_ms = leg->connect_ms = leg->ssl_ms = -1;
  }
}
