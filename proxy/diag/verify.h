/* Upstream verification as data. cp_verify_run() runs X509_verify_cert
 * with a recorder callback that appends every error at every depth and
 * never decides; cp_verify_result_build() turns the record, the presented
 * chain and the built chain into plain data (strings, numbers) for the
 * classifier (diag.c), events, logs, the 502 body and `chainproxy verify`.
 * No I/O. */
#ifndef CP_VERIFY_H
#define CP_VERIFY_H

#include <time.h>

#include <openssl/x509.h>

#include "base/buf.h"

#define CP_VERIFY_MAX_ERRORS 32
#define CP_VERIFY_MAX_CHAIN 16
/* A leaf's DNS and IP subjectAltName entries kept, and their bytes
 * together; entries past either limit are counted, not kept. */
#define CP_CERT_MAX_SAN 8
#define CP_CERT_SAN_BYTES 512

typedef struct cp_verify_rec_s cp_verify_rec_t;
typedef struct cp_san_s cp_san_t;
typedef struct cp_cert_info_s cp_cert_info_t;
typedef struct cp_verify_result_s cp_verify_result_t;
typedef struct cp_verify_family_s cp_verify_family_t;

struct cp_verify_rec_s {
  struct {
    int depth;
    int code;
    X509 *cert; /* owned reference */
  } errs[CP_VERIFY_MAX_ERRORS];
  int nerrs;
  int dropped;           /* errors past the array */
  int ran;               /* the verifier ran at all */
  STACK_OF(X509) *built; /* owned: the chain OpenSSL built, leaf first */
  int num_untrusted;     /* built[0 .. num_untrusted-1] came from the peer */
  X509_STORE *store;     /* owned reference: the trust store used */
  time_t at;             /* verification time; 0 = the wall clock */
  /* Revocation by CRL (--crl): CRL problems are not chain errors. */
  int crl_on;              /* the store checks CRLs */
  unsigned crl_missing;    /* bit d: no CRL for the element at depth d */
  int crl_problem;         /* first error of a CRL itself, 0: none */
  char revoked_reason[32]; /* of a revoked element: keyCompromise, ... */
  char revoked_at[32];     /* RFC 3339 */
};

/* One subjectAltName entry as the certificate holds it: the content bytes
 * of the DER string (ASN1_STRING_get0_data, ASN1_STRING_length), which may
 * hold a NUL, a comma or any other byte. Plain data (no pointers), so a
 * result can be copied whole (resume.c). */
struct cp_san_s {
  int type;           /* GEN_DNS, or GEN_IPADD (4 or 16 bytes) */
  unsigned short off; /* the value is san_bytes[off .. off + len) */
  unsigned short len;
};

struct cp_cert_info_s {
  int depth;
  char subject[256];
  char issuer[256];
  char not_before[32]; /* RFC 3339 */
  char not_after[32];
  time_t nb, na; /* the same as seconds; 0 when unreadable */
  char sha256[65];
  char key_type[16]; /* RSA, EC, Ed25519, ... */
  int key_bits;
  char sig_alg[48]; /* sha256WithRSAEncryption, ecdsa-with-SHA256, ... */
  char names[256];  /* the SAN entries, comma separated (leaf), for
                       reading only: each value escaped (esc.h), so it
                       is never parsed; san[] holds the names */
  char name_constraints[160];   /* "permitted DNS:.corp.test", "" */
  char unknown_critical[96];    /* a critical extension nobody handles */
  char ca_issuers[160];         /* AIA caIssuers URL, "" */
  int path_len;                 /* basicConstraints pathlen, -1: none */
  unsigned has_sct : 1;         /* embedded SCTs (Certificate Transparency) */
  unsigned requires_policy : 1; /* policyConstraints requireExplicitPolicy */
  unsigned has_policies : 1;    /* certificatePolicies present */
  unsigned self_issued : 1;
  unsigned is_ca : 1;
  unsigned weak_sig : 1;        /* MD5 or SHA-1 signature */
  unsigned in_store : 1;        /* built chain: taken from the trust store */
  unsigned twin_root : 1;       /* not self-issued, but the store holds a
                                   self-issued root with this subject and key,
                                   valid at the verification time (looked up
                                   only for CA certificates expiring within a
                                   year: the cross-sign question) */
  unsigned issuer_in_store : 1; /* ... and the store holds its issuer */

  /* The leaf's DNS and IP subjectAltName entries as bytes (read them with
   * cp_verify_san_get0 and cp_verify_san_text). */
  cp_san_t san[CP_CERT_MAX_SAN];
  int nsan;
  int san_omitted; /* entries not kept (past the limits) */
  unsigned char san_bytes[CP_CERT_SAN_BYTES]; /* san[]'s values */
};

/* The path simulator's judgement for one client family (whosim.c): the
 * path it ends on (each element: subject, where it came from, the kinds
 * of errors on it), its verdict, the breakage horizon and the smallest
 * changes that make it pass. Plain data, copied whole with the result. */
#define CP_VERIFY_MAX_FAMILIES 16
#define CP_VERIFY_MAX_PATH 8
struct cp_verify_family_s {
  char id[24];
  unsigned char pass;
  unsigned char unknown; /* some rule of the family is unknown */
  unsigned char kind;    /* cp_pathsim_kind_t of the error, when !pass */
  unsigned char npaths;  /* candidate paths tried */
  unsigned char nelem;
  unsigned char openssl_errors; /* error is an X509_V_ERR_ number */
  short error;                  /* X509_V_ERR_*, 0 on pass */
  short depth;
  time_t horizon; /* first notAfter on the accepted path; 0: none */
  struct {
    char subject[120];
    unsigned char src;    /* cp_pathsim_src_t */
    unsigned short kinds; /* bit k: an error of cp_pathsim_kind_t k */
  } path[CP_VERIFY_MAX_PATH];
  char fix_chain[200]; /* a chain to serve instead, "" none found */
  char fix_store[200]; /* a change to the trust store, "" none found */
};

