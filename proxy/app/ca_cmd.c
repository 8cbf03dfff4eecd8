#include "app/ca_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki/ca.h"
#include "pki/clone.h"
#include "diag/cert.h"

static const char usage[] =
    "usage: chainproxy ca [--ca-dir DIR] [--public-dir DIR] [--bundle FILE]\n"
    "                     [--proxy URL] [--shadow-store FILE [--from STORE]]\n"
    "\n"
    "Creates the CA on first use, prints where its root is and how to "
    "trust it\nfrom each kind of client.\n"
    "  --ca-dir DIR      CA state (default $CHAINPROXY_HOME, else "
    "~/.chainproxy)\n"
    "  --public-dir DIR  where copies of the roots other users and services "
    "can\n"
    "                    read are written, 0755 and 0644 (default: beside "
    "the CA\n"
    "                    directory, DIR-public)\n"
    "  --bundle FILE     also write FILE (0644): the system's trusted roots "
    "plus\n"
    "                    chainproxy's root, for clients that take a single "
    "CA file\n"
    "  --proxy URL       the proxy the recipes name (default "
    "http://127.0.0.1:8080;\n"
    "                    give the address the proxy listens on)\n"
    "  --shadow-store FILE\n"
    "                    write FILE: a structural clone of every root in "
    "STORE,\n"
    "                    to trust what --chain exact serves\n"
    "  --from STORE      the roots --shadow-store clones (default the "
    "system's)\n";

/* A preload for Node releases that ignore HTTPS_PROXY (Node 20): the https
 * module's default agent tunnels through the proxy with CONNECT. */
static const char node_preload[] =
    "// chainproxy: Node's https module through HTTPS_PROXY, for Node "
    "releases\n"
    "// that ignore the variable. Use: node --require THIS_FILE app.js\n"
    "'use strict';\n"
    "const http = require('http'), https = require('https'), "
    "tls = require('tls');\n"
    "const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;\n"
    "if (proxy) {\n"
    "  const p = new URL(proxy);\n"
    "  class ConnectAgent extends https.Agent {\n"
    "    createConnection(opts, cb) {\n"
    "      const target = `${opts.host}:${opts.port || 443}`;\n"
    "      http.request({host: p.hostname, port: p.port || 80, method: "
    "'CONNECT',\n"
    "                    path: target, headers: {host: target}})\n"
    "        .on('connect', (res, socket) => {\n"
    "          if (res.statusCode !== 200) {\n"
    "            socket.destroy();\n"
    "            return cb(new Error(`proxy answered CONNECT with "
    "${res.statusCode}`));\n"
    "          }\n"
    "          cb(null, tls.connect({...opts, socket,\n"
    "                                servername: opts.servername || "
    "opts.host}));\n"
    "        })\n"
    "        .on('error', cb)\n"
    "        .end();\n"
    "    }\n"
    "  }\n"
    "  https.globalAgent = new ConnectAgent({keepAlive: true});\n"
    "}\n";


/* Writes len bytes, or the PEM of cert, to path through a temporary file
 * renamed into place, mode 0644 whatever the umask. */
static int write_public(const char *path, X509 *cert, const char *text) {
  char tmp[4200];
  FILE *out;
  int fd, ok;

  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
      (int)sizeof(tmp)) {
    return -1;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || fchmod(fd, 0644) != 0 || (out = fdopen(fd, "w")) == NULL) {
    if (fd >= 0) {
      close(fd);
      unlink(tmp);
    }
    return -1;
  }
  ok = cert ? PEM_write_X509(out, cert) == 1 : fputs(text, out) >= 0;
  if (fclose(out) != 0 || !ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}


/* The incident profiles' stores and chains (the .pem files in CA_DIR/incidents,
 * written when the proxy started with one of those profiles) copied into
 * DIR/incidents, since the CA directory is 0700. Certificates only. */
