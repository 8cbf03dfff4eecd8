/* chainproxy run: the command's environment (the proxy variables, the
 * trust bundle --trust selects, Java's trust store and proxy
 * properties). */
#include "app/run_env.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pki/ca.h"

extern char **environ;

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"


/* Appends the file at path to out; 0, or -1. */
static int append_file(FILE *out, const char *path) {
  FILE *in = fopen(path, "r");
  char buf[8192];
  size_t n;

  if (in == NULL) {
    return -1;
  }
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
    fwrite(buf, 1, n, out);
  }
  fclose(in);
  return 0;
}


int cp_run_env_init(cp_run_env_t *e) {
  char **p;
  size_t n = 0;

  memset(e, 0, sizeof(*e));
  for (p = environ; *p != NULL; p++) {
    n++;
  }
  e->v = calloc(n + 32, sizeof(char *));
  if (e->v == NULL) {
    return -1;
  }
  memcpy(e->v, environ, n * sizeof(char *));
  e->n = n;
  return 0;
}


int cp_run_env_set(cp_run_env_t *e, const char *name, const char *value) {
  size_t k, nl = strlen(name);
  char *kv;

  if (e->nowned == (int)(sizeof(e->owned) / sizeof(e->owned[0])) ||
      (kv = malloc(nl + strlen(value) + 2)) == NULL) {
    return -1;
  }
  sprintf(kv, "%s=%s", name, value);
  e->owned[e->nowned++] = kv;
  for (k = 0; k < e->n; k++) {
    if (strncmp(e->v[k], name, nl) == 0 && e->v[k][nl] == '=') {
      e->v[k] = kv;
      return 0;
    }
  }
  e->v[e->n++] = kv;
  return 0;
}


void cp_run_env_free(cp_run_env_t *e) {
  int i;

  for (i = 0; i < e->nowned; i++) {
    free(e->owned[i]);
  }
  free(e->v);
}


/* keytool on PATH (or in $JAVA_HOME/bin), into out; 0 when found. */
static int find_keytool(char *out, size_t len) {
  const char *home = getenv("JAVA_HOME");
  const char *path = getenv("PATH");
  char dir[1024];

  if (home != NULL && snprintf(out, len, "%s/bin/keytool", home) < (int)len &&
      access(out, X_OK) == 0) {
    return 0;
  }
  while (path != NULL && *path != '\0') {
    size_t n = strcspn(path, ":");

    if (n > 0 && n < sizeof(dir)) {
      memcpy(dir, path, n);
      dir[n] = '\0';
      if (snprintf(out, len, "%s/keytool", dir) < (int)len &&
          access(out, X_OK) == 0) {
        return 0;
      }
    }
    path += n + (path[n] == ':');
  }
  return -1;
}


