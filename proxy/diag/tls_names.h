/* Names of TLS protocol versions and alerts as the RFCs spell them, for
 * events, logs and diagnoses. Pure: no state, no I/O. */
#ifndef CP_TLS_NAMES_H
#define CP_TLS_NAMES_H

/* "TLSv1.2" for TLS1_2_VERSION; "?" for anything else. */
const char *cp_tls_version_name(int version);
/* The same for a version read off the wire (0x0303); NULL for GREASE,
 * drafts and anything unknown. */
const char *cp_tls_wire_version_name(unsigned version);
/* TLS alert name as in the RFC ("unknown_ca"), or NULL for -1. */
const char *cp_tls_alert_name(int code);

#endif
