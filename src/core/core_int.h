/*
 * core_int.h - the core's private state, shared by core.c (open, close,
 * subscribers, figures), core_submit.c (the pipeline), core_apply.c (the
 * committed log into the tree), core_repl.c (the replica: consensus node,
 * log store, transport, ticks), core_recover.c, core_snap.c (snapshots and
 * purge), core_session.c and reaper.c. Nothing outside libqcore includes
 * this.
 *
 * THE PIPELINE. Every write becomes a log entry (consensus/cons.h) whose
 * payload is an entry header (origin server id, request id, kind; see
 * core_entry_* below) followed by a txn_encode() record. The leader
 * prepares requests against the tree as it will be (struct prep), assigns
 * them the zxids the consensus core will give them (cons_node_next_zxid),
 * and proposes one batch per loop turn (one log append, one fsync, shared
 * by all requests of the turn). Every member applies committed entries in
 * zxid order (core_apply.c); the member a request came from (its origin)
 * then completes it.
 *
 * The origin keeps one FIFO of items in submission order. An item is a
 * transaction waiting for its entry to be applied (QI_TXN), a result known
 * at submit time (QI_RESULT: a failed prepare on this leader, closing,
 * no quorum) or a sync marker (QI_MARKER). The drain completes items from
 * the head as they are ready, so a request completes after every request
 * submitted before it: FIFO per session for free.
 *
 * INVARIANTS (fatal in every build, as a replica that broke one would
 * differ from the others):
 *   - entries are applied once each, in zxid order: an entry's zxid is above
 *     c->applied and its txn's zxid is the entry's;
 *   - a committed transaction fits the tree (tree_apply returns ZOK);
 *   - this server's request ids in applied entries grow (entries it proposed
 *     are applied in the order it submitted them).
 *
 * OWNERSHIP: struct qcore owns the tree, prep, the replica (node, store,
 * transport, timers), the session clock and every queued item; items own
 * their result until their done callback has run.
 */
#ifndef QFS_CORE_INT_H
#define QFS_CORE_INT_H

#include <sys/types.h>

#include "buf.h"
#include "cons.h"
#include "core.h"
#include "core_format.h"
#include "session.h"

#define CORE_MAX_SUBS 8

struct cons_node;
struct logstore;

enum qitem_kind {
	QI_TXN,	   /* waiting for its entry to be applied (or to fail) */
	QI_RESULT, /* a result known at submit time */
	QI_MARKER, /* qcore_sync */
};

struct qitem {
	struct qitem *next;
	enum qitem_kind kind;
	uint64_t reqid; /* QI_TXN: the request id in its entry's header */
	zxid_t zxid;	/* QI_TXN: the zxid it was prepared as (here), or 0 */
	int back;	/* QI_TXN: applied or failed; res holds the outcome */
	int sync;	/* QI_TXN: a sync, waiting for its void entry */
	/* Held: no leader to take it yet. fwd holds the request (core_req.h)
	 * until it is prepared here or forwarded. */
	int held;
	int64_t held_since;
	int64_t hold_ms; /* how long it may wait for a leader */
	int forwarded;	 /* sent to the leader at held_since */
	int wait_apply;	 /* sync: read index known (zxid), waiting to apply it */
	struct buf fwd;
	struct zresult res;
	qcore_done_fn done;
	void *arg;
};

struct qcore_sub {
	tree_listener_fn fn;
	void *arg;
};

/* ---- entry payloads ---- */

/* enum core_entry_kind and CORE_ENTRY_HDR: core_format.h (quorumadm reads
 * them too). */

/* Write the header at p (CORE_ENTRY_HDR bytes). */
void core_entry_hdr(uint8_t *p, uint8_t kind, uint32_t origin, uint64_t reqid);
/* Parse a payload's header: 0, or -EBADMSG when too short or unknown. */
int core_entry_parse(const uint8_t *p, size_t len, uint8_t *kind, uint32_t *origin,
		     uint64_t *reqid);

