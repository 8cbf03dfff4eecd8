/* Path simulator: the strategies (OpenSSL's build_chain with and without
 * trusted-first and alternative chains, GnuTLS's walk of the presented
 * list, a backtracking search) and the per-family judging of a path. The
 * OpenSSL emulation follows crypto/x509/x509_vfy.c of OpenSSL 3.0
 * (build_chain, check_trust, check_extensions, check_auth_level,
 * internal_verify) and reports errors in the order X509_verify_cert
 * would stop at them; tests/unit/test_pathsim.c checks it against the
 * real X509_verify_cert cell by cell. */
#include "diag/pathsim.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define S_TRUSTED 0x1
#define S_UNTRUSTED 0x2
#define S_ALTERNATE 0x4

typedef struct {
  const cp_pathsim_family_t *f;
  const cp_pathsim_input_t *in;
  cp_pathsim_result_t *r;
} sim_t;


const char *cp_pathsim_src_name(cp_pathsim_src_t s) {
  static const char *const names[] = {"sent", "store", "aia"};

  return (unsigned)s < 3 ? names[s] : "?";
}


const char *cp_pathsim_kind_name(cp_pathsim_kind_t k) {
  static const char *const names[] = {
      "expired",        "not_yet_valid", "no_issuer", "self_signed",
      "not_ca",         "critical_ext",  "strict",    "weak_key",
      "weak_signature", "bad_signature", "hostname"};

  return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}


const char *cp_pathsim_strategy_name(cp_pathsim_strategy_t s) {
  static const char *const names[] = {"trusted_first", "untrusted_first",
                                      "presented", "search"};

  return (unsigned)s < 4 ? names[s] : "?";
}


static int issued(X509 *issuer, X509 *subject) {
  return X509_check_issued(issuer, subject) == X509_V_OK;
}


static int self_signed(X509 *x) {
  return X509_self_signed(x, 0) > 0;
}


/* -1 not yet valid, 1 expired (OpenSSL: notAfter <= t), 0 valid. */
static int time_state(X509 *x, time_t at) {
  if (X509_cmp_time(X509_get0_notBefore(x), &at) > 0) {
    return -1;
  }
  if (X509_cmp_time(X509_get0_notAfter(x), &at) <= 0) {
    return 1;
  }
  return 0;
}


static time_t not_after(X509 *x) {
  struct tm tm;

  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
    return 0;
  }
  return timegm(&tm);
}


static int in_stack(STACK_OF(X509) *sk, X509 *x) {
  int i;

  for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
    if (X509_cmp(sk_X509_value(sk, i), x) == 0) {
      return 1;
    }
  }
  return 0;
}


static void add_err(cp_pathsim_path_t *p, cp_pathsim_kind_t kind, int ossl,
                    int depth) {
  cp_pathsim_err_t *e;

  if (p->nerr >= CP_PATHSIM_MAXERRS) {
    return;
  }
  e = &p->err[p->nerr++];
  e->kind = kind;
  e->ossl = ossl;
  e->depth = depth;
  e->cert = depth >= 0 && depth < p->n ? p->cert[depth] : NULL;
}


static void push(cp_pathsim_path_t *p, X509 *x, cp_pathsim_src_t src) {
  if (p->n < CP_PATHSIM_MAXDEPTH) {
    p->cert[p->n] = x;
    p->src[p->n] = src;
    p->n++;
  }
}


static cp_pathsim_path_t *new_path(cp_pathsim_result_t *r) {
  cp_pathsim_path_t *p;

  if (r->npaths >= CP_PATHSIM_MAXPATHS) {
    return NULL;
  }
  p = &r->path[r->npaths++];
  memset(p, 0, sizeof(*p));
  return p;
}


/* The best candidate issuer of x in sk, as OpenSSL picks it: the first
 * one valid now, else the one that expired most recently. */
