/* `chainproxy clone CHAIN.pem [--store ROOTS.pem] --out DIR ...` (argv[0]
 * is "clone"): writes a structural clone of a chain and its store (see
 * clone.h). Returns the exit code: 0 written, 1 cloning or writing failed,
 * 2 usage or unreadable input. */
#ifndef CP_CLONE_CMD_H
#define CP_CLONE_CMD_H

int cp_clone_cmd(int argc, char **argv);

#endif
