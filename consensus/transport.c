/*
 * transport.c - the peer transport's members, listener, dialling with
 * backoff, the choice between duplicate connections, and sends. One
 * connection's protocol is in transport_conn.c; see transport.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "transport_int.h"

struct peer *transport_find_peer(struct transport *t, uint32_t id)
{
	for (struct peer *p = t->peers; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

/*
 * The higher id dials at once; the lower waits backoff_max_ms first, so
 * that normally only one connection is made and no message is lost to the
 * choice between duplicates. The lower still dials in the end, for a peer
 * that knows no address for it.
 */
static void schedule_dial(struct transport *t, struct peer *p, unsigned delay_ms)
{
	struct timeval tv;

	if (t->self_id < p->id && delay_ms < t->backoff_max_ms)
		delay_ms = t->backoff_max_ms;
	tv.tv_sec = delay_ms / 1000;
	tv.tv_usec = (delay_ms % 1000) * 1000;

	if ((p->has_addr || p->by_name) && !p->removed)
		evtimer_add(p->retry_ev, &tv);
}

/* After a failed attempt: wait, then double the next wait, up to the max. */
static void schedule_retry(struct transport *t, struct peer *p)
{
	unsigned delay = p->backoff_ms;

	p->backoff_ms =
	    p->backoff_ms > t->backoff_max_ms / 2 ? t->backoff_max_ms : p->backoff_ms * 2;
	log_debug("peer %u: redialling in %u ms", p->id, delay);
	schedule_dial(t, p, delay);
}

static void dial_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	struct transport *t = p->t;
	struct conn *c;

	if (p->active || p->dialing || p->removed || p->resolving)
		return;
	if (p->by_name && !p->fresh) {
		/* Where the name points now: transport_resolved dials. */
		if (resolver_ask(t, p->id, p->host, p->port) == 0) {
			p->resolving = 1;
			return;
		}
		log_warnx("peer %u: cannot look %s up (out of memory)", p->id, p->host);
	}
	p->fresh = 0;
	if (!p->has_addr) {
		schedule_retry(t, p);
		return;
	}
	c = conn_new(t, -1, 1, p);
	if (!c) {
		log_warnx("peer %u: out of memory dialling %s", p->id, p->addr_str);
		schedule_retry(t, p);
		return;
	}
	p->dialing = c;
	log_debug("peer %u: dialling %s", p->id, p->addr_str);
	if (conn_dial(c) < 0)
		conn_close(c, "connect failed at once");
}

static void addr_text(const struct sockaddr *sa, socklen_t len, char *out, size_t n)
{
	if (getnameinfo(sa, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST))
		snprintf(out, n, "?");
}

void transport_resolved(struct transport *t, uint32_t id, int status, const char *why,
			const struct sockaddr *sa, socklen_t len)
{
	struct peer *p = transport_find_peer(t, id);
	char now[64];

	if (!p || !p->resolving)
		return;
	p->resolving = 0;
	if (p->removed)
		return;
	if (status) {
		if (!p->unresolved)
			log_warnx("peer %u: cannot resolve %s (%s)%s", p->id, p->host, why,
				  p->has_addr ? ": dialling its last address" : "");
		p->unresolved = 1;
	} else {
		addr_text(sa, len, now, sizeof(now));
		if (!p->has_addr || p->unresolved || p->addr_len != len ||
		    memcmp(&p->addr, sa, len)) {
			if (p->has_addr && (p->addr_len != len || memcmp(&p->addr, sa, len)))
				log_info("peer %u: %s now resolves to %s", p->id, p->host, now);
			else
				log_info("peer %u: %s resolves to %s", p->id, p->host, now);
		}
		memcpy(&p->addr, sa, len);
		p->addr_len = len;
		p->has_addr = 1;
		p->unresolved = 0;
	}
	p->fresh = 1;
	dial_cb(-1, 0, p);
}

