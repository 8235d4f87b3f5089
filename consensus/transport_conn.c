/*
 * transport_conn.c - one peer connection: the handshake of peer_wire.h,
 * frame reading with every length checked before anything is buffered
 * for it, message MACs, and closing. A fault in what the other side sends
 * drops this connection only (DESIGN.md section 6: bad input never takes a
 * daemon down).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "evwrite.h"
#include "log.h"
#include "transport_int.h"

static void conn_free(struct conn *c)
{
	free(c);
}

static void conn_release_io(struct conn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->timeout_ev)
		event_free(c->timeout_ev);
	c->timeout_ev = NULL;
	hmac_key_free(c->k_send);
	hmac_key_free(c->k_recv);
	c->k_send = c->k_recv = NULL;
}

static void conn_close_log(struct conn *c, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void unqueue(struct conn *c);
static void read_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

static void conn_close_log(struct conn *c, int warn, const char *fmt, ...)
{
	struct transport *t = c->t;
	struct conn **pp;
	char why[160];
	va_list ap;

	if (c->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (warn)
		log_warnx("peer connection %s: %s; dropping it", c->name, why);
	else
		log_debug("peer connection %s: %s", c->name, why);
	c->dead = 1;
	if (!c->outgoing && c->state != CONN_OPEN)
		t->pending_in--;
	for (pp = &t->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	unqueue(c);
	transport_conn_gone(t, c);
	conn_release_io(c);
	if (!c->busy)
		conn_free(c);
}

void conn_close(struct conn *c, const char *why)
{
	conn_close_log(c, 0, "%s", why ? why : "closed");
}

/* Frames out of line with the protocol, bad MACs and garbage. */
#define conn_drop(c, ...) conn_close_log((c), 1, __VA_ARGS__)

static void set_tcp_options(struct conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	int one = 1, idle = 10, intvl = 3, cnt = 3;
	unsigned user_timeout = 20000;

	/* Consensus messages are small and latency-bound. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Notice a peer host that vanished without a FIN within ~20 s, rather
	 * than the kernel's default of hours. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		   sizeof(user_timeout));
}

static int write_buf(struct conn *c, struct buf *b)
{
	int rc = 0;

	if (buf_failed(b) || bufferevent_write(c->bev, b->data, b->len) < 0)
		rc = -ENOMEM;
	buf_free(b);
	return rc;
}

/* Both directions' keys from the transcript. */
static int make_keys(struct conn *c, const uint8_t *tr, size_t tr_len)
{
	uint8_t c2a[PEER_MAC], a2c[PEER_MAC];
	struct hmac_key *kc, *ka;

	if (peer_derive(c->t->secret, PEER_LABEL_KEY_C2A, tr, tr_len, c2a) < 0 ||
	    peer_derive(c->t->secret, PEER_LABEL_KEY_A2C, tr, tr_len, a2c) < 0)
		return -EIO;
	kc = hmac_key_new(c2a, sizeof(c2a));
	ka = hmac_key_new(a2c, sizeof(a2c));
	if (!kc || !ka) {
		hmac_key_free(kc);
		hmac_key_free(ka);
		return -ENOMEM;
	}
	c->k_send = c->outgoing ? kc : ka;
	c->k_recv = c->outgoing ? ka : kc;
	return 0;
}

/*
 * Sending, once a connection is open. A bufferevent sends by arming its
 * write event when output appears and disarming it once the output is gone,
 * an epoll_ctl each way, and writes only after the next epoll_wait: two
 * system calls and a loop round on every message, on a path where each
 * commit sends four to six of them. Instead the output of a whole loop
 * round goes out at its end, in one writev per socket (flush_ev is made
 * active, and libevent runs it after the callbacks already due, which are
 * the ones producing messages). The write event is armed only when the
 * socket is full, to finish what is left; write_cb disarms it once the
 * output is gone. A socket error met by the direct write is left to the
 * bufferevent's own write, which reports it through event_cb.
 */
static void unqueue(struct conn *c)
{
	struct conn **pp;

	if (!c->queued)
		return;
	for (pp = &c->t->flush_head; *pp; pp = &(*pp)->flush_next)
		if (*pp == c) {
			*pp = c->flush_next;
			break;
		}
	c->queued = 0;
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));

	if (c->state == CONN_OPEN && left == 0) {
		bufferevent_disable(bev, EV_WRITE);
		c->unsent = 0;
	}
}

