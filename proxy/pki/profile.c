#include "pki/profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/host.h"
#include "base/rfc3339.h"

static const char *const element_names[CP_EL_COUNT] = {
    "intermediate",           "cross",          "root", "legacy-root",
    "untrusted-intermediate", "untrusted-root",
};

static const char *const issuer_names[CP_ISSUER_COUNT] = {
    "intermediate",
    "untrusted-intermediate",
    "self",
};


const char *cp_element_name(cp_element_t e) {
  return e < CP_EL_COUNT ? element_names[e] : "?";
}


int cp_parse_offset(const char *s, long *out) {
  char *end;
  long v, unit = 1;

  errno = 0;
  v = strtol(s, &end, 10);
  if (end == s || errno != 0) {
    return CP_EINVAL;
  }
  switch (*end) {
  case '\0':
  case 's':
    break;
  case 'm':
    unit = 60;
    break;
  case 'h':
    unit = 3600;
    break;
  case 'd':
    unit = 86400;
    break;
  default:
    return CP_EINVAL;
  }
  if (*end != '\0' && end[1] != '\0') {
    return CP_EINVAL;
  }
  /* Within a century either way. */
  if (v > 36500L * 86400 / unit || v < -36500L * 86400 / unit) {
    return CP_EINVAL;
  }
  *out = v * unit;
  return 0;
}


static int lookup(const char *const *names, int n, const char *s) {
  int i;

  for (i = 0; i < n; i++) {
    if (strcmp(names[i], s) == 0) {
      return i;
    }
  }
  return -1;
}


static int offset_field(json_t *o, const char *field, long def, long *out,
                        const char *pname, char *err, size_t errlen) {
  json_t *v = json_object_get(o, field);

  *out = def;
  if (v == NULL) {
    return 0;
  }
  if (!json_is_string(v) || cp_parse_offset(json_string_value(v), out)) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile '%s': \"%s\" must be an offset such "
                   "as \"-1h\" or \"+30d\"",
                   pname, field);
  }
  return 0;
}


static int file_field(json_t *v, char *out, size_t size) {
  if (!json_is_string(v) || json_string_length(v) == 0 ||
      json_string_length(v) >= size) {
    return -1;
  }
  snprintf(out, size, "%s", json_string_value(v));
  return 0;
}


/* "incident": {"chain": FILE, "stores": {NAME: FILE, ...}} and
 * "shift_to_now": TIME or null. An incident profile takes no other field
 * than "description". */
static int parse_incident(cp_profile_t *p, json_t *o, char *err,
                          size_t errlen) {
  json_t *inc = json_object_get(o, "incident");
  json_t *stores = json_object_get(inc, "stores");
  json_t *shift = json_object_get(o, "shift_to_now");
  const char *key;
  json_t *v;
  time_t t;
  size_t allowed = 1 + (p->description[0] != '\0') + (shift != NULL);

  if (json_object_size(o) > allowed) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile '%s': an incident profile takes no other field "
                   "than \"description\" and \"shift_to_now\"",
                   p->name);
  }
  if (!json_is_object(inc) || json_object_size(inc) != 2 ||
      file_field(json_object_get(inc, "chain"), p->chain_file,
                 sizeof(p->chain_file)) != 0 ||
      !json_is_object(stores) || json_object_size(stores) == 0 ||
      json_object_size(stores) > CP_PROFILE_MAX_STORES) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile '%s': \"incident\" must be {\"chain\": FILE, "
                   "\"stores\": {NAME: FILE, ...}} with 1 to %d stores",
                   p->name, CP_PROFILE_MAX_STORES);
  }
  json_object_foreach(stores, key, v) {
    cp_profile_store_t *st = &p->stores[p->nstores];

    if (strlen(key) == 0 || strlen(key) >= sizeof(st->name) ||
        strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(key) ||
        file_field(v, st->file, sizeof(st->file)) != 0) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': store '%s': a name of a-z, 0-9 and '-' "
                     "(at most %zu) and a file",
                     p->name, key, sizeof(st->name) - 1);
    }
    snprintf(st->name, sizeof(st->name), "%s", key);
    p->nstores++;
  }
  if (shift != NULL && !json_is_null(shift)) {
    if (!json_is_string(shift) ||
        cp_rfc3339_parse(json_string_value(shift), &t) != 0) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': \"shift_to_now\" must be an RFC 3339 "
                     "time such as \"2021-09-30T15:01:15Z\", or null",
                     p->name);
    }
    p->shifted = 1;
    p->shift_to_now = (long long)t;
  }
  p->incident = 1;
  return 0;
}


