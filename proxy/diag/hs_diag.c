#include "diag/hs_diag.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/sslerr.h>

#include "base/buf.h"
#include "diag/tls_names.h"

static const char *const names[] = {
#define CP_HS_NAME(e, s) s,
    CP_HS_CAUSES(CP_HS_NAME)
#undef CP_HS_NAME
};


const char *cp_hs_cause_name(cp_hs_cause_t c) {
  return c < CP_HS_NONE ? names[c] : NULL;
}


char *cp_hs_detail(const cp_hs_result_t *hs) {
  cp_buf_t b;

  cp_buf_init(&b, 4096);
  if (cp_buf_appendf(&b, "\ncause:  %s\nhint:   %s\n", hs->name, hs->hint) !=
          0 ||
      cp_buf_append(&b, "", 1) != 0) {
    cp_buf_free(&b);
    return NULL;
  }
  return b.data; /* the caller takes over the bytes */
}


/* A TLS record starts with its content type: 20..23 (RFC 8446 5.1). */
static int looks_tls(const cp_hs_facts_t *f) {
  return f->nfirst == 0 || (f->first[0] >= 20 && f->first[0] <= 23);
}


/* The peer's first bytes, printable, for the hint. */
static void first_text(const cp_hs_facts_t *f, char *out, size_t cap) {
  size_t i, n = 0;

  for (i = 0; i < f->nfirst && n + 1 < cap; i++) {
    unsigned char ch = f->first[i];

    if (ch == '\r' || ch == '\n') {
      break;
    }
    out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
  }
  out[n] = '\0';
}


static int reason_is(const cp_hs_facts_t *f, int r) {
  return f->err_lib == ERR_LIB_SSL && f->err_reason == r;
}