void transport_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport *t = arg;
	struct conn *c;

	(void)fd;
	(void)what;
	while ((c = t->flush_head)) {
		t->flush_head = c->flush_next;
		c->queued = 0;
		if (ev_write_now(c->bev))
			c->unsent = 0;
	}
}

static void became_open(struct conn *c)
{
	c->state = CONN_OPEN;
	/* The handshake is done by the bufferevent's own writes (its write
	 * event also tells the connect finished); from here on, the direct
	 * writes of flush_ev. */
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		bufferevent_disable(c->bev, EV_WRITE);
	if (c->timeout_ev)
		event_del(c->timeout_ev);
	if (!c->outgoing)
		c->t->pending_in--;
	snprintf(c->name, sizeof(c->name), "%u (%s)", c->peer->id,
		 c->outgoing ? "outgoing" : "incoming");
	transport_conn_open(c->t, c);
}

/* Acceptor: a HELLO arrived. */
static void on_hello(struct conn *c, const uint8_t *body, size_t n)
{
	struct transport *t = c->t;
	struct peer_challenge ch;
	uint8_t tr[PEER_TRANSCRIPT_MAX];
	struct peer *p;
	struct buf b;
	size_t tr_len;

	if (peer_hello_decode(body, n, &c->hello) < 0) {
		conn_drop(c, "malformed HELLO");
		return;
	}
	if (c->hello.cluster_len != t->cluster_len ||
	    memcmp(c->hello.cluster, t->cluster, t->cluster_len) != 0) {
		conn_drop(c, "server %u is of cluster \"%s\", not \"%s\"", c->hello.from,
			  c->hello.cluster, t->cluster);
		return;
	}
	if (c->hello.to != t->self_id) {
		conn_drop(c, "server %u meant to reach server %u, this is %u",
			  c->hello.from, c->hello.to, t->self_id);
		return;
	}
	p = transport_find_peer(t, c->hello.from);
	if (!p) {
		conn_drop(c, "server id %u is not a member", c->hello.from);
		return;
	}
	if (p->removed) {
		/* Said once, when it was removed; it may go on trying. */
		conn_close(c, "no longer a member (removed)");
		return;
	}
	c->peer = p;
	if (hmac_random(c->nonce_a, PEER_NONCE) < 0) {
		conn_drop(c, "no random bytes for a nonce");
		return;
	}
	tr_len = peer_transcript(&c->hello, t->self_id, c->nonce_a, tr);
	ch.from = t->self_id;
	memcpy(ch.nonce, c->nonce_a, PEER_NONCE);
	if (peer_derive(t->secret, PEER_LABEL_ACCEPTOR, tr, tr_len, ch.mac) < 0) {
		conn_drop(c, "HMAC failed");
		return;
	}
	buf_init(&b);
	peer_challenge_encode(&b, &ch);
	if (write_buf(c, &b) < 0) {
		conn_drop(c, "out of memory");
		return;
	}
	snprintf(c->name + strlen(c->name), sizeof(c->name) - strlen(c->name), " as %u",
		 p->id);
	c->state = CONN_WAIT_AUTH;
}

/* Connector: the acceptor's CHALLENGE arrived. */
static void on_challenge(struct conn *c, const uint8_t *body, size_t n)
{
	struct transport *t = c->t;
	struct peer_challenge ch;
	uint8_t tr[PEER_TRANSCRIPT_MAX], want[PEER_MAC], mac_c[PEER_MAC];
	struct buf b;
	size_t tr_len;

	if (peer_challenge_decode(body, n, &ch) < 0) {
		conn_drop(c, "malformed CHALLENGE");
		return;
	}
	if (ch.from != c->peer->id) {
		conn_drop(c, "answered as server %u", ch.from);
		return;
	}
	memcpy(c->nonce_a, ch.nonce, PEER_NONCE);
	tr_len = peer_transcript(&c->hello, c->peer->id, c->nonce_a, tr);
	if (peer_derive(t->secret, PEER_LABEL_ACCEPTOR, tr, tr_len, want) < 0 ||
	    peer_derive(t->secret, PEER_LABEL_CONNECTOR, tr, tr_len, mac_c) < 0) {
		conn_drop(c, "HMAC failed");
		return;
	}
	if (!hmac_equal(want, ch.mac, PEER_MAC)) {
		conn_drop(c, "bad HMAC in CHALLENGE (a different cluster secret?)");
		return;
	}
	buf_init(&b);
	peer_auth_encode(&b, mac_c);
	if (write_buf(c, &b) < 0 || make_keys(c, tr, tr_len) < 0) {
		conn_drop(c, "out of memory");
		return;
	}
	became_open(c);
}