static int parse_one(cp_profile_t *p, const char *name, json_t *o, char *err,
                     size_t errlen) {
  static const char *const known[] = {
      "description", "issuer", "not_before", "not_after", "names",
      "send",        "mirror", "exact",      "incident",  "shift_to_now",
  };
  const char *key;
  json_t *v;
  size_t i;
  int k;

  memset(p, 0, sizeof(*p));
  if (strlen(name) == 0 || strlen(name) >= sizeof(p->name) ||
      strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(name)) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile name '%s': use 1-%zu characters "
                   "a-z, 0-9 and '-'",
                   name, sizeof(p->name) - 1);
  }
  snprintf(p->name, sizeof(p->name), "%s", name);
  if (!json_is_object(o)) {
    return cp_errf(err, errlen, CP_ECONFIG, "profile '%s': must be an object",
                   name);
  }
  json_object_foreach(o, key, v) {
    if (lookup(known, (int)(sizeof(known) / sizeof(known[0])), key) < 0) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': unknown field \"%s\"", name, key);
    }
  }
  v = json_object_get(o, "description");
  if (v != NULL) {
    if (!json_is_string(v)) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': \"description\" must be a "
                     "string",
                     name);
    }
    snprintf(p->description, sizeof(p->description), "%s",
             json_string_value(v));
  }
  if (json_object_get(o, "incident") != NULL) {
    return parse_incident(p, o, err, errlen);
  }
  if (json_object_get(o, "shift_to_now") != NULL) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile '%s': \"shift_to_now\" is for incident "
                   "profiles only",
                   name);
  }
  v = json_object_get(o, "exact");
  if (v != NULL) {
    if (!json_is_boolean(v) ||
        (json_is_true(v) &&
         json_object_size(o) > (p->description[0] ? 2u : 1u))) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': \"exact\" must be true or false, "
                     "and an exact profile takes no other field than "
                     "\"description\"",
                     name);
    }
    p->exact = json_is_true(v);
    if (p->exact) {
      return 0;
    }
  }
  v = json_object_get(o, "mirror");
  if (v != NULL) {
    if (!json_is_boolean(v)) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': \"mirror\" must be true or "
                     "false",
                     name);
    }
    p->mirror = json_is_true(v);
    if (p->mirror && json_object_size(o) > (p->description[0] ? 2u : 1u)) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': a mirror profile takes no "
                     "other field than \"description\"",
                     name);
    }
    if (p->mirror) {
      return 0;
    }
  }
  v = json_object_get(o, "issuer");
  k = v && json_is_string(v)
          ? lookup(issuer_names, CP_ISSUER_COUNT, json_string_value(v))
          : -1;
  if (k < 0) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile '%s': \"issuer\" must be one of "
                   "intermediate, untrusted-intermediate, self",
                   name);
  }
  p->issuer = (cp_issuer_t)k;
  if (offset_field(o, "not_before", -3600L, &p->not_before, name, err,
                   errlen) ||
      offset_field(o, "not_after", 30L * 86400, &p->not_after, name, err,
                   errlen)) {
    return CP_ECONFIG;
  }
  if (p->not_after <= p->not_before) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile '%s': \"not_after\" must come after "
                   "\"not_before\"",
                   name);
  }
  v = json_object_get(o, "names");
  if (v != NULL) {
    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > CP_PROFILE_MAX_NAMES) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': \"names\" must be a list of "
                     "1 to %d host names",
                     name, CP_PROFILE_MAX_NAMES);
    }
    for (i = 0; i < json_array_size(v); i++) {
      json_t *s = json_array_get(v, i);

      if (!json_is_string(s) || !cp_host_is_valid(json_string_value(s))) {
        return cp_errf(err, errlen, CP_ECONFIG,
                       "profile '%s': \"names\"[%zu] is not a "
                       "host name",
                       name, i);
      }
      snprintf(p->names[i], sizeof(p->names[i]), "%s", json_string_value(s));
    }
    p->nnames = (int)json_array_size(v);
  }
  v = json_object_get(o, "send");
  if (v == NULL || !json_is_array(v) ||
      json_array_size(v) > CP_PROFILE_MAX_SEND) {
    return cp_errf(err, errlen, CP_ECONFIG,
                   "profile '%s': \"send\" must be a list of up "
                   "to %d of: intermediate, cross, root, legacy-root, "
                   "untrusted-intermediate, untrusted-root",
                   name, CP_PROFILE_MAX_SEND);
  }
  for (i = 0; i < json_array_size(v); i++) {
    json_t *s = json_array_get(v, i);

    k = json_is_string(s)
            ? lookup(element_names, CP_EL_COUNT, json_string_value(s))
            : -1;
    if (k < 0) {
      return cp_errf(err, errlen, CP_ECONFIG,
                     "profile '%s': \"send\"[%zu] is not one of "
                     "intermediate, cross, root, legacy-root, "
                     "untrusted-intermediate, untrusted-root",
                     name, i);
    }
    p->send[i] = (cp_element_t)k;
  }
  p->nsend = (int)json_array_size(v);
  return 0;
}


