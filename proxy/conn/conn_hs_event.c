#include "conn/conn_hs_event.h"

#include <stdio.h>
#include <string.h>

#include "diag/cert.h"
#include "diag/tls_names.h"
#include "http/alpn.h"
#include "tls/keylog.h"


/* hs, when set: chainproxy refused the client, and why. */
void cp_conn_emit_client_handshake(cp_conn_t *c, int accepted,
                                   const cp_hs_result_t *hs) {
  cp_event_base_t b = cp_conn_base(c);
  cp_event_handshake_t h;
  cp_tls_t *t = c->client.tls;
  char sums[8][65];
  const unsigned char *alpn = NULL;
  unsigned alpn_len = 0;
  char alpn_str[32] = "";
  char offered[CP_ALPN_MAX * 2];
  char random[2 * SSL3_RANDOM_SIZE + 1] = "";
  int i;

  cp_resume_slot_done(&c->tls.resume);
  memset(&h, 0, sizeof(h));
  h.accepted = accepted;
  if (accepted) {
    c->env->stats->v[CP_STAT_HS_ACCEPTED]++;
    cp_conn_log(c, CP_LOG_INFO, "client accepted the %s%s chain (%s)",
                c->tls.mirrored ? "mirrored " : "",
                cp_chain_profile_name(c->env->chain, c->tls.served_profile),
                t ? SSL_get_version(t->ssl) : "?");
  } else {
    c->env->stats->v[CP_STAT_HS_REFUSED]++;
  }
  h.profile = cp_chain_profile_name(c->env->chain, c->tls.served_profile);
  h.mirrored = c->tls.mirrored;
  h.sni = t && t->sni[0] ? t->sni : NULL;
  if (t != NULL && t->alpn_offered_len > 0) {
    h.alpn_offered = cp_alpn_str(t->alpn_offered, t->alpn_offered_len, offered,
                                 sizeof(offered));
  }
  if (t != NULL && t->leaf != NULL) {
    cp_cert_sha256(t->leaf, 0, sums[0], sizeof(sums[0]));
    h.served_x509[0] = t->leaf;
    h.served[h.nserved++] = sums[0];
    for (i = 0; t->chain && i < sk_X509_num(t->chain) && h.nserved < 8; i++) {
      h.served_x509[h.nserved] = sk_X509_value(t->chain, i);
      cp_cert_sha256(sk_X509_value(t->chain, i), 0, sums[h.nserved],
                     sizeof(sums[0]));
      h.served[h.nserved] = sums[h.nserved];
      h.nserved++;
    }
  }
  if (accepted) {
    h.version = SSL_get_version(t->ssl);
    SSL_get0_alpn_selected(t->ssl, &alpn, &alpn_len);
    if (alpn_len > 0 && alpn_len < sizeof(alpn_str)) {
      memcpy(alpn_str, alpn, alpn_len);
      alpn_str[alpn_len] = '\0';
      h.alpn = alpn_str;
    }
  } else if (t != NULL && hs != NULL) {
    h.refused_by = "chainproxy";
    h.alert = cp_tls_alert_name(t->alert_out);
    h.error = t->err[0] ? t->err : "chainproxy refused the handshake";
    h.cause = hs->name;
    h.hint = hs->hint;
  } else if (t != NULL) {
    h.refused_by = "client";
    h.alert = cp_tls_alert_name(t->alert_in);
    cp_stats_alert(c->env->stats, t->alert_in);
    h.error = t->err[0] ? t->err : "the client closed the connection";
  }
  if (t != NULL && t->client_versions[0]) {
    h.client_versions = t->client_versions;
    h.client_ciphers = t->client_ciphers;
  }
  if (t != NULL && SSL_get0_peer_certificate(t->ssl) != NULL) {
    cp_cert_name_str(X509_get_subject_name(SSL_get0_peer_certificate(t->ssl)),
                     t->peer_subject, sizeof(t->peer_subject));
    h.client_cert = t->peer_subject;
    cp_conn_log(c, CP_LOG_WARN,
                "the client presented a certificate (%s); chainproxy cannot "
                "forward it: give the upstream one with "
                "--upstream-client-cert",
                t->peer_subject);
  }
  if (t != NULL) {
    cp_keylog_client_random(t->ssl, random, sizeof(random));
    h.client_random = random;
  }
  cp_event_client_handshake(c->env->events, &b, &h);
}
