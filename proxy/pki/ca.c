#include "pki/ca.h"

#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "diag/cert.h"
#include "base/err.h"

/* File names in the CA directory; certificate and key of each element. */
static const char *const ca_files[] = {
    "root.pem",  "root.key",         "legacy-root.pem",  "legacy-root.key",
    "cross.pem", "intermediate.pem", "intermediate.key",
};


int cp_ca_default_dir(const char *dir, char *out, size_t len) {
  const char *home;
  struct passwd *pw;
  int n;

  if (dir == NULL) {
    dir = getenv("CHAINPROXY_HOME");
  }
  if (dir != NULL && *dir != '\0') {
    n = snprintf(out, len, "%s", dir);
    return n > 0 && (size_t)n < len ? 0 : CP_EINVAL;
  }
  home = getenv("HOME");
  if (home == NULL || *home == '\0') {
    pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : NULL;
  }
  if (home == NULL) {
    return CP_EINVAL;
  }
  n = snprintf(out, len, "%s/.chainproxy", home);
  return n > 0 && (size_t)n < len ? 0 : CP_EINVAL;
}


static void ca_path(const cp_ca_t *ca, const char *name, char *out,
                    size_t len) {
  snprintf(out, len, "%s/%s", ca->dir, name);
}


/* "nobody (uid 65534)"; name: the bare name for a command line. */
static void user_name(uid_t uid, char *out, size_t len, char *name,
                      size_t name_len) {
  const struct passwd *pw = getpwuid(uid);

  if (pw != NULL) {
    snprintf(out, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
    snprintf(name, name_len, "%s", pw->pw_name);
  } else {
    snprintf(out, len, "uid %u", (unsigned)uid);
    snprintf(name, name_len, "%u", (unsigned)uid);
  }
}


/* sshd's StrictModes for the CA: the directory and each file in it
 * belong to the user chainproxy runs as (or to root, who could replace
 * them anyway), and neither group nor others may write them. Whoever can
 * write the CA can swap in a key of their own and intercept every client
 * that trusts the root; running as root made no difference before, which
 * is what made a directory of another user's acceptable. kind: "the CA
 * directory", "a CA key" or "a CA certificate". */
static int check_strict(const char *path, const struct stat *st,
                        const char *kind, char *err, size_t errlen) {
  const uid_t me = geteuid();
  const unsigned mode = (unsigned)(st->st_mode & 07777);
  const int dir = S_ISDIR(st->st_mode);
  char owner[160], self[160], owner_name[64], self_name[64];

  user_name(st->st_uid, owner, sizeof(owner), owner_name, sizeof(owner_name));
  if (st->st_uid != me && st->st_uid != 0) {
    user_name(me, self, sizeof(self), self_name, sizeof(self_name));
    return cp_errf(err, errlen, CP_EPERM,
                   "%s: %s is owned by %s, not by %s who runs chainproxy "
                   "(mode %04o): its owner could replace the CA and "
                   "intercept every client that trusts it; fix it with: "
                   "chown %s%s %s (or run chainproxy as %s)",
                   path, kind, owner, self, mode, dir ? "-R " : "", self_name,
                   path, owner_name);
  }
  if (st->st_mode & (S_IWGRP | S_IWOTH)) {
    return cp_errf(err, errlen, CP_EPERM,
                   "%s: %s is writable by %s (mode %04o, owner %s): they "
                   "could swap in a key of their own and intercept every "
                   "client that trusts the CA; fix it with: chmod go-w %s",
                   path, kind, st->st_mode & S_IWOTH ? "others" : "its group",
                   mode, owner, path);
  }
  return 0;
}


static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509_EXTENSION *ext = cp_cert_conf_ext(issuer, x, nid, value);
  int ok;

  if (ext == NULL) {
    return 0;
  }
  ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}


X509 *cp_ca_cert_new(const char *cn, EVP_PKEY *key, X509 *issuer,
                     EVP_PKEY *issuer_key, time_t not_before, time_t not_after,
                     int pathlen0, const EVP_MD *md) {
  X509 *x = X509_new();
  X509_NAME *name = NULL;

  if (x == NULL) {
    return NULL;
  }
  name = X509_get_subject_name(x);
  if (X509_set_version(x, X509_VERSION_3) != 1 ||
      !cp_cert_set_random_serial(x) ||
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 (const unsigned char *)"chainproxy", -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 (const unsigned char *)cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) !=
          1 ||
      ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
      ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL ||
      X509_set_pubkey(x, key) != 1 ||
      !add_ext(x, issuer ? issuer : x, NID_basic_constraints,
               pathlen0 ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE") ||
      !add_ext(x, issuer ? issuer : x, NID_key_usage,
               pathlen0 ? "critical,digitalSignature,keyCertSign,cRLSign"
                        : "critical,keyCertSign,cRLSign") ||
      !add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") ||
      (issuer != NULL &&
       !add_ext(x, issuer, NID_authority_key_identifier, "keyid:always")) ||
      X509_sign(x, issuer_key, md ? md : EVP_sha256()) <= 0) {
    X509_free(x);
    return NULL;
  }
  return x;
}


