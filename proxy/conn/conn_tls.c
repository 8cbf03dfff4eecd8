#include "conn/conn_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/cert.h"
#include "conn/conn_fault.h"
#include "conn/conn_hs_event.h"
#include "conn/conn_http.h"
#include "conn/conn_judge.h"
#include "conn/conn_pool.h"
#include "conn/conn_upstream.h"
#include "base/err.h"
#include "base/host.h"
#include "diag/hs_diag.h"
#include "tls/keylog.h"
#include "tls/tls_client.h"
#include "tls/tls_server.h"
#include "diag/tls_names.h"


/* The client's handshake failed: either chainproxy refused the client
 * (its TLS version or ciphers; an alert we sent says so) or the client
 * refused the chain it was served (its alert, or a close right after the
 * chain, as Node and Java do). */
static void client_refused(cp_conn_t *c) {
  cp_tls_t *t = c->client.tls;
  const char *alert = t ? cp_tls_alert_name(t->alert_in) : NULL;
  cp_hs_facts_t f;
  cp_hs_result_t hs;

  memset(&f, 0, sizeof(f));
  if (t != NULL) {
    f.alert_out = t->alert_out;
    f.err_lib = t->err_lib;
    f.err_reason = t->err_reason;
    f.client_versions = t->client_versions;
    f.client_ciphers = t->client_ciphers;
    f.min_version = cp_tls_version_name(c->env->cfg->client_tls_min);
    f.no_sni = t->refuse_alert == SSL_AD_UNRECOGNIZED_NAME;
  }
  if (t != NULL && cp_hs_classify_client(&f, &hs)) {
    cp_conn_emit_client_handshake(c, 0, &hs);
    cp_conn_log(c, CP_LOG_WARN, "%s [%s]", hs.hint, hs.name);
    cp_conn_finish(c, "client_tls_refused");
    return;
  }
  cp_conn_emit_client_handshake(c, 0, NULL);
  cp_conn_log(c, CP_LOG_WARN, "client refused the %s%s chain%s%s",
              c->tls.mirrored ? "mirrored " : "",
              cp_chain_profile_name(c->env->chain, c->tls.served_profile),
              alert ? ": alert " : " (no alert)", alert ? alert : "");
  cp_conn_finish(c, "client_rejected");
}


static const char *upstream_alpn(const cp_conn_t *c, char *out, size_t cap);


/* --require-sni, or a rule's require_sni for the CONNECT target (the
 * name, without SNI). */
static int sni_required(const cp_conn_t *c) {
  const cp_rule_t *ru = c->tls.rule;

  return c->env->cfg->require_sni || (ru != NULL && ru->require_sni);
}


/* A redirected client's hello names the host (its SNI; else the address
 * stays the name): now the upstream is opened to the original destination,
 * with the rules for that name. */
static void transparent_hello(cp_conn_t *c, const char *sni) {
  const cp_rule_t *ru;

  cp_http_target_t t = c->target;

  if (sni[0] != '\0') {
    snprintf(t.host, sizeof(t.host), "%s", sni);
    t.host_kind = CP_HOST_NAME;
  }
  cp_conn_route(c, &t, cp_conn_parent_for(c, &t, 1));
  cp_conn_emit_connect(c, NULL, cp_conn_transparent_mode(c));
  ru = cp_conn_fault_rule(c, c->target.host, c->target.port);
  if (ru != NULL && cp_conn_fault_shape(c, ru) != 0) {
    cp_conn_fail(c, CP_ENOMEM, "out_of_memory");
    return;
  }
  cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
}


