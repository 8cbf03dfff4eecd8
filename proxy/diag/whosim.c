#include "diag/whosim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/esc.h"
#include "diag/cert.h"


void cp_whosim_free(cp_whosim_t *w) {
  cp_pathsim_set_free(&w->set);
  sk_X509_pop_free(w->roots, X509_free);
  w->roots = NULL;
}


static int load_pem(STACK_OF(X509) *sk, const char *path) {
  BIO *in = BIO_new_file(path, "r");
  X509 *x;

  if (in == NULL) {
    ERR_clear_error();
    return -1;
  }
  while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(sk, x)) {
      X509_free(x);
      break;
    }
  }
  ERR_clear_error();
  BIO_free(in);
  return 0;
}


int cp_whosim_add_root(cp_whosim_t *w, X509 *root) {
  if (w->roots == NULL || !sk_X509_push(w->roots, root)) {
    return -1;
  }
  X509_up_ref(root);
  return 0;
}


int cp_whosim_load(cp_whosim_t *w, const char *families_path,
                   const char *ca_file, char *err, size_t errlen) {
  const char *path = ca_file;
  int rc;

  memset(w, 0, sizeof(*w));
  rc = cp_pathsim_load(&w->set, families_path, err, errlen);
  if (rc != 0) {
    return rc;
  }
  if (path == NULL) {
    /* The bundle the system store's file lookup reads; its hashed
     * directory cannot be listed, and on Debian both hold the same
     * certificates (update-ca-certificates). */
    path = getenv(X509_get_default_cert_file_env());
    if (path == NULL || path[0] == '\0') {
      path = X509_get_default_cert_file();
    }
  }
  w->roots = sk_X509_new_null();
  if (w->roots == NULL || load_pem(w->roots, path) != 0) {
    if (ca_file != NULL) {
      cp_whosim_free(w);
      return cp_errf(err, errlen, CP_ECONFIG, "cannot read %s", path);
    }
    /* No system bundle: the simulation runs with an empty store. */
  }
  return 0;
}


static void fill_family(const cp_pathsim_family_t *pf,
                        const cp_pathsim_result_t *res, cp_verify_family_t *f) {
  const cp_pathsim_path_t *p;
  int i, k;

  memset(f, 0, sizeof(*f));
  snprintf(f->id, sizeof(f->id), "%s", pf->id);
  f->pass = res->pass != 0;
  f->unknown = pf->unknown != 0;
  f->openssl_errors = pf->openssl_errors != 0;
  f->kind = (unsigned char)res->kind;
  f->error = (short)res->error;
  f->depth = (short)res->depth;
  f->npaths = (unsigned char)res->npaths;
  f->horizon = res->pass ? res->horizon : 0;
  if (res->accepted < 0) {
    return;
  }
  p = &res->path[res->accepted];
  for (i = 0; i < p->n && i < CP_VERIFY_MAX_PATH; i++) {
    cp_cert_name_str(X509_get_subject_name(p->cert[i]), f->path[i].subject,
                     sizeof(f->path[i].subject));
    f->path[i].src = (unsigned char)p->src[i];
  }
  f->nelem = (unsigned char)i;
  for (k = 0; k < p->nerr; k++) {
    if (p->err[k].depth >= 0 && p->err[k].depth < f->nelem) {
      f->path[p->err[k].depth].kinds |= (unsigned short)(1u << p->err[k].kind);
    }
  }
}


static void cn_of(X509 *x, char *out, size_t len) {
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out,
                                (int)len) < 0) {
    cp_cert_name_str(X509_get_subject_name(x), out, len);
  }
}


/* Appends the strings (NULL-terminated list) to out, cut at len. */
static void cat(char *out, size_t len, const char *a, const char *b,
                const char *c, const char *d) {
  const char *v[4] = {a, b, c, d};
  size_t n = strlen(out), k, m;

  for (k = 0; k < 4 && v[k] != NULL; k++) {
    m = strlen(v[k]);
    if (n + m >= len) {
      m = len - n - 1;
    }
    memcpy(out + n, v[k], m);
    n += m;
    out[n] = '\0';
  }
}


static int passes(const cp_pathsim_family_t *pf, STACK_OF(X509) *sent,
                  STACK_OF(X509) *roots, const cp_pathsim_input_t *in) {
  cp_pathsim_input_t t = *in;
  cp_pathsim_result_t res;

  t.sent = sent;
  t.roots = roots;
  cp_pathsim_run(pf, &t, &res);
  return res.pass;
}


/* "A > B > C": the common names of sk. */
static void chain_text(STACK_OF(X509) *sk, char *out, size_t len) {
  char cn[64];
  size_t n = 0;
  int i;

  out[0] = '\0';
  for (i = 0; i < sk_X509_num(sk) && n < len; i++) {
    cn_of(sk_X509_value(sk, i), cn, sizeof(cn));
    n += (size_t)snprintf(out + n, len - n, "%s%s", i ? " > " : "", cn);
  }
}


