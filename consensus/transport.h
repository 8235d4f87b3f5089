/*
 * transport.h - the peer transport: authenticated TCP connections between
 * the servers of one cluster, on the daemon's libevent loop, carrying
 * opaque messages (the core's codec frames) to and from server ids.
 *
 * - Every server listens on its peer port and dials the peers it has an
 *   address for; a lost connection is redialled with exponential backoff
 *   (backoff_min_ms doubling up to backoff_max_ms, reset once a connection
 *   authenticates).
 * - A connection is used only after the handshake of peer_wire.h: both
 *   sides name their server id and the cluster, and each proves knowledge
 *   of the shared cluster secret (HMAC-SHA256 challenge/response), so a
 *   process without it cannot join. Every message then carries a MAC under
 *   a per-connection, per-direction key and sequence number.
 * - Two servers may dial each other at once. When both connections have
 *   authenticated, both sides keep the one dialled by the higher server id
 *   and close the other, so they agree without talking about it.
 * - Bad input (a length over the limit, another version, an unknown type, a
 *   frame out of turn, a bad MAC, a stalled handshake) closes that one
 *   connection with a log line; the transport and other connections go on.
 *
 * Delivery is best effort: a message sent while a connection is being
 * replaced may be lost; the consensus core tolerates loss, duplication and
 * reordering between connections. Within one connection order holds.
 *
 * transport_new sets SIGPIPE to ignored if it is at its default, so that a
 * peer closing mid-write cannot kill the process.
 *
 * Everything runs on the loop's thread; nothing here is thread-safe.
 * Errors are negative errno values.
 */
#ifndef QFS_TRANSPORT_H
#define QFS_TRANSPORT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct transport;

struct transport_config {
	uint32_t self_id;    /* > 0 */
	const char *cluster; /* 1..255 bytes, copied */
	const void *secret;  /* copied; at least 16 bytes */
	size_t secret_len;
	const char *listen_host; /* numeric address; NULL: do not listen */
	uint16_t listen_port;	 /* 0: any free port (see transport_port) */
	size_t max_msg;		 /* largest message; 0: TRANSPORT_MAX_MSG */
	unsigned backoff_min_ms; /* 0: 100 */
	unsigned backoff_max_ms; /* 0: 5000 */
	unsigned handshake_ms;	 /* 0: 5000; an unauthenticated connection
				    older than this is dropped */
};

#define TRANSPORT_MAX_MSG ((size_t)256 << 20)

/* A message arrived from server `from`; msg is borrowed for the call. */
typedef void (*transport_recv_fn)(void *arg, uint32_t from, const uint8_t *msg,
				  size_t len);
/* Server id's connection came up (up = 1) or went away (up = 0). */
typedef void (*transport_peer_fn)(void *arg, uint32_t id, int up);

struct transport_send_req;
typedef void (*transport_send_cb)(struct transport_send_req *req, int status);

/* A caller-owned send; keep it untouched until cb has run. */
struct transport_send_req {
	void *data; /* the caller's */
	/* Private to the transport. */
	transport_send_cb cb;
	int status;
	struct transport_send_req *next;
};

/*
 * Creates a transport on base and starts listening when configured. On
 * failure returns a negative errno and a message in errmsg.
 */
int transport_new(struct event_base *base, const struct transport_config *cfg,
		  struct transport **out, char *errmsg, size_t errmsg_len);

/* Closes every connection and frees t. Callbacks of pending sends run
 * with -ECANCELED before it returns. Not from inside a callback. */
void transport_free(struct transport *t);

/* The port actually listened on (useful with listen_port 0). */
uint16_t transport_port(const struct transport *t);

/*
 * Declares server id a member. With host (a numeric address or a name,
 * resolved now, at configuration time) the transport dials it; with host
 * NULL it only accepts id's connections. Returns 0, -EEXIST, -EINVAL (id 0
 * or self) or -EHOSTUNREACH (name does not resolve).
 */
int transport_add_peer(struct transport *t, uint32_t id, const char *host, uint16_t port);

/*
 * Server id is no longer a member: its connections are closed, it is no
 * longer dialled, and its connections are refused (quietly: a removed
 * server that still runs keeps trying) until transport_add_peer declares
 * it again. Returns 0 or -ENOENT.
 */
int transport_remove_peer(struct transport *t, uint32_t id);

void transport_set_recv(struct transport *t, transport_recv_fn fn, void *arg);
void transport_set_peer_cb(struct transport *t, transport_peer_fn fn, void *arg);

/*
 * Queues len bytes (copied at once) for server `to`. Returns 0 and later,
 * from the loop and never inside this call, runs cb (if not NULL) with 0
 * once the frame is on the connection's output; or returns -ENOTCONN (no
 * authenticated connection to `to`), -EMSGSIZE, -ENOBUFS (the peer is not
 * reading) or -EINVAL, and cb never runs.
 */
int transport_send(struct transport *t, struct transport_send_req *req, uint32_t to,
		   const void *msg, size_t len, transport_send_cb cb);

/* 1 when an authenticated connection to id is up. */
int transport_connected(const struct transport *t, uint32_t id);

/* The connection in use to one peer, for the admin server. */
struct transport_peer_stats {
	char addr[INET6_ADDRSTRLEN + 16]; /* "/address:port" of the peer's end */
	int64_t opened_ms;		  /* wall clock, when it authenticated */
	uint64_t sent, received;	  /* messages, since then or the reset */
	uint64_t queued_bytes;		  /* on its output, not yet written */
	uint64_t queued;		  /* messages among them: at most this many */
};
/* 0, or -ENOTCONN when no authenticated connection to id is up. */
int transport_peer_stats(const struct transport *t, uint32_t id,
			 struct transport_peer_stats *out);
/* Counts sent and received from zero again on id's connection (a new
 * connection starts from zero anyway). 0 or -ENOTCONN. */
int transport_peer_stats_reset(struct transport *t, uint32_t id);

#endif
