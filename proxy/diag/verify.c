#include "diag/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "diag/cert.h"
#include "base/esc.h"


void cp_verify_rec_clear(cp_verify_rec_t *r) {
  int i;

  for (i = 0; i < r->nerrs; i++) {
    X509_free(r->errs[i].cert);
    r->errs[i].cert = NULL;
  }
  r->nerrs = 0;
  r->dropped = 0;
  r->ran = 0;
  sk_X509_pop_free(r->built, X509_free);
  r->built = NULL;
  X509_STORE_free(r->store);
  r->store = NULL;
  r->num_untrusted = 0;
  r->at = 0;
  r->crl_on = 0;
  r->crl_missing = 0;
  r->crl_problem = 0;
  r->revoked_reason[0] = r->revoked_at[0] = '\0';
}


static int record_cb(int ok, X509_STORE_CTX *sctx);


int cp_verify_run(X509_STORE_CTX *sctx, cp_verify_rec_t *rec) {
  X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(sctx);
  X509_STORE *store = X509_STORE_CTX_get0_store(sctx);
  int ok;

  cp_verify_rec_clear(rec);
  rec->crl_on = (X509_VERIFY_PARAM_get_flags(vp) & X509_V_FLAG_CRL_CHECK) != 0;
  X509_STORE_CTX_set_app_data(sctx, rec);
  X509_STORE_CTX_set_verify_cb(sctx, record_cb);
  ok = X509_verify_cert(sctx);
  rec->ran = 1;
  if (ok <= 0 && rec->nerrs == 0) {
    /* Failed without telling the callback (internal error): record it. */
    rec->errs[0].depth = X509_STORE_CTX_get_error_depth(sctx);
    rec->errs[0].code = X509_STORE_CTX_get_error(sctx);
    rec->errs[0].cert = NULL;
    rec->nerrs = 1;
  }
  rec->built = X509_STORE_CTX_get1_chain(sctx);
  rec->num_untrusted = X509_STORE_CTX_get_num_untrusted(sctx);
  if (store != NULL && X509_STORE_up_ref(store) == 1) {
    rec->store = store;
  }
  if (X509_VERIFY_PARAM_get_flags(vp) & X509_V_FLAG_USE_CHECK_TIME) {
    rec->at = X509_VERIFY_PARAM_get_time(vp);
  }
  X509_STORE_CTX_set_app_data(sctx, NULL);
  return rec->nerrs == 0;
}


int cp_verify_is_crl_error(int code) {
  switch (code) {
  case X509_V_ERR_UNABLE_TO_GET_CRL:
  case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
  case X509_V_ERR_CRL_SIGNATURE_FAILURE:
  case X509_V_ERR_CRL_NOT_YET_VALID:
  case X509_V_ERR_CRL_HAS_EXPIRED:
  case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
  case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
  case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
  case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
  case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
  case X509_V_ERR_DIFFERENT_CRL_SCOPE:
  case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    return 1;
  default:
    return 0;
  }
}


/* CRL bookkeeping: a missing or unusable CRL means "not checked" (a CRL
 * chainproxy was given is not the server's fault); a revocation keeps
 * its reason and date. Returns 1 when the error is about a CRL. */
static int crl_note(cp_verify_rec_t *r, X509_STORE_CTX *sctx) {
  int code = X509_STORE_CTX_get_error(sctx);
  int depth = X509_STORE_CTX_get_error_depth(sctx);
  X509_CRL *crl = X509_STORE_CTX_get0_current_crl(sctx);
  X509_REVOKED *rev = NULL;

  if (!r->crl_on) {
    return 0;
  }
  if (code == X509_V_ERR_CERT_REVOKED && crl != NULL &&
      X509_CRL_get0_by_cert(crl, &rev, X509_STORE_CTX_get_current_cert(sctx)) ==
          1) {
    ASN1_ENUMERATED *why =
        X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);

    cp_cert_time_str(X509_REVOKED_get0_revocationDate(rev), r->revoked_at,
                     sizeof(r->revoked_at));
    snprintf(r->revoked_reason, sizeof(r->revoked_reason), "%s",
             why ? OCSP_crl_reason_str(ASN1_ENUMERATED_get(why))
                 : "unspecified");
    ASN1_ENUMERATED_free(why);
    return 0;
  }
  if (!cp_verify_is_crl_error(code)) {
    return 0;
  }
  if (code == X509_V_ERR_UNABLE_TO_GET_CRL && depth >= 0 && depth < 32) {
    r->crl_missing |= 1u << depth;
  } else if (r->crl_problem == 0) {
    r->crl_problem = code;
  }
  return 1;
}