static int copy_incidents(const cp_ca_t *ca, const char *dir) {
  char src[4200], dst[4200], text[65536];
  struct dirent *d;
  DIR *in;
  FILE *f;
  size_t n, len;
  int rc = 0;

  snprintf(src, sizeof(src), "%s/incidents", ca->dir);
  in = opendir(src);
  if (in == NULL) {
    return 0; /* no incident profile was ever served */
  }
  snprintf(dst, sizeof(dst), "%s/incidents", dir);
  if (mkdir(dst, 0755) != 0 && errno != EEXIST) {
    closedir(in);
    return -1;
  }
  while (rc == 0 && (d = readdir(in)) != NULL) {
    len = strlen(d->d_name);
    if (len < 5 || strcmp(d->d_name + len - 4, ".pem") != 0) {
      continue;
    }
    snprintf(src, sizeof(src), "%s/incidents/%s", ca->dir, d->d_name);
    f = fopen(src, "r");
    n = f != NULL ? fread(text, 1, sizeof(text) - 1, f) : 0;
    if (f != NULL) {
      fclose(f);
    }
    text[n] = '\0';
    snprintf(dst, sizeof(dst), "%s/incidents/%s", dir, d->d_name);
    if (n == 0 || strstr(text, "PRIVATE") != NULL ||
        write_public(dst, NULL, text) != 0) {
      rc = -1;
    }
  }
  closedir(in);
  return rc;
}


/* The public directory (0755) with root.pem, legacy-root.pem and the Node
 * preload; -1 after a warning, and the recipes name the CA directory. */
static int write_public_dir(const cp_ca_t *ca, const char *dir) {
  char p[4200];
  struct stat st;

  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    goto fail;
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    goto fail;
  }
  if (st.st_uid == geteuid() && (st.st_mode & 0777) != 0755) {
    chmod(dir, 0755);
  }
  snprintf(p, sizeof(p), "%s/root.pem", dir);
  if (write_public(p, ca->root, NULL) != 0) {
    goto fail;
  }
  snprintf(p, sizeof(p), "%s/legacy-root.pem", dir);
  if (write_public(p, ca->legacy_root, NULL) != 0) {
    goto fail;
  }
  snprintf(p, sizeof(p), "%s/node-env-proxy.js", dir);
  if (write_public(p, NULL, node_preload) != 0 ||
      copy_incidents(ca, dir) != 0) {
    goto fail;
  }
  return 0;
fail:
  fprintf(stderr,
          "chainproxy ca: cannot write the public copies in %s (%s); the "
          "recipes name the CA directory\n",
          dir, strerror(errno));
  return -1;
}


/* Can a user of no group of ours read path? Every directory above it
 * must be searchable by others, the file readable by others. On failure,
 * why names the first directory that stops them. */
