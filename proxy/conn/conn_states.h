/* The proxy's connection behaviour: which module handles each state of
 * cp_conn_t. The top of the connection family: it references every state
 * module, and nothing references it but the server. */
#ifndef CP_CONN_STATES_H
#define CP_CONN_STATES_H

#include "conn/conn.h"

/* Sets env->states and env->start. */
void cp_conn_states_install(cp_conn_env_t *env);

#endif