static void client_handshake_step(cp_conn_t *c) {
  cp_tls_t *t = c->client.tls;
  int rc = cp_leg_handshake(&c->client);
  char up[16];

  if (rc == CP_TLS_HELLO && c->state == CP_CONN_CLIENT_HELLO) {
    snprintf(c->tls.name, sizeof(c->tls.name), "%s",
             t->sni[0] ? t->sni : c->target.host);
    c->tls.rule = cp_rules_find(&c->snap->rules, c->tls.name, c->target.port);
    if (cp_conn_fault_sni(c, t->sni)) {
      return; /* an SNI filter's reset */
    }
    if (t->sni[0] == '\0' && sni_required(c)) {
      /* As nginx's ssl_reject_handshake does; the upstream is not asked. */
      cp_tls_server_refuse(t, SSL_AD_UNRECOGNIZED_NAME);
      cp_conn_go_state(c, CP_CONN_CLIENT_TLS);
      return;
    }
    if (c->transparent && !c->upstream.open) {
      transparent_hello(c, t->sni);
      return;
    }
    if (c->dial.deferred && !c->upstream.open && !cp_conn_upstream_take(c)) {
      cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT); /* none: dial now */
      return;
    }
    cp_conn_go_state(c, CP_CONN_UPSTREAM_TLS);
  } else if (rc == CP_TLS_DONE) {
    c->tls.client_done = 1;
    cp_conn_emit_client_handshake(c, 1, NULL);
    cp_conn_http_reset_exchange(c); /* the CONNECT is done with */
    if ((t->alpn_choice_len == 2 && memcmp(t->alpn_choice, "h2", 2) == 0) ||
        (!c->tls.blocked &&
         strcmp(upstream_alpn(c, up, sizeof(up)), "h2") == 0)) {
      /* h2 on both sides, or bridged (--h2 bridge) on one */
      cp_conn_go_state(c, CP_CONN_H2);
      return;
    }
    /* An HTTP/1.1 origin does not speak first; anything it sent during
     * the client's handshake would be garbage for the relay. */
    cp_buf_reset(&c->early);
    cp_conn_go_state(c, CP_CONN_READ_REQUEST);
  } else if (rc == CP_ETLS) {
    client_refused(c);
  }
}


static void hello_bytes(cp_conn_t *c, const char *data, size_t len) {
  cp_tls_t *t = NULL;
  int rc;

  if (c->client.tls != NULL) {
    return; /* later bytes go through the TLS pump */
  }
  if ((unsigned char)data[0] != 0x16) {
    /* Not a TLS handshake record: relay it untouched, as a tunnel. */
    /* A CONNECT used for something else (plain HTTP or WebSocket to port
     * 80, SSH, ...): passed on untouched, as any forward proxy does, but
     * neither intercepted nor diagnosed, and said so. */
    cp_conn_log(c, CP_LOG_WARN,
                "the client sent non-TLS bytes after CONNECT (0x%02x...): "
                "relayed untouched as a blind tunnel, not intercepted",
                (unsigned char)data[0]);
    cp_conn_set_intercept(c, 0);
    if (!c->upstream.open) {
      /* Deferred for the pool: dial now; the tunnel replays the bytes. */
      cp_conn_stash(c, data, len);
      cp_conn_go_state(c, CP_CONN_UPSTREAM_CONNECT);
      return;
    }
    cp_conn_set_upstream_ok(c, 1);
    cp_conn_go_state(c, CP_CONN_TUNNEL);
    if (cp_leg_write(&c->upstream, data, len) != 0) {
      cp_conn_fail(c, CP_EIO, "upstream_write_failed");
    }
    return;
  }
  rc = cp_tls_new(&t, c->env->tls_server, 1);
  if (rc != 0) {
    cp_conn_fail(c, rc, "tls_setup_failed");
    return;
  }
  cp_leg_set0_tls(&c->client, t, c->env->plain);
  if (cp_tls_feed(t, data, len) != 0) {
    cp_conn_fail(c, CP_ENOMEM, "tls_setup_failed");
    return;
  }
  client_handshake_step(c);
}


/* The SNI sent upstream: none for an IP literal (RFC 6066). */
static const char *sent_sni(const cp_conn_t *c) {
  return cp_host_is_ip(c->tls.name) ? NULL : c->tls.name;
}


/* The 502 body of block mode: the same diagnosis `chainproxy verify`
 * prints, with the chain as a tree and the failing element marked. */