static int others_can_read(const char *path, char *why, size_t len) {
  char real[4096], *slash;
  struct stat st;

  if (realpath(path, real) == NULL) {
    snprintf(why, len, "%s: %s", path, strerror(errno));
    return 0;
  }
  for (slash = real; (slash = strchr(slash + 1, '/')) != NULL;) {
    *slash = '\0';
    if (stat(real, &st) == 0 && !(st.st_mode & S_IXOTH)) {
      snprintf(why, len, "%s is mode %04o", real, st.st_mode & 07777);
      return 0;
    }
    *slash = '/';
  }
  if (stat(real, &st) != 0 || !(st.st_mode & S_IROTH)) {
    snprintf(why, len, "%s is not readable by others", real);
    return 0;
  }
  return 1;
}


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
    fprintf(stderr, "chainproxy ca: %s: cannot read %s: %s\n",
            from != NULL ? "--from" : "--shadow-store (the system store)", src,
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
  if (n == 0) {
    /* A store with no root in it trusts nothing: say so, not "wrote 0". */
    fprintf(stderr,
            "chainproxy ca: --shadow-store: %s holds no certificate that "
            "could be cloned; %s trusts nothing\n",
            src, path);
    unlink(path);
    rc = -1;
    goto done;
  }
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
  out = fd >= 0 && fchmod(fd, 0644) == 0 ? fdopen(fd, "w") : NULL;
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


/* s in single quotes for a shell line ('\'' for each quote). */
static void shell_quote(const char *s, char *out, size_t len) {
  size_t o = 0;

  if (len < 3) {
    out[0] = '\0';
    return;
  }
  out[o++] = '\'';
  for (; *s && o + 6 < len; s++) {
    if (*s == '\'') {
      memcpy(out + o, "'\\''", 4);
      o += 4;
    } else {
      out[o++] = *s;
    }
  }
  out[o++] = '\'';
  out[o] = '\0';
}


typedef struct recipe_paths_s {
  char root[1300];     /* the root clients trust: the public copy if any */
  char b[4200];        /* the bundle, else the root */
  char pub[1200];      /* where public files are: the public dir or the CA's */
  char nodeca[9200];   /* "NODE_EXTRA_CA_CERTS=..." or a combining recipe */
  char javaproxy[800]; /* Java's proxy properties for --proxy */
} recipe_paths_t;


/* Java reads no HTTPS_PROXY: the proxy as its system properties (port
 * 1080 when the URL has none, as curl), with an empty non-proxy list so
 * local origins go through it too. */
static void java_proxy(recipe_paths_t *rp, const char *proxy) {
  const char *a = proxy + 7; /* after "http://", checked by the caller */
  const char *at = strchr(a, '@'), *end, *colon;
  char host[256];
  size_t n;

  a = at != NULL ? at + 1 : a;
  end = a + strcspn(a, "/");
  colon = end;
  while (colon > a && colon[-1] != ':' && colon[-1] != ']') {
    colon--;
  }
  colon = colon > a && colon[-1] == ':' ? colon - 1 : end;
  n = (size_t)(colon - a);
  if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
    a++;
    n -= 2;
  }
  snprintf(host, sizeof(host), "%.*s", (int)(n < 255 ? n : 255), a);
  snprintf(rp->javaproxy, sizeof(rp->javaproxy),
           "-Dhttps.proxyHost=%s -Dhttps.proxyPort=%.*s "
           "-Dhttp.proxyHost=%s -Dhttp.proxyPort=%.*s -Dhttp.nonProxyHosts=",
           host, colon < end ? (int)(end - colon - 1) : 4,
           colon < end ? colon + 1 : "1080", host,
           colon < end ? (int)(end - colon - 1) : 4,
           colon < end ? colon + 1 : "1080");
}


/* Node: add to an existing NODE_EXTRA_CA_CERTS, never replace it. */
static void node_trust(recipe_paths_t *rp) {
  const char *cur = getenv("NODE_EXTRA_CA_CERTS");
  char q[4200];

  if (cur == NULL || *cur == '\0' || strcmp(cur, rp->root) == 0) {
    snprintf(rp->nodeca, sizeof(rp->nodeca), "NODE_EXTRA_CA_CERTS=%s",
             rp->root);
    return;
  }
  shell_quote(cur, q, sizeof(q));
  snprintf(rp->nodeca, sizeof(rp->nodeca),
           "cat %s %s > %s/node-extra-ca.pem && "
           "NODE_EXTRA_CA_CERTS=%s/node-extra-ca.pem",
           q, rp->root, rp->pub, rp->pub);
}


/* Each recipe is one line a shell runs as it stands (the tests do); B is
 * the bundle when there is one, else the root alone. */
