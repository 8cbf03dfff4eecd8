/* What an upstream TLS handshake is judged to be, and what it is offered
 * to make it cheap: the stored session for this upstream (resume.h), and
 * after the handshake one of three verdicts, each the same diagnosis —
 * the resumed session's, the one kept for exactly this chain (the chain
 * cache), or a full one built from the verification record. Called by
 * conn_tls for UPSTREAM_TLS. */
#ifndef CP_CONN_JUDGE_H
#define CP_CONN_JUDGE_H

#include "conn/conn.h"
#include "diag/hs_diag.h"

/* Before the handshake: keys the connection's slot and offers the cached
 * session unless a rule turns resumption off for the host. alpn: the
 * list offered upstream, in wire form. */
void cp_conn_judge_offer(cp_conn_t *c, cp_tls_t *t, const unsigned char *alpn,
                         size_t n);
/* After it: fills r, and keeps it with the session and the chain. */
void cp_conn_judge(cp_conn_t *c, cp_tls_t *t, cp_verify_result_t *r);

/* The upstream refused the TLS session, during the handshake or after it
 * (an alert once a request was on its way: TLS 1.3 servers that want a
 * client certificate): the facts the TLS layer saw, classified (hs_diag).
 * why: what failed; timed_out, closed: how. Fills f (its CA names in cas,
 * cap bytes), hs, the line "TLS handshake with HOST:PORT failed: why
 * [cause]" into msg (len bytes), and *detail (malloc'd explanation, NULL
 * when out of memory; the caller frees it). */
void cp_conn_judge_refusal(cp_conn_t *c, const char *why, int timed_out,
                           int closed, cp_hs_facts_t *f, cp_hs_result_t *hs,
                           char *cas, size_t cap, char *msg, size_t len,
                           char **detail);
/* What the upstream's handshake showed: it asked for a client
 * certificate (kept with the session, so a resumed one knows it too). */
void cp_conn_judge_cert_asked(cp_conn_t *c, int asked);
/* A pooled connection (c->dial.pooled): its verdict unpacked into r,
 * marked upstream_reused. */
void cp_conn_judge_pooled(cp_conn_t *c, cp_verify_result_t *r);

/* The upstream leg's facts for its upstream_verify event, with the
 * handshake's end time (c->tls.t_up_done) set now; random (cap >= 65)
 * holds the client random that leg->client_random points at. */
void cp_conn_judge_leg(cp_conn_t *c, cp_event_leg_t *leg, char *random,
                       size_t cap);

#endif