static void build_block_detail(cp_conn_t *c, const cp_verify_result_t *r) {
  char hp[CP_HOSTPORT_MAX];
  char target[CP_HOSTPORT_MAX + 16];
  cp_buf_t b;

  cp_buf_init(&b, 64 * 1024);
  /* The blank line after the message goes in as is: cp_verify_format
   * escapes its target, and would print the LF as "\x0a". */
  cp_buf_append(&b, "\n", 1);
  snprintf(target, sizeof(target), "upstream %s",
           cp_hostport_format(hp, sizeof(hp), c->target.host, c->target.port));
  cp_verify_format(r, target, sent_sni(c), &b);
  cp_buf_append(&b, "", 1);
  free(c->tls.block_detail);
  c->tls.block_detail = b.data; /* takes over the bytes */
}


/* Every request is answered with code and msg from now on; the message is
 * kept only for a blocked connection, not in every connection record. */
static void set_blocked(cp_conn_t *c, const char *code, const char *msg) {
  free(c->tls.block_msg);
  c->tls.block_msg = strdup(msg); /* NULL: answered with the code alone */
  c->tls.blocked = 1;
  c->tls.block_code = code;
}


/* A rule's TLS floor for this host: lower versions need security level 0
 * for the handshake; upstream chains are still judged at the level they
 * would be otherwise. */
static void rule_floor(cp_conn_t *c, cp_tls_t *t, int client_side) {
  const cp_rule_t *ru = c->tls.rule;
  int v = ru == NULL    ? 0
          : client_side ? ru->client_tls_min
                        : ru->upstream_tls_min;
  int level;

  if (client_side && ru != NULL && ru->tls_max != 0) {
    /* A middlebox that speaks only older TLS to its clients. */
    SSL_set_max_proto_version(t->ssl, ru->tls_max);
    if (ru->tls_max < TLS1_2_VERSION) {
      cp_tls_ssl_set_min_version(t->ssl, ru->tls_max);
    }
    cp_conn_fault_record(c, CP_FAULT_DOWNGRADE, -1,
                         "clients offered at most %s",
                         cp_tls_version_name(ru->tls_max));
  }
  if (v == 0) {
    return;
  }
  level = SSL_get_security_level(t->ssl);
  if (cp_tls_ssl_set_min_version(t->ssl, v) && !client_side && level > 0) {
    cp_tls_client_judge_at(t, level);
  }
  cp_conn_log(c, CP_LOG_INFO, "rule for %s: %s floor %s", ru->host,
              client_side ? "client" : "upstream", cp_tls_version_name(v));
}


/* A rule's client certificate for this upstream, read from its file now
 * (so an updated file is used without a restart). A file that no longer
 * loads is logged; the upstream then sees no certificate, and a refusal
 * is diagnosed as client_cert_required. */
static void rule_client_cert(cp_conn_t *c, cp_tls_t *t) {
  const cp_rule_t *ru = c->tls.rule;
  char err[700];

  if (ru == NULL || ru->client_cert[0] == '\0') {
    return;
  }
  if (cp_tls_client_use_cert(t->ssl, ru->client_cert, err, sizeof(err)) != 0) {
    cp_conn_log(c, CP_LOG_ERROR, "rule for %s: %s", ru->host, err);
    return;
  }
  cp_conn_log(c, CP_LOG_DEBUG, "rule for %s: client certificate %s", ru->host,
              ru->client_cert);
}


/* The profile for host:port: the first matching rule, else --chain. */
static int chain_select(const cp_chain_t *ch, const cp_rules_t *rules,
                        const char *host, uint16_t port) {
  int p = cp_rules_match(rules, host, port);

  return p >= 0 ? p : ch->default_profile;
}


/* --chain exact: a clone of the chain the upstream presented (borrowed
 * from the upstream SSL, alive until the connection closes; nothing kept).
 * 1: no upstream chain to clone (blocked or none presented). */
