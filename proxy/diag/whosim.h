/* Who breaks, by simulation: runs every family of the path simulator
 * (pathsim.h, certs/families.json) on a presented chain against the
 * trust store the proxy verifies with, at the verification time, and
 * records per family the path it ends on, its verdict, the breakage
 * horizon and, for a failing family, the smallest change that makes it
 * pass (found by running the simulation again with the change). The rule
 * table's verdicts (who.h, `clients`) are then overridden where the
 * simulation finds a failure the table did not.
 *
 * Ownership: a cp_whosim_t owns its families and its trust store (one
 * reference per certificate); load it once per snapshot of the data
 * (snap.h), free it with cp_whosim_free. cp_whosim_judge writes plain
 * data into the result and keeps no pointer into its inputs. */
#ifndef CP_WHOSIM_H
#define CP_WHOSIM_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "diag/pathsim.h"
#include "diag/verify.h"
#include "diag/who.h"

typedef struct cp_whosim_s cp_whosim_t;

struct cp_whosim_s {
  cp_pathsim_set_t set;  /* owned */
  STACK_OF(X509) *roots; /* owned: the trust store as a list */
};

/* Loads the families (families_path) and the trust store: the PEM file
 * ca_file, or when NULL the system bundle (X509_get_default_cert_file,
 * or $SSL_CERT_FILE). 0, or a CP_E* with err saying why. */
int cp_whosim_load(cp_whosim_t *w, const char *families_path,
                   const char *ca_file, char *err, size_t errlen);
void cp_whosim_free(cp_whosim_t *w);
/* root is trusted beside the store (--origins' catalogue CA); w takes a
 * reference. 0, or -1 out of memory. */
int cp_whosim_add_root(cp_whosim_t *w, X509 *root);
/* Fills r->fam (every family, at most CP_VERIFY_MAX_FAMILIES) for the
 * presented chain sent at time at (0: now), checking host when not NULL,
 * then lets a simulated failure override r->who's pass (after
 * cp_who_predict), in the words of who's family (may be NULL: the
 * error's kind). roots NULL: w's store. */
void cp_whosim_judge(const cp_whosim_t *w, const cp_who_t *who,
                     STACK_OF(X509) *sent, STACK_OF(X509) *roots, time_t at,
                     const char *host, cp_verify_result_t *r);
/* The text an OpenSSL-based family prints for a failure, or the error
 * kind's name for the others (static). */
const char *cp_whosim_error_text(const cp_verify_family_t *f);
/* One block per family for `chainproxy verify`: verdict, path (each
 * element with its source and errors), horizon and fixes; every field
 * from a certificate escaped. */
void cp_whosim_format(const cp_verify_result_t *r, cp_buf_t *out);

#endif
