#include "app/isolate_dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pki/catalogue.h"

#define DNS_MAX 1500 /* a UDP answer; bigger ones are truncated upstream */
#define DNS_NAME 256
#define RESOLV_CONF "/etc/resolv.conf"


int cp_isolate_dns_question(const uint8_t *p, size_t len, char *name,
                            size_t namelen, uint16_t *qtype, size_t *end) {
  size_t off = 12, n = 0;

  /* A query (QR 0, opcode 0) with at least one question. */
  if (len < 12 || (p[2] & 0xf8) != 0 || ((p[4] << 8) | p[5]) == 0) {
    return -1;
  }
  while (off < len && p[off] != 0) {
    size_t l = p[off];

    if ((l & 0xc0) != 0 || off + 1 + l > len || n + l + 2 > namelen) {
      return -1; /* no compression in a question we answer */
    }
    if (n > 0) {
      name[n++] = '.';
    }
    memcpy(name + n, p + off + 1, l);
    n += l;
    off += 1 + l;
  }
  if (off + 5 > len) {
    return -1;
  }
  name[n] = '\0';
  *qtype = (uint16_t)((p[off + 1] << 8) | p[off + 2]);
  *end = off + 5;
  return 0;
}


static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = malloc(DNS_MAX);
  buf->len = buf->base != NULL ? DNS_MAX : 0;
}


typedef struct send_s {
  uv_udp_send_t req;
  uint8_t data[DNS_MAX];
} send_t;


static void on_sent(uv_udp_send_t *req, int status) {
  (void)status;
  free(req->data); /* the send_t */
}


static void send_to(uv_udp_t *h, const uint8_t *p, size_t len,
                    const struct sockaddr *to) {
  send_t *s = malloc(sizeof(*s));
  uv_buf_t b;

  if (s == NULL || len > sizeof(s->data)) {
    free(s);
    return;
  }
  memcpy(s->data, p, len);
  s->req.data = s;
  b = uv_buf_init((char *)s->data, (unsigned)len);
  if (uv_udp_send(&s->req, h, &b, 1, to, on_sent) != 0) {
    free(s);
  }
}


/* CASE.chainproxy.test: A 127.0.0.1, anything else of it empty. */
static void answer_local(cp_isolate_dns_t *d, const uint8_t *q, size_t end,
                         uint16_t qtype, const struct sockaddr *to) {
  static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
                               0,    60,   0, 4, 127, 0, 0, 1};
  uint8_t a[DNS_MAX];
  size_t n = end;

  memcpy(a, q, end);
  a[2] = (uint8_t)(0x84 | (q[2] & 0x01)); /* QR, AA, RD kept */
  a[3] = 0x80;                            /* RA, NOERROR */
  a[4] = 0;
  a[5] = 1; /* the one question answered */
  memset(a + 6, 0, 6);
  if (qtype == 1) {
    a[7] = 1;
    memcpy(a + n, rr, sizeof(rr));
    n += sizeof(rr);
  }
  d->answered++;
  send_to(&d->inner, a, n, to);
}


static void refuse(cp_isolate_dns_t *d, const uint8_t *q, size_t len,
                   const struct sockaddr *to) {
  uint8_t a[12];

  if (len < 12) {
    return;
  }
  memcpy(a, q, 12);
  a[2] = (uint8_t)(0x80 | (q[2] & 0x01));
  a[3] = 0x82; /* SERVFAIL */
  memset(a + 4, 0, 8);
  d->refused++;
  send_to(&d->inner, a, sizeof(a), to);
}


