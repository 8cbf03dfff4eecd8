/* HTTP/2 header blocks to HTTP/1.1 heads and back, for a relay that
 * bridges an HTTP/2 side and an HTTP/1.1 side (--h2 bridge): a request
 * from an h2 client to an HTTP/1.1 origin, a response from an h2 origin
 * to an HTTP/1.1 client, and the chunked framing of bodies. Pure: bytes
 * and header blocks in, bytes and header blocks out; no I/O. */
#ifndef CP_H2H1_H
#define CP_H2H1_H

#include <stddef.h>

#include "base/buf.h"
#include "http/h2_head.h"
#include "http/http_parse.h"

/* The HTTP/1.1 request head for an HTTP/2 request (:method, :path,
 * :authority as Host). has_body: a body follows; without a content-length
 * it is sent chunked (*chunked set). 0, CP_EHTTP for a request that has
 * no HTTP/1.1 form (CONNECT, missing pseudo-fields; err says why), or
 * CP_ENOMEM. */
int cp_h2h1_request_head(const cp_h2_head_t *req, int has_body, cp_buf_t *out,
                         int *chunked, const char **err);
/* The HTTP/1.1 response head for an HTTP/2 response. no_body: the stream
 * ended with the head; head_request: the request was HEAD (no body
 * whatever the fields say); keepalive: the client connection stays open.
 * A body without a content-length is sent chunked (*chunked set). */
int cp_h2h1_response_head(const cp_h2_head_t *resp, int no_body,
                          int head_request, int keepalive, cp_buf_t *out,
                          int *chunked);
/* The HTTP/2 header block for a parsed HTTP/1.1 message (its head
 * complete): a response gets :status; a request :method, :scheme,
 * :authority (Host) and :path. Field names are lower-cased and
 * hop-by-hop fields dropped (RFC 9113 8.2.2). 0, CP_EHTTP (no Host),
 * CP_EHDRSIZE. */
int cp_h2h1_head_from_msg(const cp_http_msg_t *m, const char *scheme,
                          cp_h2_head_t *out);
/* One chunk of a chunked body; len 0 is ignored. */
int cp_h2h1_chunk(cp_buf_t *out, const char *data, size_t len);
/* The last chunk, with trailers (an HTTP/2 trailer block, or NULL). */
int cp_h2h1_last_chunk(cp_buf_t *out, const cp_h2_head_t *trailers);

#endif
