/*
 * zkc.h - a small asynchronous ZooKeeper client on a libevent loop, for
 * quorumctl, the load generator and protocol tests.
 *
 * One handle is one session over one TCP connection. Requests are pipelined:
 * each gets the next xid and is written at once (or, before the session is
 * established, as soon as it is); ZooKeeper answers a session's requests in
 * xid order, and a reply out of that order is a protocol error that drops the
 * connection. Auth, ping and setWatches replies carry reserved xids and are
 * matched separately. Watch notifications go to the handle's watch callback.
 *
 * No automatic reconnection: when the connection drops, every outstanding
 * request completes with ZCONNECTIONLOSS and the state callback hears
 * ZKC_LOST. A caller that wants the session back opens a new handle with
 * opts.session_id and opts.passwd (ZooKeeper's session re-attach).
 *
 * Everything runs on the loop thread that owns `base`.
 */
#ifndef QFS_ZKC_H
#define QFS_ZKC_H

#include <stdint.h>

#include "jute.h"

struct event_base;
struct zkc;

/* What a request's callback receives; everything is borrowed for the
 * duration of the callback. */
struct zkc_reply {
	int32_t op;
	int32_t err;  /* ZOK, the server's ZooKeeper error, or ZCONNECTIONLOSS /
			 ZMARSHALLINGERROR / ZCLOSING from this side */
	int64_t zxid; /* from the ReplyHeader; 0 for local failures */
	int rec;      /* JUTE_REC_* of body when err == ZOK, else JUTE_REC_NONE */
	union jute_any body;
	struct jute_multi multi; /* multi/multiRead results (also on a failed multi) */
};

typedef void (*zkc_reply_fn)(void *arg, const struct zkc_reply *r);
typedef void (*zkc_watch_fn)(void *arg, const struct jute_watcher_event *ev);

enum zkc_state {
	ZKC_CONNECTED = 1, /* session established (or re-attached) */
	ZKC_EXPIRED = 2,   /* the server refused the session: it has expired */
	ZKC_LOST = 3,	   /* connection closed or failed; outstanding requests failed */
	ZKC_AUTH_FAILED = 4, /* an auth packet was refused */
};
typedef void (*zkc_state_fn)(void *arg, enum zkc_state st);

struct zkc_opts {
	const char *hosts; /* "host[:port][,...]" (port 2181 if none; [v6]:port); tried in
			      order (borrowed) */
	int32_t timeout_ms; /* requested session timeout; 0: 30000 */
	int32_t max_buffer; /* largest reply frame accepted; 0: 1 MiB + 1 KiB */
	int64_t session_id; /* non-zero: re-attach to this session */
	uint8_t passwd[16]; /* its password (zkc_session()) */
	int read_only;	    /* ask for a read-only capable session */
	zkc_watch_fn watch; /* may be NULL */
	zkc_state_fn state; /* may be NULL */
	void *arg;	    /* passed to watch and state */
};

/*
 * Create a handle and start connecting (non-blocking, apart from resolving
 * the host names). Returns 0 and *out (caller frees with zkc_free), or a
 * negative errno with a reason in errbuf.
 */
int zkc_new(struct event_base *base, const struct zkc_opts *opts, struct zkc **out,
	    char *errbuf, size_t errlen);

/*
 * Drop the connection without closing the session (the server expires it
 * later), fail outstanding requests with ZCLOSING and free the handle. Safe
 * from inside a callback of this handle only as the last thing it does.
 */
void zkc_free(struct zkc *c);

/*
 * Send a request: op is the opcode, body a record of the type
 * jute_request_rec(op) names (NULL for bodiless ops), or for multi/multiRead
 * a struct jute_multi. The body is encoded before the call returns, so it is
 * only borrowed. fn (may be NULL) is called exactly once, later, from the
 * loop. Returns the xid used (>= 0 for ordinary requests), or a negative
 * errno (-EINVAL for a bad op, -ENOMEM, -ENOTCONN after the connection was
 * lost).
 */
int zkc_submit(struct zkc *c, int32_t op, const void *body, zkc_reply_fn fn, void *arg);

/* Add an identity ("digest", "user:password"). Replies come in the order
 * sent; a refusal also reports ZKC_AUTH_FAILED and the server closes. */
int zkc_add_auth(struct zkc *c, const char *scheme, const char *cred, zkc_reply_fn fn,
		 void *arg);

/* Close the session (closeSession); fn hears the reply, after which the
 * connection is gone and the caller frees the handle. */
int zkc_close(struct zkc *c, zkc_reply_fn fn, void *arg);

/* The session: id, password (16 bytes) and negotiated timeout; id 0 before
 * the session is established. */
int64_t zkc_session(const struct zkc *c, uint8_t passwd[16], int32_t *timeout_ms);
/* Is the session read-only (the server could not make a full one and the
 * client asked for read_only)? Its writes fail with ZNOTREADONLY. */
int zkc_read_only(const struct zkc *c);
/* The server of the session ("host:port", as in the connect string;
 * borrowed, valid while the handle is), or NULL when not connected. */
const char *zkc_server(const struct zkc *c);
/* Requests sent and not yet answered. */
int zkc_outstanding(const struct zkc *c);
/* The last error's text (connection failure, protocol error). */
const char *zkc_error(const struct zkc *c);

#endif