void transport_conn_open(struct transport *t, struct conn *c)
{
	struct peer *p = c->peer;
	struct conn *old = p->active, *keep;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	c->opened_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (p->dialing == c) {
		p->dialing = NULL;
		p->backoff_ms = t->backoff_min_ms;
	}
	if (!old) {
		p->active = c;
		log_info("peer %u: connected (%s)", p->id,
			 c->outgoing ? "outgoing" : "incoming");
		if (t->peer_fn)
			t->peer_fn(t->peer_arg, p->id, 1);
		return;
	}
	/*
	 * Two authenticated connections to one server. Both ends apply the
	 * same rule: keep the one dialled by the higher id. Two in the same
	 * direction mean the other side restarted: the newer one is live.
	 */
	if (c->outgoing == old->outgoing)
		keep = c;
	else
		keep = (c->outgoing == (t->self_id > p->id)) ? c : old;
	log_debug("peer %u: duplicate connection, keeping the %s one", p->id,
		  keep->outgoing ? "outgoing" : "incoming");
	if (keep == c) {
		p->active = c;
		conn_close(old, "replaced by a duplicate connection");
	} else {
		conn_close(c, "a duplicate of the connection in use");
	}
}

void transport_conn_gone(struct transport *t, struct conn *c)
{
	struct peer *p = c->peer;

	if (!p)
		return;
	if (p->dialing == c) {
		p->dialing = NULL;
		if (!p->active)
			schedule_retry(t, p);
	}
	if (p->active == c) {
		p->active = NULL;
		log_info("peer %u: connection lost", p->id);
		if (t->peer_fn)
			t->peer_fn(t->peer_arg, p->id, 0);
		p->backoff_ms = t->backoff_min_ms;
		if (!p->dialing)
			schedule_retry(t, p);
	}
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct transport *t = arg;
	char addr[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;
	struct conn *c;

	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		port = ntohs(in6->sin6_port);
	}
	if (t->pending_in >= TRANSPORT_MAX_PENDING) {
		log_warnx(
		    "peer listener: %u connections in their handshake; refusing %s:%u",
		    t->pending_in, addr, port);
		evutil_closesocket(fd);
		return;
	}
	c = conn_new(t, fd, 0, NULL);
	if (!c) {
		log_warnx("peer listener: out of memory; refusing %s:%u", addr, port);
		evutil_closesocket(fd);
		return;
	}
	snprintf(c->name, sizeof(c->name), "from %s:%u", addr, port);
	log_debug("peer connection %s: accepted", c->name);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct transport *t = arg;
	struct transport_send_req *list = t->done_head;

	t->done_head = t->done_tail = NULL;
	while (list) {
		struct transport_send_req *next = list->next;
		list->cb(list, list->status);
		list = next;
	}
}

/*
 * libevent writes to sockets with write(2), not send(MSG_NOSIGNAL): a peer
 * that closes while we write would raise SIGPIPE, whose default action
 * kills the daemon. The error comes back as EPIPE instead once it is
 * ignored. A disposition the program chose itself is left alone.
 */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int transport_new(struct event_base *base, const struct transport_config *cfg,
		  struct transport **out, char *errmsg, size_t errmsg_len)
{
	struct transport *t;
	size_t cl = cfg->cluster ? strlen(cfg->cluster) : 0;
	int rc = -EINVAL;

