/*
 * zks_conn.c - one client connection: cutting the byte stream into frames,
 * the per-connection reply queue, writing, throttling and closing.
 *
 * Framing (ClientCnxnSocketNIO / NIOServerCnxn): a big-endian int32 length,
 * then that many bytes. A length below zero or above jute.maxbuffer plus
 * ZKS_FRAME_SLACK closes the connection (ZooKeeper: "Len error"). On a new
 * connection the first four bytes may instead be a four-letter word.
 *
 * The reply queue keeps ZooKeeper's ordering rules on one connection:
 *  - replies leave in request order, even when a write completes after a
 *    later read could have been answered;
 *  - a request runs only when everything before it has run, and a read
 *    runs only once the writes before it have been applied (FIFO per
 *    session: a read sees the session's own earlier writes and no later
 *    ones);
 *  - a notification goes out before the reply of any request not finished
 *    when the change was applied, so the client hears of a change before
 *    it can read the new data (ZooKeeper's watch ordering guarantee), and
 *    before the reply to the write that made it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core.h"
#include "evwrite.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

static void zks_conn_read_frames(struct zks_conn *c);

void zks_req_free(struct zks_req *r)
{
	if (r->slice_ev)
		event_free(r->slice_ev);
	buf_free(&r->body);
	jute_request_free(&r->jr);
	free(r->multi_ops);
	free(r);
}

void zks_conn_ref(struct zks_conn *c)
{
	c->refs++;
}

int zks_conn_unref(struct zks_conn *c)
{
	if (--c->refs > 0)
		return 0;
	zauth_free(&c->auth);
	zks_sasl_free(c->sasl);
	zks_backup_free(c->backup);
	free(c);
	return 1;
}

void zks_conn_set_reading(struct zks_conn *c, int on)
{
	if (c->dead || c->reading == on)
		return;
	c->reading = on;
	if (on)
		bufferevent_enable(c->bev, EV_READ);
	else
		bufferevent_disable(c->bev, EV_READ);
}

/* Should we stop reading this socket until the client catches up? */
static int zks_conn_over_limit(const struct zks_conn *c)
{
	return c->n_queued >= c->srv->max_outstanding ||
	       evbuffer_get_length(bufferevent_get_output(c->bev)) > ZKS_MAX_PENDING_OUT;
}

void zks_conn_close(struct zks_conn *c, const char *reason)
{
	struct zks_req *r, *next;

	if (c->dead)
		return;
	c->dead = 1;
	if (c->session_id)
		log_debug("zk: closing connection %s session 0x%llx: %s", c->peer,
			  (unsigned long long)c->session_id, reason);
	else
		log_debug("zk: closing connection %s: %s", c->peer, reason);
	TAILQ_REMOVE(&c->srv->conns, c, link);
	c->srv->n_conns--;
	if (c->out_queued) {
		TAILQ_REMOVE(&c->srv->out_q, c, out_link);
		c->out_queued = 0;
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->n_watches && c->srv->watches)
		zks_watch_drop_conn(c->srv->watches, c);
	/* Submitted requests belong to their core callback now; it frees them
	 * when it sees the connection dead. */
	for (r = TAILQ_FIRST(&c->queue); r; r = next) {
		next = TAILQ_NEXT(r, link);
		TAILQ_REMOVE(&c->queue, r, link);
		if (r->state != ZKS_REQ_SUBMITTED)
			zks_req_free(r);
	}
	c->n_queued = 0;
	zks_conn_unref(c);
}

/* Every queued reply is out: finish a drain, or read on after a throttle. */
static void zks_conn_drained(struct zks_conn *c)
{
	if (c->state == ZKS_CONN_DRAINING) {
		if (TAILQ_EMPTY(&c->queue))
			zks_conn_close(c, "drained");
		return;
	}
	if (!c->reading && c->state == ZKS_CONN_OPEN && !zks_conn_over_limit(c)) {
		zks_conn_set_reading(c, 1);
		zks_conn_read_frames(c);
	}
}

/*
 * Sending. A bufferevent sends by arming its write event when output
 * appears and disarming it once the output is gone, an epoll_ctl each way,
 * and writes only after the next epoll_wait. Here the replies of a whole
 * loop round (every reply a batch of commits produced, say) go out at its
 * end in one writev per socket: out_ev is made active when the first
 * connection is queued, and libevent runs it after the callbacks already
 * due, which are the ones producing replies. The write event is armed only
 * when the socket is full (a client that does not read), to finish what is
 * left; zks_conn_on_write disarms it again. A socket error met here is left
 * to the bufferevent's own write, which reports it to zks_conn_on_event.
 */
