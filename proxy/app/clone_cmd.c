#include "app/clone_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki/ca.h"
#include "diag/cert.h"
#include "pki/clone.h"
#include "base/rfc3339.h"

static const char usage[] =
    "usage: chainproxy clone CHAIN.pem [--store ROOTS.pem] --out DIR\n"
    "                        [--ca-dir DIR] [--shift-to-now TIME | --shift "
    "SECONDS]\n"
    "\n"
    "Re-issues every certificate of CHAIN.pem (and of ROOTS.pem) with a "
    "fresh key\nof the same type and size, keeping names, serials, "
    "validity and extensions,\nso the clone verifies (or fails) exactly as "
    "the original does.\n"
    "  --store FILE          the roots the chain is verified against; "
    "cloned too\n"
    "  --out DIR             writes chain.pem, store.pem, leaf.key, keys/, "
    "map.json\n"
    "  --ca-dir DIR          where clone keys are kept (DIR/clones/keys), so "
    "clones\n"
    "                        agree across runs (default $CHAINPROXY_HOME, "
    "else\n"
    "                        ~/.chainproxy)\n"
    "  --shift-to-now TIME   shift every validity date so that the original "
    "instant\n"
    "                        TIME (RFC 3339) is now\n"
    "  --shift SECONDS       shift every validity date by SECONDS\n";


/* Every certificate of a PEM file; NULL (with the reason printed) when the
 * file is unreadable, holds no certificate or a malformed one. */
static STACK_OF(X509) *read_pem(const char *path) {
  STACK_OF(X509) *sk = NULL;
  BIO *in = BIO_new_file(path, "r");
  X509 *x;
  unsigned long e;

  if (in == NULL) {
    fprintf(stderr, "chainproxy clone: cannot read %s: %s\n", path,
            strerror(errno));
    return NULL;
  }
  sk = sk_X509_new_null();
  ERR_clear_error();
  while (sk != NULL && (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
    if (sk_X509_push(sk, x) <= 0) {
      X509_free(x);
      break;
    }
  }
  e = ERR_peek_last_error();
  /* PEM_R_NO_START_LINE is how the last read reports a clean end. */
  if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
                  ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
    fprintf(stderr, "chainproxy clone: %s: malformed PEM certificate (%s)\n",
            path, ERR_reason_error_string(e));
    goto fail;
  }
  if (sk == NULL || sk_X509_num(sk) == 0) {
    fprintf(stderr, "chainproxy clone: %s: no PEM certificate in it\n", path);
    goto fail;
  }
  ERR_clear_error();
  BIO_free(in);
  return sk;
fail:
  ERR_clear_error();
  BIO_free(in);
  sk_X509_pop_free(sk, X509_free);
  return NULL;
}


static int write_certs(const char *path, STACK_OF(X509) *sk) {
  FILE *f = fopen(path, "w");
  int i, ok = f != NULL;

  for (i = 0; ok && i < sk_X509_num(sk); i++) {
    ok = PEM_write_X509(f, sk_X509_value(sk, i)) == 1;
  }
  if (f != NULL && fclose(f) != 0) {
    ok = 0;
  }
  if (!ok) {
    fprintf(stderr, "chainproxy clone: cannot write %s\n", path);
  }
  return ok ? 0 : -1;
}


static int write_key(const char *path, EVP_PKEY *key) {
  FILE *f = NULL;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int ok;

  /* An existing file keeps its mode through O_TRUNC: make it 0600. */
  ok = fd >= 0 && fchmod(fd, 0600) == 0;
  f = ok ? fdopen(fd, "w") : NULL;
  ok = f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  if (f != NULL) {
    ok = fclose(f) == 0 && ok;
  } else if (fd >= 0) {
    close(fd);
  }
  if (!ok) {
    fprintf(stderr, "chainproxy clone: cannot write %s\n", path);
  }
  return ok ? 0 : -1;
}