static X509 *make_ca_cert(const cp_ca_t *ca, const char *what, EVP_PKEY *key,
                          X509 *issuer, EVP_PKEY *issuer_key, time_t not_before,
                          time_t not_after, int pathlen0) {
  char cn[128];

  snprintf(cn, sizeof(cn), "%s %s", ca->label[0] ? ca->label : "chainproxy",
           what);
  return cp_ca_cert_new(cn, key, issuer, issuer_key, not_before, not_after,
                        pathlen0, NULL);
}


/* Writes a new file; never replaces one (O_EXCL). */
static int write_new_file(const char *path, mode_t mode, X509 *cert,
                          EVP_PKEY *key, char *err, size_t errlen) {
  FILE *fp = NULL;
  int fd;
  int ok;

  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return cp_errf(err, errlen, -errno, "%s: cannot create: %s", path,
                   strerror(errno));
  }
  if (fchmod(fd, mode) != 0) { /* the umask must not widen or narrow it */
    close(fd);
    return cp_errf(err, errlen, -errno, "%s: chmod: %s", path, strerror(errno));
  }
  fp = fdopen(fd, "w");
  if (fp == NULL) {
    close(fd);
    return cp_errf(err, errlen, CP_EIO, "%s: cannot write", path);
  }
  ok = cert ? PEM_write_X509(fp, cert)
            : PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
  if (fclose(fp) != 0 || ok != 1) {
    return cp_errf(err, errlen, CP_EIO, "%s: write failed", path);
  }
  return 0;
}


static int ca_create(cp_ca_t *ca, char *err, size_t errlen) {
  time_t now = time(NULL);
  const time_t day = 86400;
  char path[1200];
  int rc;

  ca->root_key = EVP_EC_gen("P-256");
  ca->legacy_key = EVP_EC_gen("P-256");
  ca->inter_key = EVP_EC_gen("P-256");
  if (ca->root_key == NULL || ca->legacy_key == NULL || ca->inter_key == NULL) {
    return cp_errf(err, errlen, CP_ETLS, "key generation failed");
  }
  ca->root = make_ca_cert(ca, "Modern Root CA", ca->root_key, NULL,
                          ca->root_key, now - day, now + 3650 * day, 0);
  ca->legacy_root =
      make_ca_cert(ca, "Legacy Root CA", ca->legacy_key, NULL, ca->legacy_key,
                   CP_LEGACY_NOT_BEFORE, CP_LEGACY_NOT_AFTER, 0);
  if (ca->root == NULL || ca->legacy_root == NULL) {
    return cp_errf(err, errlen, CP_ETLS, "root certificate creation failed");
  }
  /* The cross-sign carries the modern root's name and key, issued by the
   * legacy root, and ends when the legacy root does: the shape of the
   * AddTrust -> USERTrust and DST Root CA X3 -> ISRG Root X1 chains. */
  ca->cross = make_ca_cert(ca, "Modern Root CA", ca->root_key, ca->legacy_root,
                           ca->legacy_key, CP_LEGACY_NOT_BEFORE,
                           CP_LEGACY_NOT_AFTER, 0);
  ca->intermediate =
      make_ca_cert(ca, "Intermediate CA", ca->inter_key, ca->root, ca->root_key,
                   now - day, now + 1825 * day, 1);
  if (ca->cross == NULL || ca->intermediate == NULL) {
    return cp_errf(err, errlen, CP_ETLS, "CA certificate creation failed");
  }
  {
    const struct {
      const char *name;
      X509 *cert;
      EVP_PKEY *key;
    } files[] = {
        {"root.key", NULL, ca->root_key},
        {"legacy-root.key", NULL, ca->legacy_key},
        {"intermediate.key", NULL, ca->inter_key},
        {"root.pem", ca->root, NULL},
        {"legacy-root.pem", ca->legacy_root, NULL},
        {"cross.pem", ca->cross, NULL},
        {"intermediate.pem", ca->intermediate, NULL},
    };
    size_t i;

    for (i = 0; i < CP_ARRAY_SIZE(files); i++) {
      ca_path(ca, files[i].name, path, sizeof(path));
      rc = write_new_file(path, files[i].key ? 0600 : 0644, files[i].cert,
                          files[i].key, err, errlen);
      if (rc != 0) {
        return rc;
      }
    }
  }
  ca->created = 1;
  return 0;
}


