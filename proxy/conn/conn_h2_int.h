/* The HTTP/2 relay's insides, shared by conn_h2.c (the relay and its
 * nghttp2 sessions) and conn_h2_bridge.c (an HTTP/1.1 side in place of
 * one session, --h2 bridge). Not for other modules. The bridge calls the
 * relay's functions below; the relay reaches the bridge only through
 * cp_h2_t.ops, so the two files do not call each other. */
#ifndef CP_CONN_H2_INT_H
#define CP_CONN_H2_INT_H

#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "base/buf.h"
#include "conn/conn.h"
#include "http/h2_head.h"

#define MAX_STREAMS 100            /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define STREAM_WINDOW (256 * 1024) /* per stream, each direction */
#define CONN_WINDOW (1024 * 1024)
/* A stream's buffer in each direction: the window, so a peer that keeps
 * to flow control never finds it full. */
#define STREAM_BUF (STREAM_WINDOW + 16384)

typedef struct h2_stream_s h2_stream_t;
typedef struct cp_h2_s cp_h2_t;
typedef struct cp_h2_ops_s cp_h2_ops_t;

struct h2_stream_s {
  cp_conn_t *c;             /* borrowed */
  h2_stream_t *prev, *next; /* links in cp_h2_t.streams */
  int32_t cid;              /* stream id with the client */
  int32_t uid;              /* with the upstream; -1 before submission */
  cp_h2_head_t req;         /* request head as the client sent it */
  cp_h2_head_t resp;        /* response head, then its trailers */
  cp_buf_t up;              /* request body bytes not yet sent up */
  cp_buf_t down;            /* response body bytes not yet sent down */
  int status;
  uint64_t bytes_up, bytes_down; /* body bytes relayed */
  uint64_t t_start, t_first;     /* loop times: request, first response */
  unsigned up_eof : 1;           /* the request body is complete */
  unsigned down_eof : 1;         /* the response body is complete */
  unsigned resp_sent : 1;        /* the response head went to the client */
  unsigned trailers : 1;         /* resp holds trailers to send at the end */
  unsigned c_closed : 1;         /* closed on the client session */
  unsigned u_closed : 1;         /* closed (or never opened) upstream */
  unsigned reset : 1;            /* ended by a reset on either side */
  unsigned head_request : 1;     /* the request is HEAD */
  h2_stream_t *qnext;            /* bridge: the origin's queue */
  const char *outcome;           /* static; NULL: ok or reset */
};

/* The HTTP/1.1 side of a bridged relay, called where a session would be:
 * up_* when the origin speaks HTTP/1.1 (no us), client_* when the client
 * does (no cs). */
struct cp_h2_ops_s {
  void (*up_submit)(cp_conn_t *c, h2_stream_t *s);   /* request head */
  void (*up_resume)(cp_conn_t *c, h2_stream_t *s);   /* request body */
  void (*up_consumed)(cp_conn_t *c, h2_stream_t *s); /* room in s->down */
  void (*up_reset)(cp_conn_t *c, h2_stream_t *s);    /* the client gave up */
  void (*client_respond)(cp_conn_t *c, h2_stream_t *s, int end);
  void (*client_resume)(cp_conn_t *c, h2_stream_t *s);   /* response body */
  void (*client_consumed)(cp_conn_t *c, h2_stream_t *s); /* room in up */
  void (*client_reset)(cp_conn_t *c, h2_stream_t *s);    /* origin gave up */
  void (*feed)(cp_conn_t *c, cp_leg_t *leg, const char *data, size_t len);
  int (*pump)(cp_conn_t *c); /* writes what waits; 1: the client is done */
  void (*shutdown)(cp_conn_t *c);
  void (*free)(void *side);
};

struct cp_h2_s {
  nghttp2_session *cs;    /* owned: with the client (server role); NULL
                             when the client speaks HTTP/1.1 */
  nghttp2_session *us;    /* owned: with the upstream (client role); NULL
                             when the origin speaks HTTP/1.1, is blocked or
                             refused */
  const cp_h2_ops_t *ops; /* the HTTP/1.1 side, or NULL */
  void *side;             /* owned through ops->free */
  h2_stream_t *streams;   /* owned list */
  unsigned nstreams;
  unsigned upstream_gone : 1;
  unsigned busy : 1; /* streams were open when the timer was last armed */
};


/* The relay's entry with its sides chosen: ops NULL relays h2 to h2 (or
 * answers every stream when blocked); else the HTTP/1.1 side takes the
 * client (client_h1) or the origin's place. */
void cp_h2_start(cp_conn_t *c, const cp_h2_ops_t *ops, void *side,
                 int client_h1);
/* A new stream for the client's id (an HTTP/1.1 request), in the list. */
h2_stream_t *cp_h2_stream_new(cp_conn_t *c, int32_t cid);
/* The request head is complete: to the origin (or its 502). */
void cp_h2_submit(cp_conn_t *c, h2_stream_t *s);
/* The response head is in s->resp: to the client. */
void cp_h2_respond(cp_conn_t *c, h2_stream_t *s, int end);
/* n bytes of s went on: open the sender's window by as much. */
void cp_h2_client_took(cp_conn_t *c, h2_stream_t *s, size_t n);
void cp_h2_up_took(cp_conn_t *c, h2_stream_t *s, size_t n);
/* More response body (or its end) / request body for s. */
void cp_h2_down_ready(cp_conn_t *c, h2_stream_t *s);
void cp_h2_up_ready(cp_conn_t *c, h2_stream_t *s);
/* The stream reset by one side: the other is told. */
void cp_h2_reset_from_up(cp_conn_t *c, h2_stream_t *s, uint32_t err);
/* Freed (and recorded) once both sides are done with it. */
void cp_h2_stream_done(cp_conn_t *c, h2_stream_t *s);
/* Recorded and freed now (the connection is closing). */
void cp_h2_stream_end(cp_h2_t *h, h2_stream_t *s);
/* The origin is gone: no new stream can be served. */
void cp_h2_upstream_lost(cp_conn_t *c, const char *why);
void cp_h2_pump(cp_conn_t *c);

#endif
