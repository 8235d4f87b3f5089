/*
 * zks_int.h - private structures of the ZooKeeper client-protocol server,
 * shared by the zks_*.c files (one file per protocol area):
 *
 *   zks_listen.c   listener, accepting, per-IP limit, start/stop, expiry scan
 *   zks_conn.c     one connection: reading frames, the reply queue, writing,
 *                  throttling, closing
 *   zks_session.c  ConnectRequest/Response, ping, closeSession, expiry
 *   zks_dispatch.c opcode table, request header, execution order
 *   zks_op_read.c  exists, getData, getChildren(2), getACL, getEphemerals,
 *                  getAllChildrenNumber, multiRead
 *   zks_op_write.c create*, delete, setData, setACL, check, multi, sync,
 *                  reconfig
 *   zks_op_watch.c setWatches(2), addWatch, removeWatches, checkWatches
 *   zks_op_auth.c  auth (digest), whoAmI, the peer's ip identity
 *   zks_watch.c    the watch manager fed by qcore_subscribe
 *   zks_4lw.c      the four-letter words, and the figures of mntr
 *   zks_metrics.c  the same figures for Prometheus (GET /metrics)
 *   zks_backup.c   QOP_BACKUP, quorumfs's online backup
 *
 * Everything runs on the daemon's libevent loop; nothing locks.
 *
 * Wire frames (ZooKeeper's ClientCnxn/NIOServerCnxn): every message is a
 * big-endian int32 length followed by that many bytes. Client to server:
 * first a ConnectRequest (no RequestHeader), then RequestHeader{xid,type} +
 * body. Server to client: first a ConnectResponse, then ReplyHeader{xid,
 * zxid, err} + body (body omitted when err != 0, except for multi).
 * Notifications have xid -1, pings xid -2, auth xid -4, setWatches xid -8.
 */
#ifndef QFS_ZKS_INT_H
#define QFS_ZKS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "acl.h"
#include "buf.h"
#include "jute.h"
#include "tree.h"
#include "txn.h"
#include "zks.h"

struct bufferevent;
struct sockaddr;
struct event;
struct evhttp;
struct evconnlistener;
struct zks_watches;
struct zks_sasl;
struct zks_backup;

/* Work one request does before the loop serves others (setWatches). */
#define ZKS_SLICE_ITEMS 2000
#define ZKS_SLICE_US	5000
/* Slack above jute.maxbuffer for the headers around a value: a frame may
 * be this much longer than jute.maxbuffer (ZooKeeper's extrasize). */
#define ZKS_FRAME_SLACK 1024
/* Defaults: requests queued on one connection before we stop reading its
 * socket, and watches one connection may hold (so a misbehaving client
 * cannot eat the daemon's memory). */
#define ZKS_MAX_OUTSTANDING 1000
#define ZKS_MAX_WATCHES	    100000
/* A connection that has not completed its handshake after this long is
 * closed (ZooKeeper's zookeeper.nio.sessionlessCnxnTimeout). */
#define ZKS_SESSIONLESS_TIMEOUT_MS 10000
/* Output queued to a client that does not read before we stop reading it. */
#define ZKS_MAX_PENDING_OUT (16u * 1024 * 1024)

/* Notification and special xids (ClientCnxn). */
#define ZKS_XID_NOTIFICATION (-1)
#define ZKS_XID_PING	     (-2)
#define ZKS_XID_AUTH	     (-4)
#define ZKS_XID_SETWATCHES   (-8)

/* Watcher.Event.EventType */
enum zks_event_type {
	ZKS_EV_NONE = -1,
	ZKS_EV_CREATED = 1,
	ZKS_EV_DELETED = 2,
	ZKS_EV_DATA = 3,
	ZKS_EV_CHILDREN = 4,
};

/* Watcher.Event.KeeperState */
#define ZKS_STATE_SYNC_CONNECTED 3
#define ZKS_STATE_EXPIRED	 (-112)

/* Kinds of watch one connection holds on one path (a bit set). */
#define ZKS_W_DATA	0x1 /* getData/exists one-shot */
#define ZKS_W_CHILD	0x2 /* getChildren one-shot */
#define ZKS_W_PERSIST	0x4 /* addWatch PERSISTENT */
#define ZKS_W_RECURSIVE 0x8 /* addWatch PERSISTENT_RECURSIVE */