static X509 *best_issuer(STACK_OF(X509) *sk, X509 *x, time_t at,
                         const cp_pathsim_path_t *chain) {
  X509 *c, *rv = NULL;
  int i, k, dup;

  for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
    c = sk_X509_value(sk, i);
    if (!issued(c, x)) {
      continue;
    }
    for (dup = 0, k = 0; chain != NULL && k < chain->n; k++) {
      dup |= chain->cert[k] == c;
    }
    if (dup) {
      continue;
    }
    if (time_state(c, at) == 0) {
      return c;
    }
    if (rv == NULL ||
        ASN1_TIME_compare(X509_get0_notAfter(c), X509_get0_notAfter(rv)) > 0) {
      rv = c;
    }
  }
  return rv;
}


static int rsa_bits(X509 *x) {
  EVP_PKEY *k = X509_get0_pubkey(x);

  if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
    return 0;
  }
  return EVP_PKEY_get_bits(k);
}


static int weak_sig(X509 *x) {
  int md = NID_undef, pk = NID_undef;

  if (!OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk)) {
    return 0;
  }
  return md == NID_sha1 || md == NID_md5 || md == NID_md4 || md == NID_md2;
}


static int key_ok(const cp_pathsim_family_t *f, X509 *x) {
  int bits = rsa_bits(x);

  if (bits == 0) {
    return 1;
  }
  return !(f->min_rsa_bits > 0 && bits < f->min_rsa_bits) &&
         !(f->max_rsa_bits > 0 && bits > f->max_rsa_bits);
}


/* OpenSSL 3.0's check_extensions, with X509_STRICT where the family sets
 * it; must_be_ca for every cert above the leaf. */
static void check_extensions(const cp_pathsim_family_t *f,
                             cp_pathsim_path_t *p) {
  int i, ca, plen = 0;
  uint32_t fl;
  X509 *x;
  const ASN1_OCTET_STRING *skid;
  const ASN1_OCTET_STRING *akid;

  for (i = 0; i < p->n; i++) {
    x = p->cert[i];
    fl = X509_get_extension_flags(x);
    if (fl & EXFLAG_CRITICAL) {
      add_err(p, CP_PATHSIM_E_CRITICAL_EXT,
              X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, i);
    }
    ca = X509_check_ca(x);
    if (i == 0) {
      if (f->strict && ca != 1 && ca != 0) {
        add_err(p, CP_PATHSIM_E_NOT_CA, X509_V_ERR_INVALID_CA, i);
      }
    } else if (ca == 0 || ((i + 1 < p->n || f->strict) && ca != 1) ||
               (f->require_ca_bc && !(fl & EXFLAG_BCONS))) {
      add_err(p, CP_PATHSIM_E_NOT_CA, X509_V_ERR_INVALID_CA, i);
    }
    if (f->strict && p->n > 1) {
      akid = X509_get0_authority_key_id(x);
      skid = X509_get0_subject_key_id(x);
      if ((fl & EXFLAG_CA) && (fl & EXFLAG_BCONS) &&
          !(fl & EXFLAG_BCONS_CRITICAL)) {
        add_err(p, CP_PATHSIM_E_STRICT, X509_V_ERR_CA_BCONS_NOT_CRITICAL, i);
      }
      if ((fl & EXFLAG_CA) && !(fl & EXFLAG_KUSAGE)) {
        add_err(p, CP_PATHSIM_E_STRICT, X509_V_ERR_CA_CERT_MISSING_KEY_USAGE,
                i);
      }
      if (akid != NULL && (fl & EXFLAG_AKID_CRITICAL)) {
        add_err(p, CP_PATHSIM_E_STRICT,
                X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL, i);
      }
      if (skid != NULL && (fl & EXFLAG_SKID_CRITICAL)) {
        add_err(p, CP_PATHSIM_E_STRICT,
                X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL, i);
      }
      if (X509_get_version(x) >= X509_VERSION_3) {
        if (i + 1 < p->n && akid == NULL) {
          add_err(p, CP_PATHSIM_E_STRICT,
                  X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER, i);
        }
        if ((fl & EXFLAG_CA) && skid == NULL) {
          add_err(p, CP_PATHSIM_E_STRICT,
                  X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER, i);
        }
      }
    }
    if (i > 1 && X509_get_pathlen(x) >= 0 && plen > X509_get_pathlen(x)) {
      add_err(p, CP_PATHSIM_E_NOT_CA, X509_V_ERR_PATH_LENGTH_EXCEEDED, i);
    }
    if (i > 0 && !(fl & EXFLAG_SI)) {
      plen++;
    }
  }
}