/* Takes over doc (a reference). */
static int profiles_from_doc(cp_profiles_t *set, json_t *doc, char *err,
                             size_t errlen) {
  json_t *profiles, *o;
  const char *name;
  int rc = 0;

  profiles = json_object_get(doc, "profiles");
  if (!json_is_object(profiles) || json_object_size(profiles) == 0) {
    rc = cp_errf(err, errlen, CP_ECONFIG,
                 "\"profiles\" must be an object of profiles");
    goto out;
  }
  json_object_foreach(profiles, name, o) {
    if (set->n == CP_PROFILE_MAX) {
      rc = cp_errf(err, errlen, CP_ECONFIG, "more than %d profiles",
                   CP_PROFILE_MAX);
      goto out;
    }
    rc = parse_one(&set->p[set->n], name, o, err, errlen);
    if (rc != 0) {
      goto out;
    }
    set->n++;
  }
  if (cp_profiles_find(set, "modern") < 0) {
    rc =
        cp_errf(err, errlen, CP_ECONFIG, "no \"modern\" profile (the default)");
  }
out:
  json_decref(doc);
  return rc;
}


int cp_profiles_parse(cp_profiles_t *set, const char *json, size_t len,
                      char *err, size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

  memset(set, 0, sizeof(*set));
  if (doc == NULL) {
    return cp_errf_json(err, errlen, jerr.line, jerr.column, jerr.text);
  }
  return profiles_from_doc(set, doc, err, errlen);
}


static void set_dir(cp_profiles_t *set, const char *path) {
  const char *slash = strrchr(path, '/');

  if (slash == NULL) {
    snprintf(set->dir, sizeof(set->dir), ".");
  } else {
    snprintf(set->dir, sizeof(set->dir), "%.*s", (int)(slash - path + 1) - 1,
             path);
    if (set->dir[0] == '\0') {
      snprintf(set->dir, sizeof(set->dir), "/");
    }
  }
}


void cp_profiles_path(const cp_profiles_t *set, const char *file, char *out,
                      size_t len) {
  if (file[0] == '/' || set->dir[0] == '\0') {
    snprintf(out, len, "%s", file);
  } else {
    snprintf(out, len, "%s/%s", set->dir, file);
  }
}


int cp_profiles_load(cp_profiles_t *set, const char *path, char *err,
                     size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  char inner[512];
  int rc;

  memset(set, 0, sizeof(*set));
  set_dir(set, path);
  rc = doc ? profiles_from_doc(set, doc, inner, sizeof(inner))
           : cp_errf_json(inner, sizeof(inner), jerr.line, jerr.column,
                          jerr.text);
  if (rc != 0) {
    cp_errf(err, errlen, rc, "%s: %s", path, inner);
  }
  return rc;
}


int cp_profiles_find(const cp_profiles_t *set, const char *name) {
  int i;

  for (i = 0; i < set->n; i++) {
    if (strcmp(set->p[i].name, name) == 0) {
      return i;
    }
  }
  return -1;
}


void cp_profiles_list(const cp_profiles_t *set, char *out, size_t len) {
  size_t used = 0;
  int i;

  out[0] = '\0';
  for (i = 0; i < set->n && used < len; i++) {
    int k =
        snprintf(out + used, len - used, "%s%s", i ? ", " : "", set->p[i].name);

    if (k < 0) {
      break;
    }
    used += (size_t)k;
  }
}