/* The presented chain without the elements whose bit is set in drop. */
static STACK_OF(X509) *without(STACK_OF(X509) *sent, unsigned drop) {
  STACK_OF(X509) *sk = sk_X509_new_null();
  int i;

  for (i = 0; sk != NULL && i < sk_X509_num(sent); i++) {
    if (!(drop & (1u << i)) && !sk_X509_push(sk, sk_X509_value(sent, i))) {
      sk_X509_free(sk);
      return NULL;
    }
  }
  return sk;
}


/* A chain to serve instead: first without one element (the last ones
 * first: a cross-sign is sent last), then without the last k; the
 * smallest change wins. */
static void fix_chain(const cp_pathsim_family_t *pf, STACK_OF(X509) *sent,
                      STACK_OF(X509) *roots, const cp_pathsim_input_t *in,
                      char *out, size_t len) {
  int n = sk_X509_num(sent), j, k;
  char cn[64], chain[160];

  for (j = n - 1; j >= 1 && j < 16; j--) {
    STACK_OF(X509) *sk = without(sent, 1u << j);

    if (sk != NULL && passes(pf, sk, roots, in)) {
      cn_of(sk_X509_value(sent, j), cn, sizeof(cn));
      chain_text(sk, chain, sizeof(chain));
      cat(out, len, "drop ", cn, " from the chain: serve ", chain);
      sk_X509_free(sk);
      return;
    }
    sk_X509_free(sk);
  }
  for (k = 2; k < n && n < 16; k++) {
    STACK_OF(X509) *sk = without(sent, ((1u << k) - 1u) << (n - k));

    if (sk != NULL && passes(pf, sk, roots, in)) {
      chain_text(sk, chain, sizeof(chain));
      snprintf(out, len, "drop the last %d certificates: serve ", k);
      cat(out, len, chain, NULL, NULL, NULL);
      sk_X509_free(sk);
      return;
    }
    sk_X509_free(sk);
  }
}


/* A change to the client's store: remove one expired store certificate
 * on the failing path, else add a presented self-signed root. */
static void fix_store(const cp_pathsim_family_t *pf,
                      const cp_pathsim_result_t *res, STACK_OF(X509) *sent,
                      STACK_OF(X509) *roots, const cp_pathsim_input_t *in,
                      char *out, size_t len) {
  const cp_pathsim_path_t *p =
      res->accepted >= 0 ? &res->path[res->accepted] : NULL;
  STACK_OF(X509) *sk = NULL;
  char cn[64];
  int i, j;

  for (i = 0; p != NULL && i < p->n; i++) {
    X509 *x = p->cert[i];

    if (p->src[i] != CP_PATHSIM_STORE ||
        X509_cmp_time(X509_get0_notAfter(x), (time_t *)&in->at) >= 0) {
      continue;
    }
    sk = sk_X509_new_null();
    for (j = 0; sk != NULL && j < sk_X509_num(roots); j++) {
      if (X509_cmp(sk_X509_value(roots, j), x) != 0) {
        sk_X509_push(sk, sk_X509_value(roots, j));
      }
    }
    if (sk != NULL && passes(pf, sent, sk, in)) {
      cn_of(x, cn, sizeof(cn));
      cat(out, len, "remove the expired root ", cn, " from the trust store",
          NULL);
      sk_X509_free(sk);
      return;
    }
    sk_X509_free(sk);
    sk = NULL;
  }
  for (i = 1; i < sk_X509_num(sent); i++) {
    X509 *x = sk_X509_value(sent, i);

    if (X509_self_signed(x, 0) <= 0 || (sk = sk_X509_dup(roots)) == NULL) {
      continue;
    }
    sk_X509_push(sk, x);
    if (passes(pf, sent, sk, in)) {
      cn_of(x, cn, sizeof(cn));
      cat(out, len, "add the root ", cn, " to the trust store", NULL);
      sk_X509_free(sk);
      return;
    }
    sk_X509_free(sk);
  }
}


/* The rule table's kind for a simulated failure, to print what that
 * client prints (clients.json's errors). */
static cp_who_kind_t who_kind(const cp_verify_family_t *f) {
  switch ((cp_pathsim_kind_t)f->kind) {
  case CP_PATHSIM_E_EXPIRED:
    return CP_WHO_EXPIRED;
  case CP_PATHSIM_E_NOT_YET_VALID:
    return CP_WHO_NOT_YET_VALID;
  case CP_PATHSIM_E_NO_ISSUER:
    return f->depth == 0 ? CP_WHO_INCOMPLETE : CP_WHO_UNKNOWN_ISSUER;
  case CP_PATHSIM_E_SELF_SIGNED:
    return f->depth == 0 ? CP_WHO_SELF_SIGNED : CP_WHO_IN_CHAIN;
  case CP_PATHSIM_E_WEAK_KEY:
    return CP_WHO_WEAK_KEY;
  case CP_PATHSIM_E_WEAK_SIGNATURE:
    return CP_WHO_WEAK_SIGNATURE;
  case CP_PATHSIM_E_HOSTNAME:
    return CP_WHO_HOSTNAME;
  default:
    return CP_WHO_OTHER;
  }
}


