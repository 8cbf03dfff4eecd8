/* `chainproxy run [proxy options] [run options] -- CMD [ARGS...]`: the
 * proxy in-process on a free loopback port with a temporary CA, CMD run
 * with the proxy variables and a trust bundle for its stack, then the
 * expectations judged from the run's events (run_report.c). Returns the
 * exit code: CMD's status, or with expectations 0 when all held and 1
 * otherwise; 2 for a usage error. */
#ifndef CP_RUN_CMD_H
#define CP_RUN_CMD_H

int cp_run_cmd(int argc, char **argv);

#endif
