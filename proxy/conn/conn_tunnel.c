#include "conn/conn_tunnel.h"

#include "base/err.h"


static void write_pending(cp_conn_t *c, const char *data, size_t len) {
  cp_conn_tunnel_on_data(c, &c->client, data, len);
}


void cp_conn_tunnel_entry(cp_conn_t *c) {
  cp_leg_want_read(&c->client, 1);
  cp_leg_want_read(&c->upstream, 1);
  cp_conn_arm_timer(c);
  /* Bytes the client sent right behind its CONNECT. */
  cp_conn_replay_pending(c, write_pending);
}


void cp_conn_tunnel_on_data(cp_conn_t *c, cp_leg_t *leg, const char *data,
                            size_t len) {
  int is_client = leg == &c->client;

  if (is_client) {
    cp_conn_count_relayed(c, 0, len);
  } else {
    cp_conn_count_relayed(c, 1, len);
  }
  if (cp_leg_write(is_client ? &c->upstream : &c->client, data, len) != 0) {
    cp_conn_fail(c, CP_EIO,
                 is_client ? "upstream_write_failed" : "client_write_failed");
  }
}


void cp_conn_tunnel_on_eof(cp_conn_t *c, cp_leg_t *leg) {
  /* Half-close: pass the FIN on and keep the other direction open. */
  cp_leg_shutdown(leg == &c->client ? &c->upstream : &c->client);
  if (c->client.eof && c->upstream.eof) {
    cp_conn_finish(c, "done");
  }
}