static const cp_who_family_t *table_family(const cp_who_t *who,
                                           const char *id) {
  int i;

  for (i = 0; who != NULL && i < who->n; i++) {
    if (strcmp(who->f[i].id, id) == 0) {
      return &who->f[i];
    }
  }
  return NULL;
}


/* What the client prints: OpenSSL's own text for OpenSSL-based
 * families, else the table's words for the kind, else the kind's name. */
static const char *error_words(const cp_verify_family_t *f,
                               const cp_who_family_t *tf) {
  cp_who_kind_t k = who_kind(f);

  if ((f->openssl_errors && f->error != 0) || tf == NULL) {
    return cp_whosim_error_text(f);
  }
  return tf->errors[k][0]              ? tf->errors[k]
         : tf->errors[CP_WHO_OTHER][0] ? tf->errors[CP_WHO_OTHER]
                                       : cp_whosim_error_text(f);
}


/* A simulated failure overrides the table's pass or unknown: the table
 * cannot see a path the family builds differently from OpenSSL 3. A
 * table verdict that guessed at the family's path (path_rule: the chain
 * verified with an expired element presented) is replaced by the
 * simulation's, unless the family has unknown rules. Any other table
 * failure stands: the table also judges certificate policies, key usage,
 * name constraints, revocation and browser policies, which the simulator
 * does not model. A family that speaks for a table row (chrome for
 * browsers) overrides that row's pass or unknown with its failure.
 * aia_unfetched: the failure is an issuer the client would fetch from an
 * AIA URL the certificate names, which the simulation did not fetch; the
 * table's verdict then stands. */
static void override_who(const cp_verify_family_t *f, const char *speaks_for,
                         int aia_unfetched, const cp_who_t *who,
                         cp_verify_result_t *r) {
  int i;

  for (i = 0; i < r->nwho; i++) {
    const char *id = r->who[i].family;
    int own = id != NULL && strcmp(id, f->id) == 0;
    int spoken = id != NULL && speaks_for[0] && strcmp(id, speaks_for) == 0;

    if (!own && !spoken) {
      continue;
    }
    if (!f->pass && !aia_unfetched && strcmp(r->who[i].verdict, "fail") != 0) {
      r->who[i].verdict = "fail";
      snprintf(r->who[i].error, sizeof(r->who[i].error), "%s",
               error_words(f, table_family(who, id)));
    } else if (own && f->pass && r->who[i].path_rule && !f->unknown) {
      r->who[i].verdict = "pass";
      r->who[i].error[0] = '\0';
    }
  }
}


/* Does the certificate that lacks its issuer name a caIssuers URL a
 * client that fetches would follow? */
static int aia_names_issuer(const cp_pathsim_result_t *res) {
  const cp_pathsim_path_t *p;
  AUTHORITY_INFO_ACCESS *aia;
  int i, found = 0;

  if (res->pass || res->kind != CP_PATHSIM_E_NO_ISSUER || res->npaths == 0) {
    return 0;
  }
  p = &res->path[res->accepted >= 0 ? res->accepted : 0];
  if (res->depth < 0 || res->depth >= p->n) {
    return 0;
  }
  aia = X509_get_ext_d2i(p->cert[res->depth], NID_info_access, NULL, NULL);
  for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
    ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

    found |= OBJ_obj2nid(ad->method) == NID_ad_ca_issuers &&
             ad->location->type == GEN_URI;
  }
  AUTHORITY_INFO_ACCESS_free(aia);
  return found;
}


/* A chain that verified here but that some family's simulated path
 * fails now (the 2021 long chain for OpenSSL 1.0.2-style builders): a
 * warning, unless a more specific one is set already. */
static void warn_failing(cp_verify_result_t *r) {
  char names[200] = "";
  size_t used = 0;
  int i, n = 0;

  if (!r->ok || r->warning != NULL) {
    return;
  }
  for (i = 0; i < r->nfam; i++) {
    const cp_verify_family_t *f = &r->fam[i];
    int w;

    if (f->pass) {
      continue;
    }
    w = snprintf(names + used, sizeof(names) - used, "%s%s (%s)",
                 n > 0 ? ", " : "", f->id, cp_whosim_error_text(f));
    used = w > 0 && (size_t)w < sizeof(names) - used ? used + (size_t)w
                                                     : sizeof(names) - 1;
    n++;
  }
  if (n == 0) {
    return;
  }
  r->warning = "fails_for_some_clients";
  snprintf(r->warning_hint, sizeof(r->warning_hint),
           "This chain verified here, but %d client famil%s build%s a "
           "path that fails now: %s; each family's fix is in 'clients'.",
           n, n == 1 ? "y" : "ies", n == 1 ? "s" : "", names);
}


