/*
 * cons_node.h - the host side of the core: carries out its actions over a
 * log store and a transport (the vtables of cons.h) and feeds their
 * completions back as events. The daemon and the simulator both run the
 * core through this, so what the simulator proves is what the daemon runs.
 *
 * Single-threaded: every call, and every store/transport callback, happens
 * on the host's loop. Callbacks that arrive while the node is carrying out
 * actions (a store that completes inside its submit call, a loopback
 * transport) are queued and fed in order once the current step is done.
 */
#ifndef QFS_CONS_NODE_H
#define QFS_CONS_NODE_H

#include "cons.h"

struct cons_node;

/* What the node needs from the state machine above it (the tree). */
struct cons_node_host {
	void *arg;
	/* The host's monotonic clock in ms. */
	uint64_t (*now)(void *arg);
	/* Apply committed entries in order (entries and data borrowed). */
	void (*apply)(void *arg, const struct cons_entry *e, size_t n);
	/* The newest durable snapshot: its zxid (0 = none) and bytes, borrowed
	 * until the next call into the node. Returns 0 or a negative errno.
	 * Not called when snap_open and snap_read are set (may be NULL then). */
	int (*snap_get)(void *arg, zxid_t *zxid, const uint8_t **blob, uint32_t *len);
	/* Replace the state by the blob and store it durably (blob borrowed).
	 * Returns 0 or a negative errno (the state is then unchanged). Not
	 * called when snap_begin, snap_write and snap_finish are set. */
	int (*snap_install)(void *arg, zxid_t zxid, const uint8_t *blob, uint32_t len);
	/* Role, epoch or leader changed. May be NULL. */
	void (*role)(void *arg, enum cons_state s, uint32_t epoch, uint32_t leader);
	/* forward_to_host: this leader's host is to prepare and propose what
	 * server `from`'s host forwarded (payloads borrowed for the call; may
	 * call cons_node_propose). May be NULL otherwise. */
	void (*forwarded)(void *arg, uint32_t from, const struct cons_payload *p,
			  size_t n);
	/* A host that prepares txns (cons_node_propose_at) and proposes them
	 * later, in batches: propose now what is prepared. Called before the
	 * node steps anything but a proposal, so no entry of the core's own
	 * takes a prepared zxid; the proposal made from here steps at once,
	 * even from inside another callback. May be NULL. */
	void (*flush)(void *arg);
	/*
	 * A cons_node_read_index(token) completed. status 0: reads the host
	 * answers for it (ZooKeeper's sync, and the reads queued behind it)
	 * are linearizable once the host has applied read_zxid: the host
	 * holds them until its apply callback has delivered read_zxid (it may
	 * already have), never answers them from an older state. Otherwise
	 * status is CONS_ENOTLEADER (no leader known, or the role, epoch or
	 * leader changed before the answer: the host fails them or asks
	 * again) or -ETIMEDOUT (the leader did not answer). Called once per
	 * token, possibly from inside cons_node_read_index. May be NULL when
	 * the host never asks.
	 */
	void (*read_ready)(void *arg, uint64_t token, zxid_t read_zxid, int status);
	/*
	 * This server leads `epoch` and has applied every entry of the
	 * earlier epochs (its epoch entry is committed and applied): from now
	 * on, not before, it may prepare requests against its state, e.g.
	 * those forwarded to it (forwarded callback) that it held meanwhile.
	 * Called once per leadership, right after the apply callback that
	 * delivered the epoch entry. A host that prepares must hold (not
	 * prepare, not fail) forwarded requests until then, and drop what it
	 * holds when the role callback reports it no longer leads. May be
	 * NULL for a host that proposes payloads needing no preparation.
	 */
	void (*prepare_ready)(void *arg, uint32_t epoch);
	/*
	 * Snapshots in chunks (cons_snapshot.c), so that no snapshot is ever
	 * in one buffer: set all five, or none (the node then serves slices
	 * of snap_get's blob and gathers what it receives into one buffer for
	 * snap_install). All return 0 or a negative errno.
	 *
	 * Sending (leader): snap_open names the newest durable snapshot, its
	 * zxid (0 = none) and size in bytes (also used at start, instead of
	 * snap_get, for the zxid of the state the host recovered); snap_read
	 * reads len bytes at offset of the snapshot at zxid into buf (e.g.
	 * pread on the SQLite snapshot file): -ENOENT when that snapshot is
	 * gone (the core then offers the newest again).
	 *
	 * Receiving (follower): snap_begin starts a snapshot at zxid of total
	 * bytes (discard any partial one received before, e.g. truncate a
	 * temporary file); snap_write appends len bytes, offset always being
	 * what was written so far; snap_finish: those total bytes are the
	 * whole snapshot: install it as the new state, durably (fsync and
	 * rename over the live snapshot), or fail leaving the state as it
	 * was. After a failed begin or write the node does not call
	 * snap_finish for it; the transfer starts over with a new begin.
	 */
	int (*snap_open)(void *arg, zxid_t *zxid, uint64_t *total);
	int (*snap_read)(void *arg, zxid_t zxid, uint64_t offset, uint8_t *buf,
			 uint32_t len);
	int (*snap_begin)(void *arg, zxid_t zxid, uint64_t total);
	int (*snap_write)(void *arg, zxid_t zxid, uint64_t offset, const uint8_t *data,
			  uint32_t len);
	int (*snap_finish)(void *arg, zxid_t zxid);
	/*
	 * Membership (cons_config.c). All three may be NULL for a host that
	 * never changes the static configuration of cons_config.
	 *
	 * snap_config: a snapshot at zxid is about to be installed (right
	 * before snap_finish or snap_install); store `conf` (borrowed,
	 * cons_membership_encode bytes, len 0 = the static configuration)
	 * with it, durably and atomically with the snapshot. The host also
	 * keeps, for each snapshot it takes itself, the payload of the newest
	 * CONS_ENTRY_CONFIG entry it applied up to the snapshot's zxid (or
	 * what it stored with the snapshot it started from). A failure fails
	 * the install.
	 *
	 * boot_config: at start, the bytes stored with the snapshot the host
	 * recovered (borrowed until cons_node_new returns; len 0 = static).
	 *
	 * config: the (non-joint) configuration `version` was committed
	 * (status 0; read it with cons_node_membership), or, on the leader
	 * that was asked by cons_node_reconfig, the change failed (status <
	 * 0, see CONS_ACT_CONFIG in cons.h). Whether this server was added,
	 * removed, promoted or demoted comes through the role callback
	 * (CONS_FOLLOWER, CONS_OBSERVER, CONS_REMOVED).
	 */
	int (*snap_config)(void *arg, zxid_t zxid, const uint8_t *conf, uint32_t len);
	int (*boot_config)(void *arg, const uint8_t **conf, uint32_t *len);
	void (*config)(void *arg, zxid_t version, int status);
};