static void print_help(const cp_ca_t *ca, const char *bundle,
                       const char *pubdir, const char *proxy, FILE *out) {
  static recipe_paths_t rp;
  char fp[100], why[4200];
  const char *d = ca->dir;

  cp_cert_sha256(ca->root, 1, fp, sizeof(fp));
  snprintf(rp.pub, sizeof(rp.pub), "%s", pubdir ? pubdir : d);
  snprintf(rp.root, sizeof(rp.root), "%s/root.pem", rp.pub);
  snprintf(rp.b, sizeof(rp.b), "%s", bundle ? bundle : rp.root);
  node_trust(&rp);
  java_proxy(&rp, proxy);
  fprintf(out,
          "chainproxy CA directory: %s%s\n"
          "root certificate (install this one): %s/root.pem\n"
          "SHA-256 fingerprint: %s\n"
          "also there: legacy-root.pem (expired 2020-05-30), cross.pem, "
          "intermediate.pem\n",
          d, ca->created ? " (just created)" : "", d, fp);
  if (pubdir != NULL) {
    fprintf(out,
            "copies other users can read (0644): %s/root.pem, "
            "%s/legacy-root.pem\n",
            pubdir, pubdir);
  }
  if (bundle != NULL) {
    fprintf(out, "bundle (system roots + chainproxy's root): %s\n", bundle);
  }
  fprintf(out,
          "\nTrust it (point the client at the proxy with HTTPS_PROXY=%s):\n"
          "  curl:    curl --cacert %s https://example.test/\n"
          "  curl:    CURL_CA_BUNDLE=%s curl https://example.test/\n"
          "  Python:  SSL_CERT_FILE=%s REQUESTS_CA_BUNDLE=%s python3 app.py\n"
          "  Node:    %s NODE_USE_ENV_PROXY=1 node app.js\n"
          "           (Node 24 and later, whose 'node --help' has "
          "--use-env-proxy: Node reads\n"
          "           HTTPS_PROXY only when NODE_USE_ENV_PROXY=1 is set)\n"
          "  Node 20: %s node --require %s/node-env-proxy.js app.js\n"
          "           (Node 20 ignores HTTPS_PROXY: the preload tunnels the "
          "https module;\n"
          "           fetch() needs undici's EnvHttpProxyAgent)\n"
          "  npm:     npm config set cafile %s\n"
          "  git:     GIT_SSL_CAINFO=%s git ls-remote https://example.test/"
          "repo.git\n"
          "  Go:      SSL_CERT_FILE=%s go run .\n"
          "           (Go never proxies localhost or 127.0.0.1 from "
          "HTTPS_PROXY: reach a local\n"
          "           origin by another host name, e.g. one /etc/hosts maps "
          "to 127.0.0.1)\n"
          "  Chromium: mkdir -p $HOME/.pki/nssdb && { [ -f "
          "$HOME/.pki/nssdb/cert9.db ] || certutil -d sql:$HOME/.pki/nssdb "
          "-N --empty-password; } && certutil -d sql:$HOME/.pki/nssdb -A -t "
          "C,, -n chainproxy -i %s\n"
          "  Chromium: chromium --proxy-server=%s "
          "--proxy-bypass-list='<-loopback>' https://example.test/\n"
          "           (without <-loopback> Chromium never proxies localhost "
          "and 127.0.0.1)\n"
          "  apt:     install -m 0644 %s /etc/apt/chainproxy-ca.pem && "
          "printf '%%s\\n' 'Acquire::https::CAInfo "
          "\"/etc/apt/chainproxy-ca.pem\";' 'Acquire::https::Proxy \"%s\";' "
          "> /etc/apt/apt.conf.d/99chainproxy\n"
          "           (as root; apt fetches as the _apt user, who cannot "
          "read a file under a\n"
          "           0700 directory such as ~/.chainproxy or /root: the "
          "copy is in /etc/apt)\n"
          "  Java:    keytool -importcert -noprompt -alias chainproxy -file "
          "%s -keystore chainproxy.p12 -storepass changeit\n"
          "           java -Djavax.net.ssl.trustStore=chainproxy.p12 "
          "-Djavax.net.ssl.trustStorePassword=changeit %s ...\n"
          "  Debian:  cp %s /usr/local/share/ca-certificates/chainproxy.crt "
          "&& update-ca-certificates\n",
          proxy, rp.root, rp.b, rp.b, rp.b, rp.nodeca, rp.nodeca, rp.pub, rp.b,
          rp.b, rp.b, rp.root, proxy, rp.b, proxy, rp.root, rp.javaproxy,
          rp.root);
  if (bundle == NULL) {
    fprintf(out,
            "\nPython, npm, git, Go and apt replace the whole trust store "
            "with the file they are\ngiven: with root.pem alone only "
            "chainproxy is trusted. 'chainproxy ca --bundle FILE'\nwrites a "
            "bundle that keeps the system's roots (npm also ignores "
            "NODE_EXTRA_CA_CERTS\nonce a cafile is set, which managed "
            "machines often do).\n");
  }
  if (!others_can_read(rp.b, why, sizeof(why)) ||
      !others_can_read(rp.root, why, sizeof(why))) {
    fprintf(out,
            "\nOther users cannot read these files (%s): a service that "
            "runs as another\nuser needs copies it can reach, e.g. (as "
            "root) 'chainproxy ca --public-dir\n/usr/local/share/chainproxy "
            "--bundle /usr/local/share/chainproxy/bundle.pem'.\n",
            why);
  }
}


