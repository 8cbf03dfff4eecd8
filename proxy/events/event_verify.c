/* The verification result as event fields (upstream_verify, `chainproxy
 * verify --json`): the failing certificate, the chain as sent and as
 * built, each certificate's names as bytes. */
#include "events/event_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509v3.h>

#include "base/esc.h"
#include "diag/cert.h"
#include "events/event.h"
#include "events/event_json.h"

static json_t *hex_json(const char *s, size_t len) {
  static const char digits[] = "0123456789abcdef";
  char out[2 * CP_CERT_SAN_BYTES + 1];
  size_t i;

  for (i = 0; i < len && 2 * i + 2 < sizeof(out); i++) {
    out[2 * i] = digits[(unsigned char)s[i] >> 4];
    out[2 * i + 1] = digits[(unsigned char)s[i] & 0xfu];
  }
  return json_stringn(out, 2 * i);
}


/* The leaf's names with their real bytes: "names" as it always was
 * ("DNS:a, IP:1.2.3.4"; a NUL is \u0000 there, not the end of the name),
 * and "san", one object per entry, which a comma inside a name cannot
 * confuse. */
static void san_json(const cp_cert_info_t *c, json_t *o) {
  char names[CP_CERT_SAN_BYTES + CP_CERT_MAX_SAN * 64];
  char text[CP_CERT_SAN_BYTES + 1];
  json_t *arr = json_array();
  size_t used = 0;
  int i;

  for (i = 0; i < c->nsan; i++) {
    const char *type = c->san[i].type == GEN_DNS ? "DNS" : "IP";
    size_t n = cp_verify_san_text(c, i, text, sizeof(text));
    json_t *e = json_object();

    json_object_set_new(e, "type", json_string(type));
    json_object_set_new(e, "value", cp_event_json_bytes(text, n));
    if (!cp_esc_utf8_valid(text, n)) {
      /* \xNN in value is then ambiguous with a literal backslash: the
       * bytes themselves, unambiguous. */
      json_object_set_new(e, "hex", hex_json(text, n));
    }
    json_array_append_new(arr, e);
    if (used + n + 16 < sizeof(names)) {
      used += (size_t)snprintf(names + used, sizeof(names) - used,
                               "%s%s:", i ? ", " : "", type);
      memcpy(names + used, text, n);
      used += n;
    }
  }
  json_object_set_new(o, "names", cp_event_json_bytes(names, used));
  json_object_set_new(o, "san", arr);
  if (c->san_omitted > 0) {
    json_object_set_new(o, "san_omitted", json_integer(c->san_omitted));
  }
}


static json_t *cert_json(const cp_cert_info_t *c) {
  json_t *o = json_object();

  json_object_set_new(o, "depth", json_integer(c->depth));
  json_object_set_new(o, "subject", cp_event_json_str(c->subject));
  json_object_set_new(o, "issuer", cp_event_json_str(c->issuer));
  json_object_set_new(o, "not_before", cp_event_json_str(c->not_before));
  json_object_set_new(o, "not_after", cp_event_json_str(c->not_after));
  json_object_set_new(o, "sha256", cp_event_json_str(c->sha256));
  json_object_set_new(o, "key_type", cp_event_json_str(c->key_type));
  json_object_set_new(o, "key_bits", json_integer(c->key_bits));
  json_object_set_new(o, "signature", cp_event_json_str(c->sig_alg));
  json_object_set_new(o, "self_issued", json_boolean(c->self_issued));
  json_object_set_new(o, "is_ca", json_boolean(c->is_ca));
  if (c->nsan > 0) {
    san_json(c, o);
  }
  if (c->twin_root) {
    json_object_set_new(o, "cross_sign_of_trusted_root", json_true());
  }
  return o;
}