static int mint_exact(cp_conn_t *c, int profile) {
  cp_conn_env_t *env = c->env;
  STACK_OF(X509) *presented =
      c->upstream.tls != NULL && !c->tls.blocked
          ? SSL_get_peer_cert_chain(c->upstream.tls->ssl)
          : NULL;
  STACK_OF(X509) *chain = NULL;
  X509 *leaf = NULL;
  EVP_PKEY *key = NULL;
  uint64_t t0 = uv_hrtime();
  char err[256];
  int hit = 0;

  if (presented == NULL || sk_X509_num(presented) < 1) {
    return 1;
  }
  if (cp_chain_exact(env->chain, env->cfg->upstream_ca, presented, &leaf, &key,
                     &chain, &hit, err, sizeof(err)) != 0) {
    cp_conn_log(c, CP_LOG_WARN, "exact clone failed: %s", err);
    return CP_ETLS;
  }
  cp_conn_log(c, hit ? CP_LOG_DEBUG : CP_LOG_INFO,
              "exact: %s clone of the %d certificate(s) presented (%.1f ms)",
              hit ? "cached" : "new", sk_X509_num(presented),
              (double)(uv_hrtime() - t0) / 1e6);
  free(c->tls.verify);
  c->tls.verify = NULL;
  c->tls.served_profile = profile;
  c->tls.mirrored = 0;
  rule_floor(c, c->client.tls, 1);
  cp_tls_server_serve(c->client.tls, leaf, key, chain, c->tls.up_cert_asked);
  return 0;
}


static int mint_for_client(cp_conn_t *c) {
  cp_conn_env_t *env = c->env;
  cp_tls_t *t = c->client.tls;
  cp_chain_choice_t choice;
  STACK_OF(X509) *chain = NULL;
  X509 *leaf = NULL;
  EVP_PKEY *key = NULL;
  const cp_rule_t *ru = c->tls.rule;
  int profile =
      chain_select(env->chain, &c->snap->rules, c->tls.name, c->target.port);
  int rc;

  if (cp_chain_is_exact(env->chain, profile)) {
    rc = mint_exact(c, profile);
    if (rc <= 0) {
      return rc;
    }
    /* No chain from the upstream: served as modern. */
    profile = cp_profiles_find(&env->chain->profiles, "modern");
    profile = profile >= 0 ? profile : env->chain->default_profile;
  }
  cp_chain_resolve(env->chain, profile,
                   env->cfg->upstream_failure == CP_FAIL_MIRROR, c->tls.verify,
                   c->tls.name, &choice);
  choice.rsa_leaf = ru != NULL && ru->leaf_key != CP_RULE_LEAF_DEFAULT
                        ? ru->leaf_key == CP_RULE_LEAF_RSA
                        : env->chain->default_rsa;
  rc = cp_chain_leaf(env->chain, &choice, c->tls.name, &leaf, &key, &chain);
  /* The result was recorded and the choice made: an open connection
   * need not hold its 75 KB (packed, when the pool may want it). */
  if (c->tls.pool_blob == NULL && c->tls.verify != NULL && !c->tls.blocked &&
      cp_conn_pool_wanted(c, ru)) {
    c->tls.pool_blob = cp_resume_pack(c->tls.verify);
  }
  free(c->tls.verify);
  c->tls.verify = NULL;
  if (rc != 0) {
    return rc;
  }
  c->tls.served_profile = choice.profile;
  c->tls.mirrored = choice.mirrored;
  if (ru != NULL && ru->strip && choice.profile == ru->profile) {
    cp_conn_fault_record(c, CP_FAULT_STRIP, -1,
                         "the intermediate left out of the chain served");
  }
  rule_floor(c, t, 1);
  /* Ask the client for a certificate when the upstream asked us: the app
   * sees the request it would see directly, and the event records what
   * it would have sent (chainproxy cannot forward it). */
  cp_tls_server_serve(t, leaf, key, chain, c->tls.up_cert_asked);
  return 0;
}