/* The X509_STORE_CTX verify callback: records and returns 1. The record
 * is the store context's app data. */
static int record_cb(int ok, X509_STORE_CTX *sctx) {
  cp_verify_rec_t *r = X509_STORE_CTX_get_app_data(sctx);
  X509 *cert;

  if (r == NULL) {
    return ok;
  }
  r->ran = 1;
  if (ok) {
    return 1;
  }
  if (r->nerrs == CP_VERIFY_MAX_ERRORS) {
    r->dropped++;
    return 1;
  }
  if (crl_note(r, sctx)) {
    return 1; /* about the CRL, not the chain */
  }
  cert = X509_STORE_CTX_get_current_cert(sctx);
  if (cert != NULL) {
    X509_up_ref(cert);
  }
  r->errs[r->nerrs].depth = X509_STORE_CTX_get_error_depth(sctx);
  r->errs[r->nerrs].code = X509_STORE_CTX_get_error(sctx);
  r->errs[r->nerrs].cert = cert;
  r->nerrs++;
  /* Keep going: every error at every depth is wanted. The handshake's
   * outcome is decided afterwards from this record (nginx, s_client). */
  return 1;
}


/* Key type and size, signature algorithm and whether its digest is weak. */
static void key_sig_info(X509 *x, cp_cert_info_t *out) {
  EVP_PKEY *pk = X509_get0_pubkey(x);
  int sig = X509_get_signature_nid(x);
  int md = NID_undef, pkn = NID_undef;
  const char *ln;

  if (pk != NULL) {
    const char *t = OBJ_nid2sn(EVP_PKEY_get_base_id(pk));

    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
      t = "RSA";
    } else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
      t = "EC";
    }
    snprintf(out->key_type, sizeof(out->key_type), "%s", t ? t : "unknown");
    out->key_bits = EVP_PKEY_get_bits(pk);
  }
  ln = OBJ_nid2ln(sig);
  snprintf(out->sig_alg, sizeof(out->sig_alg), "%s", ln ? ln : "unknown");
  if (OBJ_find_sigid_algs(sig, &md, &pkn) == 1) {
    out->weak_sig =
        md == NID_sha1 || md == NID_md5 || md == NID_md4 || md == NID_md5_sha1;
  }
}


/* c->names from c->san[]: "DNS:a.test, IP:127.0.0.1", each value
 * escaped (esc.h), so a NUL, a comma or a control in a name shows as
 * what it is and cannot pass for a second entry. An entry that does not
 * fit is left out whole. */
static void names_render(cp_cert_info_t *c) {
  char text[CP_CERT_SAN_BYTES + 1];
  char esc[CP_ESC_SIZE(CP_CERT_SAN_BYTES)];
  size_t used = 0;
  int i;

  c->names[0] = '\0';
  for (i = 0; i < c->nsan; i++) {
    size_t n = cp_verify_san_text(c, i, text, sizeof(text));
    int w;

    cp_esc_term(esc, sizeof(esc), text, n, 0);
    w = snprintf(c->names + used, sizeof(c->names) - used, "%s%s:%s",
                 used ? ", " : "", c->san[i].type == GEN_DNS ? "DNS" : "IP",
                 esc);
    if (w < 0 || (size_t)w >= sizeof(c->names) - used) {
      c->names[used] = '\0';
      break;
    }
    used += (size_t)w;
  }
}


int cp_verify_san_add(cp_cert_info_t *c, int type, const void *value,
                      size_t len) {
  size_t used = c->nsan > 0
                    ? (size_t)c->san[c->nsan - 1].off + c->san[c->nsan - 1].len
                    : 0;

  if ((type != GEN_DNS && type != GEN_IPADD) ||
      (type == GEN_IPADD && len != 4 && len != 16) ||
      c->nsan == CP_CERT_MAX_SAN || len > sizeof(c->san_bytes) - used) {
    c->san_omitted++;
    return -1;
  }
  memcpy(c->san_bytes + used, value, len);
  c->san[c->nsan].type = type;
  c->san[c->nsan].off = (unsigned short)used;
  c->san[c->nsan].len = (unsigned short)len;
  c->nsan++;
  names_render(c);
  return 0;
}


