#include "tls/tls_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "diag/cert.h"
#include "base/err.h"
#include "base/host.h"
#include "tls/resume.h"


/* The chain cache (resume.h), where nothing but the chain, the name and
 * the level decide (no CRL checking). Returns 1 when verifying can be
 * skipped: TLS 1.3 without a staple. A TLS 1.2 staple comes after this
 * point, so there the chain is verified anyway and the connection uses
 * the stored diagnosis only if no staple came (cp_conn_tls). */
static int chain_cached(SSL *ssl, X509_STORE_CTX *sctx, cp_tls_t *t) {
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
  cp_resume_slot_t *slot = t->session_slot;
  const unsigned char *staple = NULL;

  if (slot == NULL || slot->chains == NULL ||
      (X509_VERIFY_PARAM_get_flags(param) & X509_V_FLAG_CRL_CHECK) != 0) {
    return 0;
  }
  cp_resume_chain_key(slot, X509_STORE_CTX_get0_untrusted(sctx), slot->key,
                      X509_VERIFY_PARAM_get_auth_level(param));
  return cp_resume_chain_get(slot, time(NULL)) &&
         SSL_version(ssl) == TLS1_3_VERSION &&
         SSL_get_tlsext_status_ocsp_resp(ssl, &staple) <= 0;
}


static int on_verify_chain(X509_STORE_CTX *sctx, void *arg) {
  SSL *ssl =
      X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
  cp_tls_t *t = ssl ? SSL_get_app_data(ssl) : NULL;

  (void)arg;
  if (t == NULL) {
    return X509_verify_cert(sctx);
  }
  if (t->auth_level > 0) {
    X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(sctx),
                                     t->auth_level);
  } else if (ssl != NULL &&
             SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) != NULL) {
    /* The handshake runs at level 0 for an old TLS version; the chain is
     * judged at the level it would be otherwise. */
    X509_VERIFY_PARAM_set_auth_level(
        X509_STORE_CTX_get0_param(sctx),
        (int)(intptr_t)SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  }
  if (chain_cached(ssl, sctx, t)) {
    return 1; /* the stored diagnosis of this exact chain stands */
  }
  cp_verify_run(sctx, &t->verify);
  ERR_clear_error();
  return 1; /* complete the handshake; the caller decides from the record */
}


SSL_CTX *cp_tls_client_ctx_new(const char *ca_file, int min_version, char *err,
                               size_t errlen) {
  static const unsigned char h1[] = "\x08http/1.1";
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  int level;

  if (ctx == NULL) {
    snprintf(err, errlen, "cannot create the upstream TLS context");
    return NULL;
  }
  level = SSL_CTX_get_security_level(ctx);
  if (cp_tls_set_min_version(ctx, min_version)) {
    /* Remembered for the verifier (an int in the ctx's app data). */
    SSL_CTX_set_app_data(ctx, (void *)(intptr_t)level);
  }
  if (ca_file != NULL) {
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
      snprintf(err, errlen,
               "--upstream-ca %s: cannot load certificates from it", ca_file);
      ERR_clear_error();
      SSL_CTX_free(ctx);
      return NULL;
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    snprintf(err, errlen, "cannot load the system trust store");
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_cert_verify_callback(ctx, on_verify_chain, NULL);
  SSL_CTX_set_alpn_protos(ctx, h1, sizeof(h1) - 1);
  /* Ask for the OCSP staple, as browsers do; revoke.c judges it. */
  SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}


void cp_tls_client_facts(const cp_tls_t *t, cp_hs_facts_t *f, char *ca_names,
                         size_t cap) {
  STACK_OF(X509_NAME) *cas = SSL_get_client_CA_list(t->ssl);
  size_t used = 0;
  int i;

  memset(f, 0, sizeof(*f));
  f->alert_in = t->alert_in;
  f->err_lib = t->err_lib;
  f->err_reason = t->err_reason;
  f->first = t->first;
  f->nfirst = t->nfirst;
  f->cert_requested = t->cert_requested;
  ca_names[0] = '\0';
  for (i = 0; cas != NULL && i < sk_X509_NAME_num(cas) && used + 4 < cap; i++) {
    char name[256];

    cp_cert_name_str(sk_X509_NAME_value(cas, i), name, sizeof(name));
    used += (size_t)snprintf(ca_names + used, cap - used, "%s%s",
                             used ? "; " : "", name);
  }
  if (used >= cap) {
    ca_names[cap - 1] = '\0';
  }
  f->ca_names = ca_names;
}


/* A certificate file holds a certificate, its chain and a key: far less. */
#define CERT_FILE_MAX (1024 * 1024)


/* Reads a regular file whole, never blocking: O_NONBLOCK so that opening
 * a FIFO returns at once (a blocking open waits for a writer, for ever on
 * the control thread), then fstat refuses anything but a regular file,
 * and the size is bounded. 0, or -1 with nothing allocated. */
static int read_regular(const char *path, char **out, size_t *outlen) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  char *data = NULL;
  size_t got = 0;
  int rc = -1;

  if (fd < 0) {
    return -1;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      st.st_size > CERT_FILE_MAX) {
    goto out;
  }
  data = malloc((size_t)st.st_size + 1);
  if (data == NULL) {
    goto out;
  }
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

    if (n <= 0) {
      goto out; /* shrank under us, or an error: refuse */
    }
    got += (size_t)n;
  }
  *out = data; /* ownership to the caller */
  *outlen = got;
  data = NULL;
  rc = 0;
