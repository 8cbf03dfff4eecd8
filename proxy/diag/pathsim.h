/* Path simulator: how one client family builds and judges a
 * certification path, given the presented chain, a trust store, optional
 * extra issuers (as if fetched through AIA) and a time. The result lists
 * every candidate path the family tries, in its order, each element
 * marked sent / store / aia, with every error found on it, then the
 * verdict the family reports (in OpenSSL's numbering for OpenSSL-based
 * families) and the breakage horizon (the first notAfter on the accepted
 * path). Families are data (certs/families.json, each rule with its
 * source). Pure: no I/O but cp_pathsim_load(); never includes uv.h.
 *
 * Ownership: a result borrows the certificates of its inputs (it holds
 * no references); free the inputs after the result. A cp_pathsim_set_t
 * owns its family array (cp_pathsim_set_free). */
#ifndef CP_PATHSIM_H
#define CP_PATHSIM_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#ifndef CP_FAMILIES_PATH
#define CP_FAMILIES_PATH "certs/families.json"
#endif

#define CP_PATHSIM_MAXDEPTH 10
#define CP_PATHSIM_MAXPATHS 8
#define CP_PATHSIM_MAXERRS 12

/* How candidate issuers are looked up and in what order paths are tried. */
typedef enum {
  CP_PATHSIM_TRUSTED_FIRST,   /* OpenSSL >= 1.1: store first, greedy */
  CP_PATHSIM_UNTRUSTED_FIRST, /* OpenSSL 1.0.x: presented chain first */
  CP_PATHSIM_PRESENTED,       /* GnuTLS: walk the presented list */
  CP_PATHSIM_SEARCH           /* backtracking search (Go, Java, webpki) */
} cp_pathsim_strategy_t;

typedef enum {
  CP_PATHSIM_SENT,
  CP_PATHSIM_STORE,
  CP_PATHSIM_AIA
} cp_pathsim_src_t;

/* Error kinds; 'ossl' in an error carries OpenSSL's X509_V_ERR_ code. */
typedef enum {
  CP_PATHSIM_E_EXPIRED,
  CP_PATHSIM_E_NOT_YET_VALID,
  CP_PATHSIM_E_NO_ISSUER,      /* could not reach a trust anchor */
  CP_PATHSIM_E_SELF_SIGNED,    /* ends at an untrusted self-signed cert */
  CP_PATHSIM_E_NOT_CA,         /* issuer is not a CA for this family */
  CP_PATHSIM_E_CRITICAL_EXT,   /* unhandled critical extension */
  CP_PATHSIM_E_STRICT,         /* RFC 5280 profile check (X509_STRICT) */
  CP_PATHSIM_E_WEAK_KEY,       /* RSA key outside the family's range */
  CP_PATHSIM_E_WEAK_SIGNATURE, /* SHA-1 (or weaker) signature */
  CP_PATHSIM_E_BAD_SIGNATURE,  /* signature does not verify */
  CP_PATHSIM_E_HOSTNAME        /* the leaf does not name the host */
} cp_pathsim_kind_t;

typedef struct {
  char id[24];
  char name[96];
  cp_pathsim_strategy_t strategy;
  int alt_chains;      /* UNTRUSTED_FIRST: retry via a store issuer */
  int anchor_expiry;   /* the trust anchor's validity is checked */
  int retry_expired;   /* PRESENTED: retry on an expired chain end */
  int stop_at_trusted; /* PRESENTED: stop at the first cert whose issuer
                          is trusted (GnuTLS >= 3.7) */
  int partial_chain;   /* a non-self-signed store cert is an anchor */
  int strict;          /* OpenSSL's X509_V_FLAG_X509_STRICT checks */
  int require_ca_bc;   /* issuers need basicConstraints cA=TRUE */
  int aia_fetch;       /* extra issuers are fetched */
  int sha1;            /* SHA-1 signatures accepted below the anchor */
  int min_rsa_bits;    /* 0: no minimum */
  int max_rsa_bits;    /* 0: no maximum */
  int cn_fallback;     /* 1, 0, -1 unknown */
  int openssl_errors;  /* reports OpenSSL's error numbers */
  int unknown;         /* some rule is unknown: verdicts are predictions */
  char speaks_for[24]; /* a rule-table family (clients.json) whose verdict
                          this one's simulated failure overrides too, e.g.
                          chrome for browsers; "" none */
} cp_pathsim_family_t;

typedef struct {
  cp_pathsim_family_t *f; /* owned */
  int n;
} cp_pathsim_set_t;

typedef struct {
  cp_pathsim_kind_t kind;
  int ossl; /* X509_V_ERR_* */
  int depth;
  X509 *cert; /* borrowed */
} cp_pathsim_err_t;

typedef struct {
  int n;
  X509 *cert[CP_PATHSIM_MAXDEPTH]; /* borrowed; [0] is the leaf */
  cp_pathsim_src_t src[CP_PATHSIM_MAXDEPTH];
  int anchored; /* ends at a trust anchor */
  int nerr;
  cp_pathsim_err_t err[CP_PATHSIM_MAXERRS]; /* in the family's order */
} cp_pathsim_path_t;

typedef struct {
  int npaths;
  cp_pathsim_path_t path[CP_PATHSIM_MAXPATHS];
  int accepted; /* index of the path the verdict is about, -1 none */
  int pass;
  cp_pathsim_kind_t kind; /* when !pass */
  int error;              /* X509_V_ERR_* the family reports, 0 on pass */
  int depth;              /* depth of that error */
  time_t horizon;         /* first notAfter on the accepted path, 0 */
} cp_pathsim_result_t;

typedef struct {
  STACK_OF(X509) *sent;  /* borrowed; server order, [0] the leaf */
  STACK_OF(X509) *roots; /* borrowed; the trust store */
  STACK_OF(X509) *extra; /* borrowed, may be NULL: AIA-fetchable issuers */
  time_t at;
  const char *host; /* may be NULL: no name check */
} cp_pathsim_input_t;

void cp_pathsim_run(const cp_pathsim_family_t *f, const cp_pathsim_input_t *in,
                    cp_pathsim_result_t *r);

const char *cp_pathsim_src_name(cp_pathsim_src_t s);
const char *cp_pathsim_kind_name(cp_pathsim_kind_t k);
const char *cp_pathsim_strategy_name(cp_pathsim_strategy_t s);

int cp_pathsim_parse(cp_pathsim_set_t *s, const char *json, size_t len,
                     char *err, size_t errlen);
int cp_pathsim_load(cp_pathsim_set_t *s, const char *path, char *err,
                    size_t errlen);
void cp_pathsim_set_free(cp_pathsim_set_t *s);
/* Appends one block per family (verdict, path, horizon) to b. */
struct cp_buf_s;
void cp_pathsim_format(const cp_pathsim_set_t *s, const cp_pathsim_input_t *in,
                       struct cp_buf_s *b);
const cp_pathsim_family_t *cp_pathsim_find(const cp_pathsim_set_t *s,
                                           const char *id);

#endif