const unsigned char *cp_verify_san_get0(const cp_cert_info_t *c, int i,
                                        size_t *len) {
  *len = c->san[i].len;
  return c->san_bytes + c->san[i].off;
}


size_t cp_verify_san_text(const cp_cert_info_t *c, int i, char *out,
                          size_t cap) {
  size_t len;
  const unsigned char *v = cp_verify_san_get0(c, i, &len);

  if (cap == 0) {
    return 0;
  }
  out[0] = '\0';
  if (c->san[i].type == GEN_IPADD) {
    if (inet_ntop(len == 4 ? AF_INET : AF_INET6, v, out, (socklen_t)cap) ==
        NULL) {
      out[0] = '\0';
    }
    return strlen(out);
  }
  if (len >= cap) {
    return 0;
  }
  memcpy(out, v, len);
  out[len] = '\0';
  return len;
}


/* The leaf's DNS and IP SAN entries, read from the DER with their lengths
 * (never through a C string, which would stop at a NUL). */
static void san_read(X509 *x, cp_cert_info_t *out) {
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  int i;

  for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    const ASN1_STRING *v = g->type == GEN_DNS     ? g->d.dNSName
                           : g->type == GEN_IPADD ? g->d.iPAddress
                                                  : NULL;

    if (v != NULL) {
      cp_verify_san_add(out, g->type, ASN1_STRING_get0_data(v),
                        (size_t)ASN1_STRING_length(v));
    }
  }
  GENERAL_NAMES_free(gens);
}


static time_t asn1_secs(const ASN1_TIME *t) {
  struct tm tm;

  if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
    return 0;
  }
  return timegm(&tm);
}