/* WatcherType of removeWatches/checkWatches. */
#define ZKS_WT_CHILDREN		    1
#define ZKS_WT_DATA		    2
#define ZKS_WT_ANY		    3
#define ZKS_WT_PERSISTENT	    4
#define ZKS_WT_PERSISTENT_RECURSIVE 5

/*
 * A latency summary (zks_latency.c): count, sum, min and max since the
 * start or srst, and quantiles over the last ZKS_LAT_WINDOW_MS in
 * ZKS_LAT_AGES steps. Loop thread only.
 */
#define ZKS_LAT_WINDOW_MS 600000
#define ZKS_LAT_AGES	  5
#define ZKS_LAT_BUCKETS	  1152
struct zks_lat {
	uint64_t count, sum_us;
	int64_t min_us, max_us; /* min_us < 0: none yet */
	int64_t step_start_ms;	/* when hist[cur] began */
	unsigned cur;
	uint32_t hist[ZKS_LAT_AGES][ZKS_LAT_BUCKETS];
};
void zks_lat_reset(struct zks_lat *l, int64_t now_ms);
void zks_lat_add(struct zks_lat *l, int64_t us, int64_t now_ms);
/* out_us[j] = the q[j] quantile over the window (q ascending), 0 if empty. */
void zks_lat_quantiles(const struct zks_lat *l, int64_t now_ms, const double *q, size_t n,
		       int64_t *out_us);

struct zk_server {
	struct qcore *core;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *scan_ev; /* periodic expiry scan */
	/* Options, copied (strings owned). */
	int max_client_cnxns;
	unsigned max_outstanding;
	unsigned max_watches;
	int32_t max_buffer;
	char *whitelist;
	char *super_digest;
	char *sasl_users; /* "user:password,..." for SASL DIGEST-MD5, or NULL */
	const struct qfs_config *cfg; /* borrowed from the caller */
	int port;
	TAILQ_HEAD(, zks_conn) conns;
	unsigned n_conns;
	/* Connections with replies to write at the end of this loop round
	 * (zks_conn.c, out_flush). */
	TAILQ_HEAD(, zks_conn) out_q;
	struct event *out_ev;
	struct zks_watches *watches;
	/* Figures for srvr/stat/mntr, reset by crst (latency) */
	uint64_t packets_received;
	uint64_t packets_sent;
	int64_t lat_min_us, lat_max_us, lat_sum_us;
	uint64_t lat_count;
	/* ZooKeeper's readlatency and updatelatency: replies to reads, and
	 * to writes (zks_op_is_write), answered on this server. */
	struct zks_lat read_lat, update_lat;
	int64_t started_ms;
	int subscribed;
	/* The last createSession failed (full disk, no quorum): isro says
	 * "ro" until one succeeds. */
	int degraded;
	uint64_t ro_sessions; /* read-only session ids handed out */
	struct evhttp *metrics; /* GET /metrics (zks_metrics.c), or NULL */
	struct evhttp *admin;	/* the admin commands (zks_admin.c), or NULL */
	char *admin_url;	/* their URL prefix, no trailing slash */
};

enum zks_conn_state {
	ZKS_CONN_NEW,	   /* expecting ConnectRequest or a four-letter word */
	ZKS_CONN_OPENING,  /* createSession submitted */
	ZKS_CONN_OPEN,	   /* session established */
	ZKS_CONN_DRAINING, /* flush what is queued, then close */
};

enum zks_req_state {
	ZKS_REQ_WAITING,   /* a read behind this session's outstanding writes */
	ZKS_REQ_SUBMITTED, /* in the core (write, sync, closeSession) */
	ZKS_REQ_DONE,	   /* reply (or notification) encoded, not yet sent */
};

struct zks_conn;

/*
 * One entry in a connection's reply queue: a request, or a notification
 * that must leave between two replies. Owned by the connection's queue.
 */