static void on_inner_read(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                          const struct sockaddr *from, unsigned flags) {
  cp_isolate_dns_t *d = h->data;
  const uint8_t *p = (const uint8_t *)buf->base;
  char name[DNS_NAME];
  uint16_t qtype = 0;
  size_t end = 0;
  cp_isolate_dns_pending_t *slot;
  uint8_t out[DNS_MAX];

  (void)flags;
  if (nread <= 0 || from == NULL ||
      cp_isolate_dns_question(p, (size_t)nread, name, sizeof(name), &qtype,
                              &end) != 0) {
    goto out;
  }
  if (d->catalogue && cp_catalogue_host_case(name) != -1) {
    answer_local(d, p, end, qtype, from);
    goto out;
  }
  if (!d->have_upstream) {
    refuse(d, p, (size_t)nread, from);
    goto out;
  }
  /* Relayed under an id of ours, the client's kept to answer it. */
  slot = &d->pending[d->next_slot++ % CP_ISOLATE_DNS_PENDING];
  slot->used = 1;
  slot->id_in = (uint16_t)((p[0] << 8) | p[1]);
  slot->id_out = d->next_id++;
  memcpy(&slot->client, from,
         from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in));
  memcpy(out, p, (size_t)nread);
  out[0] = (uint8_t)(slot->id_out >> 8);
  out[1] = (uint8_t)slot->id_out;
  d->relayed++;
  send_to(&d->outer, out, (size_t)nread, (struct sockaddr *)&d->upstream);
out:
  free(buf->base);
}


static void on_outer_read(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                          const struct sockaddr *from, unsigned flags) {
  cp_isolate_dns_t *d = h->data;
  uint8_t *p = (uint8_t *)buf->base;
  uint16_t id;
  int i;

  (void)flags;
  (void)from;
  if (nread >= 12) {
    id = (uint16_t)((p[0] << 8) | p[1]);
    for (i = 0; i < CP_ISOLATE_DNS_PENDING; i++) {
      cp_isolate_dns_pending_t *s = &d->pending[i];

      if (s->used && s->id_out == id) {
        s->used = 0;
        p[0] = (uint8_t)(s->id_in >> 8);
        p[1] = (uint8_t)s->id_in;
        send_to(&d->inner, p, (size_t)nread, (struct sockaddr *)&s->client);
        break;
      }
    }
  }
  free(buf->base);
}


/* The first nameserver of the caller's resolv.conf. */
static int upstream_find(struct sockaddr_storage *ss) {
  FILE *f = fopen(RESOLV_CONF, "r");
  char line[512], addr[128];
  int rc = -1;

  if (f == NULL) {
    return -1;
  }
  while (rc != 0 && fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, " nameserver %127s", addr) != 1) {
      continue;
    }
    if (uv_ip4_addr(addr, 53, (struct sockaddr_in *)ss) == 0 ||
        uv_ip6_addr(addr, 53, (struct sockaddr_in6 *)ss) == 0) {
      rc = 0;
    }
  }
  fclose(f);
  return rc;
}


int cp_isolate_dns_init(cp_isolate_dns_t *d, uv_loop_t *loop, int fd,
                        int catalogue) {
  struct sockaddr_storage any;
  int rc;

  memset(d, 0, sizeof(*d));
  d->catalogue = catalogue;
  d->next_id = (uint16_t)(uv_hrtime() & 0xffff);
  d->have_upstream = upstream_find(&d->upstream) == 0;
  rc = uv_udp_init(loop, &d->inner);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  d->open_handles++;
  d->inner.data = d;
  rc = uv_udp_open(&d->inner, fd);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  rc = uv_udp_init(loop, &d->outer);
  if (rc != 0) {
    return rc;
  }
  d->open_handles++;
  d->outer.data = d;
  memset(&any, 0, sizeof(any));
  if (d->have_upstream && d->upstream.ss_family == AF_INET6) {
    rc = uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any);
  } else {
    rc = uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
  }
  if (rc == 0) {
    rc = uv_udp_bind(&d->outer, (struct sockaddr *)&any, 0);
  }
  if (rc == 0) {
    rc = uv_udp_recv_start(&d->outer, on_alloc, on_outer_read);
  }
  if (rc == 0) {
    rc = uv_udp_recv_start(&d->inner, on_alloc, on_inner_read);
  }
  return rc;
}


static void on_closed(uv_handle_t *h) {
  cp_isolate_dns_t *d = h->data;

  d->open_handles--;
}


void cp_isolate_dns_close(cp_isolate_dns_t *d) {
  if (d->open_handles == 0) {
    return;
  }
  if (!uv_is_closing((uv_handle_t *)&d->inner)) {
    uv_close((uv_handle_t *)&d->inner, on_closed);
  }
  if (d->open_handles > 1 && !uv_is_closing((uv_handle_t *)&d->outer)) {
    uv_close((uv_handle_t *)&d->outer, on_closed);
  }
}