/* The protocol the upstream chose, as text ("" for none). */
static const char *upstream_alpn(const cp_conn_t *c, char *out, size_t cap) {
  const unsigned char *p = NULL;
  unsigned n = 0;

  out[0] = '\0';
  if (c->upstream.tls != NULL) {
    SSL_get0_alpn_selected(c->upstream.tls->ssl, &p, &n);
  }
  if (n > 0 && n < cap) {
    memcpy(out, p, n);
    out[n] = '\0';
  }
  return out;
}


/* What the client is answered in ALPN: the upstream's choice; for a
 * blocked upstream, what the 502 can be spoken in. */
static void choose_client_alpn(cp_conn_t *c) {
  cp_tls_t *t = c->client.tls;
  char up[16];

  upstream_alpn(c, up, sizeof(up));
  if (c->env->cfg->h2_bridge && !c->tls.blocked) {
    /* Bridged: the client gets its own first choice, whatever the
     * origin speaks; conn_h2 translates where they differ. */
    snprintf(up, sizeof(up), "%s",
             cp_alpn_has(t->alpn_offered, t->alpn_offered_len, "h2", 2) ? "h2"
             : cp_alpn_has(t->alpn_offered, t->alpn_offered_len, "http/1.1", 8)
                 ? "http/1.1"
                 : "");
  } else if (c->tls.blocked) {
    /* The 502 speaks the client's protocol: HTTP/1.1 when offered, else
     * h2 (conn_h2 answers every stream). */
    snprintf(up, sizeof(up), "%s",
             cp_alpn_has(t->alpn_offered, t->alpn_offered_len, "http/1.1", 8)
                 ? "http/1.1"
             : cp_alpn_has(t->alpn_offered, t->alpn_offered_len, "h2", 2) ? "h2"
                                                                          : "");
  }
  cp_tls_server_answer_alpn(t, up);
}


/* Upstream is settled (verified, failed, or blocked): go on with the
 * client. */
static void upstream_settled(cp_conn_t *c) {
  if (c->tls.blocked) {
    cp_leg_close(&c->upstream);
    cp_conn_set_upstream_ok(c, 0);
  }
  if (c->tls.client_done && c->h2.want) {
    char up[16];

    /* HTTP/2 by prior knowledge: relayed if the origin chose h2, else
     * refused in HTTP/2's own words (conn_h2). */
    c->h2.refuse =
        c->tls.blocked || (!c->env->cfg->h2_bridge &&
                           strcmp(upstream_alpn(c, up, sizeof(up)), "h2") != 0);
    cp_conn_go_state(c, CP_CONN_H2);
    return;
  }
  if (c->tls.client_done) {
    /* A reconnect for a request that is waiting. */
    if (c->tls.blocked) {
      cp_conn_respond(c, 502, c->tls.block_code, cp_conn_block_msg(c),
                      c->tls.block_detail);
      return;
    }
    cp_conn_go_state(c, CP_CONN_FORWARD);
    return;
  }
  choose_client_alpn(c);
  if (mint_for_client(c) != 0) {
    cp_conn_fail(c, CP_ETLS, "mint_failed");
    return;
  }
  cp_conn_go_state(c, CP_CONN_CLIENT_TLS);
}


/* Why a TLS session with the upstream failed (hs_diag.c), from what the
 * TLS layer saw; sets the block answer every request gets. */
static void describe_tls_failure(cp_conn_t *c, const char *why, int timed_out,
                                 int closed, cp_hs_result_t *hs,
                                 cp_hs_facts_t *f, char *cas, size_t cap) {
  char *detail = NULL, msg[1024];

  cp_conn_judge_refusal(c, why, timed_out, closed, f, hs, cas, cap, msg,
                        sizeof(msg), &detail);
  free(c->tls.block_detail);
  c->tls.block_detail = detail;
  set_blocked(c, "upstream_tls_failed", msg);
}