/* A range of zxids whose entries are void (CE_NOP) whatever they carry. */
struct core_void {
	zxid_t lo, hi;
};

struct qcore {
	struct qcore_opts o; /* defaults filled in; data_dir points at dir */
	char *dir;
	struct event_base *base;
	int lock_fd;

	struct tree *tree;
	struct prep *prep;
	struct sesstrack *sess;

	/* The ensemble (copied from the options), then the configuration in
	 * force (core_members.c): a reconfig may leave one member, or none
	 * but others when this server is removed. */
	struct cons_member members[CONS_MAX_MEMBERS];
	unsigned n_members;
	/* Opened as a one-member ensemble (no server.N lines, or one): no
	 * transport, no peers, no reconfig, and "standalone" in srvr. Fixed
	 * at open; n_members == 1 does not imply it, as a member of an
	 * ensemble that a reconfig left alone is still one, and leads it. */
	int standalone;
	uint32_t self;
	/* Requests each member forwarded to this leader (qcore_learners),
	 * by id; a slot is taken on a member's first request. */
	struct {
		uint32_t id;
		uint64_t n;
	} fwd_from[CONS_MAX_MEMBERS];

	/* The replica (core_repl.c). */
	struct logstore *ls;	   /* owned by store once wrapped */
	/* What the log held when core_recover opened it, before choosing
	 * the snapshot: every entry above log_compacted (its
	 * meta.snapshot_zxid) is there, up to log_last (0: empty). */
	zxid_t log_compacted;
	zxid_t log_last;
	struct cons_store *lsc;	   /* logstore_cons over ls */
	struct cons_store store;   /* the shim the node uses (core_store.c) */
	struct cons_transport *tr; /* the null transport for one member */
	struct transport *tpt;	   /* owned by tr (several members) */
	struct cons_node *node;
	struct event *cons_tick_ev; /* ticks the node */
	int tick_ms;		    /* its period */
	int64_t fast_until;	    /* ticking every few ms until then (peer_changed) */
	int64_t birth_since;	    /* waiting for every voter since (birth_note) */
	uint32_t birth_logged;	    /* the member the last warning named */
	struct event *flush_ev;	    /* proposes the batch */
	struct event *release_ev;   /* core_release, outside node callbacks */
	enum cons_state role;
	uint32_t role_epoch;
	uint32_t leader;
	uint32_t ready_epoch; /* the newest epoch whose EPOCH entry was applied */
	int store_closed;

	/* The batch prepared this loop turn, proposed by flush_ev: payloads
	 * back to back in batch, their lengths in batch_len. */
	struct buf batch;
	struct buf batch_spare; /* the other of core_flush's two buffers */
	uint32_t *batch_len;
	size_t batch_n, batch_cap;
	zxid_t batch_first; /* the zxid the batch's first entry was given */

	/* Requests forwarded to this leader before it was ready (it had not
	 * applied every older epoch yet): prepared once it is. */
	struct buf lq;
	size_t lq_n;
	uint64_t held;	 /* items held at this origin */
	int64_t hold_ms; /* how long a request waits for a leader */
	/* Sessions touched here since the last report to the leader. */
	int64_t *touched;
	size_t n_touched, cap_touched;
	struct event *touch_ev;
	uint64_t pending_syncs;
	uint64_t n_wait_apply; /* syncs waiting for their read index to apply */

	/* Writes the log lost (one member only, see core_store.c). */
	struct core_void *voids;
	size_t n_voids, cap_voids;