static void out_mark(struct zks_conn *c)
{
	if (c->out_queued || c->dead)
		return;
	if (TAILQ_EMPTY(&c->srv->out_q))
		event_active(c->srv->out_ev, 0, 0);
	TAILQ_INSERT_TAIL(&c->srv->out_q, c, out_link);
	c->out_queued = 1;
}

/* 1 when all of the output went out. */
void zks_conn_out_flush(evutil_socket_t fd, short what, void *arg)
{
	struct zk_server *s = arg;
	struct zks_conn *c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&s->out_q)) != NULL) {
		TAILQ_REMOVE(&s->out_q, c, out_link);
		c->out_queued = 0;
		zks_conn_ref(c);
		if (ev_write_now(c->bev))
			zks_conn_drained(c); /* may close it */
		zks_conn_unref(c);
	}
}

/* The bufferevent wrote what ev_write_now left: back to direct writes. */
static void zks_conn_on_write(struct bufferevent *bev, void *arg)
{
	struct zks_conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE);
	zks_conn_drained(c);
}

void zks_conn_drain(struct zks_conn *c)
{
	struct zks_req *r, *next;

	if (c->dead)
		return;
	c->state = ZKS_CONN_DRAINING;
	zks_conn_set_reading(c, 0);
	/* What was sent is all the client gets: nothing queued behind the last
	 * reply will be answered. Submitted requests are left to their core
	 * callback, which frees them (zks_req_finish). */
	for (r = TAILQ_FIRST(&c->queue); r; r = next) {
		next = TAILQ_NEXT(r, link);
		TAILQ_REMOVE(&c->queue, r, link);
		if (r->state != ZKS_REQ_SUBMITTED)
			zks_req_free(r);
	}
	c->n_queued = 0;
	if (TAILQ_EMPTY(&c->queue) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		zks_conn_close(c, "drained");
	/* otherwise zks_conn_on_write closes once the output is empty */
}

int zks_conn_write_frame(struct zks_conn *c, const void *p, size_t n)
{
	if (c->dead)
		return -EPIPE;
	if (bufferevent_write(c->bev, p, n) < 0)
		return -ENOMEM;
	out_mark(c);
	c->sent++;
	c->srv->packets_sent++;
	return 0;
}

struct zks_req *zks_req_new(struct zks_conn *c, int32_t xid, int32_t type)
{
	struct zks_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->conn = c;
	r->xid = xid;
	r->type = type;
	r->state = ZKS_REQ_WAITING;
	r->start_us = zks_now_us();
	buf_init(&r->body);
	TAILQ_INSERT_TAIL(&c->queue, r, link);
	c->n_queued++;
	return r;
}

int zks_conn_notify(struct zks_conn *c, int32_t type, int32_t state, const char *path)
{
	struct zks_req *n, *r;

	if (c->dead || c->state == ZKS_CONN_DRAINING)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->conn = c;
	n->xid = ZKS_XID_NOTIFICATION;
	n->state = ZKS_REQ_DONE;
	n->raw = 1;
	buf_init(&n->body);
	{
		struct jute_reply_header h = {ZKS_XID_NOTIFICATION, -1, 0};
		struct jute_watcher_event we = {type, state, (char *)path};
		size_t off = jute_frame_begin(&n->body);

		jute_put_reply_header(&n->body, &h);
		jute_put_watcher_event(&n->body, &we);
		jute_frame_end(&n->body, off);
	}
	if (buf_failed(&n->body)) {
		zks_req_free(n);
		return -ENOMEM;
	}
	/* Before the first reply not yet made: a read that has not run may
	 * carry data the change produced, and the write that made the change
	 * is answered after its event, as FinalRequestProcessor does. */
	if (c->running) {
		r = c->running;
	} else {
		TAILQ_FOREACH(r, &c->queue, link)
		if (r->state != ZKS_REQ_DONE)
			break;
	}
	if (r)
		TAILQ_INSERT_BEFORE(r, n, link);
	else
		TAILQ_INSERT_TAIL(&c->queue, n, link);
	c->n_queued++;
	return 0;
}

static void zks_conn_account(struct zks_conn *c, struct zks_req *r)
{
	struct zk_server *s = c->srv;
	int64_t lat = zks_now_us() - r->start_us;

	c->last_resp_ms = zks_now_ms();
	c->last_lat_us = lat;
	if (c->n_lat == 0 || lat < c->min_lat_us)
		c->min_lat_us = lat;
	if (lat > c->max_lat_us)
		c->max_lat_us = lat;
	c->sum_lat_us += lat;
	c->n_lat++;
	if (s->lat_min_us < 0 || lat < s->lat_min_us)
		s->lat_min_us = lat;
	if (lat > s->lat_max_us)
		s->lat_max_us = lat;
	s->lat_sum_us += lat;
	s->lat_count++;
	/* As ZooKeeper counts them: a write is an update, anything else a
	 * read (a ping too). */
	zks_lat_add(zks_op_is_write(r->type) ? &s->update_lat : &s->read_lat, lat,
		    c->last_resp_ms);
	c->last_zxid = r->zxid;
}

/* Encode the reply of a finished request onto the socket. */
static int zks_conn_send(struct zks_conn *c, struct zks_req *r)
{
	struct jute_reply_header h;
	struct buf hdr;
	size_t blen = 0, off;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int rc = 0;

	if (r->raw)
		return zks_conn_write_frame(c, r->body.data, r->body.len);
	if (buf_failed(&r->body)) {
		/* The reply did not fit in memory: the client must not wait
		 * for it forever. */
		r->err = ZSYSTEMERROR;
		r->always_body = 0;
	}
	if (r->err == ZOK || r->always_body)
		blen = r->body.len;
	h.xid = r->xid;
	h.zxid = r->zxid;
	h.err = r->err;
	buf_init(&hdr);
	off = jute_frame_begin(&hdr);
	jute_put_reply_header(&hdr, &h);
	/* The length covers the body, added to the socket as a second piece
	 * so a 1 MiB getData reply is not copied once more. */
	if (!buf_failed(&hdr)) {
		uint32_t len = (uint32_t)(hdr.len - off - 4 + blen);

		hdr.data[0] = (uint8_t)(len >> 24);
		hdr.data[1] = (uint8_t)(len >> 16);
		hdr.data[2] = (uint8_t)(len >> 8);
		hdr.data[3] = (uint8_t)len;
	}
	if (buf_failed(&hdr) || evbuffer_add(out, hdr.data, hdr.len) < 0 ||
	    (blen && evbuffer_add(out, r->body.data, blen) < 0))
		rc = -ENOMEM;
	buf_free(&hdr);
	if (rc < 0)
		return rc;
	out_mark(c);
	c->sent++;
	c->srv->packets_sent++;
	zks_conn_account(c, r);
	return 0;
}

void zks_conn_flush(struct zks_conn *c)
{
	struct zks_req *r;
	int close_after = 0;

	while (!c->dead && (r = TAILQ_FIRST(&c->queue)) && r->state == ZKS_REQ_DONE) {
		TAILQ_REMOVE(&c->queue, r, link);
		c->n_queued--;
		if (zks_conn_send(c, r) < 0) {
			zks_req_free(r);
			zks_conn_close(c, "out of memory queueing a reply");
			return;
		}
		close_after |= r->close_after;
		zks_req_free(r);
		if (close_after)
			break;
	}
	if (!c->dead && close_after)
		zks_conn_drain(c);
}

void zks_conn_progress(struct zks_conn *c)
{
	struct zks_req *r, *next;
	int write_ahead = 0;

	if (c->dead)
		return;
	zks_conn_ref(c);
	for (r = TAILQ_FIRST(&c->queue); r && !c->dead; r = next) {
		int rc;

		next = TAILQ_NEXT(r, link);
		if (r->state == ZKS_REQ_SUBMITTED) {
			if (r->sliced)
				break; /* nothing overtakes it */
			write_ahead = 1;
			continue;
		}
		if (r->state == ZKS_REQ_DONE)
			continue;
		if (write_ahead && !zks_op_is_write(r->type))
			break; /* it, and all behind it, wait */
		rc = zks_dispatch_run(r);
		if (rc < 0) {
			zks_conn_close(c, "malformed request");
			break;
		}
		/* Running may have queued notifications before r; `next`
		 * stays valid as they are inserted before r. */
		if (r->state == ZKS_REQ_SUBMITTED) {
			if (r->sliced)
				break;
			write_ahead = 1;
		}
	}
	zks_conn_flush(c);
	if (!c->dead && c->state == ZKS_CONN_OPEN && !c->reading &&
	    !zks_conn_over_limit(c)) {
		zks_conn_set_reading(c, 1);
		zks_conn_read_frames(c);
	}
	zks_conn_unref(c);
}

/* One complete frame (length word removed). Returns 0 or -EPROTO/-ENOMEM. */
static int zks_conn_frame(struct zks_conn *c, const uint8_t *p, size_t n)
{
	c->received++;
	c->srv->packets_received++;
	c->last_rx_ms = zks_now_ms();
	switch (c->state) {
	case ZKS_CONN_NEW:
		return zks_session_connect(c, p, n);
	case ZKS_CONN_OPEN:
		return zks_dispatch_frame(c, p, n);
	default:
		return 0; /* draining: the client's late words are dropped */
	}
}

static void zks_conn_read_frames(struct zks_conn *c)
{
	struct evbuffer *in;
	/* Bounded per callback so one busy client cannot starve the others;
	 * what is left is read on the next readable event or from progress. */
	for (int budget = 256; budget > 0 && !c->dead && c->reading; budget--) {
		uint8_t lenb[4];
		uint32_t word;
		int32_t flen;
		uint8_t *frame;
		int rc;

		in = bufferevent_get_input(c->bev);
		if (evbuffer_copyout(in, lenb, 4) < 4)
			return;
		word = (uint32_t)lenb[0] << 24 | (uint32_t)lenb[1] << 16 |
		       (uint32_t)lenb[2] << 8 | lenb[3];
		if (c->state == ZKS_CONN_NEW && zks_4lw_is(word)) {
			evbuffer_drain(in, 4);
			zks_4lw_run(c, word);
			return;
		}
		flen = (int32_t)word;
		if (flen < 0 || flen > c->srv->max_buffer + ZKS_FRAME_SLACK) {
			log_warnx(
			    "zk: %s sent a frame of %d bytes, over the limit of %d "
			    "(jute.maxbuffer %d + %d for headers; the largest value "
			    "is %d bytes): closing",
			    c->peer, flen, c->srv->max_buffer + ZKS_FRAME_SLACK,
			    c->srv->max_buffer, ZKS_FRAME_SLACK, ZNODE_MAX_DATA);
			zks_conn_close(c, "bad frame length");
			return;
		}
		if (evbuffer_get_length(in) < 4 + (size_t)flen) {
			/* Wake only when the whole frame is there. */
			bufferevent_setwatermark(c->bev, EV_READ, 4 + (size_t)flen, 0);
			return;
		}
		bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
		evbuffer_drain(in, 4);
		frame = malloc(flen ? (size_t)flen : 1);
		if (!frame) {
			zks_conn_close(c, "out of memory reading a frame");
			return;
		}
		evbuffer_remove(in, frame, (size_t)flen);
		rc = zks_conn_frame(c, frame, (size_t)flen);
		free(frame);
		if (rc < 0) {
			log_warnx("zk: %s sent a malformed %s frame (%zu bytes): closing",
				  c->peer,
				  c->state == ZKS_CONN_NEW ? "connect" : "request",
				  (size_t)flen);
			zks_conn_close(c, "malformed frame");
			return;
		}
		if (!c->dead && c->state == ZKS_CONN_OPEN && zks_conn_over_limit(c))
			zks_conn_set_reading(c, 0);
	}
	/* Budget spent with input left: come back on the next loop turn. */
	if (!c->dead && c->reading &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) >= 4)
		bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

static void zks_conn_on_read(struct bufferevent *bev, void *arg)
{
	struct zks_conn *c = arg;

	zks_conn_ref(c);
	zks_conn_read_frames(c);
	zks_conn_unref(c);
}

static void zks_conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct zks_conn *c = arg;

	if (what & BEV_EVENT_EOF)
		zks_conn_close(c, "client closed the connection");
	else if (what & BEV_EVENT_ERROR)
		zks_conn_close(c, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

int zks_conn_accept(struct zk_server *s, int fd, const struct sockaddr *sa, int salen)
{
	struct zks_conn *c;
	int one = 1;
	uint16_t port = 0;
	int rc;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->srv = s;
	c->refs = 1;
	TAILQ_INIT(&c->queue);
	c->established_ms = zks_now_ms();
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->ip,
			  sizeof(c->ip));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, c->ip,
			  sizeof(c->ip));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else {
		snprintf(c->ip, sizeof(c->ip), "unknown");
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%u", c->ip, port);
	rc = zks_auth_init(c);
	if (rc < 0)
		goto err_after_alloc;
	evutil_make_socket_nonblocking(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		rc = -ENOMEM;
		goto err_after_auth;
	}
	bufferevent_setcb(c->bev, zks_conn_on_read, zks_conn_on_write, zks_conn_on_event,
			  c);
	TAILQ_INSERT_TAIL(&s->conns, c, link);
	s->n_conns++;
	c->reading = 1;
	bufferevent_enable(c->bev, EV_READ); /* writes: out_mark */
	log_debug("zk: connection from %s", c->peer);
	return 0;

err_after_auth:
	zauth_free(&c->auth);
err_after_alloc:
	close(fd);
	free(c);
	return rc;
}