static cp_hs_cause_t cause_of(const cp_hs_facts_t *f) {
  if (f->timed_out) {
    return CP_HS_HANDSHAKE_TIMEOUT;
  }
  if (!looks_tls(f)) {
    return CP_HS_NOT_TLS;
  }
  if (f->alert_in == 70 || reason_is(f, SSL_R_UNSUPPORTED_PROTOCOL) ||
      reason_is(f, SSL_R_NO_PROTOCOLS_AVAILABLE) ||
      reason_is(f, SSL_R_UNSUPPORTED_SSL_VERSION) ||
      reason_is(f, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) ||
      reason_is(f, SSL_R_WRONG_VERSION_NUMBER)) {
    return CP_HS_TLS_VERSION;
  }
  if (f->alert_in == 120 ||
      reason_is(f, SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL)) {
    return CP_HS_ALPN_MISMATCH;
  }
  /* Over TLS 1.3 the server says certificate_required; over TLS 1.2 most
   * say handshake_failure, or just close, after their CertificateRequest. */
  if (f->alert_in == 116 ||
      (f->cert_requested &&
       (f->alert_in == 40 || f->alert_in == 42 || f->alert_in == 46 ||
        f->alert_in == 49 || f->closed))) {
    return CP_HS_CLIENT_CERT_REQUIRED;
  }
  if (f->alert_in == 40 || reason_is(f, SSL_R_NO_SHARED_CIPHER) ||
      reason_is(f, SSL_R_NO_CIPHERS_AVAILABLE)) {
    return CP_HS_NO_SHARED_CIPHER;
  }
  if (f->alert_in >= 0) {
    return CP_HS_HANDSHAKE_ALERT;
  }
  if (f->closed || reason_is(f, SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
    return CP_HS_HANDSHAKE_CLOSED;
  }
  return CP_HS_HANDSHAKE_OTHER;
}


int cp_hs_classify_client(const cp_hs_facts_t *f, cp_hs_result_t *out) {
  const char *alert = cp_tls_alert_name(f->alert_out);
  const char *minv = f->min_version ? f->min_version : "TLSv1.2";
  const char *offer = f->client_versions ? f->client_versions : "?";
  const char *suites = f->client_ciphers ? f->client_ciphers : "?";

  memset(out, 0, sizeof(*out));
  out->cause = CP_HS_NONE;
  if (f->alert_out < 0) {
    return 0; /* chainproxy said nothing: the client walked away */
  }
  if (f->no_sni) {
    out->cause = CP_HS_NO_SNI;
    snprintf(out->hint, sizeof(out->hint),
             "chainproxy refused the client: it sent no SNI (server_name), "
             "as a client does that connects by IP address or has SNI turned "
             "off, and this host requires it (require_sni), as CDNs and "
             "nginx's ssl_reject_handshake do; connect by host name, or turn "
             "SNI on in the client.");
  } else if (f->alert_out == 70 || reason_is(f, SSL_R_UNSUPPORTED_PROTOCOL) ||
             reason_is(f, SSL_R_VERSION_TOO_LOW)) {
    out->cause = CP_HS_TLS_VERSION;
    snprintf(out->hint, sizeof(out->hint),
             "chainproxy refused the client: it offers only %s, and "
             "chainproxy accepts %s and newer as current servers do (start "
             "chainproxy with --client-tls-min to play an older server).",
             offer, minv);
  } else if (f->alert_out == 40 || reason_is(f, SSL_R_NO_SHARED_CIPHER) ||
             reason_is(f, SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM)) {
    out->cause = CP_HS_NO_SHARED_CIPHER;
    snprintf(out->hint, sizeof(out->hint),
             "chainproxy refused the client: none of its cipher suites (%s) "
             "works with chainproxy's leaf (a client that wants RSA key "
             "exchange or an old suite); start chainproxy with --leaf-key rsa "
             "to serve it an RSA leaf.",
             suites);
  } else {
    out->cause = CP_HS_HANDSHAKE_ALERT;
    snprintf(out->hint, sizeof(out->hint),
             "chainproxy refused the client's handshake with alert %s (%d).",
             alert ? alert : "unknown", f->alert_out);
  }
  out->name = cp_hs_cause_name(out->cause);
  return 1;
}


void cp_hs_classify(const cp_hs_facts_t *f, cp_hs_result_t *out) {
  const char *alert = cp_tls_alert_name(f->alert_in);
  const char *minv = f->min_version ? f->min_version : "TLSv1.2";
  char first[32];

  memset(out, 0, sizeof(*out));
  out->cause = cause_of(f);
  out->name = cp_hs_cause_name(out->cause);
  switch (out->cause) {
  case CP_HS_NOT_TLS:
    first_text(f, first, sizeof(first));
    snprintf(out->hint, sizeof(out->hint),
             "The upstream answered the TLS ClientHello with something else "
             "('%s'%s): this port does not speak TLS; use the port that "
             "serves https://, or http:// if the service is plain HTTP.",
             first, strncmp(first, "HTTP/", 5) == 0 ? ", plain HTTP" : "");
    break;
  case CP_HS_TLS_VERSION:
    snprintf(out->hint, sizeof(out->hint),
             "The upstream does not speak %s or newer (it offers an older "
             "version, such as TLS 1.0 or 1.1, which current clients refuse "
             "too): upgrade the server's TLS configuration. To reach it "
             "anyway and diagnose its chain, start chainproxy (or chainproxy "
             "verify) with --upstream-tls-min 1.1 (1.0 for a TLS 1.0 server), "
             "or give its rule \"upstream_tls_min\": \"1.1\".",
             minv);
    break;
  case CP_HS_ALPN_MISMATCH:
    snprintf(out->hint, sizeof(out->hint),
             "The upstream accepts none of the application protocols offered "
             "in ALPN (%s): it speaks only another one (an HTTP/2-only "
             "service and an HTTP/1.1 client, or the reverse); use a client "
             "that speaks the server's protocol.",
             f->offered && *f->offered ? f->offered : "none");
    break;
  case CP_HS_CLIENT_CERT_REQUIRED:
    snprintf(out->hint, sizeof(out->hint),
             "The upstream requires a client certificate (mutual TLS)%s%s%s "
             "and none was presented (or it refused the one given): chainproxy "
             "cannot forward the client's own certificate; give chainproxy "
             "one the upstream accepts with --upstream-client-cert FILE.",
             f->ca_names && *f->ca_names ? ", issued by one of: " : "",
             f->ca_names && *f->ca_names ? f->ca_names : "",
             f->ca_names && *f->ca_names ? "," : "");
    break;
  case CP_HS_NO_SHARED_CIPHER:
    snprintf(out->hint, sizeof(out->hint),
             "The upstream and chainproxy share no cipher suite (alert "
             "%s): the server accepts only suites current clients have "
             "disabled (RSA key exchange, 3DES, RC4, CBC-only, or a TLS 1.3 "
             "suite set of its own); update the server's cipher list.",
             alert ? alert : "none");
    break;
  case CP_HS_HANDSHAKE_TIMEOUT:
    snprintf(out->hint, sizeof(out->hint),
             "The upstream accepted the TCP connection but did not complete "
             "the TLS handshake in time: the port may not speak TLS (a "
             "server waiting for the client to talk first), or something "
             "in between drops the handshake.");
    break;
  case CP_HS_HANDSHAKE_ALERT:
    snprintf(out->hint, sizeof(out->hint),
             "The upstream refused the handshake with TLS alert %s (%d); "
             "its own log says why.",
             alert ? alert : "unknown", f->alert_in);
    break;
  case CP_HS_HANDSHAKE_CLOSED:
    snprintf(out->hint, sizeof(out->hint),
             "The upstream closed the connection during the handshake "
             "without a TLS alert: it may refuse the SNI or the client "
             "hello itself (a filtering middlebox does this too).");
    break;
  default:
    snprintf(out->hint, sizeof(out->hint),
             "The TLS handshake with the upstream failed; the error above "
             "is OpenSSL's.");
    break;
  }
}