struct zks_req {
	TAILQ_ENTRY(zks_req) link;
	struct zks_conn *conn;
	enum zks_req_state state;
	int32_t xid;
	int32_t type;
	int32_t err;		/* ReplyHeader.err */
	int64_t zxid;		/* ReplyHeader.zxid */
	int always_body;	/* send the body even with err != 0 (multi) */
	int close_after;	/* closeSession: close the connection once sent */
	struct jute_request jr; /* the decoded request, owned */
	struct zreq *multi_ops; /* a multi's ops, borrowing from jr; owned */
	struct buf body;	/* the reply body, or a whole frame if raw */
	int raw;		/* body is a complete frame (notification) */
	int64_t start_us;
	/* A request worked on in slices (setWatches): everything behind it
	 * waits, writes too, until it is DONE; slice_ev continues it. */
	int sliced;
	size_t slice_pos;
	struct event *slice_ev;
};

TAILQ_HEAD(zks_req_queue, zks_req);

struct zks_conn {
	TAILQ_ENTRY(zks_conn) link;
	struct zk_server *srv;
	struct bufferevent *bev;
	enum zks_conn_state state;
	int dead;      /* closed; freed when refs reaches 0 */
	unsigned refs; /* 1 for the socket + 1 per core callback pending */
	int reading;   /* EV_READ enabled */
	int out_queued; /* on srv->out_q */
	TAILQ_ENTRY(zks_conn) out_link;
	char ip[64];   /* peer address, no port */
	char peer[80]; /* "ip:port" */
	int64_t session_id;
	int32_t timeout_ms;
	int old_client;	     /* ConnectRequest without the readOnly byte */
	int can_be_ro;	     /* ConnectRequest.readOnly: a read-only session will do */
	int read_only;	     /* a read-only local session (zks_session.c) */
	int closing_session; /* closeSession submitted: no Expired event */
	struct zauth auth;
	struct zks_sasl *sasl; /* a SASL exchange under way or done, or NULL */
	struct zks_backup *backup; /* a backup being read (zks_backup.c), or NULL */
	struct zks_req_queue queue;
	unsigned n_queued;
	unsigned n_submitted;
	unsigned n_watches;
	int watch_limit_logged; /* the clientMaxWatches warning was logged */
	/* The request whose handler is running now, when all before it are
	 * DONE: notifications go just before it without walking the queue. */
	struct zks_req *running;
	/* cons figures */
	uint64_t received, sent;
	int32_t last_cxid;
	int64_t last_zxid;
	int32_t last_op;
	int64_t last_resp_ms, last_lat_us, min_lat_us, max_lat_us, sum_lat_us;
	uint64_t n_lat;
	int64_t established_ms;
	int64_t last_rx_ms; /* last frame received (a read-only session's clock) */
};

/* zks_listen.c */
int64_t zks_now_ms(void);
int64_t zks_now_us(void);

/* zks_conn.c */
/* srv->out_ev's callback: write what the queued connections hold. */
void zks_conn_out_flush(evutil_socket_t fd, short what, void *arg);
/* Takes ownership of fd. Returns 0 or -errno (fd closed then). */
int zks_conn_accept(struct zk_server *s, int fd, const struct sockaddr *sa, int salen);
/* Close now: drop queued replies, watches, the socket. reason is logged. */
void zks_conn_close(struct zks_conn *c, const char *reason);
/* Send what is queued, then close. */
void zks_conn_drain(struct zks_conn *c);
/* A stat in a reply: as ZooKeeper shows it (tree.h's zstat_shown), never
 * as stored. Every reply that carries a stat goes through here. */
static inline void zks_put_stat(struct buf *b, const struct zstat *st)
{
	struct zstat shown = zstat_shown(st);

	jute_put_stat(b, &shown);
}

/* Append a complete frame (length prefix included) to the socket, bypassing
 * the queue: the ConnectResponse and four-letter-word answers. */
int zks_conn_write_frame(struct zks_conn *c, const void *p, size_t n);
/* Free an entry no longer in any queue. */
void zks_req_free(struct zks_req *r);
/* New queue entry at the tail. NULL on ENOMEM. */
struct zks_req *zks_req_new(struct zks_conn *c, int32_t xid, int32_t type);
/* Queue a notification at the right place (see zks_conn.c). Returns 0 or
 * -ENOMEM. */
