#include "tls/tls_server.h"

#include <string.h>

#include <openssl/err.h>

#include "base/err.h"
#include "base/host.h"
#include "tls/tls_io.h"
#include "diag/tls_names.h"


int cp_tls_parse_sni(const unsigned char *ext, size_t len, char *out,
                     size_t outlen) {
  size_t list_len;
  size_t off = 2;

  out[0] = '\0';
  if (len < 2) {
    return CP_EINVAL;
  }
  list_len = ((size_t)ext[0] << 8) | ext[1];
  if (list_len + 2 != len) {
    return CP_EINVAL;
  }
  while (off + 3 <= len) {
    unsigned type = ext[off];
    size_t name_len = ((size_t)ext[off + 1] << 8) | ext[off + 2];

    off += 3;
    if (off + name_len > len) {
      return CP_EINVAL;
    }
    if (type == 0) { /* host_name */
      if (name_len == 0 || name_len >= outlen ||
          memchr(ext + off, '\0', name_len) != NULL) {
        return CP_EINVAL;
      }
      memcpy(out, ext + off, name_len);
      out[name_len] = '\0';
      /* RFC 6066: no trailing dot, and never an IP literal. */
      if (!cp_host_is_valid(out) || strchr(out, ':') != NULL) {
        out[0] = '\0';
        return CP_EINVAL;
      }
      return 0;
    }
    off += name_len;
  }
  return off == len ? 0 : CP_EINVAL;
}


/* What the client offered, for a refusal to name: its versions (the
 * supported_versions extension, else the legacy version) and a summary of
 * its cipher suites. */
static void note_offer(SSL *ssl, cp_tls_t *t) {
  const unsigned char *ext = NULL, *cs = NULL;
  size_t len = 0, i, used = 0, n;
  int tls13 = 0, ecdhe = 0, rsa = 0;
  size_t real = 0;

  t->client_versions[0] = '\0';
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_supported_versions, &ext,
                                &len) == 1 &&
      len >= 1 && ext[0] + 1u <= len) {
    for (i = 1; i + 1 < (size_t)ext[0] + 1; i += 2) {
      const char *v =
          cp_tls_wire_version_name(((unsigned)ext[i] << 8) | ext[i + 1]);

      if (v != NULL && used + strlen(v) + 2 < sizeof(t->client_versions)) {
        used += (size_t)snprintf(t->client_versions + used,
                                 sizeof(t->client_versions) - used, "%s%s",
                                 used ? "," : "", v);
      }
    }
  } else {
    const char *v =
        cp_tls_wire_version_name(SSL_client_hello_get0_legacy_version(ssl));

    snprintf(t->client_versions, sizeof(t->client_versions), "%s", v ? v : "?");
  }
  n = SSL_client_hello_get0_ciphers(ssl, &cs) / 2;
  for (i = 0; i < n; i++) {
    unsigned id = ((unsigned)cs[2 * i] << 8) | cs[2 * i + 1];

    if (id == 0x00FF || id == 0x5600 || (id & 0x0F0F) == 0x0A0A) {
      continue; /* signalling values and GREASE, not suites */
    }
    real++;

    /* RFC 8446 suites are 0x13xx; ECDHE suites sit in 0xC0xx and
     * 0xCCA8..0xCCAE; plain RSA key exchange in the low range. */
    tls13 |= (id >> 8) == 0x13;
    ecdhe |= (id >> 8) == 0xC0 || (id >= 0xCCA8 && id <= 0xCCAE);
    rsa |= id == 0x002F || id == 0x0035 || id == 0x003C || id == 0x003D ||
           id == 0x009C || id == 0x009D || id == 0x000A;
  }
  snprintf(t->client_ciphers, sizeof(t->client_ciphers), "%zu suites:%s%s%s",
           real, tls13 ? " TLS 1.3" : "", ecdhe ? " ECDHE" : "",
           rsa ? " RSA-key-exchange" : "");
}


static int accept_any_cert(int ok, X509_STORE_CTX *ctx) {
  (void)ok;
  (void)ctx;
  return 1;
}


static int on_client_hello(SSL *ssl, int *alert, void *arg) {
  cp_tls_t *t = SSL_get_app_data(ssl);
  const unsigned char *ext = NULL;
  size_t len = 0;

  (void)arg;
  if (t == NULL) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (!t->hello_ready) {
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) ==
            1 &&
        cp_tls_parse_sni(ext, len, t->sni, sizeof(t->sni)) != 0) {
      *alert = SSL_AD_DECODE_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    /* The client's ALPN list is offered upstream on its behalf, so the
     * origin chooses as it would for the client directly. */
    if (SSL_client_hello_get0_ext(
            ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
            &len) == 1 &&
        cp_alpn_parse_ext(ext, len, t->alpn_offered, &t->alpn_offered_len) !=
            0) {
      *alert = SSL_AD_DECODE_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
    note_offer(ssl, t);
    return SSL_CLIENT_HELLO_RETRY; /* the conn verifies upstream first */
  }
  if (t->refuse_alert > 0) {
    *alert = t->refuse_alert;
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (t->want_client_cert) {
    /* Any certificate is taken: it is recorded, not judged. */
    SSL_set_verify(ssl, SSL_VERIFY_PEER, accept_any_cert);
  }
  if (SSL_use_cert_and_key(ssl, t->leaf, t->key, t->chain, 1) != 1) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}


/* The client gets the protocol the upstream chose (t->alpn_choice, set by
 * the conn before the handshake resumes), or no ALPN when the upstream
 * chose none: each side sees what it would see directly. */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg) {
  cp_tls_t *t = SSL_get_app_data(ssl);
  size_t off = 0;

  (void)arg;
  if (t == NULL || t->alpn_choice_len == 0) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  while (off < inlen && off + 1 + in[off] <= inlen) {
    if (in[off] == t->alpn_choice_len &&
        memcmp(in + off + 1, t->alpn_choice, t->alpn_choice_len) == 0) {
      *out = in + off + 1;
      *outlen = in[off];
      return SSL_TLSEXT_ERR_OK;
    }
    off += 1 + in[off];
  }
  return SSL_TLSEXT_ERR_NOACK;
}


SSL_CTX *cp_tls_server_ctx_new(int min_version) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

  if (ctx == NULL) {
    return NULL;
  }
  cp_tls_set_min_version(ctx, min_version);
  SSL_CTX_set_client_hello_cb(ctx, on_client_hello, NULL);
  SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
  /* Each conn talks to one client once; no session cache to grow. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}


void cp_tls_server_serve(cp_tls_t *t, X509 *leaf, EVP_PKEY *key,
                         STACK_OF(X509) *chain, int want_client_cert) {
  X509_free(t->leaf);
  t->leaf = leaf;
  t->key = key;
  t->chain = chain;
  t->want_client_cert = want_client_cert != 0;
  t->hello_ready = 1;
}


void cp_tls_server_refuse(cp_tls_t *t, int alert) {
  t->refuse_alert = alert;
  t->hello_ready = 1;
}


void cp_tls_server_answer_alpn(cp_tls_t *t, const char *proto) {
  size_t n = proto != NULL ? strlen(proto) : 0;

  if (n > sizeof(t->alpn_choice)) {
    n = 0; /* no protocol name this long is ever chosen */
  }
  memcpy(t->alpn_choice, proto != NULL ? proto : "", n);
  t->alpn_choice_len = (unsigned)n;
}