/* Key sizes and signature algorithms (OpenSSL's check_auth_level: keys of
 * every issuer, signatures of all but the anchor; the leaf key first). */
static void check_crypto(const cp_pathsim_family_t *f, cp_pathsim_path_t *p,
                         int anchored) {
  int i, top = anchored ? p->n - 1 : p->n;

  for (i = 0; i < p->n; i++) {
    if (i > 0 && !key_ok(f, p->cert[i])) {
      add_err(p, CP_PATHSIM_E_WEAK_KEY, X509_V_ERR_CA_KEY_TOO_SMALL, i);
    }
    if (i < top && !f->sha1 && weak_sig(p->cert[i])) {
      add_err(p, CP_PATHSIM_E_WEAK_SIGNATURE, X509_V_ERR_CA_MD_TOO_WEAK, i);
    }
  }
}


static void check_host(const cp_pathsim_family_t *f, const char *host,
                       cp_pathsim_path_t *p) {
  unsigned flags =
      f->cn_fallback == 0 ? X509_CHECK_FLAG_NEVER_CHECK_SUBJECT : 0;

  if (host != NULL && p->n > 0 &&
      X509_check_host(p->cert[0], host, 0, flags, NULL) != 1) {
    add_err(p, CP_PATHSIM_E_HOSTNAME, X509_V_ERR_HOSTNAME_MISMATCH, 0);
  }
}


static void time_err(cp_pathsim_path_t *p, int i, time_t at) {
  int t = time_state(p->cert[i], at);

  if (t < 0) {
    add_err(p, CP_PATHSIM_E_NOT_YET_VALID, X509_V_ERR_CERT_NOT_YET_VALID, i);
  } else if (t > 0) {
    add_err(p, CP_PATHSIM_E_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED, i);
  }
}


/* OpenSSL's internal_verify: from the top down, each signature by the
 * cert above, then each validity period (the anchor's too, unless the
 * family ignores anchor validity). */
static void check_sigs_times(const cp_pathsim_family_t *f, cp_pathsim_path_t *p,
                             time_t at, int anchored) {
  int n = p->n - 1;
  X509 *top = p->cert[n];

  if (!issued(top, top)) {
    if (anchored && f->anchor_expiry) {
      time_err(p, n, at);
    } else if (!anchored) {
      time_err(p, n, at);
    }
    n--;
  } else if (!anchored || f->anchor_expiry) {
    time_err(p, n, at);
    n--;
  } else {
    n--;
  }
  for (; n >= 0; n--) {
    EVP_PKEY *k = X509_get0_pubkey(p->cert[n + 1]);

    if (k == NULL || X509_verify(p->cert[n], k) <= 0) {
      add_err(p, CP_PATHSIM_E_BAD_SIGNATURE, X509_V_ERR_CERT_SIGNATURE_FAILURE,
              n);
    }
    time_err(p, n, at);
  }
}


/* Every check of a path that ends at a trust anchor, in OpenSSL's order. */
static void judge(const sim_t *s, cp_pathsim_path_t *p) {
  check_extensions(s->f, p);
  check_crypto(s->f, p, 1);
  check_host(s->f, s->in->host, p);
  check_sigs_times(s->f, p, s->in->at, 1);
}


static void unanchored_error(cp_pathsim_path_t *p, int num_untrusted) {
  X509 *top = p->cert[p->n - 1];

  if (self_signed(top)) {
    add_err(p, CP_PATHSIM_E_SELF_SIGNED,
            p->n == 1 ? X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
                      : X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
            p->n - 1);
  } else {
    add_err(p, CP_PATHSIM_E_NO_ISSUER,
            num_untrusted < p->n ? X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
                                 : X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            p->n - 1);
  }
}


/* check_trust from position 'from': a self-signed store cert is an
 * anchor; any store cert is one with a partial chain. */
static int chain_trusted(const cp_pathsim_family_t *f,
                         const cp_pathsim_path_t *p, int from) {
  int i;

  for (i = from; i < p->n; i++) {
    if (p->src[i] == CP_PATHSIM_STORE && self_signed(p->cert[i])) {
      return 1;
    }
  }
  return from < p->n && f->partial_chain;
}