/* The handshake failed before there was a chain to judge. */
static void upstream_tls_failed(cp_conn_t *c, const char *why, int timed_out,
                                int closed) {
  cp_event_base_t b = cp_conn_base(c);
  cp_verify_result_t *r = calloc(1, sizeof(*r));
  cp_hs_facts_t f;
  cp_hs_result_t hs;
  cp_event_leg_t leg;
  char cas[512], random[2 * SSL3_RANDOM_SIZE + 1];

  describe_tls_failure(c, why, timed_out, closed, &hs, &f, cas, sizeof(cas));
  c->env->stats->v[CP_STAT_UPSTREAM_TLS_FAILED]++;
  cp_conn_judge_leg(c, &leg, random, sizeof(random));
  if (r != NULL) {
    r->cause = hs.name;
    snprintf(r->hint, sizeof(r->hint), "%s", hs.hint);
    r->client_cert_requested = f.cert_requested;
    cp_conn_judge_cert_asked(c, f.cert_requested != 0);
    snprintf(r->ca_names, sizeof(r->ca_names), "%s", cas);
    cp_event_upstream_verify(c->env->events, &b, r, sent_sni(c), why, NULL,
                             c->parent ? c->parent->url : NULL, &leg);
  }
  free(r);
  upstream_settled(c);
}


/* Over TLS 1.3 a server that wants a client certificate completes the
 * client's side of the handshake and refuses afterwards (alert
 * certificate_required) while the client's own handshake may still run:
 * it finishes, and every request gets the explanation. */
static void upstream_refused_late(cp_conn_t *c, int closed) {
  cp_event_base_t b = cp_conn_base(c);
  const char *why = c->upstream.tls && c->upstream.tls->err[0]
                        ? c->upstream.tls->err
                        : "the upstream closed the connection";
  cp_hs_facts_t f;
  cp_hs_result_t hs;
  char cas[512];

  describe_tls_failure(c, why, 0, closed, &hs, &f, cas, sizeof(cas));
  c->env->stats->v[CP_STAT_UPSTREAM_TLS_FAILED]++;
  cp_event_error(c->env->events, &b, c->tls.block_code, cp_conn_block_msg(c),
                 c->action, 0);
  cp_leg_close(&c->upstream);
  cp_conn_set_upstream_ok(c, 0);
}


/* The verdict on the upstream (a handshake's, or a pooled connection's),
 * recorded, then acted on. */
static void upstream_verified(cp_conn_t *c) {
  cp_event_base_t b = cp_conn_base(c);
  cp_tls_t *t = c->upstream.tls;
  cp_verify_result_t *r = c->tls.verify;
  cp_event_leg_t leg;
  char alpn[16], random[2 * SSL3_RANDOM_SIZE + 1], msg[1024];

  if (r == NULL) {
    r = c->tls.verify = malloc(sizeof(*r));
    if (r == NULL) {
      cp_conn_fail(c, CP_ENOMEM, "out_of_memory");
      return;
    }
  }
  if (c->dial.pooled != NULL) {
    cp_conn_judge_pooled(c, r);
    cp_resume_blob_unref(c->tls.pool_blob);
    c->tls.pool_blob = cp_resume_blob_ref(c->dial.pooled->blob);
  } else {
    cp_conn_judge(c, t, r);
  }
  cp_conn_judge_leg(c, &leg, random, sizeof(random));
  cp_event_upstream_verify(c->env->events, &b, r, sent_sni(c), NULL,
                           upstream_alpn(c, alpn, sizeof(alpn)),
                           c->parent ? c->parent->url : NULL, &leg);
  if (r->ok && r->private_root == 1) {
    cp_conn_log(c, CP_LOG_INFO,
                "the chain ends at '%s', a root this system "
                "added locally: a re-signing network or a private CA",
                r->root_subject);
  }
  if (r->ok) {
    c->env->stats->v[CP_STAT_VERIFY_OK]++;
    cp_conn_log(c, CP_LOG_INFO, "upstream verified: %s, %d certificate(s)%s%s",
                r->nchain > 0 ? r->chain[0].subject : "?", r->nchain,
                r->warning ? "; warning: " : "", r->warning ? r->warning : "");
  } else {
    c->env->stats->v[CP_STAT_VERIFY_FAILED]++;
    c->env->stats->by_cause[r->cause_id]++;
  }
  if (r->ok) {
    cp_conn_set_upstream_ok(c, 1);
    upstream_settled(c);
    return;
  }
  cp_conn_log(c, CP_LOG_WARN,
              "upstream certificate verification failed at depth %d: %s "
              "(subject %s): %s",
              r->error_depth, r->error, r->failing.subject, r->cause);
  if (c->env->cfg->upstream_failure == CP_FAIL_IGNORE ||
      c->env->cfg->upstream_failure == CP_FAIL_MIRROR) {
    /* Recorded; relayed anyway (mirror: the client gets the same defect
     * and decides for itself). */
    cp_conn_set_upstream_ok(c, 1);
    upstream_settled(c);
    return;
  }
  snprintf(msg, sizeof(msg),
           "upstream certificate verification failed for %s:%u at depth "
           "%d (%s): %s [%s]",
           c->target.host, c->target.port, r->error_depth,
           r->failing.subject[0] ? r->failing.subject : "no certificate",
           r->error, r->cause);
  build_block_detail(c, r);
  set_blocked(c, "upstream_verify_failed", msg);
  upstream_settled(c);
}