/* Clones every certificate of in into out, writes its key under
 * out_dir/keys and adds a map.json entry. */
static int clone_all(cp_clone_t *cl, STACK_OF(X509) *in, STACK_OF(X509) *out,
                     const char *source, const char *out_dir, json_t *map) {
  char err[512], path[1400], spki[65], fp[100], cfp[100], subj[512];
  X509 *orig, *c;
  EVP_PKEY *key;
  int i;

  for (i = 0; i < sk_X509_num(in); i++) {
    orig = sk_X509_value(in, i);
    c = cp_clone_cert(cl, orig, err, sizeof(err));
    key = c != NULL ? cp_clone_get0_key(cl, orig, err, sizeof(err)) : NULL;
    if (key == NULL || sk_X509_push(out, c) <= 0) {
      cp_cert_name_str(X509_get_subject_name(orig), subj, sizeof(subj));
      fprintf(stderr, "chainproxy clone: %s certificate %d (%s): %s\n", source,
              i, subj, err);
      X509_free(c);
      return -1;
    }
    cp_clone_spki_sha256(orig, spki, sizeof(spki));
    snprintf(path, sizeof(path), "%s/keys/%s.pem", out_dir, spki);
    if (write_key(path, key) != 0) {
      return -1;
    }
    if (strcmp(source, "chain") == 0 && i == 0) {
      snprintf(path, sizeof(path), "%s/leaf.key", out_dir);
      if (write_key(path, key) != 0) {
        return -1;
      }
    }
    cp_cert_sha256(orig, 1, fp, sizeof(fp));
    cp_cert_sha256(c, 1, cfp, sizeof(cfp));
    cp_cert_name_str(X509_get_subject_name(orig), subj, sizeof(subj));
    snprintf(path, sizeof(path), "keys/%s.pem", spki);
    json_array_append_new(
        map, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "original", fp,
                       "clone", cfp, "subject", subj, "role",
                       cp_clone_role(cl, orig,
                                     strcmp(source, "chain") == 0 && i == 0),
                       "source", source, "index", i, "key", path));
  }
  return 0;
}


static int parse_shift(const char *to_now, const char *secs, long long *out) {
  time_t t;
  char *end;

  *out = 0;
  if (to_now != NULL) {
    if (cp_rfc3339_parse(to_now, &t) != 0) {
      fprintf(stderr,
              "chainproxy clone: --shift-to-now %s: not an RFC 3339 time "
              "(2021-09-30T15:01:15Z)\n",
              to_now);
      return -1;
    }
    *out = (long long)time(NULL) - (long long)t;
  }
  if (secs != NULL) {
    errno = 0;
    *out = strtoll(secs, &end, 10);
    if (errno != 0 || end == secs || *end != '\0') {
      fprintf(stderr, "chainproxy clone: --shift %s: not a number of seconds\n",
              secs);
      return -1;
    }
  }
  return 0;
}