/* OpenSSL 3.0's build_chain (x509_vfy.c), trusted-first or
 * untrusted-first with alternative chains. Each abandoned attempt is kept
 * as a tried path. */
static void build_openssl(const sim_t *s) {
  const cp_pathsim_family_t *f = s->f;
  cp_pathsim_result_t *r = s->r;
  cp_pathsim_path_t chain, *p;
  STACK_OF(X509) *pool = sk_X509_new_null();
  int search = S_UNTRUSTED, may_alt = 0, alt_untrusted = 0, trusted = 0;
  int num_untrusted = 1, i, ok, ss, j;
  X509 *curr, *issuer;

  memset(&chain, 0, sizeof(chain));
  push(&chain, sk_X509_value(s->in->sent, 0), CP_PATHSIM_SENT);
  for (i = 1; pool != NULL && i < sk_X509_num(s->in->sent); i++) {
    sk_X509_push(pool, sk_X509_value(s->in->sent, i));
  }
  if (f->strategy == CP_PATHSIM_TRUSTED_FIRST) {
    search |= S_TRUSTED;
  } else if (f->alt_chains) {
    may_alt = 1;
  }
  while (search != 0) {
    int num = chain.n;

    if (search & S_TRUSTED) {
      i = (search & S_ALTERNATE) ? alt_untrusted : num;
      curr = chain.cert[i - 1];
      issuer = num >= CP_PATHSIM_MAXDEPTH
                   ? NULL
                   : best_issuer(s->in->roots, curr, s->in->at, NULL);
      ok = issuer != NULL;
      if (ok) {
        ss = self_signed(curr);
        if (search & S_ALTERNATE) {
          p = new_path(r);
          if (p != NULL) {
            *p = chain;
            unanchored_error(p, num_untrusted);
          }
          search &= ~S_ALTERNATE;
          chain.n = num = i;
          num_untrusted = num;
        }
        if (!ss) {
          push(&chain, issuer, CP_PATHSIM_STORE);
          ss = self_signed(issuer);
        } else if (X509_cmp(curr, issuer) != 0) {
          ok = 0;
        } else {
          chain.cert[num - 1] = issuer;
          chain.src[num - 1] = CP_PATHSIM_STORE;
          num_untrusted = --num;
        }
        if (ok) {
          search &= ~S_UNTRUSTED;
          if (chain_trusted(f, &chain, num)) {
            trusted = 1;
            search = 0;
            continue;
          }
          if (!ss) {
            continue;
          }
        }
      }
      if (!(search & S_UNTRUSTED)) {
        if ((search & S_ALTERNATE) && --alt_untrusted > 0) {
          continue;
        }
        if (!may_alt || (search & S_ALTERNATE) || num_untrusted < 2) {
          break;
        }
        search |= S_ALTERNATE;
        alt_untrusted = num_untrusted - 1;
      }
    }
    if (search & S_UNTRUSTED) {
      curr = chain.cert[chain.n - 1];
      issuer = (self_signed(curr) || chain.n >= CP_PATHSIM_MAXDEPTH)
                   ? NULL
                   : best_issuer(pool, curr, s->in->at, &chain);
      if (issuer == NULL) {
        search &= ~S_UNTRUSTED;
        search |= S_TRUSTED;
        continue;
      }
      for (j = 0; j < sk_X509_num(pool); j++) {
        if (sk_X509_value(pool, j) == issuer) {
          sk_X509_delete(pool, j);
          break;
        }
      }
      push(&chain, issuer, CP_PATHSIM_SENT);
      num_untrusted++;
    }
  }
  sk_X509_free(pool);
  if (!trusted && chain.n == num_untrusted && f->partial_chain &&
      in_stack(s->in->roots, chain.cert[0])) {
    trusted = 1;
    chain.src[0] = CP_PATHSIM_STORE;
  }
  p = new_path(r);
  if (p == NULL) {
    p = &r->path[r->npaths - 1];
  }
  *p = chain;
  p->anchored = trusted;
  if (f->min_rsa_bits > 0 && !key_ok(f, chain.cert[0])) {
    add_err(p, CP_PATHSIM_E_WEAK_KEY, X509_V_ERR_EE_KEY_TOO_SMALL, 0);
  }
  if (!trusted) {
    unanchored_error(p, num_untrusted);
    return;
  }
  judge(s, p);
}


