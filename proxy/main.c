/* argv -> cp_config_t, one loop, run. No logic lives here. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "pki/ca.h"
#include "config/config.h"
#include "app/server.h"
#include "app/ca_cmd.h"
#include "app/clone_cmd.h"
#include "app/isolate.h"
#include "app/origins_cmd.h"
#include "app/run_cmd.h"
#include "app/verify_cmd.h"


int main(int argc, char **argv) {
  cp_config_t cfg;
  cp_server_t srv;
  uv_loop_t loop;
  char err[512];
  int rc;
  int exit_code = 0;

  if (argc > 1 && strcmp(argv[1], "ca") == 0) {
    return cp_ca_cmd(argc - 1, argv + 1);
  }
  if (argc > 1 && strcmp(argv[1], "clone") == 0) {
    return cp_clone_cmd(argc - 1, argv + 1);
  }
  if (argc > 1 && strcmp(argv[1], "__isolate") == 0) {
    /* run --isolate's helper ends with _exit: in the namespaces it made,
     * LeakSanitizer's stop-the-world (ptrace) fails and fails the run. */
    rc = cp_isolate_child(argc - 1, argv + 1);
    fflush(NULL);
    _exit(rc);
  }
  if (argc > 1 && strcmp(argv[1], "origins") == 0) {
    signal(SIGPIPE, SIG_IGN);
    return cp_origins_cmd(argc - 1, argv + 1);
  }
  if (argc > 1 && strcmp(argv[1], "run") == 0) {
    signal(SIGPIPE, SIG_IGN);
    return cp_run_cmd(argc - 1, argv + 1);
  }
  if (argc > 1 && strcmp(argv[1], "verify") == 0) {
    signal(SIGPIPE, SIG_IGN);
    return cp_verify_cmd(argc - 1, argv + 1);
  }
  cp_config_defaults(&cfg);
  if (cp_config_parse(&cfg, argc, argv, err, sizeof(err)) != 0) {
    fprintf(stderr, "chainproxy: %s\n", err);
    return 2;
  }
  if (cfg.show_help) {
    fputs(cp_config_usage(), stdout);
    return 0;
  }
  if (cfg.show_version) {
    printf("chainproxy %s\ndata: %s (%s): profiles.json, distrust.json, "
           "clients.json\n",
           CP_VERSION, cfg.data.dir, cfg.data.how);
    return 0;
  }
  /* Writes to a closed peer are reported as EPIPE by libuv instead. */
  signal(SIGPIPE, SIG_IGN);
  if (uv_loop_init(&loop) != 0) {
    fprintf(stderr, "chainproxy: cannot create the event loop\n");
    return 1;
  }
  rc = cp_server_init(&srv, &loop, &cfg);
  if (rc == 0) {
    cp_server_run(&srv);
  } else {
    exit_code = 1;
  }
  if (cp_server_close(&srv) != 0) {
    exit_code = 1;
  }
  if (uv_loop_close(&loop) != 0) {
    fprintf(stderr, "chainproxy: internal error: handles left open\n");
    exit_code = 1;
  }
  return exit_code;
}