void cp_verify_result_to_json(const cp_verify_result_t *r, const char *sni,
                              const char *tls_error, json_t *o) {
  json_t *arr;
  int i;

  json_object_set_new(o, "ok", json_boolean(r->ok && tls_error == NULL));
  json_object_set_new(o, "sni", cp_event_json_str(sni));
  if (tls_error != NULL) {
    /* The handshake failed: its cause (hs_diag.c), not a chain's. */
    json_object_set_new(o, "tls_error", cp_event_json_str(tls_error));
    json_object_set_new(o, "cause", cp_event_json_str(r->cause));
    json_object_set_new(o, "hint",
                        cp_event_json_str(r->cause ? r->hint : NULL));
  }
  if (r->client_cert_requested) {
    json_object_set_new(o, "client_cert_requested", json_true());
    json_object_set_new(o, "client_cert_cas", cp_event_json_str(r->ca_names));
    json_object_set_new(o, "client_cert_presented",
                        json_boolean(r->client_cert_presented));
  }
  if (!r->ok && tls_error == NULL) {
    json_object_set_new(o, "error_depth", json_integer(r->error_depth));
    json_object_set_new(o, "error_code", json_integer(r->error_code));
    json_object_set_new(o, "error", cp_event_json_str(r->error));
    json_object_set_new(o, "subject", cp_event_json_str(r->failing.subject));
    json_object_set_new(o, "issuer", cp_event_json_str(r->failing.issuer));
    json_object_set_new(o, "not_before",
                        cp_event_json_str(r->failing.not_before));
    json_object_set_new(o, "not_after",
                        cp_event_json_str(r->failing.not_after));
    json_object_set_new(o, "sha256", cp_event_json_str(r->failing.sha256));
    json_object_set_new(o, "cause", cp_event_json_str(r->cause));
    json_object_set_new(o, "hint", cp_event_json_str(r->hint));
    arr = json_array();
    for (i = 0; i < r->nerrors; i++) {
      json_t *e = json_object();

      json_object_set_new(e, "depth", json_integer(r->errors[i].depth));
      json_object_set_new(e, "error_code", json_integer(r->errors[i].code));
      json_object_set_new(e, "error", cp_event_json_str(r->errors[i].error));
      json_array_append_new(arr, e);
    }
    json_object_set_new(o, "errors", arr);
  }
  if (r->warning != NULL) {
    json_object_set_new(o, "warning", json_string(r->warning));
    json_object_set_new(o, "warning_hint", json_string(r->warning_hint));
  }
  if (r->ok && tls_error == NULL && r->private_root >= 0) {
    /* A trust anchor the distribution does not ship: a re-signing
     * network (corporate proxy) or a private CA. */
    json_object_set_new(o, "private_root", json_boolean(r->private_root));
    json_object_set_new(o, "root", cp_event_json_str(r->root_subject));
  }
  if (r->unusual_validity) {
    json_object_set_new(o, "unusual_validity",
                        json_pack("{s:i,s:s}", "days", (int)r->validity_days,
                                  "not_before",
                                  r->nchain > 0 ? r->chain[0].not_before : ""));
  }
  if (r->minted_by_chainproxy) {
    json_object_set_new(o, "minted_by_chainproxy", json_true());
  }
  if (tls_error == NULL && r->revocation != NULL) {
    json_object_set_new(o, "revocation", json_string(r->revocation));
    json_object_set_new(o, "revocation_note", json_string(r->revocation_note));
  }
  if (tls_error == NULL && r->nbrowser > 0) {
    arr = json_array();
    for (i = 0; i < r->nbrowser; i++) {
      json_array_append_new(arr,
                            json_pack("{s:s,s:s}", "policy", r->browser[i].name,
                                      "hint", r->browser[i].hint));
    }
    json_object_set_new(o, "browser_policies", arr);
  }
  if (tls_error == NULL && (r->nwho > 0 || r->nfam > 0)) {
    json_object_set_new(o, "clients", cp_event_clients_json(r));
  }
  if (tls_error == NULL && r->ocsp != NULL) {
    json_object_set_new(o, "ocsp", json_string(r->ocsp));
  }
  if (r->expires_first >= 0) {
    json_t *e = json_object();

    json_object_set_new(e, "depth", json_integer(r->expires_first));
    json_object_set_new(e, "subject",
                        cp_event_json_str(r->chain[r->expires_first].subject));
    json_object_set_new(e, "not_after",
                        json_string(r->chain[r->expires_first].not_after));
    json_object_set_new(e, "days", json_integer(r->expires_days));
    json_object_set_new(o, "expires_first", e);
  }
  arr = json_array();
  for (i = 0; i < r->nchain; i++) {
    json_array_append_new(arr, cert_json(&r->chain[i]));
  }
  json_object_set_new(o, "chain", arr);
  arr = json_array();
  for (i = 0; i < r->nbuilt; i++) {
    json_t *b = json_object();

    json_object_set_new(b, "depth", json_integer(i));
    json_object_set_new(b, "subject", cp_event_json_str(r->built[i].subject));
    json_object_set_new(b, "sha256", json_string(r->built[i].sha256));
    json_object_set_new(b, "in_store", json_boolean(r->built[i].in_store));
    json_array_append_new(arr, b);
  }
  json_object_set_new(o, "built_chain", arr);
}