static void upstream_handshake_step(cp_conn_t *c) {
  int rc = cp_leg_handshake(&c->upstream);

  if (rc == CP_TLS_DONE) {
    upstream_verified(c);
  } else if (rc == CP_ETLS) {
    upstream_tls_failed(c, c->upstream.tls->err, 0, 0);
  }
}


void cp_conn_tls_entry_client_hello(cp_conn_t *c) {
  cp_leg_want_read(&c->client, 1);
  cp_conn_arm_timer(c);
  cp_conn_replay_pending(c, hello_bytes);
}


void cp_conn_tls_on_hello_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                               size_t len) {
  if (leg == &c->client) {
    hello_bytes(c, data, len);
  }
}


/* Upstream ALPN: the client's list, cut to what can be relayed; after
 * the client handshake (a new upstream for a waiting request), the
 * protocol the client speaks. */
static int offer_alpn(cp_conn_t *c, cp_tls_t *up, unsigned char *list,
                      size_t *nout) {
  const cp_tls_t *ct = c->client.tls;
  size_t n = 0;

  if (c->env->cfg->h2_bridge && !c->tls.client_done) {
    /* Bridged: the origin chooses among both; conn_h2 translates. */
    memcpy(list, "\x02h2\x08http/1.1", 12);
    n = 12;
  } else if (c->h2.want) {
    memcpy(list, "\x02h2", 3);
    n = 3;
  } else if (ct != NULL && c->tls.client_done && ct->alpn_choice_len > 0) {
    list[0] = (unsigned char)ct->alpn_choice_len;
    memcpy(list + 1, ct->alpn_choice, ct->alpn_choice_len);
    n = 1 + ct->alpn_choice_len;
  } else if (ct != NULL && !c->tls.client_done) {
    n = cp_alpn_relayable(ct->alpn_offered, ct->alpn_offered_len, list,
                          CP_ALPN_MAX);
  }
  *nout = n;
  /* SSL_set_alpn_protos returns 0 on success; an empty list offers none. */
  return SSL_set_alpn_protos(up->ssl, n ? list : NULL, (unsigned)n) == 0
             ? 0
             : CP_ETLS;
}


