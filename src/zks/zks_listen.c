/*
 * zks_listen.c - the client port: listening socket, accepting connections,
 * the per-IP connection limit, and the periodic scan that notices sessions
 * the core has expired.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "core.h"
#include "log.h"
#include "zks_int.h"

/* How often connections are checked against the core's sessions. Expiry is
 * decided by the core; this only bounds how late the client hears of it. */
#define ZKS_SCAN_MS 200

int64_t zks_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t zks_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void zks_peer_ip(const struct sockaddr *sa, char *ip, size_t n)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, n);
	else
		snprintf(ip, n, "unknown");
}

static void zks_on_accept(struct evconnlistener *l, evutil_socket_t fd,
			  struct sockaddr *sa, int salen, void *arg)
{
	struct zk_server *s = arg;
	char ip[64];
	int rc;

	if (s->max_client_cnxns > 0) {
		struct zks_conn *c;
		int same = 0;

		zks_peer_ip(sa, ip, sizeof(ip));
		TAILQ_FOREACH(c, &s->conns, link)
		if (!c->dead && strcmp(c->ip, ip) == 0)
			same++;
		if (same >= s->max_client_cnxns) {
			/* As NIOServerCnxnFactory: log and drop, nothing sent. */
			log_warnx("zk: too many connections from %s - max is %d", ip,
				  s->max_client_cnxns);
			close(fd);
			return;
		}
	}
	rc = zks_conn_accept(s, fd, sa, salen);
	if (rc < 0)
		log_warnx("zk: cannot accept a connection: %s", strerror(-rc));
}

static void zks_on_accept_error(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	/* EMFILE and friends: keep listening; the next free fd serves. */
	log_warnx("zk: accept: %s", evutil_socket_error_to_string(err));
}

static void zks_on_scan(evutil_socket_t fd, short what, void *arg)
{
	zks_session_scan(arg);
}

static int zks_listen(struct zk_server *s, const struct zk_server_opts *opts,
		      char *errbuf, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *addr = opts->address && *opts->address ? opts->address : NULL;

	memset(&ss, 0, sizeof(ss));
	if (!addr || strcmp(addr, "0.0.0.0") == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		in->sin_port = htons((uint16_t)opts->port);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)opts->port);
			sl = sizeof(*in);
		} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)opts->port);
			sl = sizeof(*in6);
		} else {
			snprintf(errbuf, errlen, "clientPortAddress %s: not an address",
				 addr);
			return -EINVAL;
		}
	}
	s->listener = evconnlistener_new_bind(s->base, zks_on_accept, s,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						  LEV_OPT_CLOSE_ON_EXEC,
					      128, (struct sockaddr *)&ss, (int)sl);
	if (!s->listener) {
		int e = errno ? errno : EADDRINUSE;

		snprintf(errbuf, errlen, "clientPort %s:%d: %s", addr ? addr : "*",
			 opts->port, strerror(e));
		return -e;
	}
	evconnlistener_set_error_cb(s->listener, zks_on_accept_error);
	return 0;
}