/* The public directory's default: beside the CA directory, "DIR-public"
 * (the CA directory is 0700, so nothing inside it is reachable). */
static int default_public_dir(const char *ca_dir, char *out, size_t len) {
  size_t n = strlen(ca_dir);

  while (n > 1 && ca_dir[n - 1] == '/') {
    n--;
  }
  return snprintf(out, len, "%.*s-public", (int)n, ca_dir) < (int)len ? 0 : -1;
}


int cp_ca_cmd(int argc, char **argv) {
  static const struct option longopts[] = {
      {"ca-dir", required_argument, NULL, 'd'},
      {"bundle", required_argument, NULL, 'b'},
      {"public-dir", required_argument, NULL, 'p'},
      {"proxy", required_argument, NULL, 'x'},
      {"shadow-store", required_argument, NULL, 's'},
      {"from", required_argument, NULL, 'f'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *ca_dir = NULL, *bundle = NULL, *pub = NULL;
  const char *shadow = NULL, *from = NULL;
  const char *proxy = "http://127.0.0.1:8080";
  char err[1400], dir[1024], pubbuf[1100];
  cp_ca_t ca;
  int c, rc = 0;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    if (c == 'd') {
      ca_dir = optarg;
    } else if (c == 'b') {
      bundle = optarg;
    } else if (c == 'p') {
      pub = optarg;
    } else if (c == 'x') {
      proxy = optarg;
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
  if (from != NULL && shadow == NULL) {
    fprintf(stderr, "chainproxy ca: --from names the roots --shadow-store "
                    "clones: give --shadow-store FILE too\n");
    return 2;
  }
  if (strncmp(proxy, "http://", 7) != 0 || strpbrk(proxy, " '\"\\") != NULL) {
    fprintf(stderr, "chainproxy ca: --proxy '%s': not http://HOST:PORT\n",
            proxy);
    return 2;
  }
  if (cp_ca_default_dir(ca_dir, dir, sizeof(dir)) != 0) {
    fprintf(stderr, "chainproxy ca: set --ca-dir, CHAINPROXY_HOME or HOME\n");
    return 2;
  }
  if (pub == NULL) {
    if (default_public_dir(dir, pubbuf, sizeof(pubbuf)) != 0) {
      fprintf(stderr, "chainproxy ca: the CA directory's name is too long\n");
      return 2;
    }
    pub = pubbuf;
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
  if (write_public_dir(&ca, pub) != 0) {
    pub = NULL;
  }
  if (bundle != NULL && write_bundle(&ca, bundle) != 0) {
    rc = 1;
  } else {
    print_help(&ca, bundle, pub, proxy, stdout);
  }
  cp_ca_free(&ca);
  return rc;
}