struct cp_verify_result_s {
  int ok;
  int error_depth;
  int error_code;
  const char *error;      /* static OpenSSL text */
  cp_cert_info_t failing; /* the element at error_depth */
  struct {
    int depth;
    int code;
    const char *error;
  } errors[CP_VERIFY_MAX_ERRORS];
  int nerrors;
  cp_cert_info_t chain[CP_VERIFY_MAX_CHAIN]; /* as presented */
  int nchain;
  cp_cert_info_t built[CP_VERIFY_MAX_CHAIN]; /* as OpenSSL built it */
  int nbuilt;
  time_t at;           /* the verification time */
  int resumed;         /* the upstream resumed a session: this is the result of
                          the full handshake that made it (at says when) */
  int chain_cached;    /* the chain was exactly one judged before: this is
                          that diagnosis, reused (resume.h) */
  int upstream_reused; /* no handshake: a pooled upstream connection
                          (conn_pool.h) and the verdict it was judged with */
  /* Filled by cp_diag_classify(). */
  const char *cause;         /* NULL when ok */
  int client_cert_requested; /* the server sent a CertificateRequest */
  int client_cert_presented; /* ... and --upstream-client-cert was sent */
  char ca_names[512];        /* ... naming these CAs ("CN=a; CN=b") */
  int cause_id;              /* the same as a cp_cause_t (diag.h);
                                CP_CAUSE_NONE when ok */
  char hint[2048];
  int primary;         /* index into errors[], -1 when ok */
  const char *warning; /* a cause that hits some clients, or NULL */
  char warning_hint[2048];
  int expires_first; /* index into chain[], -1 if none */
  long expires_days; /* days from `at` (negative: expired) */
  /* Filled by cp_diag_classify() too: */
  int minted_by_chainproxy; /* the chain comes from a chainproxy CA */
  int unusual_validity;     /* the leaf starts before 2000 or lasts more
                               than 398 days */
  long validity_days;       /* the leaf's lifetime */
  /* Filled by cp_roots_check(): */
  int private_root;       /* 1: the trust anchor is not one the
                             distribution ships; -1: unknown */
  char root_subject[256]; /* the trust anchor */
  /* Revocation: CRLs (cp_verify_result_build) and the OCSP staple
   * (cp_revoke_staple). */
  const char *revocation;    /* not_checked, good, partial, revoked,
                                crl_unusable */
  char revocation_note[256]; /* in words */
  char revoked_reason[32];
  char revoked_at[32];
  /* Filled by cp_policy_check(): policies only browsers apply. */
  struct {
    const char *name; /* distrusted_ca, no_sct, long_validity */
    char hint[640];
  } browser[3];
  int nbrowser;
  /* Filled by cp_who_predict(): who breaks on this chain. */
  struct {
    const char *family;  /* "openssl3", ... (the data's, borrowed) */
    const char *verdict; /* pass, fail, unknown */
    char error[128];     /* what that client prints when it fails */
    int path_rule;       /* the verdict is the table's guess at how the
                            family builds its path (who.c): the path
                            simulation, where it ran, replaces it */
  } who[10];
  int nwho;
  const char *ocsp; /* NULL: not asked; none, good, revoked,
                       unknown, expired, bad_responder,
                       malformed */
  char ocsp_note[192];
  /* Filled by cp_whosim_judge(); kept last: a packed result (resume.c)
   * holds only the nfam entries used. */
  int nfam;
  cp_verify_family_t fam[CP_VERIFY_MAX_FAMILIES];
};

void cp_verify_rec_clear(cp_verify_rec_t *r);
/* An error about a CRL rather than the chain (with CRL checking on, the
 * recorder keeps these as revocation notes, not chain errors). */
int cp_verify_is_crl_error(int code);
/* Runs X509_verify_cert on an initialised store context with the recorder,
 * and keeps the built chain and the store in rec. Returns 1 when nothing
 * was recorded (verified), 0 otherwise. Never turns a failure into a pass:
 * a failure the callback was not told of is recorded too. */
int cp_verify_run(X509_STORE_CTX *sctx, cp_verify_rec_t *rec);
/* presented may be NULL (no certificate at all). */
void cp_verify_result_build(const cp_verify_rec_t *r, STACK_OF(X509) *presented,
                            cp_verify_result_t *out);
/* Appends a SAN entry (type GEN_DNS or GEN_IPADD) of len bytes to c and
 * renders c->names again. 0, or -1 when it does not fit (counted in
 * san_omitted). */
int cp_verify_san_add(cp_cert_info_t *c, int type, const void *value,
                      size_t len);
/* Entry i's bytes (len of them; not NUL-terminated, may hold NULs). */
const unsigned char *cp_verify_san_get0(const cp_cert_info_t *c, int i,
                                        size_t *len);
/* Entry i's value as text into out (cap bytes, NUL-terminated): a DNS
 * name's bytes unchanged (NULs included: use the length), an IP address
 * as inet_ntop() writes it. Returns its length; 0 when it does not fit. */
size_t cp_verify_san_text(const cp_cert_info_t *c, int i, char *out,
                          size_t cap);
/* The result as text: the presented chain as a tree with each element's
 * status, the failing one marked, every error, cause and hint. Every
 * field from a certificate or a peer is escaped (esc.h) on its own, so
 * none can start a line or reach a terminal as a control. */
void cp_verify_format(const cp_verify_result_t *r, const char *target,
                      const char *sni, cp_buf_t *out);

#endif