int zk_server_start(struct qcore *core, struct event_base *base,
		    const struct zk_server_opts *opts, struct zk_server **out,
		    char *errbuf, size_t errlen)
{
	struct zk_server *s;
	struct timeval tv = {0, ZKS_SCAN_MS * 1000};
	int rc = -ENOMEM;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto err_nomem;
	TAILQ_INIT(&s->conns);
	s->core = core;
	s->base = base;
	s->cfg = opts->cfg;
	s->port = opts->port;
	s->max_client_cnxns = opts->max_client_cnxns;
	s->max_outstanding = opts->max_outstanding > 0 ? (unsigned)opts->max_outstanding
						       : ZKS_MAX_OUTSTANDING;
	s->max_watches =
	    opts->max_watches > 0 ? (unsigned)opts->max_watches : ZKS_MAX_WATCHES;
	s->max_buffer =
	    opts->max_buffer > 0 ? opts->max_buffer : 0xfffff; /* jute.maxbuffer */
	/* ZooKeeper's default whitelist is srvr alone. */
	s->whitelist =
	    strdup(opts->four_letter_whitelist ? opts->four_letter_whitelist : "srvr");
	if (!s->whitelist)
		goto err_after_alloc;
	if (opts->super_digest && *opts->super_digest) {
		s->super_digest = strdup(opts->super_digest);
		if (!s->super_digest)
			goto err_after_alloc;
	}
	if (opts->sasl_users && *opts->sasl_users) {
		s->sasl_users = strdup(opts->sasl_users);
		if (!s->sasl_users)
			goto err_after_alloc;
	}
	s->watches = zks_watches_new();
	if (!s->watches)
		goto err_after_alloc;
	s->lat_min_us = -1;
	s->started_ms = zks_now_ms();
	zks_lat_reset(&s->read_lat, s->started_ms);
	zks_lat_reset(&s->update_lat, s->started_ms);
	rc = qcore_subscribe(core, zks_watch_on_change, s);
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot subscribe to the core: %s",
			 strerror(-rc));
		goto err_after_alloc;
	}
	s->subscribed = 1;
	TAILQ_INIT(&s->out_q);
	s->out_ev = event_new(base, -1, 0, zks_conn_out_flush, s);
	s->scan_ev = event_new(base, -1, EV_PERSIST, zks_on_scan, s);
	if (!s->scan_ev || !s->out_ev) {
		rc = -ENOMEM;
		goto err_after_scan;
	}
	event_add(s->scan_ev, &tv);
	if (!opts->no_clients && (rc = zks_listen(s, opts, errbuf, errlen)) < 0)
		goto err_after_scan;
	if (opts->metrics_port > 0) {
		rc = zks_metrics_start(s, opts->metrics_host ? opts->metrics_host : "0.0.0.0",
				       opts->metrics_port, errbuf, errlen);
		if (rc < 0) {
			if (s->listener)
				evconnlistener_free(s->listener);
			goto err_after_scan;
		}
	}
	if (opts->admin_port > 0) {
		rc = zks_admin_start(s, opts->admin_host ? opts->admin_host : "0.0.0.0",
				     opts->admin_port,
				     opts->admin_url ? opts->admin_url : "/commands", errbuf,
				     errlen);
		if (rc < 0) {
			zks_metrics_stop(s);
			if (s->listener)
				evconnlistener_free(s->listener);
			goto err_after_scan;
		}
	}
	if (opts->no_clients)
		log_info("zk: no client port (clientPort=0), metrics and admin only");
	else
		log_info("zk: serving clients on %s:%d",
			 opts->address ? opts->address : "*", zk_server_port(s));
	*out = s;
	return 0;

err_after_scan:
	if (s->scan_ev)
		event_free(s->scan_ev);
	if (s->out_ev)
		event_free(s->out_ev);
err_after_alloc:
	if (s->subscribed)
		qcore_unsubscribe(s->core, zks_watch_on_change, s);
	if (s->watches)
		zks_watches_free(s->watches);
	free(s->sasl_users);
	free(s->super_digest);
	free(s->whitelist);
	free(s);
	if (rc == -ENOMEM)
		snprintf(errbuf, errlen, "out of memory starting the client port");
	return rc;
err_nomem:
	snprintf(errbuf, errlen, "out of memory starting the client port");
	return -ENOMEM;
}

int zk_server_port(const struct zk_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!s->listener || getsockname(evconnlistener_get_fd(s->listener),
					(struct sockaddr *)&ss, &sl) < 0)
		return s->port;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void zk_server_stop(struct zk_server *s)
{
	struct zks_conn *c;

	if (!s)
		return;
	zks_metrics_stop(s);
	zks_admin_stop(s);
	if (s->listener)
		evconnlistener_free(s->listener);
	event_free(s->scan_ev);
	/* Bounded: each close removes one connection from the list. */
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		zks_conn_close(c, "server stopping");
	event_free(s->out_ev);
	qcore_unsubscribe(s->core, zks_watch_on_change, s);
	zks_watches_free(s->watches);
	free(s->whitelist);
	free(s->super_digest);
	free(s->sasl_users);
	free(s);
}