	/* The pipeline. */
	zxid_t applied;	      /* newest entry applied (txn or void) */
	/* The newest epoch entry applied. It takes no place in the tree
	 * (applied skips it), but it is a log entry like any other: a read
	 * index naming it (a new leader's first commit, on a cluster with no
	 * write since) is reached once it is applied. */
	zxid_t epoch_applied;
	zxid_t last_prepared; /* leader: newest txn this core prepared */
	uint64_t next_reqid;  /* from the wall clock at start: unique across runs */
	struct qitem *head, **tail;
	uint64_t outstanding; /* QI_TXN items submitted, not yet back */
	int draining;
	int closing;
	int io_errno;	     /* of the last failed log write (ENOSPC, EIO) */
	int io_dead;	     /* EIO: the log is not trusted until restart */
	uint64_t log_failed; /* writes failed by the log (voided) */

	struct event *drain_ev;
	struct event *tick_ev;
	struct event *reap_ev;
	struct event *purge_ev;

	struct qcore_sub subs[CORE_MAX_SUBS];
	int nsubs;

	/* Snapshots. */
	uint64_t since_snap;
	uint64_t snapshots;
	zxid_t snap_zxid; /* of the newest snapshot on disk */
	pid_t snap_pid;	  /* the child writing one, or 0 */
	zxid_t snap_pending;
	int64_t snap_retry_ms; /* core_mono_ms before which none is tried */
	int snap_fd;
	struct event *snap_ev;
	char snap_msg[512];
	size_t snap_msg_len;
	struct core_backup *backups; /* running online backups (core_backup.c) */

	int64_t last_tick_ms; /* the session clock's previous tick (stall guard) */
	uint64_t txns;
	/* Committed entries that did not fit this member's tree and were
	 * skipped (core_apply.c), and the newest of them. */
	uint64_t apply_failed;
	zxid_t apply_failed_zxid;
	/* Test hook: QUORUMFS_FAULT_SKIP_CREATE (core_apply.c); NULL = off. */
	const char *fault_skip_create;
	int reaping; /* reaper deletes in flight */

	/* A snapshot being received from the leader (core_install.c). */
	int recv_fd;
	zxid_t recv_zxid;

	/* The continuous archive (core_archive.c), or NULL. */
	struct core_archive *arch;

	/* Membership changes, addresses, /zookeeper/config (core_members.c). */
	struct core_members *mb;

	/* Sessions expired in this member's view without a leader
	 * (core_view.c). */
	int64_t *view_local; /* sessions touched here */
	size_t n_view_local, cap_view_local;
	int64_t leaderless_since; /* monotonic ms; 0 = a leader is known */
	int view_diverged;	  /* the tree is not the log's at applied */
};

/* The auth of the server's own transactions (expiry, reaping): super. */
extern const struct zauth core_server_auth;

int64_t core_wall_ms(void);
int64_t core_mono_ms(void);

/* Queue a write (see qcore_submit), as server or session. 0 or -ENOMEM. */
int core_submit(struct qcore *c, int64_t session_id, int32_t cxid, const struct zreq *req,
		const struct zauth *auth, qcore_done_fn done, void *arg);
/* Run the drain from the loop soon (never from the caller's stack). */
void core_kick(struct qcore *c);
/* Complete what is at the FIFO head and ready. */
void core_drain(struct qcore *c);
void qitem_free(struct qitem *it);
/* Fail every QI_TXN item not yet back with err (ZSYSTEMERROR, ZCLOSING,
 * ZCONNECTIONLOSS) and drop the prepared state above the applied tree. */
int core_fail_outstanding(struct qcore *c, int err); /* how many */
/* Propose the batch now (flush_ev's work). */
void core_flush(struct qcore *c);
/* A leader may have become ready, or a leader become known, or time
 * passed: prepare or forward what is held, fail what waited too long. */
void core_release(struct qcore *c);
/* core_release from the loop soon (from inside a node callback, where a
 * forward would be queued and could not fail). */
void core_release_soon(struct qcore *c);
/* The leader prepares requests forwarded by server `from` (the node's
 * forwarded callback); queued while it is not ready yet. */
/* Counts n requests forwarded by member from (qcore_learners). */
void core_count_forwarded(struct qcore *c, uint32_t from, size_t n);
void core_forwarded(struct qcore *c, uint32_t from, const struct cons_payload *p,
		    size_t n);