static int load_cert(const cp_ca_t *ca, const char *name, X509 **out, char *err,
                     size_t errlen) {
  char path[1200];
  struct stat st;
  FILE *fp;
  int rc;

  ca_path(ca, name, path, sizeof(path));
  fp = fopen(path, "r");
  if (fp == NULL) {
    return cp_errf(err, errlen, CP_ECONFIG, "%s: cannot read: %s", path,
                   strerror(errno));
  }
  /* The file opened, not the name: a swap after the check is no swap. */
  if (fstat(fileno(fp), &st) != 0) {
    fclose(fp);
    return cp_errf(err, errlen, CP_EIO, "%s: stat: %s", path, strerror(errno));
  }
  rc = check_strict(path, &st, "a CA certificate", err, errlen);
  if (rc != 0) {
    fclose(fp);
    return rc;
  }
  *out = PEM_read_X509(fp, NULL, NULL, NULL);
  fclose(fp);
  if (*out == NULL) {
    ERR_clear_error();
    return cp_errf(err, errlen, CP_ECONFIG,
                   "%s: not a PEM certificate (corrupt?)", path);
  }
  return 0;
}


static int load_key(const cp_ca_t *ca, const char *name, EVP_PKEY **out,
                    char *err, size_t errlen) {
  char path[1200];
  struct stat st;
  FILE *fp;
  int rc;

  ca_path(ca, name, path, sizeof(path));
  fp = fopen(path, "r");
  if (fp == NULL) {
    return cp_errf(err, errlen, CP_ECONFIG, "%s: cannot read: %s", path,
                   strerror(errno));
  }
  if (fstat(fileno(fp), &st) != 0) {
    fclose(fp);
    return cp_errf(err, errlen, CP_EIO, "%s: stat: %s", path, strerror(errno));
  }
  rc = check_strict(path, &st, "a CA key", err, errlen);
  if (rc == 0 && (st.st_mode & 077) != 0) {
    rc = cp_errf(err, errlen, CP_EPERM,
                 "%s: private key is readable by group or others (mode "
                 "%04o); fix it with: chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
  }
  if (rc != 0) {
    fclose(fp);
    return rc;
  }
  *out = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
  fclose(fp);
  if (*out == NULL) {
    ERR_clear_error();
    return cp_errf(err, errlen, CP_ECONFIG,
                   "%s: not a PEM private key (corrupt?)", path);
  }
  return 0;
}


static int check_pair(const cp_ca_t *ca, X509 *cert, EVP_PKEY *key,
                      const char *cert_name, const char *key_name, char *err,
                      size_t errlen) {
  char path[1200];

  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    ca_path(ca, key_name, path, sizeof(path));
    return cp_errf(err, errlen, CP_ECONFIG,
                   "%s: does not match the certificate in %s", path, cert_name);
  }
  return 0;
}


static int ca_load(cp_ca_t *ca, char *err, size_t errlen) {
  int rc;

  if ((rc = load_key(ca, "root.key", &ca->root_key, err, errlen)) != 0 ||
      (rc = load_key(ca, "legacy-root.key", &ca->legacy_key, err, errlen)) !=
          0 ||
      (rc = load_key(ca, "intermediate.key", &ca->inter_key, err, errlen)) !=
          0 ||
      (rc = load_cert(ca, "root.pem", &ca->root, err, errlen)) != 0 ||
      (rc = load_cert(ca, "legacy-root.pem", &ca->legacy_root, err, errlen)) !=
          0 ||
      (rc = load_cert(ca, "cross.pem", &ca->cross, err, errlen)) != 0 ||
      (rc = load_cert(ca, "intermediate.pem", &ca->intermediate, err,
                      errlen)) != 0) {
    return rc;
  }
  if ((rc = check_pair(ca, ca->root, ca->root_key, "root.pem", "root.key", err,
                       errlen)) != 0 ||
      (rc = check_pair(ca, ca->legacy_root, ca->legacy_key, "legacy-root.pem",
                       "legacy-root.key", err, errlen)) != 0 ||
      (rc = check_pair(ca, ca->cross, ca->root_key, "cross.pem", "root.key",
                       err, errlen)) != 0 ||
      (rc = check_pair(ca, ca->intermediate, ca->inter_key, "intermediate.pem",
                       "intermediate.key", err, errlen)) != 0) {
    return rc;
  }
  return 0;
}


/* An exclusive lock on DIR/.lock for the check-and-create; -1 when the
 * directory cannot take one (read-only). */
static int ca_lock(const char *dir) {
  char path[1200];
  int fd;

  if (snprintf(path, sizeof(path), "%s/.lock", dir) >= (int)sizeof(path)) {
    return -1;
  }
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return -1;
  }
  if (flock(fd, LOCK_EX) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}


/* Loads the CA files, or creates them all when none exist (only with the
 * lock held). */