int zks_conn_notify(struct zks_conn *c, int32_t type, int32_t state, const char *path);
/* Pause or resume reading the socket (throttling, the handshake). */
void zks_conn_set_reading(struct zks_conn *c, int on);
/* Send the finished prefix of the queue, and nothing else: safe while the
 * core is in the middle of applying a transaction. */
void zks_conn_flush(struct zks_conn *c);
/* Run waiting requests that may now run, send the finished prefix, resume
 * reading a throttled socket. */
void zks_conn_progress(struct zks_conn *c);
void zks_conn_ref(struct zks_conn *c);
/* Returns 1 if the connection was freed. */
int zks_conn_unref(struct zks_conn *c);

/* zks_session.c */
/* The first frame. Returns 0 or -EPROTO (close the connection). */
int zks_session_connect(struct zks_conn *c, const uint8_t *p, size_t n);
/* The session ended under a live connection: Expired event and close. */
void zks_session_expired(struct zks_conn *c);
int zks_op_ping(struct zks_req *r);
int zks_op_close_session(struct zks_req *r);
/* Is a request of this type refused on a read-only session (ZNOTREADONLY)? */
int zks_session_ro_refuses(int32_t type);
/* Periodic: connections whose session the core has ended. */
void zks_session_scan(struct zk_server *s);

/*
 * zks_dispatch.c. An opcode handler reads its decoded request r->jr and either
 * finishes (fills r->err/r->zxid/r->body; returns ZKS_DONE), or submits to
 * the core and returns ZKS_PENDING (the callback finishes it later), or
 * returns -EPROTO for a malformed request (the connection is closed).
 */
#define ZKS_DONE    0
#define ZKS_PENDING 1
typedef int (*zks_op_fn)(struct zks_req *r);
/* A frame after the handshake. Returns 0 or -EPROTO/-ENOMEM. */
int zks_dispatch_frame(struct zks_conn *c, const uint8_t *p, size_t n);
/* Run a queued request (now, or later once it is no longer WAITING). */
int zks_dispatch_run(struct zks_req *r);
/* Completion of a submitted request: the core callback's shared tail. */
void zks_req_finish(struct zks_req *r);
const char *zks_op_name(int32_t type);
/* Is this opcode a write that goes through the core? */
int zks_op_is_write(int32_t type);

/* zks_op_read.c */
int zks_op_exists(struct zks_req *r);
int zks_op_get_data(struct zks_req *r);
int zks_op_get_children(struct zks_req *r);
int zks_op_get_acl(struct zks_req *r);
int zks_op_get_ephemerals(struct zks_req *r);
int zks_op_get_all_children_number(struct zks_req *r);
int zks_op_multi_read(struct zks_req *r);

/* zks_op_write.c */
int zks_op_create(struct zks_req *r);
int zks_op_delete(struct zks_req *r);
int zks_op_set_data(struct zks_req *r);
int zks_op_set_acl(struct zks_req *r);
int zks_op_check(struct zks_req *r);
int zks_op_multi(struct zks_req *r);
int zks_op_sync(struct zks_req *r);
int zks_op_reconfig(struct zks_req *r);

/* zks_op_watch.c */
int zks_op_set_watches(struct zks_req *r);
int zks_op_add_watch(struct zks_req *r);
int zks_op_remove_watches(struct zks_req *r);

/* zks_op_auth.c */
/* auth runs when received (later writes carry the new identity). */
int zks_op_auth(struct zks_req *r);
int zks_op_whoami(struct zks_req *r);
/* The ("ip", peer) identity every connection has. Returns 0 or -ENOMEM. */
int zks_auth_init(struct zks_conn *c);

/* zks_sasl.c */
int zks_op_sasl(struct zks_req *r);
void zks_sasl_free(struct zks_sasl *x);

/* zks_backup.c */
int zks_op_backup(struct zks_req *r);
void zks_backup_free(struct zks_backup *b);

/* zks_watch.c */
struct zks_watches *zks_watches_new(void);
void zks_watches_free(struct zks_watches *w);
/* Returns ZOK, ZKS_WATCH_FULL (limit reached) or -ENOMEM. */
#define ZKS_WATCH_FULL 1
int zks_watch_add(struct zks_watches *w, const char *path, struct zks_conn *c,
		  unsigned kind);