/* Leader: answer request reqid of server origin that left no entry of its
 * own (a reconfig): an entry of no effect, CE_NOP for ZOK, CE_ERR with err
 * otherwise, applied at the origin after everything before it. Dropped
 * (logged) when this server no longer leads: the origin hears of the
 * leader change. */
void core_answer(struct qcore *c, uint32_t origin, uint64_t reqid, int err);
/* A read index came back (the node's read_ready; core_submit.c). */
void core_read_ready(struct qcore *c, uint64_t token, zxid_t read_zxid, int status);
/* Complete the syncs whose read index is applied now. */
void core_syncs_applied(struct qcore *c);
/* This leader applied every older epoch: sessions get a full timeout,
 * held and forwarded requests are prepared (core_session.c). */
void core_leader_became_ready(struct qcore *c);
/* The leader changed (or this server lost the leadership): fail what was
 * handed to the old one, keep what is held. */
void core_leader_changed(struct qcore *c);

/* Apply committed entries (the node's apply callback; core_apply.c). */
void core_apply(struct qcore *c, const struct cons_entry *e, size_t n);
/* Replay entries at start (one member: every durable entry is committed). */
int core_apply_replay(struct qcore *c, const struct cons_entry *e, size_t n, char *errbuf,
		      size_t errlen);
/* Is zxid in a void range? */
int core_is_void(const struct qcore *c, zxid_t z);

/* The replica (core_repl.c): open the log store, recover, start the node.
 * 0 or a negative errno with errbuf set. */
int core_repl_open(struct qcore *c, char *errbuf, size_t errlen);
/* Stop feeding the node; close the store (its completions run first). */
void core_repl_stop(struct qcore *c);
void core_repl_free(struct qcore *c);
/* Is an authenticated connection to server id up? */
int core_peer_up(const struct qcore *c, uint32_t id);
/* Is this server the leader, with every older epoch applied? */
int core_leader_ready(const struct qcore *c);

/* Changes to the subscribers (core.c); the tree's listener. */
void core_emit(struct qcore *c, const struct tree_event *ev);
void core_tree_listener(void *arg, const struct tree_event *ev);

/* Snapshots in chunks for the node (core_install.c; see cons_node.h). */
int core_snap_open(struct qcore *c, zxid_t *zxid, uint64_t *total);
int core_snap_read(struct qcore *c, zxid_t zxid, uint64_t offset, uint8_t *buf,
		   uint32_t len);
int core_snap_begin(struct qcore *c, zxid_t zxid, uint64_t total);
int core_snap_write(struct qcore *c, zxid_t zxid, uint64_t offset, const uint8_t *data,
		    uint32_t len);
int core_snap_finish(struct qcore *c, zxid_t zxid);
/* Make nw (with c->applied's state) the tree, telling the subscribers the
 * difference from the old one, which is freed (core_install.c). */
void core_tree_swap(struct qcore *c, struct tree *nw);
/* core_view.c: a session touched here; the session clock's tick; a leader
 * heard again (before anything of it is applied). */
void core_view_local(struct qcore *c, int64_t id);
void core_view_tick(struct qcore *c, int64_t now);
void core_view_rejoin(struct qcore *c);

/* The store shim over logstore_cons (core_store.c). */
void core_store_init(struct qcore *c);

/* Recover the tree from dir: checks the dataDir's format, opens the log
 * (ls), and sets tree, prep, snap_zxid and applied from the newest
 * snapshot the log continues (a repair plan when one is damaged). 0 or a
 * negative errno with errbuf set. */
int core_recover(struct qcore *c, char *errbuf, size_t errlen);
/* The check of the dataDir format this build writes (CORE_DATA_FORMAT,
 * core_format.h). */
int core_format_check(const char *dir, char *errbuf, size_t errlen);