/* Acceptor: the connector's AUTH arrived. */
static void on_auth(struct conn *c, const uint8_t *body, size_t n)
{
	uint8_t tr[PEER_TRANSCRIPT_MAX], want[PEER_MAC], mac[PEER_MAC];
	size_t tr_len;

	if (peer_auth_decode(body, n, mac) < 0) {
		conn_drop(c, "malformed AUTH");
		return;
	}
	tr_len = peer_transcript(&c->hello, c->t->self_id, c->nonce_a, tr);
	if (peer_derive(c->t->secret, PEER_LABEL_CONNECTOR, tr, tr_len, want) < 0) {
		conn_drop(c, "HMAC failed");
		return;
	}
	if (!hmac_equal(want, mac, PEER_MAC)) {
		conn_drop(c, "bad HMAC in AUTH (a different cluster secret?)");
		return;
	}
	if (make_keys(c, tr, tr_len) < 0) {
		conn_drop(c, "out of memory");
		return;
	}
	became_open(c);
}

static void on_msg(struct conn *c, const struct peer_hdr *h, const uint8_t *body)
{
	struct transport *t = c->t;
	const uint8_t *msg;
	size_t len;

	if (peer_msg_open(c->k_recv, c->seq_recv, h, body, &msg, &len) < 0) {
		conn_drop(c, "bad message HMAC (frame %llu)",
			  (unsigned long long)c->seq_recv);
		return;
	}
	c->seq_recv++;
	transport_fault_deliver(t, c->peer->id, msg, len);
}

static void on_frame(struct conn *c, const struct peer_hdr *h, const uint8_t *body)
{
	static const uint8_t expect[] = {
	    [CONN_CONNECTING] = 0,	    [CONN_WAIT_CHALLENGE] = PEER_CHALLENGE,
	    [CONN_WAIT_HELLO] = PEER_HELLO, [CONN_WAIT_AUTH] = PEER_AUTH,
	    [CONN_OPEN] = PEER_MSG,
	};

	if (h->type != expect[c->state]) {
		conn_drop(c, "frame type %u out of turn (expected %u)", h->type,
			  expect[c->state]);
		return;
	}
	switch (c->state) {
	case CONN_WAIT_HELLO:
		on_hello(c, body, h->body_len);
		break;
	case CONN_WAIT_CHALLENGE:
		on_challenge(c, body, h->body_len);
		break;
	case CONN_WAIT_AUTH:
		on_auth(c, body, h->body_len);
		break;
	case CONN_OPEN:
		on_msg(c, h, body);
		break;
	case CONN_CONNECTING:
		break;
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->busy++;
	while (!c->dead) {
		size_t have = evbuffer_get_length(in), max_body;
		uint8_t hdr[PEER_HDR];
		struct peer_hdr h;
		const char *why;
		uint8_t *p;

		if (have < PEER_HDR)
			break;
		evbuffer_copyout(in, hdr, PEER_HDR);
		/* Before authentication only small frames: a stranger must not
		 * make us buffer a large one. */
		max_body =
		    c->state == CONN_OPEN ? c->t->max_msg + PEER_MAC : PEER_HANDSHAKE_MAX;
		if (peer_hdr_parse(hdr, max_body, &h, &why) < 0) {
			conn_drop(
			    c, "%s (length field %02x%02x%02x%02x, version %u, type %u)",
			    why, hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5]);
			break;
		}
		if (have < h.total)
			break;
		p = evbuffer_pullup(in, (ev_ssize_t)h.total);
		if (!p) {
			conn_drop(c, "out of memory for a %zu-byte frame", h.total);
			break;
		}
		on_frame(c, &h, p + PEER_HDR);
		if (!c->dead)
			evbuffer_drain(in, h.total);
	}
	c->busy--;
	if (c->dead && !c->busy)
		conn_free(c);
}