static int run(const char *chain_file, const char *store_file,
               const char *out_dir, const char *key_dir, long long shift) {
  STACK_OF(X509) *chain = NULL, *store = NULL, *pool = NULL;
  STACK_OF(X509) *cchain = NULL, *cstore = NULL;
  cp_clone_t *cl = NULL;
  json_t *map = NULL;
  char err[512], path[1400];
  int i, rc = 2;

  chain = read_pem(chain_file);
  store = store_file != NULL ? read_pem(store_file) : sk_X509_new_null();
  if (chain == NULL || store == NULL) {
    goto done;
  }
  rc = 1;
  pool = sk_X509_new_null();
  cchain = sk_X509_new_null();
  cstore = sk_X509_new_null();
  map = json_array();
  for (i = 0; pool != NULL && i < sk_X509_num(chain); i++) {
    sk_X509_push(pool, sk_X509_value(chain, i));
  }
  for (i = 0; pool != NULL && i < sk_X509_num(store); i++) {
    sk_X509_push(pool, sk_X509_value(store, i));
  }
  snprintf(path, sizeof(path), "%s/keys", out_dir);
  if (pool == NULL || cchain == NULL || cstore == NULL || map == NULL ||
      (mkdir(out_dir, 0755) != 0 && errno != EEXIST) ||
      (mkdir(path, 0700) != 0 && errno != EEXIST)) {
    fprintf(stderr, "chainproxy clone: cannot create %s: %s\n", path,
            strerror(errno));
    goto done;
  }
  cl = cp_clone_new(key_dir, shift, err, sizeof(err));
  if (cl == NULL) {
    fprintf(stderr, "chainproxy clone: %s\n", err);
    goto done;
  }
  cp_clone_set0_pool(cl, pool);
  if (clone_all(cl, chain, cchain, "chain", out_dir, map) != 0 ||
      clone_all(cl, store, cstore, "store", out_dir, map) != 0) {
    goto done;
  }
  snprintf(path, sizeof(path), "%s/chain.pem", out_dir);
  if (write_certs(path, cchain) != 0) {
    goto done;
  }
  snprintf(path, sizeof(path), "%s/store.pem", out_dir);
  if (write_certs(path, cstore) != 0) {
    goto done;
  }
  snprintf(path, sizeof(path), "%s/map.json", out_dir);
  if (json_dump_file(map, path, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0) {
    fprintf(stderr, "chainproxy clone: cannot write %s\n", path);
    goto done;
  }
  printf("cloned %d chain and %d store certificates into %s "
         "(keys kept in %s)\n",
         sk_X509_num(cchain), sk_X509_num(cstore), out_dir, key_dir);
  rc = 0;
done:
  cp_clone_free(cl);
  json_decref(map);
  sk_X509_free(pool);
  sk_X509_pop_free(cchain, X509_free);
  sk_X509_pop_free(cstore, X509_free);
  sk_X509_pop_free(chain, X509_free);
  sk_X509_pop_free(store, X509_free);
  return rc;
}


int cp_clone_cmd(int argc, char **argv) {
  static const struct option longopts[] = {
      {"store", required_argument, NULL, 's'},
      {"out", required_argument, NULL, 'o'},
      {"ca-dir", required_argument, NULL, 'd'},
      {"shift-to-now", required_argument, NULL, 'n'},
      {"shift", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *store = NULL, *out = NULL, *ca_dir = NULL, *to_now = NULL;
  const char *secs = NULL;
  char dir[1024], key_dir[1100];
  long long shift;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    if (c == 's') {
      store = optarg;
    } else if (c == 'o') {
      out = optarg;
    } else if (c == 'd') {
      ca_dir = optarg;
    } else if (c == 'n') {
      to_now = optarg;
    } else if (c == 't') {
      secs = optarg;
    } else if (c == 'h') {
      fputs(usage, stdout);
      return 0;
    } else {
      fprintf(stderr,
              "chainproxy clone: %s option %s (see chainproxy clone "
              "--help)\n",
              c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
      return 2;
    }
  }
  if (optind != argc - 1 || out == NULL) {
    fprintf(stderr, "chainproxy clone: %s\n%s",
            optind >= argc ? "no CHAIN.pem given"
            : out == NULL  ? "--out DIR is required"
                           : "one CHAIN.pem only",
            usage);
    return 2;
  }
  if (to_now != NULL && secs != NULL) {
    fprintf(
        stderr,
        "chainproxy clone: --shift-to-now and --shift exclude each other\n");
    return 2;
  }
  if (parse_shift(to_now, secs, &shift) != 0) {
    return 2;
  }
  if (cp_ca_default_dir(ca_dir, dir, sizeof(dir)) != 0) {
    fprintf(stderr, "chainproxy clone: set --ca-dir, CHAINPROXY_HOME or "
                    "HOME\n");
    return 2;
  }
  snprintf(key_dir, sizeof(key_dir), "%s/clones/keys", dir);
  return run(argv[optind], store, out, key_dir, shift);
}