	*out = NULL;
	if (cfg->self_id == 0 || cl == 0 || cl > PEER_CLUSTER_MAX || !cfg->secret ||
	    cfg->secret_len < 16) {
		snprintf(
		    errmsg, errmsg_len,
		    "peer transport: needs a server id, a cluster name of 1 to %d bytes "
		    "and a secret of at least 16 bytes",
		    PEER_CLUSTER_MAX);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(errmsg, errmsg_len, "peer transport: out of memory");
		return -ENOMEM;
	}
	ignore_sigpipe();
	t->base = base;
	t->self_id = cfg->self_id;
	memcpy(t->cluster, cfg->cluster, cl + 1);
	t->cluster_len = (uint8_t)cl;
	t->max_msg = cfg->max_msg ? cfg->max_msg : TRANSPORT_MAX_MSG;
	t->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : 100;
	t->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
	if (t->backoff_max_ms < t->backoff_min_ms)
		t->backoff_max_ms = t->backoff_min_ms;
	t->handshake_ms = cfg->handshake_ms ? cfg->handshake_ms : 5000;
	t->secret = hmac_key_new(cfg->secret, cfg->secret_len);
	t->done_ev = event_new(base, -1, 0, done_cb, t);
	t->flush_ev = event_new(base, -1, 0, transport_flush_cb, t);
	if (!t->secret || !t->done_ev || !t->flush_ev) {
		snprintf(errmsg, errmsg_len,
			 "peer transport: cannot set up HMAC or events");
		rc = -ENOMEM;
		goto err_after_alloc;
	}
	if ((rc = transport_fault_new(t)) < 0) {
		snprintf(errmsg, errmsg_len,
			 "peer transport: bad QUORUMFS_PEER_DELAY or QUORUMFS_PEER_LOSS");
		goto err_after_alloc;
	}
	rc = -EINVAL;
	if (cfg->listen_host) {
		struct sockaddr_storage ss;
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		socklen_t sl = sizeof(ss);
		int len;
		char spec[128];

		snprintf(spec, sizeof(spec),
			 strchr(cfg->listen_host, ':') ? "[%s]:%u" : "%s:%u",
			 cfg->listen_host, cfg->listen_port);
		memset(&ss, 0, sizeof(ss));
		if (inet_pton(AF_INET, cfg->listen_host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(cfg->listen_port);
			len = sizeof(*sin);
		} else if (inet_pton(AF_INET6, cfg->listen_host, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(cfg->listen_port);
			len = sizeof(*sin6);
		} else {
			snprintf(errmsg, errmsg_len,
				 "peer transport: listen address %s is not numeric",
				 spec);
			goto err_after_alloc;
		}
		t->listener = evconnlistener_new_bind(
		    base, accept_cb, t,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    (struct sockaddr *)&ss, len);
		if (!t->listener) {
			rc = -errno;
			snprintf(errmsg, errmsg_len,
				 "peer transport: cannot listen on %s: %s", spec,
				 strerror(errno));
			goto err_after_alloc;
		}
		if (getsockname(evconnlistener_get_fd(t->listener),
				(struct sockaddr *)&ss, &sl) == 0)
			t->port = ntohs(ss.ss_family == AF_INET6 ? sin6->sin6_port
								 : sin->sin_port);
	}
	*out = t;
	return 0;

err_after_alloc:
	transport_fault_free(t);
	if (t->done_ev)
		event_free(t->done_ev);
	if (t->flush_ev)
		event_free(t->flush_ev);
	hmac_key_free(t->secret);
	free(t);
	return rc;
}

void transport_free(struct transport *t)
{
	struct transport_send_req *list;

	if (!t)
		return;
	t->peer_fn = NULL;
	t->recv_fn = NULL;
	resolver_free(t);
	/* Forget peers first so closing connections schedules no redial. */
	for (struct peer *p = t->peers; p; p = p->next) {
		p->active = p->dialing = NULL;
		p->has_addr = 0;
	}
	while (t->conns) {
		t->conns->peer = NULL;
		conn_close(t->conns, "transport closing");
	}
	while (t->peers) {
		struct peer *p = t->peers;
		t->peers = p->next;
		event_free(p->retry_ev);
		free(p);
	}
	if (t->listener)
		evconnlistener_free(t->listener);
	list = t->done_head;
	while (list) {
		struct transport_send_req *next = list->next;
		list->cb(list, -ECANCELED);
		list = next;
	}
	transport_fault_free(t);
	event_free(t->done_ev);
	event_free(t->flush_ev);
	hmac_key_free(t->secret);
	free(t);
}

uint16_t transport_port(const struct transport *t)
{
	return t->port;
}

int transport_add_peer(struct transport *t, uint32_t id, const char *host, uint16_t port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST};
	struct addrinfo *res = NULL;
	struct peer *p;
	char portstr[8];

	if (id == 0 || id == t->self_id)
		return -EINVAL;
	p = transport_find_peer(t, id);
	if (p && !p->removed)
		return -EEXIST;
	if (host && strlen(host) >= TRANSPORT_HOST_MAX)
		return -ENAMETOOLONG;
	if (host) {
		/* An address is taken as it is; a name is looked up before
		 * each dial (transport_resolve.c), so that one that does not
		 * resolve yet, or moves, is followed. */
		snprintf(portstr, sizeof(portstr), "%u", port);
		if (getaddrinfo(host, portstr, &hints, &res) != 0 || !res)
			res = NULL;
	}
	if (p) {
		/* A removed server added back. */
		p->removed = 0;
		p->has_addr = 0;
		p->by_name = p->fresh = p->unresolved = 0;
	} else {
		p = calloc(1, sizeof(*p));
		if (!p)
			goto out_free_res;
		p->id = id;
		p->t = t;
		p->retry_ev = evtimer_new(t->base, dial_cb, p);
		if (!p->retry_ev) {
			free(p);
			goto out_free_res;
		}
		p->next = t->peers;
		t->peers = p;
	}
	p->backoff_ms = t->backoff_min_ms;
	if (res) {
		memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
		p->addr_len = res->ai_addrlen;
		p->has_addr = 1;
		freeaddrinfo(res);
	} else if (host) {
		p->by_name = 1;
		snprintf(p->host, sizeof(p->host), "%s", host);
		p->port = port;
	}
	if (host)
		snprintf(p->addr_str, sizeof(p->addr_str),
			 strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	schedule_dial(t, p, 0);
	return 0;
out_free_res:
	if (res)
		freeaddrinfo(res);
	return -ENOMEM;
}

int transport_remove_peer(struct transport *t, uint32_t id)
{
	struct peer *p = transport_find_peer(t, id);
	struct conn *c, *next;

	if (!p)
		return -ENOENT;
	if (p->removed)
		return 0;
	/* First, so that closing its connections schedules no redial. */
	p->removed = 1;
	p->has_addr = 0;
	evtimer_del(p->retry_ev);
	for (c = t->conns; c; c = next) {
		next = c->next;
		if (c->peer == p)
			conn_close(c, "no longer a member (removed)");
	}
	return 0;
}

void transport_set_recv(struct transport *t, transport_recv_fn fn, void *arg)
{
	t->recv_fn = fn;
	t->recv_arg = arg;
}

void transport_set_peer_cb(struct transport *t, transport_peer_fn fn, void *arg)
{
	t->peer_fn = fn;
	t->peer_arg = arg;
}

int transport_send(struct transport *t, struct transport_send_req *req, uint32_t to,
		   const void *msg, size_t len, transport_send_cb cb)
{
	struct peer *p = transport_find_peer(t, to);
	int rc;

	if (len > t->max_msg)
		return -EMSGSIZE;
	if (len && !msg)
		return -EINVAL;
	if (!p || !p->active)
		return -ENOTCONN;
	if ((rc = conn_send_msg(p->active, msg, len)) < 0)
		return rc;
	if (req && cb) {
		req->cb = cb;
		req->status = 0;
		req->next = NULL;
		if (t->done_tail)
			t->done_tail->next = req;
		else
			t->done_head = req;
		t->done_tail = req;
		event_active(t->done_ev, EV_TIMEOUT, 0);
	}
	return 0;
}

static struct conn *active_conn(const struct transport *t, uint32_t id)
{
	for (const struct peer *p = t->peers; p; p = p->next)
		if (p->id == id)
			return p->active;
	return NULL;
}

int transport_connected(const struct transport *t, uint32_t id)
{
	return active_conn(t, id) != NULL;
}

int transport_peer_stats(const struct transport *t, uint32_t id,
			 struct transport_peer_stats *out)
{
	const struct conn *c = active_conn(t, id);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "0";

	if (!c)
		return -ENOTCONN;
	/* As Java prints a socket address: a slash, then address:port. */
	if (getpeername(bufferevent_getfd(c->bev), (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
			    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(out->addr, sizeof(out->addr), "/%s:%s", host, port);
	out->opened_ms = c->opened_ms;
	out->sent = c->seq_send - c->base_send;
	out->received = c->seq_recv - c->base_recv;
	out->queued_bytes = evbuffer_get_length(bufferevent_get_output(c->bev));
	out->queued = out->queued_bytes ? c->unsent : 0;
	return 0;
}

int transport_peer_stats_reset(struct transport *t, uint32_t id)
{
	struct conn *c = active_conn(t, id);

	if (!c)
		return -ENOTCONN;
	c->base_send = c->seq_send;
	c->base_recv = c->seq_recv;
	return 0;
}