void cp_conn_tls_entry_upstream(cp_conn_t *c) {
  cp_tls_t *t = NULL;
  unsigned char alpn[CP_ALPN_MAX];
  size_t nalpn = 0;
  int rc;

  cp_leg_want_read(&c->client, c->tls.client_done);
  cp_conn_touch(c);
  cp_conn_arm_timer(c);
  c->tls.blocked = 0;
  c->tls.t_up_start = cp_conn_now(c);
  if (c->dial.fail_code != NULL) {
    /* A deferred dial failed: the client hears it inside TLS. */
    set_blocked(c, c->dial.fail_code,
                c->dial.fail_msg ? c->dial.fail_msg : c->dial.fail_code);
    upstream_settled(c);
    return;
  }
  if (c->dial.pooled != NULL) {
    /* A pooled connection: no handshake, its verdict stands. */
    cp_leg_want_read(&c->upstream, 1);
    upstream_verified(c);
    return;
  }
  rc = cp_tls_new(&t, c->env->tls_client, 0);
  if (rc == 0) {
    rc = cp_tls_client_prepare(t, c->tls.name);
  }
  if (rc == 0) {
    rc = offer_alpn(c, t, alpn, &nalpn);
  }
  if (rc == 0) {
    rule_floor(c, t, 0);
    rule_client_cert(c, t);
    cp_conn_judge_offer(c, t, alpn, nalpn);
  }
  if (rc != 0) {
    cp_tls_free(t);
    cp_conn_fail(c, rc, "tls_setup_failed");
    return;
  }
  cp_leg_set0_tls(&c->upstream, t, c->env->plain);
  cp_leg_want_read(&c->upstream, 1);
  upstream_handshake_step(c);
}


void cp_conn_tls_entry_client(cp_conn_t *c) {
  cp_leg_want_read(&c->client, 1);
  cp_conn_touch(c);
  cp_conn_arm_timer(c);
  client_handshake_step(c);
}


void cp_conn_tls_on_client_tls_data(cp_conn_t *c, cp_leg_t *leg,
                                    const char *data, size_t len) {
  /* An HTTP/2 origin sends its SETTINGS right after its handshake, while
   * the client's is still going: keep them for the relay. */
  if (leg == &c->upstream && cp_buf_append(&c->early, data, len) != 0) {
    cp_conn_fail(c, CP_ENOMEM, "upstream_overrun");
  }
}


void cp_conn_tls_on_handshake(cp_conn_t *c, cp_leg_t *leg) {
  if (leg == &c->client &&
      (c->state == CP_CONN_CLIENT_HELLO || c->state == CP_CONN_CLIENT_TLS)) {
    client_handshake_step(c);
  } else if (leg == &c->upstream && c->state == CP_CONN_UPSTREAM_TLS) {
    upstream_handshake_step(c);
  }
}


void cp_conn_tls_on_eof(cp_conn_t *c, cp_leg_t *leg) {
  int is_client = leg == &c->client;

  if (!is_client && c->state == CP_CONN_UPSTREAM_TLS) {
    upstream_tls_failed(c,
                        "the upstream closed the connection during the "
                        "TLS handshake",
                        0, 1);
    return;
  }
  if (is_client && c->state == CP_CONN_CLIENT_TLS) {
    client_refused(c);
    return;
  }
  if (!is_client && c->state == CP_CONN_CLIENT_TLS) {
    if (c->upstream.tls != NULL && c->upstream.tls->alert_in > 0) {
      upstream_refused_late(c, 0);
    } else {
      /* A plain close: the first request opens a new upstream. */
      cp_leg_close(&c->upstream);
      cp_conn_set_upstream_ok(c, 0);
    }
    return;
  }
  cp_conn_abort(c, "client_closed");
}


void cp_conn_tls_on_error(cp_conn_t *c, cp_leg_t *leg, int err) {
  (void)err;
  cp_conn_tls_on_eof(c, leg);
}


void cp_conn_tls_on_timeout(cp_conn_t *c, double secs) {
  if (c->state == CP_CONN_UPSTREAM_TLS) {
    char why[128];

    snprintf(why, sizeof(why), "no handshake progress within %.1f s", secs);
    upstream_tls_failed(c, why, 1, 0);
    return;
  }
  if (cp_conn_hs_expired(c)) {
    cp_conn_log(c, CP_LOG_INFO,
                "the client's TLS handshake passed --handshake-timeout "
                "(%.1f s)",
                (double)c->env->cfg->handshake_timeout_ms / 1000.0);
    cp_conn_abort(c, "handshake_timeout");
    return;
  }
  cp_conn_log(c, CP_LOG_INFO, "client TLS handshake timed out");
  cp_conn_abort(c, "client_tls_timeout");
}
