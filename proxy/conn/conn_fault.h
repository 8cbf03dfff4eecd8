/* A rule's corporate-network behaviours applied to one connection: the
 * shaping of its legs (latency, jitter, bandwidth, a reset after a budget
 * of bytes), an SNI filter's reset after the ClientHello, and the record
 * of every fault applied (a `fault` event, and the close event's list),
 * and the answers a filter gives instead of the origin's (a block page,
 * silence). The per-host 407 is conn_http's (with --auth); the TLS cap
 * conn_tls's. */
#ifndef CP_CONN_FAULT_H
#define CP_CONN_FAULT_H

#include "conn/conn.h"


/* The first rule for host:port when it does anything a corporate network
 * does; NULL otherwise. */
const cp_rule_t *cp_conn_fault_rule(const cp_conn_t *c, const char *host,
                                    uint16_t port);
/* Records that fault touched the connection: once per fault, with a value
 * (ms, bytes, KB/s, a status; -1: none) and a detail in words. */
void cp_conn_fault_record(cp_conn_t *c, cp_fault_e fault, long long value,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets up the rule's latency, bandwidth and reset budget on the legs.
 * 0, or an error (out of memory). */
int cp_conn_fault_shape(cp_conn_t *c, const cp_rule_t *ru);
/* Once a request's target is known (CONNECT or absolute form): a rule's
 * block page or silence, else its shaping. Nonzero when the conn must
 * stop reading requests (it answered, holds, or failed). */
int cp_conn_fault_request(cp_conn_t *c);
/* After the ClientHello: a rule's sni_block for the SNI (else the CONNECT
 * host) resets the connection. 1 when it did. */
int cp_conn_fault_sni(cp_conn_t *c, const char *sni);

#endif