out:
  free(data);
  close(fd);
  return rc;
}


/* The certificate, its chain and the key from PEM bytes into ctx, or
 * into ssl when it is set. */
static int use_pem(SSL_CTX *ctx, SSL *ssl, const char *data, size_t len) {
  BIO *bio = BIO_new_mem_buf(data, (int)len);
  X509 *leaf = NULL;
  X509 *extra = NULL;
  EVP_PKEY *key = NULL;
  int rc = -1;

  if (bio == NULL) {
    goto out;
  }
  leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
  if (leaf == NULL ||
      (ssl ? SSL_use_certificate(ssl, leaf)
           : SSL_CTX_use_certificate(ctx, leaf)) != 1 ||
      (ssl ? SSL_clear_chain_certs(ssl) : SSL_CTX_clear_chain_certs(ctx)) !=
          1) {
    goto out;
  }
  /* The chain, then the key, as SSL_CTX_use_certificate_chain_file and
   * SSL_CTX_use_PrivateKey_file read the same file. */
  while ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if ((ssl ? SSL_add0_chain_cert(ssl, extra)
             : SSL_CTX_add0_chain_cert(ctx, extra)) != 1) {
      goto out;
    }
    extra = NULL; /* the SSL owns it */
  }
  ERR_clear_error();
  (void)BIO_reset(bio);
  key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  if (key == NULL ||
      (ssl ? SSL_use_PrivateKey(ssl, key) : SSL_CTX_use_PrivateKey(ctx, key)) !=
          1 ||
      (ssl ? SSL_check_private_key(ssl) : SSL_CTX_check_private_key(ctx)) !=
          1) {
    goto out;
  }
  rc = 0;
out:
  X509_free(extra);
  X509_free(leaf);
  EVP_PKEY_free(key);
  BIO_free(bio);
  return rc;
}


/* The one place that loads a client certificate file: into ctx, or
 * into ssl when it is set (a rule's certificate for one connection).
 * Every failure says the same thing: a rule comes from the control API,
 * and its error must not tell whether some path exists, is a FIFO, or
 * holds a PEM (docs/security.md). */
static int use_cert(SSL_CTX *ctx, SSL *ssl, const char *pem, const char *label,
                    char *err, size_t errlen) {
  char *data = NULL;
  size_t len = 0;
  int rc = 0;

  if (read_regular(pem, &data, &len) != 0 ||
      use_pem(ctx, ssl, data, len) != 0) {
    rc = cp_errf(err, errlen, CP_ECONFIG, "%s: not a readable PEM file", label);
  }
  if (data != NULL) {
    OPENSSL_cleanse(data, len); /* it held a private key */
  }
  free(data);
  ERR_clear_error();
  return rc;
}


int cp_tls_client_set_cert(SSL_CTX *ctx, const char *pem, char *err,
                           size_t errlen) {
  return use_cert(ctx, NULL, pem, "--upstream-client-cert", err, errlen);
}


int cp_tls_client_use_cert(SSL *ssl, const char *pem, char *err,
                           size_t errlen) {
  return use_cert(NULL, ssl, pem, "the rule's upstream_client_cert", err,
                  errlen);
}


int cp_tls_client_cert_check(const char *pem, const char *label, char *err,
                             size_t errlen) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  int rc;

  if (ctx == NULL) {
    return cp_errf(err, errlen, CP_ENOMEM, "%s %s: out of memory", label, pem);
  }
  rc = use_cert(ctx, NULL, pem, label, err, errlen);
  SSL_CTX_free(ctx);
  return rc;
}


int cp_tls_client_prepare(cp_tls_t *t, const char *name) {
  if (cp_host_is_ip(name)) {
    /* RFC 6066 forbids IP literals in SNI; check the IP SAN instead. */
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) != 1) {
      return CP_ETLS;
    }
    return 0;
  }
  if (SSL_set_tlsext_host_name(t->ssl, name) != 1 ||
      SSL_set1_host(t->ssl, name) != 1) {
    return CP_ETLS;
  }
  return 0;
}


void cp_tls_client_judge_at(cp_tls_t *t, int level) {
  t->auth_level = level;
}


void cp_tls_client_keep_sessions(cp_tls_t *t, cp_resume_slot_t *slot) {
  t->session_slot = slot;
}