static void cert_info(X509 *x, int depth, cp_cert_info_t *out) {
  memset(out, 0, sizeof(*out));
  out->depth = depth;
  if (x == NULL) {
    return;
  }
  cp_cert_name_str(X509_get_subject_name(x), out->subject,
                   sizeof(out->subject));
  cp_cert_name_str(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
  cp_cert_time_str(X509_get0_notBefore(x), out->not_before,
                   sizeof(out->not_before));
  cp_cert_time_str(X509_get0_notAfter(x), out->not_after,
                   sizeof(out->not_after));
  out->nb = asn1_secs(X509_get0_notBefore(x));
  out->na = asn1_secs(X509_get0_notAfter(x));
  cp_cert_sha256(x, 0, out->sha256, sizeof(out->sha256));
  out->self_issued = X509_check_issued(x, x) == X509_V_OK;
  out->is_ca = X509_check_ca(x) != 0;
  key_sig_info(x, out);
  if (!out->is_ca) {
    san_read(x, out);
  }
  out->path_len = (int)X509_get_pathlen(x);
  out->has_sct = X509_get_ext_by_NID(x, NID_ct_precert_scts, -1) >= 0;
  out->has_policies = X509_get_ext_by_NID(x, NID_certificate_policies, -1) >= 0;
  {
    POLICY_CONSTRAINTS *pc =
        X509_get_ext_d2i(x, NID_policy_constraints, NULL, NULL);

    out->requires_policy = pc != NULL && pc->requireExplicitPolicy != NULL;
    POLICY_CONSTRAINTS_free(pc);
  }
  cp_cert_name_constraints(x, out->name_constraints,
                           sizeof(out->name_constraints));
  cp_cert_unknown_critical(x, out->unknown_critical,
                           sizeof(out->unknown_critical));
  cp_cert_ca_issuers(x, out->ca_issuers, sizeof(out->ca_issuers));
  ERR_clear_error();
}


/* Does the trust store hold a self-issued root with x's subject and key,
 * valid at `at` (the shape of a cross-sign: AddTrust 2020, DST Root CA X3
 * 2021)? A store lookup, so asked only for CA certificates that are not
 * self-issued and expire within a year: healthy chains cost nothing. */
static void twin_lookup(X509_STORE *store, X509 *x, time_t at,
                        cp_cert_info_t *ci) {
  X509_STORE_CTX *q;
  STACK_OF(X509) *same = NULL;
  int i, inited;

  if (store == NULL || !ci->is_ca || ci->self_issued ||
      ci->na > at + 366 * 86400L || (q = X509_STORE_CTX_new()) == NULL) {
    return;
  }
  inited = X509_STORE_CTX_init(q, store, NULL, NULL) == 1;
  if (inited) {
    same = X509_STORE_CTX_get1_certs(q, X509_get_subject_name(x));
  }
  for (i = 0; same != NULL && i < sk_X509_num(same); i++) {
    X509 *s = sk_X509_value(same, i);

    if (X509_check_issued(s, s) == X509_V_OK &&
        EVP_PKEY_eq(X509_get0_pubkey(s), X509_get0_pubkey(x)) == 1 &&
        X509_cmp_time(X509_get0_notBefore(s), &at) < 0 &&
        X509_cmp_time(X509_get0_notAfter(s), &at) > 0) {
      ci->twin_root = 1;
    }
  }
  sk_X509_pop_free(same, X509_free);
  /* Does the store also hold the (old) root that issued it? Chain
   * builders that follow the presented chain end there. */
  same = inited ? X509_STORE_CTX_get1_certs(q, X509_get_issuer_name(x)) : NULL;
  ci->issuer_in_store = same != NULL && sk_X509_num(same) > 0;
  sk_X509_pop_free(same, X509_free);
  X509_STORE_CTX_free(q);
  ERR_clear_error();
}


/* What the CRLs said, in words. The root (top of the built chain) is
 * trusted as such: no CRL is asked of it. */
static void revocation_summary(const cp_verify_rec_t *r,
                               cp_verify_result_t *out) {
  int i, need = out->nbuilt > 1 ? out->nbuilt - 1 : out->nbuilt, missing = 0;

  snprintf(out->revoked_reason, sizeof(out->revoked_reason), "%s",
           r->revoked_reason);
  snprintf(out->revoked_at, sizeof(out->revoked_at), "%s", r->revoked_at);
  if (!r->crl_on) {
    out->revocation = "not_checked";
    snprintf(out->revocation_note, sizeof(out->revocation_note),
             "not checked: no CRL given (--crl) and no OCSP staple");
    return;
  }
  for (i = 0; i < need && i < 32; i++) {
    missing += (r->crl_missing >> i) & 1u;
  }
  if (r->revoked_at[0] != '\0') {
    out->revocation = "revoked";
    snprintf(out->revocation_note, sizeof(out->revocation_note),
             "CRL: revoked on %s (reason: %s)", r->revoked_at,
             r->revoked_reason);
  } else if (r->crl_problem != 0) {
    out->revocation = "crl_unusable";
    snprintf(out->revocation_note, sizeof(out->revocation_note),
             "not checked: a CRL given could not be used (%s)",
             X509_verify_cert_error_string(r->crl_problem));
  } else if (missing > 0) {
    out->revocation = "partial";
    snprintf(out->revocation_note, sizeof(out->revocation_note),
             "CRL: %d of %d certificate(s) had no CRL to check against",
             missing, need);
  } else {
    out->revocation = "good";
    snprintf(out->revocation_note, sizeof(out->revocation_note),
             "CRL: %d certificate(s) checked, none revoked", need);
  }
}


void cp_verify_result_build(const cp_verify_rec_t *r, STACK_OF(X509) *presented,
                            cp_verify_result_t *out) {
  int i;
  int n = presented ? sk_X509_num(presented) : 0;
  int nb = r->built ? sk_X509_num(r->built) : 0;
  time_t at = r->at ? r->at : time(NULL);

  memset(out, 0, sizeof(*out));
  out->at = at;
  out->primary = -1;
  out->expires_first = -1;
  for (i = 0; i < n && i < CP_VERIFY_MAX_CHAIN; i++) {
    X509 *x = sk_X509_value(presented, i);

    cert_info(x, i, &out->chain[i]);
    twin_lookup(r->store, x, at, &out->chain[i]);
  }
  out->nchain = i;
  for (i = 0; i < nb && i < CP_VERIFY_MAX_CHAIN; i++) {
    X509 *x = sk_X509_value(r->built, i);

    cert_info(x, i, &out->built[i]);
    out->built[i].in_store = i >= r->num_untrusted;
    twin_lookup(r->store, x, at, &out->built[i]);
  }
  out->nbuilt = i;
  for (i = 0; i < r->nerrs; i++) {
    out->errors[i].depth = r->errs[i].depth;
    out->errors[i].code = r->errs[i].code;
    out->errors[i].error = X509_verify_cert_error_string(r->errs[i].code);
  }
  out->nerrors = r->nerrs;
  if (n == 0 && r->nerrs == 0) {
    /* No certificate and no verifier run: nothing was verified. */
    out->ok = 0;
    out->error_depth = 0;
    out->error_code = X509_V_ERR_UNSPECIFIED;
    out->error = "the server presented no certificate";
    return;
  }
  revocation_summary(r, out);
  out->ok = r->nerrs == 0;
  if (!out->ok) {
    out->error_depth = r->errs[0].depth;
    out->error_code = r->errs[0].code;
    out->error = X509_verify_cert_error_string(r->errs[0].code);
    cert_info(r->errs[0].cert, r->errs[0].depth, &out->failing);
  }
}


/* The errors recorded against a certificate (matched by fingerprint, since
 * error depths count along the built chain). */
static int errors_for(const cp_verify_result_t *r, const cp_cert_info_t *c,
                      int *idx, int max) {
  int i, n = 0;

  for (i = 0; i < r->nerrors && n < max; i++) {
    int d = r->errors[i].depth;
    const char *fp = d < r->nbuilt ? r->built[d].sha256 : NULL;

    if ((fp != NULL && strcmp(fp, c->sha256) == 0) ||
        (fp == NULL && d == c->depth)) {
      idx[n++] = i;
    }
  }
  return n;
}


static void format_cert(const cp_verify_result_t *r, const cp_cert_info_t *c,
                        int level, const char *origin, cp_buf_t *out) {
  int idx[CP_VERIFY_MAX_ERRORS];
  int n = errors_for(r, c, idx, CP_VERIFY_MAX_ERRORS);
  int pad = 2 + 3 * level;
  const char *status = n > 0 ? "FAIL" : "ok";
  char subject[CP_ESC_SIZE(sizeof(c->subject))];
  char issuer[CP_ESC_SIZE(sizeof(c->issuer))];
  char names[CP_ESC_SIZE(sizeof(c->names))];
  int i;

  if (n == 0 && c->na != 0 && c->na <= r->at) {
    status = "expired, not used";
  }
  cp_buf_appendf(out, "%*s%s[%s] %s%s\n", pad, "", level ? "`- " : "", status,
                 cp_esc_str(subject, sizeof(subject), c->subject), origin);
  pad += level ? 3 : 0;
  cp_buf_appendf(out, "%*s     issuer %s\n", pad, "",
                 cp_esc_str(issuer, sizeof(issuer), c->issuer));
  cp_buf_appendf(out, "%*s     valid  %s .. %s\n", pad, "", c->not_before,
                 c->not_after);
  cp_buf_appendf(out, "%*s     key    %s %d, %s%s%s\n", pad, "", c->key_type,
                 c->key_bits, c->sig_alg, c->self_issued ? ", self-issued" : "",
                 c->twin_root ? ", cross-sign of a trusted root" : "");
  if (c->names[0]) {
    cp_buf_appendf(out, "%*s     names  %s\n", pad, "",
                   cp_esc_str(names, sizeof(names), c->names));
  }
  cp_buf_appendf(out, "%*s     sha256 %s\n", pad, "", c->sha256);
  for (i = 0; i < n; i++) {
    const int e = idx[i];

    cp_buf_appendf(out, "%*s  %s  error %d: %s\n", pad, "",
                   e == r->primary ? "=>" : "  ", r->errors[e].code,
                   r->errors[e].error);
  }
}


/* Scratch for escaped fields (esc.h): long is for the longest text a
 * field can hold (a hint), name for a subject or a host. Each line uses a
 * slot once. */
typedef struct fmt_esc_s {
  char lng[CP_ESC_SIZE(sizeof(((cp_verify_result_t *)0)->hint))];
  char name[CP_ESC_SIZE(sizeof(((cp_cert_info_t *)0)->subject))];
} fmt_esc_t;


void cp_verify_format(const cp_verify_result_t *r, const char *target,
                      const char *sni, cp_buf_t *out) {
  fmt_esc_t *e = malloc(sizeof(*e));
  char at[32];
  struct tm tm;
  int i, k, level = 0;

  if (e == NULL) {
    cp_buf_append_str(out, "(out of memory)\n");
    return;
  }
  gmtime_r(&r->at, &tm);
  strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
  cp_buf_appendf(out, "%s%s%s%s: %s (as of %s)\n\n",
                 cp_esc_str(e->lng, sizeof(e->lng), target),
                 sni ? " (SNI " : "", cp_esc_str(e->name, sizeof(e->name), sni),
                 sni ? ")" : "", r->ok ? "verified" : "verification FAILED",
                 at);
  cp_buf_append_str(out, "chain as presented, leaf first:\n");
  for (i = 0; i < r->nchain; i++) {
    format_cert(r, &r->chain[i], level++, "", out);
  }
  /* What OpenSSL added from the trust store (the root, or a path that
   * left the presented chain). */
  for (i = 0; i < r->nbuilt; i++) {
    int presented = 0;

    for (k = 0; k < r->nchain; k++) {
      presented |= strcmp(r->chain[k].sha256, r->built[i].sha256) == 0;
    }
    if (!presented) {
      format_cert(r, &r->built[i], level++, "  (from the trust store)", out);
    }
  }
  if (r->nbuilt > 0) {
    cp_buf_append_str(out, "\npath built:");
    for (i = 0; i < r->nbuilt; i++) {
      cp_buf_appendf(out, "%s%s", i ? "\n  -> " : "\n     ",
                     cp_esc_str(e->name, sizeof(e->name), r->built[i].subject));
    }
    cp_buf_append_str(out, "\n");
  }
  if (!r->ok) {
    cp_buf_appendf(out,
                   "\nfailing element: depth %d, %s\nerror:  %s "
                   "(X509_V_ERR %d)\ncause:  %s\nhint:   %s\n",
                   r->error_depth,
                   r->failing.subject[0] ? cp_esc_str(e->name, sizeof(e->name),
                                                      r->failing.subject)
                                         : "(none)",
                   r->error ? r->error : "", r->error_code,
                   r->cause ? r->cause : "other",
                   cp_esc_str(e->lng, sizeof(e->lng), r->hint));
  }
  if (r->warning != NULL) {
    cp_buf_appendf(out, "\nwarning: %s\nhint:    %s\n", r->warning,
                   cp_esc_str(e->lng, sizeof(e->lng), r->warning_hint));
  }
  if (r->unusual_validity) {
    cp_buf_appendf(out,
                   "\nnote:    unusual_validity: the leaf is valid for %ld "
                   "days from %s; browsers refuse leaves valid for more than "
                   "398 days (and one from before 2000 is a clock or a "
                   "fake)\n",
                   r->validity_days,
                   r->nchain > 0 ? r->chain[0].not_before : "?");
  }
  if (r->ok && r->private_root == 1) {
    cp_buf_appendf(out,
                   "\nroot:    '%s' is not a root the distribution ships "
                   "(it was added locally): this network re-signs TLS, or "
                   "the service uses a private CA\n",
                   cp_esc_str(e->name, sizeof(e->name), r->root_subject));
  }
  if (r->minted_by_chainproxy) {
    cp_buf_append_str(out, "\nnote:    this chain was minted by chainproxy "
                           "(the connection went through it)\n");
  }
  for (i = 0; i < r->nbrowser; i++) {
    cp_buf_appendf(out, "\nbrowsers: %s: %s\n", r->browser[i].name,
                   cp_esc_str(e->lng, sizeof(e->lng), r->browser[i].hint));
  }
  if (r->nwho > 0) {
    cp_buf_append_str(out, "\nwho breaks (each client family, the same "
                           "trust store):\n");
  }
  for (i = 0; i < r->nwho; i++) {
    cp_buf_appendf(out, "  %-11s %-7s %s\n", r->who[i].family,
                   r->who[i].verdict,
                   cp_esc_str(e->name, sizeof(e->name), r->who[i].error));
  }
  if (r->revocation != NULL) {
    const int ocsp =
        r->ocsp != NULL && strstr(r->revocation_note, "OCSP") == NULL;

    cp_buf_appendf(
        out, "\nrevocation: %s: %s%s%s\n", r->revocation,
        cp_esc_str(e->name, sizeof(e->name), r->revocation_note),
        ocsp ? "; " : "",
        cp_esc_str(e->lng, sizeof(e->lng), ocsp ? r->ocsp_note : ""));
  }
  if (r->expires_first >= 0) {
    cp_buf_appendf(out,
                   "\nexpires first: %s (depth %d) on %.10s, %s%ld "
                   "days%s\n",
                   cp_esc_str(e->name, sizeof(e->name),
                              r->chain[r->expires_first].subject),
                   r->expires_first, r->chain[r->expires_first].not_after,
                   r->expires_days < 0 ? "" : "in ",
                   r->expires_days < 0 ? -r->expires_days : r->expires_days,
                   r->expires_days < 0 ? " ago" : "");
  }
  free(e);
}