static int open_files(cp_ca_t *ca, const char *dir, int locked, char *err,
                      size_t errlen) {
  char path[1200];
  struct stat st;
  size_t i;
  size_t present = 0;
  const char *missing = NULL;

  for (i = 0; i < CP_ARRAY_SIZE(ca_files); i++) {
    ca_path(ca, ca_files[i], path, sizeof(path));
    if (lstat(path, &st) == 0) {
      present++;
    } else if (missing == NULL) {
      missing = ca_files[i];
    }
  }
  if (present == 0 && !locked) {
    return cp_errf(err, errlen, CP_EPERM,
                   "%s: no CA here, and the directory cannot be written to "
                   "create one (%s/.lock)",
                   dir, dir);
  }
  if (present == 0) {
    return ca_create(ca, err, errlen);
  }
  if (missing != NULL) {
    ca_path(ca, missing, path, sizeof(path));
    /* Never fill gaps: a new key next to old certificates would silently
     * invalidate what users have installed. */
    return cp_errf(err, errlen, CP_ECONFIG,
                   "%s: missing while other CA files exist in %s; restore "
                   "it, or move the directory away to start a new CA",
                   path, dir);
  }
  return ca_load(ca, err, errlen);
}


int cp_ca_load_or_create(cp_ca_t *ca, const char *dir, char *err,
                         size_t errlen) {
  return cp_ca_load_or_create_as(ca, dir, "chainproxy", err, errlen);
}


int cp_ca_load_or_create_as(cp_ca_t *ca, const char *dir, const char *label,
                            char *err, size_t errlen) {
  struct stat st;
  int lock, rc;

  memset(ca, 0, sizeof(*ca));
  snprintf(ca->label, sizeof(ca->label), "%s", label);
  if (snprintf(ca->dir, sizeof(ca->dir), "%s", dir) >= (int)sizeof(ca->dir)) {
    return cp_errf(err, errlen, CP_EINVAL, "%s: path too long", dir);
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    return cp_errf(err, errlen, -errno, "%s: cannot create directory: %s", dir,
                   strerror(errno));
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return cp_errf(err, errlen, CP_ECONFIG, "%s: not a directory", dir);
  }
  /* Whoever may write the directory can swap the CA (or add their own)
   * under us, even when each file is ours. A read-only mount keeps its
   * owner and mode, so a mounted CA passes as it did. */
  rc = check_strict(dir, &st, "the CA directory", err, errlen);
  if (rc != 0) {
    return rc;
  }
  /* Replicas started together on one directory must not each make a
   * CA: the first creates it under the lock, the others load it. A
   * read-only directory (a mounted Secret) cannot be locked, and needs
   * no lock: it can only be loaded. */
  lock = ca_lock(dir);
  rc = open_files(ca, dir, lock >= 0, err, errlen);
  if (lock >= 0) {
    close(lock); /* releases the flock */
  }
  return rc;
}


int cp_ca_make_untrusted(cp_ca_t *ca) {
  time_t now = time(NULL);
  const time_t day = 86400;

  ca->untrusted_key = EVP_EC_gen("P-256");
  ca->untrusted_inter_key = EVP_EC_gen("P-256");
  if (ca->untrusted_key == NULL || ca->untrusted_inter_key == NULL) {
    return CP_ETLS;
  }
  ca->untrusted_root =
      make_ca_cert(ca, "Untrusted Root CA (never trust)", ca->untrusted_key,
                   NULL, ca->untrusted_key, now - day, now + 3650 * day, 0);
  if (ca->untrusted_root == NULL) {
    return CP_ETLS;
  }
  ca->untrusted_inter = make_ca_cert(
      ca, "Untrusted Intermediate CA", ca->untrusted_inter_key,
      ca->untrusted_root, ca->untrusted_key, now - day, now + 1825 * day, 1);
  return ca->untrusted_inter != NULL ? 0 : CP_ETLS;
}


void cp_ca_free(cp_ca_t *ca) {
  X509_free(ca->untrusted_root);
  ca->untrusted_root = NULL;
  X509_free(ca->untrusted_inter);
  ca->untrusted_inter = NULL;
  EVP_PKEY_free(ca->untrusted_key);
  ca->untrusted_key = NULL;
  EVP_PKEY_free(ca->untrusted_inter_key);
  ca->untrusted_inter_key = NULL;
  X509_free(ca->root);
  ca->root = NULL;
  X509_free(ca->legacy_root);
  ca->legacy_root = NULL;
  X509_free(ca->cross);
  ca->cross = NULL;
  X509_free(ca->intermediate);
  ca->intermediate = NULL;
  EVP_PKEY_free(ca->root_key);
  ca->root_key = NULL;
  EVP_PKEY_free(ca->legacy_key);
  ca->legacy_key = NULL;
  EVP_PKEY_free(ca->inter_key);
  ca->inter_key = NULL;
}