/*
 * Load the durable state from store, start the core and register with the
 * transport. store, transport and host are borrowed for the node's life;
 * cfg is copied. Returns 0 or a negative errno.
 *
 * Restart never goes back in time: the host first recovers its newest
 * snapshot (snap_get reports it), then, from inside this call, the apply
 * callback delivers the log's entries after the snapshot up to the commit
 * watermark the store recorded (cons.h, cons_boot), and never beyond: the
 * tail after it is applied only once a leader commits it. So the host's
 * state is ready for apply before it calls this (*out is already set when
 * apply runs), and reads served after it returns see at least what this
 * member knew committed before the crash.
 */
int cons_node_new(const struct cons_config *cfg, struct cons_store *store,
		  struct cons_transport *tr, const struct cons_node_host *host,
		  struct cons_node **out);
/* Stop feeding the core; pending store callbacks must not run afterwards
 * (close the store first). */
void cons_node_free(struct cons_node *n);

/* Call every few ms (at most heartbeat_ms/2 apart). */
int cons_node_tick(struct cons_node *n);
/* The host's connection to peer id closed (CONS_EV_PEER_DOWN): a follower
 * whose leader that is stands soon instead of after the election timeout. */
int cons_node_peer_down(struct cons_node *n, uint32_t id);
/*
 * Propose payloads (borrowed for the call): appended by the leader, or
 * (without forward_to_host) forwarded to it by a follower or observer.
 * Returns 0, CONS_ENOTLEADER (no leader known, or forward_to_host and not
 * the leader: fail the request, ZooKeeper's connection loss) or a negative
 * errno. Called from inside a host callback it queues a copy and returns 0.
 * Success means handed on, not committed: the host learns of the commit
 * when the txn (identified by its own session/cxid) is applied, and fails
 * what is outstanding when the role callback reports a change. For a read
 * barrier (ZooKeeper's sync) use cons_node_read_index, not a no-op.
 */
