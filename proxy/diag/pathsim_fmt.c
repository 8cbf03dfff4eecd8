/* Path simulator results as text, for `chainproxy verify`: one block per
 * family with its verdict, the path it accepted or failed on (each
 * element marked sent / store / aia) and the breakage horizon. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509_vfy.h>

#include "base/buf.h"
#include "diag/pathsim.h"


static void fmt_path(const cp_pathsim_path_t *p, cp_buf_t *b) {
  char cn[64];
  int i;

  for (i = 0; i < p->n; i++) {
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(p->cert[i]),
                                  NID_commonName, cn, sizeof(cn)) < 0) {
      snprintf(cn, sizeof(cn), "(no CN)");
    }
    cp_buf_appendf(b, "%s%s [%s]", i ? " > " : "", cn,
                   cp_pathsim_src_name(p->src[i]));
  }
}


void cp_pathsim_format(const cp_pathsim_set_t *s, const cp_pathsim_input_t *in,
                       cp_buf_t *b) {
  cp_pathsim_result_t r;
  char when[32];
  struct tm tm;
  int i;

  cp_buf_appendf(b, "\npath simulation (certs/families.json):\n");
  for (i = 0; i < s->n; i++) {
    const cp_pathsim_family_t *f = &s->f[i];

    cp_pathsim_run(f, in, &r);
    cp_buf_appendf(b, "  %-11s %s", f->id, r.pass ? "pass" : "FAIL");
    if (!r.pass) {
      cp_buf_appendf(b, " (%s", cp_pathsim_kind_name(r.kind));
      if (f->openssl_errors) {
        cp_buf_appendf(b, ": error %d at depth %d: %s", r.error, r.depth,
                       X509_verify_cert_error_string(r.error));
      } else {
        cp_buf_appendf(b, " at depth %d", r.depth);
      }
      cp_buf_appendf(b, ")");
    } else if (r.horizon != 0 && gmtime_r(&r.horizon, &tm) != NULL) {
      strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
      cp_buf_appendf(b, " until %s", when);
    }
    if (f->unknown) {
      cp_buf_appendf(b, " (some rules unknown: a prediction)");
    }
    cp_buf_appendf(b, "\n");
    if (r.accepted >= 0) {
      cp_buf_appendf(b, "              ");
      fmt_path(&r.path[r.accepted], b);
      cp_buf_appendf(b, "\n");
    }
    if (r.npaths > 1) {
      cp_buf_appendf(b, "              (%d candidate paths tried)\n", r.npaths);
    }
  }
}
