/*
 * zkc.c - the client session: connect handshake, framing, xid matching,
 * pings, watch delivery.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "jute.h"
#include "txn.h"
#include "zerr.h"
#include "zkc.h"

#define ZKC_DEFAULT_TIMEOUT 30000
/* jute.maxbuffer plus room for the reply header and Stat, as ZooKeeper's
 * own client allows. */
#define ZKC_DEFAULT_MAX (1024 * 1024 + 1024)

struct zkc_pending {
	int32_t xid;
	int32_t op;
	zkc_reply_fn fn;
	void *arg;
	struct zkc_pending *next;
};

struct pending_list {
	struct zkc_pending *head, *tail;
	int n;
};

enum conn_state { CS_CONNECTING, CS_HANDSHAKE, CS_CONNECTED, CS_DEAD };

struct zkc {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *ping;
	struct zkc_opts opts;
	char **hosts;
	int n_hosts;
	int host_i;
	enum conn_state cs;
	int64_t session_id;
	uint8_t passwd[16];
	int read_only_session; /* ConnectResponse.readOnly */
	int32_t timeout_ms;
	int64_t last_zxid;
	int32_t next_xid;
	struct pending_list sent; /* ordinary requests, in xid order */
	struct pending_list auth; /* auth packets, answered with xid -4 */
	struct buf early;	  /* frames submitted before the session was up */
	int busy;		  /* inside a callback: defer a free */
	int want_free;
	char err[256];
};

