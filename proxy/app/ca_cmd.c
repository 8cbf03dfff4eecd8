#include "app/ca_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki/ca.h"
#include "pki/clone.h"
#include "diag/cert.h"

static const char usage[] =
    "usage: chainproxy ca [--ca-dir DIR] [--bundle FILE] "
    "[--shadow-store FILE [--from STORE]]\n"
    "\n"
    "Creates the CA on first use, prints where its root is and how to "
    "trust it\nfrom each kind of client.\n"
    "  --ca-dir DIR    CA state (default $CHAINPROXY_HOME, else "
    "~/.chainproxy)\n"
    "  --bundle FILE   also write FILE: the system's trusted roots plus "
    "chainproxy's\n"
    "                  root, for clients that take a single CA file\n"
    "  --shadow-store FILE  write FILE: a structural clone of every root "
    "in\n"
    "                  STORE, to trust what --chain exact serves\n"
    "  --from STORE    the roots cloned by --shadow-store (default the "
    "system's)\n";


/* Clones of every certificate in from, written to path; their keys are
 * clone's per-SPKI keys under <ca dir>/clones/keys, the ones --chain
 * exact signs with. */
static int write_shadow(const cp_ca_t *ca, const char *from, const char *path) {
  const char *env = getenv(X509_get_default_cert_file_env());
  const char *src = from != NULL  ? from
                    : env && *env ? env
                                  : X509_get_default_cert_file();
  STACK_OF(X509) *store = sk_X509_new_null();
  cp_clone_t *cl = NULL;
  char err[512], key_dir[1100];
  FILE *in = fopen(src, "r"), *out = NULL;
  X509 *x;
  int i, n = 0, rc = -1;

  if (in == NULL || store == NULL) {
    fprintf(stderr, "chainproxy ca: --shadow-store: cannot read %s: %s\n", src,
            strerror(errno));
    goto done;
  }
  while ((x = PEM_read_X509(in, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(store, x)) {
      X509_free(x);
    }
  }
  snprintf(key_dir, sizeof(key_dir), "%s/clones/keys", ca->dir);
  cl = cp_clone_new(key_dir, 0, err, sizeof(err));
  if (cl == NULL) {
    fprintf(stderr, "chainproxy ca: --shadow-store: %s\n", err);
    goto done;
  }
  cp_clone_set0_pool(cl, store);
  out = fopen(path, "w");
  if (out == NULL) {
    fprintf(stderr, "chainproxy ca: --shadow-store %s: %s\n", path,
            strerror(errno));
    goto done;
  }
  for (i = 0; i < sk_X509_num(store); i++) {
    X509 *c = cp_clone_cert(cl, sk_X509_value(store, i), err, sizeof(err));

    if (c == NULL) {
      fprintf(stderr, "chainproxy ca: --shadow-store: skipped one: %s\n", err);
      continue;
    }
    PEM_write_X509(out, c);
    X509_free(c);
    n++;
  }
  rc = fclose(out) == 0 ? 0 : -1;
  out = NULL;
  printf("wrote %d cloned root(s) of %s to %s\n", n, src, path);
done:
  if (out != NULL) {
    fclose(out);
  }
  if (in != NULL) {
    fclose(in);
  }
  cp_clone_free(cl);
  sk_X509_pop_free(store, X509_free);
  return rc;
}


/* The system's roots (OpenSSL's default file, or SSL_CERT_FILE), then
 * chainproxy's root, written to a new file renamed into place. */
static int write_bundle(const cp_ca_t *ca, const char *path) {
  const char *env = getenv(X509_get_default_cert_file_env());
  const char *sys = env && *env ? env : X509_get_default_cert_file();
  char tmp[4096];
  FILE *in = NULL, *out = NULL;
  char buf[65536];
  size_t n;
  int fd, rc = -1;

  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
      (int)sizeof(tmp)) {
    fprintf(stderr, "chainproxy ca: --bundle %s: path too long\n", path);
    return -1;
  }
  in = fopen(sys, "r");
  if (in == NULL) {
    fprintf(stderr,
            "chainproxy ca: --bundle: cannot read the system roots "
            "%s: %s\n",
            sys, strerror(errno));
    return -1;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  out = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (out == NULL) {
    fprintf(stderr, "chainproxy ca: --bundle %s: %s\n", path, strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    goto done;
  }
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
    if (fwrite(buf, 1, n, out) != n) {
      break;
    }
  }
  fprintf(out, "\n# chainproxy root (%s/root.pem)\n", ca->dir);
  if (ferror(in) || PEM_write_X509(out, ca->root) != 1 || fclose(out) != 0) {
    out = NULL;
    fprintf(stderr, "chainproxy ca: --bundle %s: write failed\n", path);
    unlink(tmp);
    goto done;
  }
  out = NULL;
  if (rename(tmp, path) != 0) {
    fprintf(stderr, "chainproxy ca: --bundle %s: %s\n", path, strerror(errno));
    unlink(tmp);
    goto done;
  }
  rc = 0;
done:
  if (out != NULL) {
    fclose(out);
    unlink(tmp);
  }
  fclose(in);
  return rc;
}


/* Each recipe is one line a shell runs as it stands (the tests do); B is
 * the bundle when there is one, else the root alone. */
static void print_help(const cp_ca_t *ca, const char *bundle, FILE *out) {
  char fp[100];
  const char *d = ca->dir;
  char root[1100], b[4200];

  cp_cert_sha256(ca->root, 1, fp, sizeof(fp));
  snprintf(root, sizeof(root), "%s/root.pem", d);
  snprintf(b, sizeof(b), "%s", bundle ? bundle : root);
  fprintf(out,
          "chainproxy CA directory: %s%s\n"
          "root certificate (install this one): %s\n"
          "SHA-256 fingerprint: %s\n"
          "also there: legacy-root.pem (expired 2020-05-30), cross.pem, "
          "intermediate.pem\n",
          d, ca->created ? " (just created)" : "", root, fp);
  if (bundle != NULL) {
    fprintf(out, "bundle (system roots + chainproxy's root): %s\n", bundle);
  }
  fprintf(out,
          "\nTrust it (point the client at the proxy with HTTPS_PROXY="
          "http://127.0.0.1:8080):\n"
          "  curl:    curl --cacert %s https://example.test/\n"
          "  curl:    CURL_CA_BUNDLE=%s curl https://example.test/\n"
          "  Python:  SSL_CERT_FILE=%s REQUESTS_CA_BUNDLE=%s python3 app.py\n"
          "  Node:    NODE_EXTRA_CA_CERTS=%s node app.js\n"
          "  npm:     npm config set cafile %s\n"
          "  git:     GIT_SSL_CAINFO=%s git ls-remote https://example.test/"
          "repo.git\n"
          "  apt:     echo 'Acquire::https::CAInfo \"%s\";' > "
          "/etc/apt/apt.conf.d/99chainproxy\n"
          "  Java:    keytool -importcert -noprompt -alias chainproxy -file "
          "%s -keystore chainproxy.p12 -storepass changeit\n"
          "           java -Djavax.net.ssl.trustStore=chainproxy.p12 "
          "-Djavax.net.ssl.trustStorePassword=changeit ...\n"
          "  Debian:  cp %s /usr/local/share/ca-certificates/chainproxy.crt "
          "&& update-ca-certificates\n",
          root, b, b, b, root, b, b, b, root, root);
  if (bundle == NULL) {
    fprintf(out,
            "\nPython, npm, git and apt replace the whole trust store with "
            "the file they are given:\nwith root.pem alone only chainproxy "
            "is trusted. 'chainproxy ca --bundle FILE' writes\na bundle that "
            "keeps the system's roots (npm also ignores "
            "NODE_EXTRA_CA_CERTS once a\ncafile is set, which managed "
            "machines often do).\n");
  }
}


int cp_ca_cmd(int argc, char **argv) {
  static const struct option longopts[] = {
      {"ca-dir", required_argument, NULL, 'd'},
      {"bundle", required_argument, NULL, 'b'},
      {"shadow-store", required_argument, NULL, 's'},
      {"from", required_argument, NULL, 'f'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *ca_dir = NULL, *bundle = NULL, *shadow = NULL, *from = NULL;
  char err[1400], dir[1024];
  cp_ca_t ca;
  int c, rc = 0;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    if (c == 'd') {
      ca_dir = optarg;
    } else if (c == 'b') {
      bundle = optarg;
    } else if (c == 's') {
      shadow = optarg;
    } else if (c == 'f') {
      from = optarg;
    } else if (c == 'h') {
      fputs(usage, stdout);
      return 0;
    } else {
      fprintf(stderr,
              "chainproxy ca: %s option %s (see chainproxy ca "
              "--help)\n",
              c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "chainproxy ca: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (cp_ca_default_dir(ca_dir, dir, sizeof(dir)) != 0) {
    fprintf(stderr, "chainproxy ca: set --ca-dir, CHAINPROXY_HOME or HOME\n");
    return 2;
  }
  if (cp_ca_load_or_create(&ca, dir, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy ca: %s\n", err);
    cp_ca_free(&ca);
    return 1;
  }
  if (shadow != NULL) {
    rc = write_shadow(&ca, from, shadow) != 0;
    cp_ca_free(&ca);
    return rc;
  }
  if (bundle != NULL && write_bundle(&ca, bundle) != 0) {
    rc = 1;
  } else {
    print_help(&ca, bundle, stdout);
  }
  cp_ca_free(&ca);
  return rc;
}
