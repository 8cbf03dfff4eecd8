/* Every JSON file chainproxy reads, from bytes: the first byte picks the
 * parser (rules, profiles, the distrust list, the client families) or
 * the control API's router with a method, a target and a body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/ca.h"
#include "control/control.h"
#include "diag/policy.h"
#include "pki/profile.h"
#include "rules/rules.h"
#include "diag/who.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cp_profiles_t profiles;
static int have_profiles = -1;

static struct {
  uv_loop_t loop;
  cp_config_t cfg;
  cp_log_t log;
  cp_events_t events;
  cp_stats_t stats;
  cp_rules_t rules;
  cp_ca_t ca;
  cp_control_t ctl;
  int ready;
} api;


static void api_init(void) {
  cp_control_env_t env;

  if (api.ready || uv_loop_init(&api.loop) != 0) {
    return;
  }
  cp_config_defaults(&api.cfg);
  api.log.level = CP_LOG_ERROR;
  if (cp_events_open(&api.events, NULL) != 0 ||
      cp_events_ring_init(&api.events, 8) != 0 ||
      cp_ca_make_untrusted(&api.ca) != 0) {
    return;
  }
  memset(&env, 0, sizeof(env));
  env.loop = &api.loop;
  env.cfg = &api.cfg;
  env.log = &api.log;
  env.events = &api.events;
  env.stats = &api.stats;
  env.rules = &api.rules;
  env.profiles = &profiles;
  env.root = api.ca.untrusted_root;
  env.legacy_root = api.ca.untrusted_inter;
  api.ready = cp_control_start(&api.ctl, &env) == 0;
}


static void route(const char *s, size_t len) {
  static const char *const methods[] = {"GET", "PUT", "DELETE", "POST"};
  const char *nl = memchr(s, '\n', len);
  char target[512];
  size_t tl = nl ? (size_t)(nl - s) : len;
  cp_ctl_request_t q;
  cp_ctl_response_t r;

  if (!api.ready || len < 1) {
    return;
  }
  if (tl >= sizeof(target)) {
    tl = sizeof(target) - 1;
  }
  memcpy(target, s + 1, tl > 0 ? tl - 1 : 0);
  target[tl > 0 ? tl - 1 : 0] = '\0';
  memset(&q, 0, sizeof(q));
  memset(&r, 0, sizeof(r));
  q.method = methods[(unsigned char)s[0] % 4];
  q.target = target;
  q.body = nl ? nl + 1 : "";
  q.body_len = nl ? len - tl - 1 : 0;
  cp_buf_init(&r.body, 1 << 20);
  cp_control_route(&api.ctl, &q, &r);
  cp_buf_free(&r.body);
  /* Rules added by PUT stay: bound their number between inputs. */
  if (api.rules.n > 64) {
    cp_rules_free(&api.rules);
  }
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data + 1;
  size_t len = size > 0 ? size - 1 : 0;
  char err[1024];

  if (have_profiles < 0) {
    have_profiles =
        cp_profiles_load(&profiles, CP_PROFILES_PATH, err, sizeof(err)) == 0;
    api_init();
  }
  if (size == 0) {
    return 0;
  }
  switch (data[0] % 5) {
  case 0:
    if (have_profiles) {
      cp_rules_t rules;

      if (cp_rules_parse(&rules, s, len, &profiles, err, sizeof(err)) == 0) {
        cp_rules_find(&rules, "a.example.test", 443);
        cp_rules_free(&rules);
      }
    }
    break;
  case 1: {
    cp_profiles_t p;

    if (cp_profiles_parse(&p, s, len, err, sizeof(err)) == 0) {
      cp_profiles_find(&p, "modern");
    }
    break;
  }
  case 2: {
    cp_distrust_t d;

    if (cp_distrust_parse(&d, s, len, err, sizeof(err)) == 0) {
      cp_distrust_free(&d);
    }
    break;
  }
  case 3: {
    cp_who_t w;

    if (cp_who_parse(&w, s, len, err, sizeof(err)) == 0) {
      cp_who_free(&w);
    }
    break;
  }
  default:
    route(s, len);
    break;
  }
  return 0;
}