static void zkc_set_err(struct zkc *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void zkc_set_err(struct zkc *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *zkc_error(const struct zkc *c)
{
	return c->err;
}

int zkc_read_only(const struct zkc *c)
{
	return c->read_only_session;
}

const char *zkc_server(const struct zkc *c)
{
	return c->cs == CS_CONNECTED && c->host_i < c->n_hosts ? c->hosts[c->host_i]
							       : NULL;
}

int zkc_outstanding(const struct zkc *c)
{
	return c->sent.n + c->auth.n;
}

int64_t zkc_session(const struct zkc *c, uint8_t passwd[16], int32_t *timeout_ms)
{
	if (passwd)
		memcpy(passwd, c->passwd, 16);
	if (timeout_ms)
		*timeout_ms = c->timeout_ms;
	return c->cs == CS_CONNECTED ? c->session_id : 0;
}

static void pending_push(struct pending_list *l, struct zkc_pending *p)
{
	p->next = NULL;
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	l->n++;
}

static struct zkc_pending *pending_pop(struct pending_list *l)
{
	struct zkc_pending *p = l->head;

	if (!p)
		return NULL;
	l->head = p->next;
	if (!l->head)
		l->tail = NULL;
	l->n--;
	return p;
}

static void complete(struct zkc *c, struct zkc_pending *p, struct zkc_reply *r)
{
	r->op = p->op;
	if (p->fn) {
		c->busy++;
		p->fn(p->arg, r);
		c->busy--;
	}
	free(p);
}

static void fail_list(struct zkc *c, struct pending_list *l, int32_t err)
{
	struct zkc_pending *p;
	struct zkc_reply r;

	while ((p = pending_pop(l))) {
		memset(&r, 0, sizeof(r));
		r.err = err;
		r.rec = JUTE_REC_NONE;
		complete(c, p, &r);
	}
}

static void notify_state(struct zkc *c, enum zkc_state st)
{
	if (c->opts.state) {
		c->busy++;
		c->opts.state(c->opts.arg, st);
		c->busy--;
	}
}

static void really_free(struct zkc *c)
{
	int i;

	for (i = 0; i < c->n_hosts; i++)
		free(c->hosts[i]);
	free(c->hosts);
	buf_free(&c->early);
	free(c);
}

/* The connection is over: fail what is outstanding and tell the owner. */
static void conn_dead(struct zkc *c, int32_t err, enum zkc_state st)
{
	if (c->cs == CS_DEAD)
		return;
	c->cs = CS_DEAD;
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->ping)
		event_del(c->ping);
	fail_list(c, &c->sent, err);
	fail_list(c, &c->auth, err);
	notify_state(c, st);
}

static int write_frame(struct zkc *c, const struct buf *b)
{
	if (buf_failed(b))
		return -ENOMEM;
	if (c->cs == CS_CONNECTED)
		return bufferevent_write(c->bev, b->data, b->len) ? -ENOMEM : 0;
	buf_put(&c->early, b->data, b->len);
	return buf_failed(&c->early) ? -ENOMEM : 0;
}

static void send_ping(evutil_socket_t fd, short what, void *arg)
{
	struct zkc *c = arg;
	struct jute_request_header h = {.xid = JUTE_XID_PING, .type = ZOP_PING};
	struct buf b;
	size_t off;

	if (c->cs != CS_CONNECTED)
		return;
	buf_init(&b);
	off = jute_frame_begin(&b);
	jute_put_request_header(&b, &h);
	jute_frame_end(&b, off);
	write_frame(c, &b);
	buf_free(&b);
}

static int handle_connect_response(struct zkc *c, const uint8_t *p, size_t n)
{
	struct jute_connect_response resp;
	struct timeval tv;
	struct rd r;

	rd_init(&r, p, n);
	if (jute_get_connect_response(&r, &resp, c->opts.max_buffer) != ZOK) {
		zkc_set_err(c, "malformed ConnectResponse");
		conn_dead(c, ZMARSHALLINGERROR, ZKC_LOST);
		return -1;
	}
	/* ZooKeeper answers an expired or unknown session with timeOut 0. */
	if (resp.time_out <= 0) {
		jute_free_connect_response(&resp);
		zkc_set_err(c, "session expired");
		conn_dead(c, ZSESSIONEXPIRED, ZKC_EXPIRED);
		return -1;
	}
	c->session_id = resp.session_id;
	c->timeout_ms = resp.time_out;
	c->read_only_session = resp.read_only;
	memset(c->passwd, 0, sizeof(c->passwd));
	if (resp.passwd.len > 0)
		memcpy(c->passwd, resp.passwd.data,
		       resp.passwd.len < 16 ? (size_t)resp.passwd.len : 16);
	jute_free_connect_response(&resp);
	c->cs = CS_CONNECTED;

	/* A silent server is a dead one: no byte for a whole session timeout
	 * while we ping every third of it. */
	tv.tv_sec = c->timeout_ms / 1000;
	tv.tv_usec = (c->timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	tv.tv_sec = c->timeout_ms / 3000;
	tv.tv_usec = (c->timeout_ms / 3 % 1000) * 1000;
	event_add(c->ping, &tv);

	if (c->early.len) {
		if (bufferevent_write(c->bev, c->early.data, c->early.len)) {
			zkc_set_err(c, "out of memory");
			conn_dead(c, ZCONNECTIONLOSS, ZKC_LOST);
			return -1;
		}
		buf_reset(&c->early);
	}
	notify_state(c, ZKC_CONNECTED);
	return 0;
}

static void decode_body(struct zkc *c, struct rd *r, struct zkc_reply *rep)
{
	int rec;

	if (rep->op == ZOP_MULTI || rep->op == ZOP_MULTIREAD) {
		/* A failed multi still lists the per-op results. */
		if (r->left &&
		    jute_get_multi(r, &rep->multi, 1, c->opts.max_buffer) != ZOK)
			rep->err = ZMARSHALLINGERROR;
		return;
	}
	if (rep->err != ZOK)
		return;
	rec = jute_response_rec(rep->op);
	if (rec < 0)
		return;
	if (jute_get_any(r, rec, &rep->body, c->opts.max_buffer) != ZOK) {
		rep->err = ZMARSHALLINGERROR;
		return;
	}
	rep->rec = rec;
}

static void free_reply(struct zkc_reply *rep)
{
	if (rep->rec != JUTE_REC_NONE)
		jute_free_any(rep->rec, &rep->body);
	jute_free_multi(&rep->multi);
}

/* One reply frame. Returns -1 when the connection was dropped. */
static int handle_reply(struct zkc *c, const uint8_t *p, size_t n)
{
	struct jute_reply_header h;
	struct jute_watcher_event ev;
	struct zkc_pending *pend;
	struct zkc_reply rep;
	struct rd r;

	rd_init(&r, p, n);
	if (jute_get_reply_header(&r, &h, c->opts.max_buffer) != ZOK) {
		zkc_set_err(c, "malformed reply header");
		conn_dead(c, ZMARSHALLINGERROR, ZKC_LOST);
		return -1;
	}
	if (h.zxid > 0)
		c->last_zxid = h.zxid;
	switch (h.xid) {
	case JUTE_XID_PING:
	case JUTE_XID_SET_WATCHES:
		return 0;
	case JUTE_XID_WATCH:
		if (jute_get_watcher_event(&r, &ev, c->opts.max_buffer) != ZOK) {
			zkc_set_err(c, "malformed watch event");
			conn_dead(c, ZMARSHALLINGERROR, ZKC_LOST);
			return -1;
		}
		if (c->opts.watch) {
			c->busy++;
			c->opts.watch(c->opts.arg, &ev);
			c->busy--;
		}
		jute_free_watcher_event(&ev);
		return 0;
	case JUTE_XID_AUTH:
		pend = pending_pop(&c->auth);
		memset(&rep, 0, sizeof(rep));
		rep.err = h.err;
		rep.zxid = h.zxid;
		rep.rec = JUTE_REC_NONE;
		if (pend)
			complete(c, pend, &rep);
		if (h.err == ZAUTHFAILED)
			notify_state(c, ZKC_AUTH_FAILED);
		return 0;
	}
	pend = c->sent.head;
	if (!pend || pend->xid != h.xid) {
		/* ZooKeeper answers in order; anything else means we no longer
		 * know which reply belongs to which request. */
		zkc_set_err(c, "reply xid %d out of order (expected %d)", h.xid,
			    pend ? pend->xid : -1);
		conn_dead(c, ZCONNECTIONLOSS, ZKC_LOST);
		return -1;
	}
	pending_pop(&c->sent);
	memset(&rep, 0, sizeof(rep));
	rep.op = pend->op;
	rep.err = h.err;
	rep.zxid = h.zxid;
	rep.rec = JUTE_REC_NONE;
	decode_body(c, &r, &rep);
	complete(c, pend, &rep);
	free_reply(&rep);
	if (rep.op == ZOP_CLOSESESSION) {
		zkc_set_err(c, "session closed");
		conn_dead(c, ZCLOSING, ZKC_LOST);
		return -1;
	}
	return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct zkc *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t lenb[4];
	uint32_t len;
	const uint8_t *frame;
	int rc;

	c->busy++;
	while (c->cs != CS_DEAD && !c->want_free && evbuffer_get_length(in) >= 4) {
		evbuffer_copyout(in, lenb, 4);
		len = (uint32_t)lenb[0] << 24 | (uint32_t)lenb[1] << 16 |
		      (uint32_t)lenb[2] << 8 | lenb[3];
		if (len > (uint32_t)c->opts.max_buffer) {
			zkc_set_err(c, "reply frame of %u bytes exceeds %d", len,
				    c->opts.max_buffer);
			conn_dead(c, ZMARSHALLINGERROR, ZKC_LOST);
			break;
		}
		if (evbuffer_get_length(in) < 4 + (size_t)len)
			break;
		frame = evbuffer_pullup(in, 4 + (ssize_t)len);
		if (!frame) {
			zkc_set_err(c, "out of memory");
			conn_dead(c, ZCONNECTIONLOSS, ZKC_LOST);
			break;
		}
		if (c->cs == CS_HANDSHAKE)
			rc = handle_connect_response(c, frame + 4, len);
		else
			rc = handle_reply(c, frame + 4, len);
		if (rc < 0)
			break;
		/* bev may be gone if a callback freed the handle. */
		if (c->bev)
			evbuffer_drain(in, 4 + (size_t)len);
	}
	c->busy--;
	if (c->want_free && !c->busy)
		really_free(c);
}

static int connect_next(struct zkc *c);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct zkc *c = arg;
	struct jute_connect_request req;
	struct buf b;
	size_t off;

	if (what & BEV_EVENT_CONNECTED) {
		memset(&req, 0, sizeof(req));
		req.protocol_version = 0;
		req.last_zxid_seen = c->last_zxid;
		req.time_out = c->opts.timeout_ms;
		req.session_id = c->opts.session_id;
		req.passwd.len = 16;
		req.passwd.data = c->opts.passwd;
		req.read_only = c->opts.read_only;
		buf_init(&b);
		off = jute_frame_begin(&b);
		jute_put_connect_request(&b, &req);
		jute_frame_end(&b, off);
		if (buf_failed(&b) || bufferevent_write(bev, b.data, b.len)) {
			buf_free(&b);
			zkc_set_err(c, "out of memory");
			conn_dead(c, ZCONNECTIONLOSS, ZKC_LOST);
			return;
		}
		buf_free(&b);
		c->cs = CS_HANDSHAKE;
		return;
	}
	c->busy++;
	if (c->cs == CS_CONNECTING && (what & BEV_EVENT_ERROR) &&
	    c->host_i + 1 < c->n_hosts) {
		/* Not reached yet: try the next server in the list. */
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->host_i++;
		if (connect_next(c) < 0)
			conn_dead(c, ZCONNECTIONLOSS, ZKC_LOST);
	} else {
		if (what & BEV_EVENT_TIMEOUT)
			zkc_set_err(c, "%s: no reply within the session timeout",
				    c->hosts[c->host_i]);
		else if (what & BEV_EVENT_EOF)
			zkc_set_err(c, "%s: connection closed by the server",
				    c->hosts[c->host_i]);
		else
			zkc_set_err(c, "%s: %s", c->hosts[c->host_i],
				    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		conn_dead(c, ZCONNECTIONLOSS, ZKC_LOST);
	}
	c->busy--;
	if (c->want_free && !c->busy)
		really_free(c);
}

/* Resolve and start connecting to hosts[host_i] (or a later one). */
static int connect_next(struct zkc *c)
{
	struct addrinfo hints, *res = NULL;
	char host[256], *colon;
	int rc;

	for (; c->host_i < c->n_hosts; c->host_i++) {
		const char *port = "2181"; /* ZooKeeper's default, as its clients */
		char *name = host, *close;

		snprintf(host, sizeof(host), "%s", c->hosts[c->host_i]);
		if (host[0] == '[' && (close = strchr(host, ']')) != NULL) {
			/* [v6addr] or [v6addr]:port */
			*close = 0;
			name = host + 1;
			if (close[1] == ':')
				port = close + 2;
		} else if ((colon = strrchr(host, ':')) != NULL) {
			*colon = 0;
			port = colon + 1;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		rc = getaddrinfo(name, port, &hints, &res);
		if (rc) {
			zkc_set_err(c, "%s: %s", c->hosts[c->host_i], gai_strerror(rc));
			continue;
		}
		c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (!c->bev) {
			freeaddrinfo(res);
			zkc_set_err(c, "out of memory");
			return -ENOMEM;
		}
		bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		rc = bufferevent_socket_connect(c->bev, res->ai_addr,
						(int)res->ai_addrlen);
		freeaddrinfo(res);
		if (rc == 0) {
			c->cs = CS_CONNECTING;
			return 0;
		}
		zkc_set_err(c, "%s: connect failed", c->hosts[c->host_i]);
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	return -ECONNREFUSED;
}

static int split_hosts(struct zkc *c, const char *hosts)
{
	const char *p = hosts, *e;
	char **grown;

	while (*p) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		if (e > p) {
			grown =
			    realloc(c->hosts, (size_t)(c->n_hosts + 1) * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			const char *close =
			    *p == '[' ? memchr(p, ']', (size_t)(e - p)) : NULL;
			int has_port = close ? close + 1 < e && close[1] == ':'
					     : memchr(p, ':', (size_t)(e - p)) != NULL;

			c->hosts = grown;
			/* A host without a port gets ZooKeeper's 2181, written
			 * out so every message names the address tried. */
			if (asprintf(&c->hosts[c->n_hosts], "%.*s%s", (int)(e - p), p,
				     has_port ? "" : ":2181") < 0)
				return -ENOMEM;
			c->n_hosts++;
		}
		p = *e ? e + 1 : e;
	}
	return c->n_hosts ? 0 : -EINVAL;
}

int zkc_new(struct event_base *base, const struct zkc_opts *opts, struct zkc **out,
	    char *errbuf, size_t errlen)
{
	struct zkc *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	c->base = base;
	c->opts = *opts;
	c->opts.hosts = NULL; /* borrowed; the copy lives in c->hosts */
	if (!c->opts.timeout_ms)
		c->opts.timeout_ms = ZKC_DEFAULT_TIMEOUT;
	if (!c->opts.max_buffer)
		c->opts.max_buffer = ZKC_DEFAULT_MAX;
	c->next_xid = 1;
	buf_init(&c->early);
	rc = split_hosts(c, opts->hosts ? opts->hosts : "");
	if (rc) {
		snprintf(errbuf, errlen, "%s",
			 rc == -EINVAL ? "no server given" : "out of memory");
		goto err_free_handle;
	}
	c->ping = event_new(base, -1, EV_PERSIST, send_ping, c);
	if (!c->ping) {
		rc = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto err_free_handle;
	}
	rc = connect_next(c);
	if (rc) {
		snprintf(errbuf, errlen, "%s", c->err);
		goto err_free_ping;
	}
	*out = c;
	return 0;

err_free_ping:
	event_free(c->ping);
err_free_handle:
	really_free(c);
	return rc;
}

void zkc_free(struct zkc *c)
{
	if (!c || c->want_free)
		return;
	c->want_free = 1;
	c->busy++;
	conn_dead(c, ZCLOSING, ZKC_LOST);
	c->busy--;
	if (c->ping) {
		event_free(c->ping);
		c->ping = NULL;
	}
	if (!c->busy)
		really_free(c);
}

static int submit_frame(struct zkc *c, struct pending_list *l, int32_t xid, int32_t op,
			const struct buf *b, zkc_reply_fn fn, void *arg)
{
	struct zkc_pending *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = write_frame(c, b);
	if (rc) {
		free(p);
		return rc;
	}
	p->xid = xid;
	p->op = op;
	p->fn = fn;
	p->arg = arg;
	pending_push(l, p);
	return 0;
}

int zkc_submit(struct zkc *c, int32_t op, const void *body, zkc_reply_fn fn, void *arg)
{
	struct jute_request_header h;
	struct buf b;
	size_t off;
	int rec, rc;

	if (c->cs == CS_DEAD || c->want_free)
		return -ENOTCONN;
	rec = jute_request_rec(op);
	if (rec == -2 || op == ZOP_AUTH || op == ZOP_PING || op == ZOP_SETWATCHES ||
	    op == ZOP_SETWATCHES2)
		return -EINVAL;
	if ((rec != JUTE_REC_NONE || op == ZOP_MULTI || op == ZOP_MULTIREAD) && !body)
		return -EINVAL;
	h.xid = c->next_xid;
	h.type = op;
	buf_init(&b);
	off = jute_frame_begin(&b);
	rc = jute_put_request_header(&b, &h);
	if (!rc && (op == ZOP_MULTI || op == ZOP_MULTIREAD))
		rc = jute_put_multi(&b, body, 0);
	else if (!rc && rec != JUTE_REC_NONE)
		rc = jute_put_any(&b, rec, body);
	jute_frame_end(&b, off);
	if (!rc)
		rc = submit_frame(c, &c->sent, h.xid, op, &b, fn, arg);
	buf_free(&b);
	if (rc)
		return rc;
	/* Wrap before the reserved negative xids. */
	c->next_xid = c->next_xid == INT32_MAX ? 1 : c->next_xid + 1;
	return h.xid;
}

int zkc_add_auth(struct zkc *c, const char *scheme, const char *cred, zkc_reply_fn fn,
		 void *arg)
{
	struct jute_request_header h = {.xid = JUTE_XID_AUTH, .type = ZOP_AUTH};
	struct jute_auth_packet a;
	struct buf b;
	size_t off;
	int rc;

	if (c->cs == CS_DEAD || c->want_free)
		return -ENOTCONN;
	a.type = 0;
	a.scheme = (char *)scheme;
	a.auth.len = (int32_t)strlen(cred);
	a.auth.data = (uint8_t *)cred;
	buf_init(&b);
	off = jute_frame_begin(&b);
	jute_put_request_header(&b, &h);
	jute_put_auth_packet(&b, &a);
	jute_frame_end(&b, off);
	rc = submit_frame(c, &c->auth, JUTE_XID_AUTH, ZOP_AUTH, &b, fn, arg);
	buf_free(&b);
	return rc;
}

int zkc_close(struct zkc *c, zkc_reply_fn fn, void *arg)
{
	int rc = zkc_submit(c, ZOP_CLOSESESSION, NULL, fn, arg);

	return rc < 0 ? rc : 0;
}
