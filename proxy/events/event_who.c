/* The `clients` field of `upstream_verify` (and `chainproxy verify
 * --json`): one object per client family, the rule table's verdict
 * (who.c) merged with the path simulator's (whosim.c): the path the
 * family ends on, element by element, the breakage horizon and fixes. */
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "diag/pathsim.h"
#include "diag/whosim.h"
#include "events/event.h"


static json_t *time_json(time_t t) {
  char s[32];
  struct tm tm;

  if (t == 0 || gmtime_r(&t, &tm) == NULL) {
    return json_null();
  }
  strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return json_string(s);
}


static void sim_fields(const cp_verify_family_t *f, json_t *o) {
  json_t *path = json_array(), *fix = json_object();
  int i, k;

  json_object_set_new(o, "simulated", json_true());
  json_object_set_new(o, "simulated_verdict",
                      json_string(f->pass ? "pass" : "fail"));
  if (!f->pass) {
    json_object_set_new(o, "simulated_error",
                        json_string(cp_whosim_error_text(f)));
    json_object_set_new(o, "simulated_kind",
                        json_string(cp_pathsim_kind_name(f->kind)));
    if (f->openssl_errors) {
      json_object_set_new(o, "error_code", json_integer(f->error));
    }
    json_object_set_new(o, "error_depth", json_integer(f->depth));
  }
  if (f->unknown) {
    json_object_set_new(o, "unknown_rules", json_true());
  }
  for (i = 0; i < f->nelem; i++) {
    json_t *errs = json_array();

    for (k = 0; k < 16; k++) {
      if (f->path[i].kinds & (1u << k)) {
        json_array_append_new(errs, json_string(cp_pathsim_kind_name(k)));
      }
    }
    json_array_append_new(
        path, json_pack("{s:s?,s:s,s:o}", "subject", f->path[i].subject, "from",
                        cp_pathsim_src_name(f->path[i].src), "errors", errs));
  }
  json_object_set_new(o, "path", path);
  json_object_set_new(o, "candidate_paths", json_integer(f->npaths));
  json_object_set_new(o, "horizon", time_json(f->horizon));
  if (f->fix_chain[0] != '\0') {
    json_object_set_new(fix, "chain", json_string(f->fix_chain));
  }
  if (f->fix_store[0] != '\0') {
    json_object_set_new(fix, "store", json_string(f->fix_store));
  }
  if (json_object_size(fix) > 0) {
    json_object_set_new(o, "fix", fix);
  } else {
    json_decref(fix);
  }
}


json_t *cp_event_clients_json(const cp_verify_result_t *r) {
  json_t *arr = json_array();
  int i, j;

  for (i = 0; i < r->nwho; i++) {
    json_t *c = json_pack("{s:s,s:s}", "family", r->who[i].family, "verdict",
                          r->who[i].verdict);

    if (r->who[i].error[0] != '\0') {
      json_object_set_new(c, "error", json_string(r->who[i].error));
    }
    for (j = 0; j < r->nfam; j++) {
      if (strcmp(r->fam[j].id, r->who[i].family) == 0) {
        sim_fields(&r->fam[j], c);
      }
    }
    json_array_append_new(arr, c);
  }
  /* Families only the simulator has: its verdict is the verdict. */
  for (j = 0; j < r->nfam; j++) {
    const cp_verify_family_t *f = &r->fam[j];
    json_t *c;

    for (i = 0; i < r->nwho; i++) {
      if (strcmp(f->id, r->who[i].family) == 0) {
        break;
      }
    }
    if (i < r->nwho) {
      continue;
    }
    c = json_pack("{s:s,s:s}", "family", f->id, "verdict",
                  f->pass ? "pass" : "fail");
    if (!f->pass) {
      json_object_set_new(c, "error", json_string(cp_whosim_error_text(f)));
    }
    sim_fields(f, c);
    json_array_append_new(arr, c);
  }
  return arr;
}