int cons_node_propose(struct cons_node *n, const struct cons_payload *p, size_t cnt);
/*
 * The same for txns the host prepared (forward_to_host), the first with
 * zxid `first` (cons_node_next_zxid when it was prepared), the k-th with
 * first + k. CONS_ESTALE when those are no longer the next zxids (see the
 * flush callback): nothing was appended.
 */
int cons_node_propose_at(struct cons_node *n, zxid_t first, const struct cons_payload *p,
			 size_t cnt);
/*
 * forward_to_host: send requests (borrowed) to the leader's host, whose
 * forwarded callback prepares and proposes them (on the leader itself the
 * callback runs locally). Returns 0 or CONS_ENOTLEADER.
 */
int cons_node_forward(struct cons_node *n, const struct cons_payload *p, size_t cnt);
/* The zxid the next proposal will get (counting proposals queued from
 * callbacks), or 0 when this server does not lead or may not prepare yet
 * (see prepare_ready). */
zxid_t cons_node_next_zxid(struct cons_node *n);
/* 1 when this server leads and prepare_ready has been called for this
 * leadership (the host may prepare), else 0. */
int cons_node_can_prepare(struct cons_node *n);
/*
 * Linearizable read barrier (cons_read.c): ask for the point up to which
 * this server may serve reads that see every write acknowledged before
 * this call. The answer comes through host->read_ready with the same token
 * (the host's, e.g. a session's sync request; tokens need not be unique,
 * each call is answered once). On the leader it costs one heartbeat round
 * shared by every request waiting at the time; on a follower or observer
 * one message to the leader and back. Returns 0 (the answer may already
 * have been delivered).
 */
int cons_node_read_index(struct cons_node *n, uint64_t token);
/* The host took a durable snapshot at zxid: drop the log up to it. */
int cons_node_compact(struct cons_node *n, zxid_t zxid);
/* Feed one received frame (borrowed); bad frames are dropped. */
void cons_node_recv(struct cons_node *n, uint32_t from, const uint8_t *frame, size_t len);

/*
 * Change the membership (leader only): `to` is the whole new list
 * (copied); from_version, as ZooKeeper's fromConfig, must be the version of
 * the configuration in force, or (zxid_t)-1. Returns 0 (started: the
 * outcome comes through host->config), CONS_ENOTLEADER, -ESTALE (the
 * version differs), -EBUSY (a change is under way, or this leader has not
 * yet committed an entry of its epoch: retry), -EINVAL (a bad list) or
 * -EAGAIN (called from inside a host callback).
 */
int cons_node_reconfig(struct cons_node *n, const struct cons_membership *to,
		       zxid_t from_version);
/* The configuration in force (committed 0) or the newest committed one
 * (committed 1: what /zookeeper/config shows). */
void cons_node_membership(struct cons_node *n, int committed,
			  struct cons_membership *out);

/*
 * Hand leadership to server `to` (a voter; 0 = the most up-to-date one),
 * Raft thesis §3.10 (cons_transfer.c): returns 0 when started (the role
 * callback reports the outcome: this server follows `to`, or it stays
 * leader if `to` did not take over within an election timeout),
 * CONS_ENOTLEADER, -EBUSY (a transfer or membership change is under way),
 * -EINVAL (not a voter) or -EAGAIN (inside a callback). Meanwhile
 * cons_node_propose holds raw requests (forwarding them to the new leader
 * afterwards) and, with forward_to_host, refuses prepared ones with
 * CONS_ETRANSFER (retry on the new leader); cons_node_next_zxid is 0.
 */
int cons_node_transfer(struct cons_node *n, uint32_t to);

struct cons *cons_node_core(struct cons_node *n);

#endif