/* Is x an anchor for this family: a store cert, self-signed unless the
 * family accepts partial chains. */
static X509 *anchor_for(const sim_t *s, X509 *x, int k) {
  int i, n = 0;
  X509 *c;

  for (i = 0; i < sk_X509_num(s->in->roots); i++) {
    c = sk_X509_value(s->in->roots, i);
    if (issued(c, x) && (self_signed(c) || s->f->partial_chain) && n++ == k) {
      return c;
    }
  }
  return NULL;
}


static void finish_presented(const sim_t *s, cp_pathsim_path_t *p) {
  judge(s, p);
  p->anchored = 1;
}


/* GnuTLS: sort the presented list from the leaf; stop at the first cert
 * whose issuer is trusted (>= 3.7) or follow the list to its end; cut at
 * a cert that is itself trusted; on a missing signer (and, from 3.6.14,
 * an expired chain end) retry once with the trusted cert of the same
 * subject and key as the last one. */
static void build_presented(const sim_t *s) {
  cp_pathsim_result_t *r = s->r;
  cp_pathsim_path_t chain, *p;
  X509 *a = NULL, *next, *c;
  int i, k, failed;

  memset(&chain, 0, sizeof(chain));
  push(&chain, sk_X509_value(s->in->sent, 0), CP_PATHSIM_SENT);
  for (;;) {
    X509 *top = chain.cert[chain.n - 1];

    if (in_stack(s->in->roots, top) && chain.n > 1) {
      chain.src[chain.n - 1] = CP_PATHSIM_STORE;
      a = top;
      chain.n--;
      break;
    }
    if (s->f->stop_at_trusted && (a = anchor_for(s, top, 0)) != NULL) {
      break;
    }
    next = self_signed(top) ? NULL : best_issuer(s->in->sent, top, 0, &chain);
    if (next == NULL || chain.n >= CP_PATHSIM_MAXDEPTH - 1) {
      a = self_signed(top) ? NULL : anchor_for(s, top, 0);
      break;
    }
    push(&chain, next, CP_PATHSIM_SENT);
  }
  p = new_path(r);
  *p = chain;
  if (a == NULL) {
    unanchored_error(p, p->n);
  } else {
    push(p, a, CP_PATHSIM_STORE);
    finish_presented(s, p);
  }
  failed = p->nerr > 0;
  k = p->nerr > 0 ? p->err[0].kind : 0;
  if (!failed || chain.n < 2 ||
      !(a == NULL || (s->f->retry_expired && k == CP_PATHSIM_E_EXPIRED))) {
    return;
  }
  /* the fallback: a trusted cert with the last cert's subject and key */
  for (i = 0; i < sk_X509_num(s->in->roots); i++) {
    c = sk_X509_value(s->in->roots, i);
    if (X509_NAME_cmp(X509_get_subject_name(c),
                      X509_get_subject_name(chain.cert[chain.n - 1])) != 0 ||
        EVP_PKEY_eq(X509_get0_pubkey(c),
                    X509_get0_pubkey(chain.cert[chain.n - 1])) != 1) {
      continue;
    }
    p = new_path(r);
    if (p == NULL) {
      return;
    }
    *p = chain;
    p->nerr = 0;
    p->cert[p->n - 1] = c;
    p->src[p->n - 1] = CP_PATHSIM_STORE;
    finish_presented(s, p);
    return;
  }
}


/* One candidate issuer source for the search, in preference order. */
static int search_from(const sim_t *s, cp_pathsim_path_t *cur, int depth,
                       int *budget);


static int try_candidate(const sim_t *s, cp_pathsim_path_t *cur, X509 *c,
                         cp_pathsim_src_t src, int depth, int *budget) {
  cp_pathsim_path_t *p;
  int k;

  for (k = 0; k < cur->n; k++) {
    if (X509_cmp(cur->cert[k], c) == 0) {
      return 0;
    }
  }
  push(cur, c, src);
  if (src == CP_PATHSIM_STORE) {
    p = new_path(s->r);
    if (p != NULL) {
      *p = *cur;
      p->anchored = 1;
      judge(s, p);
      cur->n--;
      return p->nerr == 0;
    }
    cur->n--;
    return 0;
  }
  if (time_state(c, s->in->at) == 0 && search_from(s, cur, depth + 1, budget)) {
    return 1;
  }
  cur->n--;
  return 0;
}