static void send_hello(struct conn *c)
{
	struct transport *t = c->t;
	struct buf b;

	c->hello.from = t->self_id;
	c->hello.to = c->peer->id;
	c->hello.cluster_len = t->cluster_len;
	memcpy(c->hello.cluster, t->cluster, t->cluster_len + 1);
	if (hmac_random(c->hello.nonce, PEER_NONCE) < 0) {
		conn_drop(c, "no random bytes for a nonce");
		return;
	}
	buf_init(&b);
	peer_hello_encode(&b, &c->hello);
	if (write_buf(c, &b) < 0) {
		conn_drop(c, "out of memory");
		return;
	}
	c->state = CONN_WAIT_CHALLENGE;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		set_tcp_options(c);
		send_hello(c);
		return;
	}
	c->busy++;
	/* A peer that refuses us is worth a warning once per run of failed
	 * attempts, not at every redial. */
	if (what & BEV_EVENT_EOF)
		conn_close_log(
		    c,
		    c->state != CONN_OPEN && c->state != CONN_CONNECTING &&
			(!c->outgoing || c->peer->backoff_ms == c->t->backoff_min_ms),
		    "closed by the other side%s",
		    c->state == CONN_OPEN ? "" : " during the handshake");
	else if (what & BEV_EVENT_ERROR)
		conn_close_log(c, 0, "%s",
			       evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	c->busy--;
	if (c->dead && !c->busy)
		conn_free(c);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state != CONN_OPEN)
		conn_close_log(c, c->state != CONN_CONNECTING,
			       "handshake not finished within %u ms", c->t->handshake_ms);
}

struct conn *conn_new(struct transport *t, int fd, int outgoing, struct peer *p)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval tv = {t->handshake_ms / 1000, (t->handshake_ms % 1000) * 1000};

	if (!c)
		return NULL;
	c->t = t;
	c->outgoing = outgoing;
	c->peer = p;
	c->state = outgoing ? CONN_CONNECTING : CONN_WAIT_HELLO;
	c->bev = bufferevent_socket_new(t->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timeout_ev = evtimer_new(t->base, timeout_cb, c);
	if (!c->bev || !c->timeout_ev || evtimer_add(c->timeout_ev, &tv) < 0) {
		conn_release_io(c);
		free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (outgoing)
		snprintf(c->name, sizeof(c->name), "%u (%s, outgoing)", p->id,
			 p->addr_str);
	else
		set_tcp_options(c);
	c->next = t->conns;
	t->conns = c;
	if (!outgoing)
		t->pending_in++;
	return c;
}

int conn_dial(struct conn *c)
{
	struct peer *p = c->peer;

	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&p->addr,
				       (int)p->addr_len) < 0)
		return -ECONNREFUSED;
	return 0;
}

int conn_send_msg(struct conn *c, const void *msg, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t hdr[PEER_HDR], mac[PEER_MAC];

	/* A peer that stops reading must not grow our memory without bound. */
	if (evbuffer_get_length(out) > 2 * c->t->max_msg + (64u << 20))
		return -ENOBUFS;
	if (peer_msg_seal(c->k_send, c->seq_send, msg, len, hdr, mac) < 0)
		return -EIO;
	if (evbuffer_add(out, hdr, PEER_HDR) < 0 || evbuffer_add(out, msg, len) < 0 ||
	    evbuffer_add(out, mac, PEER_MAC) < 0) {
		/* A partial frame is on the wire: the stream is unusable. */
		conn_drop(c, "out of memory sending");
		return -ENOMEM;
	}
	c->seq_send++;
	c->unsent++;
	if (c->state == CONN_OPEN && !c->queued) {
		c->queued = 1;
		c->flush_next = c->t->flush_head;
		c->t->flush_head = c;
		event_active(c->t->flush_ev, 0, 0);
	}
	return 0;
}
