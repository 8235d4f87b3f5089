/*
 * transport_int.h - what transport.c (peers, dialling, the choice between
 * duplicate connections, sends) and transport_conn.c (one connection: the
 * handshake and frame reading) share. Not for other modules.
 */
#ifndef QFS_TRANSPORT_INT_H
#define QFS_TRANSPORT_INT_H

#include <sys/socket.h>

#include <event2/util.h>

#include "hmac.h"
#include "peer_wire.h"
#include "transport.h"

struct bufferevent;
struct evconnlistener;
struct event;

/* Incoming connections still in their handshake, at most. */
#define TRANSPORT_HOST_MAX 256
#define TRANSPORT_MAX_PENDING 32

enum conn_state {
	CONN_CONNECTING,     /* outgoing, TCP connect in progress */
	CONN_WAIT_CHALLENGE, /* outgoing, HELLO sent */
	CONN_WAIT_HELLO,     /* incoming, nothing received yet */
	CONN_WAIT_AUTH,	     /* incoming, CHALLENGE sent */
	CONN_OPEN,	     /* authenticated */
};

struct peer {
	struct transport *t;
	uint32_t id;
	int has_addr;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char addr_str[TRANSPORT_HOST_MAX + 8];
	/* A host name (not an address): resolved again before every dial
	 * (transport_resolve.c). fresh: addr was resolved for the next dial;
	 * resolving: a lookup is out; unresolved: the last one failed (logged
	 * once until one succeeds). */
	char host[TRANSPORT_HOST_MAX];
	uint16_t port;
	uint8_t by_name, fresh, resolving, unresolved;
	struct conn *active;  /* the authenticated connection in use */
	struct conn *dialing; /* our outgoing one, still in its handshake */
	struct event *retry_ev;
	unsigned backoff_ms;
	/* transport_remove_peer: neither dialled nor accepted, until added
	 * again (kept, not freed: connections may still point at it). */
	int removed;
	struct peer *next;
};

struct conn {
	struct transport *t;
	struct bufferevent *bev;
	struct event *timeout_ev;
	int outgoing;
	enum conn_state state;
	struct peer *peer;	 /* known from the start when outgoing, after HELLO
				    when incoming */
	struct peer_hello hello; /* the connector's HELLO (sent or received) */
	uint8_t nonce_a[PEER_NONCE];
	struct hmac_key *k_send, *k_recv;
	uint64_t seq_send, seq_recv;
	uint64_t base_send, base_recv; /* transport_peer_stats_reset */
	/* Messages added to the output since it was last seen empty: the
	 * ones still queued, or more (a partial write leaves some). */
	uint64_t unsent;
	int64_t opened_ms;	       /* wall clock, at transport_conn_open */
	int busy; /* inside a read callback: closing waits until it returns */
	int dead;
	/* Once open, messages go out by a direct write at the end of the
	 * loop round (transport_conn.c, flush); queued: on t->flush_head. */
	int queued;
	struct conn *flush_next;
	char name[TRANSPORT_HOST_MAX + 48]; /* for log lines */
	struct conn *next;
};

struct transport {
	struct event_base *base;
	uint32_t self_id;
	char cluster[PEER_CLUSTER_MAX + 1];
	uint8_t cluster_len;
	struct hmac_key *secret;
	size_t max_msg;
	unsigned backoff_min_ms, backoff_max_ms, handshake_ms;
	struct evconnlistener *listener;
	uint16_t port;
	struct peer *peers;
	struct conn *conns;
	unsigned pending_in; /* incoming connections not yet open */
	transport_recv_fn recv_fn;
	void *recv_arg;
	transport_peer_fn peer_fn;
	void *peer_arg;
	/* Sends whose callbacks are due, run from done_ev. */
	struct transport_send_req *done_head, *done_tail;
	struct event *done_ev;
	/* Open connections with output to write at the end of this round. */
	struct conn *flush_head;
	struct event *flush_ev;
	struct transport_fault *fault; /* the test hook; NULL normally */
	struct resolver *resolver;     /* started on the first host name */
};

/* transport_conn.c: write what the queued connections hold (flush_ev). */
void transport_flush_cb(evutil_socket_t fd, short what, void *arg);

/* transport.c */
struct peer *transport_find_peer(struct transport *t, uint32_t id);
/* c (of c->peer) has authenticated: keep it or its rival. */
void transport_conn_open(struct transport *t, struct conn *c);
/* c is closing: forget it in its peer and redial if needed. */
void transport_conn_gone(struct transport *t, struct conn *c);

/* A lookup for peer id finished (transport_resolve.c calls it on the
 * loop): status 0 with its address, or -EHOSTUNREACH and why. */
void transport_resolved(struct transport *t, uint32_t id, int status, const char *why,
			const struct sockaddr *sa, socklen_t len);

/* transport_resolve.c: host names looked up on a thread of their own.
 * ask queues one (0 or a negative errno); free stops the thread (without
 * waiting for a lookup in progress). */
int resolver_ask(struct transport *t, uint32_t id, const char *host, uint16_t port);
void resolver_free(struct transport *t);

/* transport_fault.c: the testing delay/loss hook (QUORUMFS_PEER_DELAY,
 * QUORUMFS_PEER_LOSS). new sets t->fault, NULL when neither is set;
 * deliver hands a received message (borrowed) to recv_fn, now or later. */
int transport_fault_new(struct transport *t);
void transport_fault_free(struct transport *t);
void transport_fault_deliver(struct transport *t, uint32_t from, const uint8_t *msg,
			     size_t len);

/* transport_conn.c */
struct conn *conn_new(struct transport *t, int fd, int outgoing, struct peer *p);
/* Starts the outgoing handshake on a new connection. */
int conn_dial(struct conn *c);
/* Closes c, logging why when why is not NULL; frees it now, or when the
 * read callback it is inside returns. */
void conn_close(struct conn *c, const char *why);
/* Sends one MSG frame on an open connection. */
int conn_send_msg(struct conn *c, const void *msg, size_t len);

#endif