void cp_whosim_judge(const cp_whosim_t *w, const cp_who_t *who,
                     STACK_OF(X509) *sent, STACK_OF(X509) *roots, time_t at,
                     const char *host, cp_verify_result_t *r) {
  cp_pathsim_input_t in;
  cp_pathsim_result_t *res = malloc(sizeof(*res));
  int i;

  r->nfam = 0;
  if (res == NULL || sent == NULL || sk_X509_num(sent) == 0) {
    free(res);
    return;
  }
  in.sent = sent;
  in.roots = roots != NULL ? roots : w->roots;
  in.extra = NULL;
  in.at = at != 0 ? at : time(NULL);
  in.host = host;
  for (i = 0; i < w->set.n && r->nfam < CP_VERIFY_MAX_FAMILIES; i++) {
    const cp_pathsim_family_t *pf = &w->set.f[i];
    cp_verify_family_t *f = &r->fam[r->nfam++];

    cp_pathsim_run(pf, &in, res);
    fill_family(pf, res, f);
    if (!res->pass) {
      fix_chain(pf, sent, in.roots, &in, f->fix_chain, sizeof(f->fix_chain));
      fix_store(pf, res, sent, in.roots, &in, f->fix_store,
                sizeof(f->fix_store));
    }
    override_who(f, pf->speaks_for, pf->aia_fetch == 1 && aia_names_issuer(res),
                 who, r);
  }
  free(res);
  warn_failing(r);
}


const char *cp_whosim_error_text(const cp_verify_family_t *f) {
  if (f->pass) {
    return "";
  }
  if (f->openssl_errors && f->error != 0) {
    return X509_verify_cert_error_string(f->error);
  }
  return cp_pathsim_kind_name((cp_pathsim_kind_t)f->kind);
}


static void format_family(const cp_verify_family_t *f, cp_buf_t *b) {
  char e[CP_ESC_SIZE(200)], when[32];
  struct tm tm;
  int i, k;

  cp_buf_appendf(b, "  %-11s %s", f->id, f->pass ? "pass" : "FAIL");
  if (!f->pass) {
    cp_buf_appendf(b, " (%s", cp_pathsim_kind_name(f->kind));
    if (f->openssl_errors) {
      cp_buf_appendf(b, ": error %d at depth %d: %s", f->error, f->depth,
                     cp_whosim_error_text(f));
    } else {
      cp_buf_appendf(b, " at depth %d", f->depth);
    }
    cp_buf_appendf(b, ")");
  } else if (f->horizon != 0 && gmtime_r(&f->horizon, &tm) != NULL) {
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cp_buf_appendf(b, " until %s (horizon)", when);
  }
  if (f->unknown) {
    cp_buf_appendf(b, " (some rules unknown: a prediction)");
  }
  cp_buf_appendf(b, "\n");
  for (i = 0; i < f->nelem; i++) {
    cp_buf_appendf(b, "      %d %s [%s]", i,
                   cp_esc_str(e, sizeof(e), f->path[i].subject),
                   cp_pathsim_src_name(f->path[i].src));
    for (k = 0; k < 16; k++) {
      if (f->path[i].kinds & (1u << k)) {
        cp_buf_appendf(b, " !%s", cp_pathsim_kind_name(k));
      }
    }
    cp_buf_appendf(b, "\n");
  }
  if (f->fix_chain[0] != '\0') {
    cp_buf_appendf(b, "      fix (server): %s\n",
                   cp_esc_str(e, sizeof(e), f->fix_chain));
  }
  if (f->fix_store[0] != '\0') {
    cp_buf_appendf(b, "      fix (client): %s\n",
                   cp_esc_str(e, sizeof(e), f->fix_store));
  }
  if (!f->pass && f->fix_chain[0] == '\0' && f->fix_store[0] == '\0') {
    cp_buf_appendf(b, "      fix: none found by dropping a presented "
                      "certificate or changing the store\n");
  }
}


void cp_whosim_format(const cp_verify_result_t *r, cp_buf_t *b) {
  int i;

  if (r->nfam == 0) {
    return;
  }
  cp_buf_appendf(b, "\nwho breaks, by path simulation (certs/families.json; "
                    "each element: [sent|store|aia], !error):\n");
  for (i = 0; i < r->nfam; i++) {
    format_family(&r->fam[i], b);
  }
}