/* Remove (or with check_only, look for) c's watches of WatcherType wtype on
 * path. ZOK, or ZNOWATCHER if there was none. */
int zks_watch_remove(struct zks_watches *w, const char *path, struct zks_conn *c,
		     int wtype, int check_only);
void zks_watch_drop_conn(struct zks_watches *w, struct zks_conn *c);
/* The core's subscription callback (arg: the server). */
void zks_watch_on_change(void *arg, const struct tree_event *ev);
/* (path, connection, kind) triples, for mntr's zk_watch_count. */
size_t zks_watch_total(const struct zks_watches *w);
/*
 * ZooKeeper's wchs, wchc and wchp (and the admin commands watch_summary,
 * watches, watches_by_path) show its data watches only: getData's,
 * exists' and addWatch's, not getChildren's. Is a watch with these kinds
 * one? The summary: connections with one, paths with one, and (path,
 * connection) pairs. 0, or -ENOMEM.
 */
int zks_watch_is_data(unsigned kinds);
int zks_watch_data_summary(const struct zks_watches *w, size_t *conns, size_t *paths,
			   size_t *total);
/* Calls fn(arg, path, conn, kinds) for every watch. */
void zks_watch_foreach(const struct zks_watches *w,
		       void (*fn)(void *arg, const char *path, struct zks_conn *c,
				  unsigned kinds),
		       void *arg);

/* zks_4lw.c */
/* Is this length word a four-letter word ("ruok" read as an int32)? */
int zks_4lw_is(uint32_t word);
/* Answer it and drain the connection. */
void zks_4lw_run(struct zks_conn *c, uint32_t word);

/*
 * The figures mntr prints and /metrics exports (zks_metrics.c), read in one
 * place so that the two never disagree. A name is mntr's without its "zk_"
 * prefix, which is also the name ZooKeeper's Prometheus provider gives it.
 */
enum zks_fig_kind {
	ZKS_FIG_GAUGE,	 /* a value now */
	ZKS_FIG_COUNTER, /* only grows (since start; crst resets latency only) */
	ZKS_FIG_ZXID,	 /* a gauge mntr prints in hex */
	ZKS_FIG_MS,	 /* us holds microseconds; mntr prints whole milliseconds */
	ZKS_FIG_AVG_MS,	 /* ms holds milliseconds; mntr prints 4 decimals */
	ZKS_FIG_SUMMARY, /* lat: mntr prints avg/min/max/cnt/sum/p50..p999 */
};
struct zks_fig {
	const char *name;
	enum zks_fig_kind kind;
	int64_t v;
	double ms;
	const struct zks_lat *lat; /* ZKS_FIG_SUMMARY; borrowed */
};
#define ZKS_FIGS_MAX 48
/* Fills out (ZKS_FIGS_MAX entries) and returns how many. */
size_t zks_figures(const struct zk_server *s, struct zks_fig *out);
/* The version string mntr and envi give, and /metrics labels. */
extern const char zks_version[];

/* Shared by the four-letter words and the admin commands (zks_4lw.c). */
unsigned zks_outstanding(const struct zk_server *s);
/* Bytes in the regular files under dir, two levels down; 0 for NULL. */
uint64_t zks_dir_size(const char *dir, int depth);
void zks_reset_conn_stats(struct zk_server *s);   /* crst */
void zks_reset_server_stats(struct zk_server *s); /* srst */

/* zks_admin.c */
/* Serve ZooKeeper's admin commands under url on host:port. 0, or a
 * negative errno with errbuf set. */
int zks_admin_start(struct zk_server *s, const char *host, int port, const char *url,
		    char *errbuf, size_t errlen);
void zks_admin_stop(struct zk_server *s);

/* zks_metrics.c */
/* Serve GET /metrics on host:port. 0, or a negative errno with errbuf set. */
int zks_metrics_start(struct zk_server *s, const char *host, int port, char *errbuf,
		      size_t errlen);
void zks_metrics_stop(struct zk_server *s);

#endif