/*
 * fork() for a child that writes SQLite files from the tree's image (a
 * snapshot, a backup): first waits (briefly) for the log store's writer
 * thread to be outside SQLite and keeps it there across the fork, so the
 * child cannot find a SQLite mutex held. Returns the pid in the parent, 0
 * in the child, or a negative errno (-ETIMEDOUT: the writer stayed in one
 * transaction too long; try again later).
 */
pid_t core_fork(struct qcore *c);

/* Start a background snapshot if snap_count transactions went by. */
void core_snap_maybe(struct qcore *c);
/* Wait for / stop a running snapshot child (close). */
void core_snap_stop(struct qcore *c);
/* dir/CLUSTER (if any) names cluster_name (NULL: "quorumfs")? 0, or
 * -EINVAL / -EBADMSG with errbuf saying which clusters (core_cluster.c). */
int core_cluster_check(const char *dir, const char *cluster_name, char *errbuf,
		       size_t errlen);
/* Kill running backups; their callbacks hear -ECANCELED (quiesce). */
void core_backup_stop(struct qcore *c);
/* Keep snap_retain snapshots and the log they need; delete the rest. */
void core_purge(struct qcore *c);
/* With purge_interval_h, purge on that timer instead of after snapshots. */
int core_purge_timer_start(struct qcore *c);

/*
 * The continuous archive (core_archive.c; nothing without archive_dir).
 * open: start the archiver after the replica is open; applied: publish
 * c->applied (after each applied batch); kick: a snapshot was written;
 * keep: how far the log may be compacted (z held back to the last
 * archived entry); hold/release: keep the archiver out of SQLite across
 * a fork (0 or -ETIMEDOUT); close: archive what is applied, stop.
 */
int core_archive_open(struct qcore *c, char *errbuf, size_t errlen);
void core_archive_applied(struct qcore *c);
void core_archive_kick(struct qcore *c);
zxid_t core_archive_keep(struct qcore *c, zxid_t z);
int core_archive_hold(struct qcore *c, int timeout_ms);
void core_archive_release(struct qcore *c);
void core_archive_close(struct qcore *c);

/* Session side effects of an applied transaction. */
void core_session_applied(struct qcore *c, const struct ztxn *txn, struct zresult *res);
/* Arm the expiry timer and track the sessions found in the tree. */
int core_session_start(struct qcore *c);

/* Arm the reaper timer. */
int reaper_start(struct qcore *c);

/* Membership (core_members.c). open: the address book from the options,
 * before the replica starts; start: once the node runs; free: fails what
 * is pending (ZCLOSING). The rest are the node's callbacks and hooks. */
int core_members_open(struct qcore *c);
int core_members_start(struct qcore *c);
void core_members_free(struct qcore *c);
int core_members_snap_config(struct qcore *c, zxid_t zxid, const uint8_t *conf,
			     uint32_t len);
int core_members_boot_config(struct qcore *c, const uint8_t **conf, uint32_t *len);
void core_members_config(struct qcore *c, zxid_t version, int status);
/* A CONFIG entry is applied (core_apply.c): 0, or -EBADMSG when it does
 * not decode (nothing changed then). */
int core_members_applied(struct qcore *c, const struct cons_entry *e);
/* The role changed (h_role), the leader became ready, the tick. */
void core_members_role(struct qcore *c, enum cons_state s);
void core_members_leader_ready(struct qcore *c);
void core_members_tick(struct qcore *c);
/* A snapshot of the applied state at zxid is being written: keep the
 * configuration as of it beside it. */
void core_members_snap_taken(struct qcore *c, zxid_t zxid);
/* Leader: a reconfig forwarded by another member (core_req.h's
 * CR_RECONFIG; q borrowed), answered with core_answer. */
struct core_req;
void core_members_forwarded(struct qcore *c, const struct core_req *q);
/* Origin: the answer to a reconfig this server forwarded was applied (an
 * entry of no effect with this server as origin and no queued item). */
void core_members_answered(struct qcore *c, uint64_t reqid, const struct zresult *res);

#endif
