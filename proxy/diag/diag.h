/* The classifier: turns a verification result (every error at every depth,
 * the presented chain and the chain OpenSSL built, as plain data) into a
 * stable cause, a one-sentence hint, and a forecast. Pure: no OpenSSL
 * objects, no I/O, so every rule is unit-tested with hand-made results. */
#ifndef CP_DIAG_H
#define CP_DIAG_H

#include "diag/verify.h"

#define CP_DIAG_WARN_DAYS 30

/* Every cause the classifier can give, in the order rules are tried when a
 * result carries several errors: trust problems first (nothing else
 * matters while the chain leads nowhere), revocation, then time, then
 * algorithms, the rules of path validation and usage, then the name. */
#define CP_DIAG_CAUSES(X)                                                      \
  X(UNTRUSTED_ROOT, "untrusted_root")                                          \
  X(SELF_SIGNED_LEAF, "self_signed_leaf")                                      \
  X(INCOMPLETE_CHAIN, "incomplete_chain")                                      \
  X(UNKNOWN_ISSUER, "unknown_issuer")                                          \
  X(REVOKED, "revoked")                                                        \
  X(EXPIRED_CROSS_SIGN, "expired_cross_sign")                                  \
  X(EXPIRED_ROOT, "expired_root")                                              \
  X(EXPIRED_INTERMEDIATE, "expired_intermediate")                              \
  X(EXPIRED_LEAF, "expired_leaf")                                              \
  X(NOT_YET_VALID, "not_yet_valid")                                            \
  X(WEAK_KEY, "weak_key")                                                      \
  X(WEAK_SIGNATURE, "weak_signature")                                          \
  X(BAD_SIGNATURE, "bad_signature")                                            \
  X(MALFORMED, "malformed")                                                    \
  X(INVALID_CA, "invalid_ca")                                                  \
  X(PATH_LENGTH, "path_length")                                                \
  X(NAME_CONSTRAINTS, "name_constraints")                                      \
  X(CRITICAL_EXTENSION, "critical_extension")                                  \
  X(POLICY, "policy")                                                          \
  X(BAD_EKU, "bad_eku")                                                        \
  X(BAD_USAGE, "bad_usage")                                                    \
  X(HOSTNAME_MISMATCH, "hostname_mismatch")                                    \
  X(OTHER, "other")

typedef enum {
#define CP_DIAG_ENUM(e, s) CP_CAUSE_##e,
  CP_DIAG_CAUSES(CP_DIAG_ENUM)
#undef CP_DIAG_ENUM
      CP_CAUSE_NONE
} cp_cause_t;

const char *cp_cause_name(cp_cause_t c);
/* Fills r->cause, hint, primary (and moves error_depth, error_code, error
 * and failing to the primary error), warning, warning_hint,
 * expires_first and expires_days. host may be NULL. */
void cp_diag_classify(cp_verify_result_t *r, const char *host, int warn_days);
/* The cause of the result's error i alone. */
cp_cause_t cp_diag_error_cause(const cp_verify_result_t *r, int i);

#endif
