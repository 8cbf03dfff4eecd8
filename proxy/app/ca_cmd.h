/* `chainproxy ca ...` (argv[0] is "ca"): creates or loads the CA, prints
 * where the root is and a tested recipe per client to trust it, and with
 * --bundle writes a bundle of the system's roots plus chainproxy's root
 * (for clients that take one file and must keep trusting everyone else,
 * such as npm's cafile or Python's SSL_CERT_FILE). Returns the exit
 * code: 0, 1 (the CA or the bundle failed), 2 (usage). */
#ifndef CP_CA_CMD_H
#define CP_CA_CMD_H

int cp_ca_cmd(int argc, char **argv);

#endif