static int search_from(const sim_t *s, cp_pathsim_path_t *cur, int depth,
                       int *budget) {
  X509 *x = cur->cert[cur->n - 1], *c;
  STACK_OF(X509) *srcs[2] = {s->in->sent,
                             s->f->aia_fetch ? s->in->extra : NULL};
  int i, k;

  if (--*budget < 0 || cur->n >= CP_PATHSIM_MAXDEPTH) {
    return 0;
  }
  for (k = 0; (c = anchor_for(s, x, k)) != NULL; k++) {
    if (try_candidate(s, cur, c, CP_PATHSIM_STORE, depth, budget)) {
      return 1;
    }
  }
  for (k = 0; k < 2; k++) {
    for (i = 0; srcs[k] != NULL && i < sk_X509_num(srcs[k]); i++) {
      c = sk_X509_value(srcs[k], i);
      if (!issued(c, x) || in_stack(s->in->roots, c)) {
        continue;
      }
      if (try_candidate(s, cur, c, k ? CP_PATHSIM_AIA : CP_PATHSIM_SENT, depth,
                        budget)) {
        return 1;
      }
    }
  }
  return 0;
}


static void build_search(const sim_t *s) {
  cp_pathsim_path_t cur, *p;
  int budget = 200;

  memset(&cur, 0, sizeof(cur));
  push(&cur, sk_X509_value(s->in->sent, 0), CP_PATHSIM_SENT);
  if (search_from(s, &cur, 0, &budget) || s->r->npaths > 0) {
    return;
  }
  /* no path reached an anchor: report the presented chain's end */
  p = new_path(s->r);
  for (; p->n < sk_X509_num(s->in->sent) && p->n < CP_PATHSIM_MAXDEPTH;) {
    X509 *c = p->n == 0
                  ? sk_X509_value(s->in->sent, 0)
                  : best_issuer(s->in->sent, p->cert[p->n - 1], s->in->at, p);

    if (c == NULL) {
      break;
    }
    push(p, c, CP_PATHSIM_SENT);
  }
  unanchored_error(p, p->n);
}


void cp_pathsim_run(const cp_pathsim_family_t *f, const cp_pathsim_input_t *in,
                    cp_pathsim_result_t *r) {
  sim_t s = {f, in, r};
  cp_pathsim_path_t *p;
  int i, from;

  memset(r, 0, sizeof(*r));
  r->accepted = -1;
  if (in->sent == NULL || sk_X509_num(in->sent) == 0) {
    r->kind = CP_PATHSIM_E_NO_ISSUER;
    r->error = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    return;
  }
  if (f->strategy == CP_PATHSIM_SEARCH) {
    build_search(&s);
  } else if (f->strategy == CP_PATHSIM_PRESENTED) {
    build_presented(&s);
  } else {
    build_openssl(&s);
  }
  for (i = 0; i < r->npaths; i++) {
    if (r->path[i].anchored && r->path[i].nerr == 0) {
      r->accepted = i;
    }
  }
  if (r->accepted >= 0) {
    r->pass = 1;
    p = &r->path[r->accepted];
    for (i = 0; i < p->n; i++) {
      time_t t = not_after(p->cert[i]);

      if (i == p->n - 1 && !f->anchor_expiry) {
        break;
      }
      if (r->horizon == 0 || t < r->horizon) {
        r->horizon = t;
      }
    }
    return;
  }
  /* the path whose error the family reports: OpenSSL and GnuTLS report
   * the last attempt; a search reports its first complete path */
  from = f->strategy == CP_PATHSIM_SEARCH ? 0 : r->npaths - 1;
  r->accepted = from;
  p = &r->path[from];
  if (p->nerr > 0) {
    r->kind = p->err[0].kind;
    r->error = p->err[0].ossl;
    r->depth = p->err[0].depth;
  }
}
