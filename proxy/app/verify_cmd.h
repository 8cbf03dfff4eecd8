/* `chainproxy verify ...` (argv[0] is "verify"). Returns the exit code:
 * 0 verified, 1 verification failed, 2 usage, 3 could not connect,
 * 4 verified with a warning. */
#ifndef CP_VERIFY_CMD_H
#define CP_VERIFY_CMD_H

int cp_verify_cmd(int argc, char **argv);

#endif