/* Runs argv to completion, its output discarded; its exit status. */
static int run_quiet(char *const argv[]) {
  pid_t pid = fork();
  int st = -1;

  if (pid == 0) {
    int fd = open("/dev/null", O_WRONLY);

    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  if (pid < 0 || waitpid(pid, &st, 0) != pid) {
    return -1;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}


static void no_proxy_java(const char *list, char *out, size_t len) {
  size_t o = 0;

  out[0] = '\0';
  while (list != NULL && *list != '\0' && o + 4 < len) {
    size_t n;

    list += strspn(list, ", ");
    n = strcspn(list, ", ");
    if (n > 0 && o + n + 3 < len) {
      o += (size_t)snprintf(out + o, len - o, "%s%s%.*s", o ? "|" : "",
                            list[0] == '.' ? "*" : "", (int)n, list);
    }
    list += n;
  }
}


/* Java reads neither HTTPS_PROXY nor PEM bundles: a copy of the system's
 * Java trust store with chainproxy's root(s) added (keytool), and the
 * proxy as system properties, through JAVA_TOOL_OPTIONS. Skipped, and
 * said so, without keytool. */
int cp_run_env_java(const char *mode, const char *ca_dir, const char *tmp,
                    const char *host, unsigned port, cp_run_env_t *env,
                    json_t *exported) {
  char props[1400];
  char keytool[1100], store[1200], root[1200], opts[4096], alias[32];
  char bypass[1024];
  const char *old = getenv("JAVA_TOOL_OPTIONS");
  const char *roots[2] = {NULL, NULL};
  int i, n = 0;

  if (find_keytool(keytool, sizeof(keytool)) != 0) {
    return 0;
  }
  snprintf(store, sizeof(store), "%s/java-trust.p12", tmp);
  if (strcmp(mode, "modern") == 0 || strcmp(mode, "both") == 0) {
    roots[n++] = "root.pem";
  }
  if (strcmp(mode, "legacy") == 0 || strcmp(mode, "both") == 0) {
    roots[n++] = "legacy-root.pem";
  }
  if (access("/etc/ssl/certs/java/cacerts", R_OK) == 0) {
    char *imp[] = {keytool,
                   "-importkeystore",
                   "-noprompt",
                   "-srckeystore",
                   "/etc/ssl/certs/java/cacerts",
                   "-srcstorepass",
                   "changeit",
                   "-destkeystore",
                   store,
                   "-deststoretype",
                   "PKCS12",
                   "-deststorepass",
                   "changeit",
                   NULL};

    if (run_quiet(imp) != 0) {
      return -1;
    }
  }
  for (i = 0; i < n; i++) {
    char *imp[] = {keytool,  "-importcert", "-noprompt", "-alias", alias,
                   "-file",  root,          "-keystore", store,    "-storetype",
                   "PKCS12", "-storepass",  "changeit",  NULL};

    snprintf(alias, sizeof(alias), "chainproxy-%d", i);
    snprintf(root, sizeof(root), "%s/%s", ca_dir, roots[i]);
    if (run_quiet(imp) != 0) {
      return -1;
    }
  }
  /* NO_PROXY as Java's http.nonProxyHosts ("a,.b" -> "a|*.b"); unset,
   * nothing bypasses the proxy (Java's own default skips localhost). */
  no_proxy_java(getenv("NO_PROXY") ? getenv("NO_PROXY") : getenv("no_proxy"),
                bypass, sizeof(bypass));
  /* --isolate (host NULL): Java keeps its default proxy settings, the
   * namespace intercepts it anyway. */
  props[0] = '\0';
  if (host != NULL) {
    snprintf(props, sizeof(props),
             "-Dhttps.proxyHost=%s -Dhttps.proxyPort=%u "
             "-Dhttp.proxyHost=%s -Dhttp.proxyPort=%u "
             "-Dhttp.nonProxyHosts=%s",
             host, port, host, port, bypass);
  }
  snprintf(opts, sizeof(opts), "%s%s%s%s%s%s", old ? old : "",
           old && props[0] ? " " : "", props,
           n ? " -Djavax.net.ssl.trustStore=" : "", n ? store : "",
           n ? " -Djavax.net.ssl.trustStorePassword=changeit" : "");
  if (cp_run_env_set(env, "JAVA_TOOL_OPTIONS", opts) != 0) {
    return -1;
  }
  json_array_append_new(exported, json_string("JAVA_TOOL_OPTIONS"));
  return 0;
}


/* The trust bundle for --trust, and the variables that point each stack
 * at it; the names exported go to exported. */
int cp_run_env_trust(const char *mode, const char *ca_dir, const char *tmp,
                     cp_run_env_t *env, json_t *exported) {
  static const char *const vars[] = {"SSL_CERT_FILE",     "REQUESTS_CA_BUNDLE",
                                     "CURL_CA_BUNDLE",    "NODE_EXTRA_CA_CERTS",
                                     "npm_config_cafile", "GIT_SSL_CAINFO"};
  char bundle[1200], path[1200];
  FILE *out;
  size_t k;
  int rc = 0;

  if (strcmp(mode, "none") == 0) {
    return 0; /* CMD trusts what it already trusts */
  }
  snprintf(bundle, sizeof(bundle), "%s/trust.pem", tmp);
  out = fopen(bundle, "w");
  if (out == NULL) {
    return -1;
  }
  if (access(SYSTEM_BUNDLE, R_OK) == 0) {
    rc |= append_file(out, SYSTEM_BUNDLE);
  }
  if (strcmp(mode, "modern") == 0 || strcmp(mode, "both") == 0) {
    snprintf(path, sizeof(path), "%s/root.pem", ca_dir);
    rc |= append_file(out, path);
  }
  if (strcmp(mode, "legacy") == 0 || strcmp(mode, "both") == 0) {
    snprintf(path, sizeof(path), "%s/legacy-root.pem", ca_dir);
    rc |= append_file(out, path);
  }
  rc |= fclose(out);
  for (k = 0; k < sizeof(vars) / sizeof(vars[0]); k++) {
    rc |= cp_run_env_set(env, vars[k], bundle);
    json_array_append_new(exported, json_string(vars[k]));
  }
  return rc ? -1 : 0;
}
