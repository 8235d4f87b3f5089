/*
 * core.h - the daemon's write pipeline: request -> prepare (at the leader)
 * -> replicated log (consensus/, one durable append per batch) -> apply on
 * every member -> reply at the member the request came from, and notify.
 * The one owner of the tree, the replica (consensus node, log store,
 * transport) and the session clock, on the libevent loop.
 *
 * A standalone server is a one-member ensemble: the same path, the same
 * log. The FUSE side and the wire protocol see only these functions.
 *
 * Reads do not go through the core: callers read qcore_tree() directly on the
 * loop thread (the local replica). A caller that needs its own earlier writes
 * to be visible waits for their completion callbacks first (FIFO per session
 * is the caller's queue).
 */
#ifndef QFS_CORE_H
#define QFS_CORE_H

#include <stdint.h>

#include "acl.h"
#include "tree.h"
#include "txn.h"

struct event_base;
struct qcore;

/* One member of the ensemble (server.N in zoo.cfg). */
struct qcore_member {
	int64_t id; /* 1..255: the top byte of its session ids */
	int observer;
	uint32_t group;	  /* group.X this member is in (0: none) */
	uint32_t weight;  /* weight.N (hierarchical/weighted quorums) */
	const char *host; /* peer address (name or numeric); borrowed for open */
	int peer_port;
	int election_port;  /* for /zookeeper/config's text (0: peer_port + 1) */
	const char *client; /* "[host:]port" after ';' in server.N, or NULL */
};

enum qcore_quorum {
	QCORE_QUORUM_MAJORITY = 0,
	QCORE_QUORUM_WEIGHTED,
	QCORE_QUORUM_HIERARCHICAL,
};

/* Zero numeric fields take defaults: tick_ms 2000, session timeouts 2 and 20
 * ticks, snap_count 100000, snap_retain 3, container_check_ms 60000. */
struct qcore_opts {
	struct event_base *base;
	const char *data_dir;
	int64_t server_id;	  /* myid; the top byte of session ids */
	int64_t snap_count;	  /* transactions between snapshots */
	int32_t snap_retain;	  /* snapshots (and their logs) kept; >= 3 */
	int32_t purge_interval_h; /* autopurge.purgeInterval; 0 = purge after snapshots */
	int32_t min_session_timeout_ms;
	int32_t max_session_timeout_ms;
	int32_t tick_ms; /* tickTime */
	/* forceSync=yes: fsync every group commit (SQLite synchronous=FULL).
	 * 0 is synchronous=NORMAL: survives kill -9, not a power cut. */
	int force_sync;
	/* -o repair=yes: cut a torn/corrupt log tail, salvage an unreadable
	 * log, fall back from a damaged snapshot to the previous one; each
	 * loudly logged. Never set by default. */
	int repair;
	/* How often empty containers and expired TTL nodes are deleted. */
	int64_t container_check_ms;
	/* Tests only (tests/chaos/quorumfs_mutant): plant engine bug N
	 * (cons_config.mutant) so the chaos checkers can show they catch it.
	 * 0 in every real build. */
	int mutant;

	/* The ensemble. n_members 0: standalone, a one-member ensemble whose
	 * member is server_id (1 when 0). Otherwise server_id must be one of
	 * members (copied at open). */
	const struct qcore_member *members;
	size_t n_members;
	enum qcore_quorum quorum;
	/* Peers prove knowledge of this secret (>= 16 bytes) and name this
	 * cluster; the secret also derives session passwords, so they hold on
	 * every member. Both borrowed for open; required with n_members > 1. */
	const char *cluster_name;
	const uint8_t *cluster_secret;
	size_t cluster_secret_len;
	/* zoo.cfg's initLimit and syncLimit (ticks); 0 takes 10 and 5. The
	 * election timeout is syncLimit * tickTime, heartbeats tickTime / 2. */
	int32_t init_limit, sync_limit;
	/* reconfigEnabled: the leader runs reconfig and leader transfer
	 * (qcore_reconfig), else they fail with ZRECONFIGDISABLED. */
	int reconfig_enabled;
	/* archiveDir=: copy every committed entry and snapshot there
	 * (core_archive.c); NULL or "" for none. Borrowed for open. Every
	 * archive_interval_ms (0 takes 5000) at most between copies. */
	const char *archive_dir;
	int64_t archive_interval_ms;
};

/*
 * Open the storage in opts->data_dir, recover the tree (newest snapshot + log
 * replay), and start the session clock. Sessions found in the recovered state
 * are given their full timeout to come back (ZooKeeper's behaviour). Returns 0
 * or a negative errno with a message naming the file and the repair option in
 * errbuf.
 */
int qcore_open(const struct qcore_opts *opts, struct qcore **out, char *errbuf,
	       size_t errlen);
/*
 * The first half of a shutdown: take no new work (later submissions
 * complete with ZCLOSING, deferred as usual), stop the session clock, the
 * reaper and snapshots, flush the log, and complete every pending request:
 * those already handed to the log with their real outcome. Their done
 * callbacks run from inside this call, so call it while the FUSE side and
 * the client port can still take their replies, then stop those, then
 * qcore_close. The tree stays readable. Idempotent. Not from inside a done
 * callback or a subscriber.
 */
void qcore_quiesce(struct qcore *c);
/*
 * qcore_quiesce if not done yet, complete whatever was submitted since
 * (ZCLOSING), close the storage and free everything, the tree included.
 * Not from inside a done callback or a subscriber.
 */
void qcore_close(struct qcore *c);

/* The applied tree, for reads on the loop thread. Borrowed. */
struct tree *qcore_tree(struct qcore *c);

/*
 * Completion of a write: res (borrowed for the call) has err ZOK or a
 * ZooKeeper error. Always called on the loop thread, never from within
 * qcore_submit itself (so a caller may hold state across the call).
 */
typedef void (*qcore_done_fn)(void *arg, const struct zresult *res);

/*
 * Submit a write (create, delete, setData, setACL, check, multi, SETMETA)
 * from session_id with identity auth. done runs once it is durable and
 * applied, or failed. Returns 0 or -ENOMEM (done not called then).
 * An ENOSPC or I/O failure of the log fails the request with ZSYSTEMERROR,
 * and every request prepared after it (they depended on it) with it; the
 * errno is then qcore_last_io_errno(). Nothing of a failed commit is applied.
 * After ENOSPC later writes are tried again; after EIO (a failed fsync) the
 * log refuses every write until restart. auth NULL: no identity at all
 * (only world:anyone rights), never the server's own.
 */
int qcore_submit(struct qcore *c, int64_t session_id, int32_t cxid,
		 const struct zreq *req, const struct zauth *auth, qcore_done_fn done,
		 void *arg);
/* The errno of the last failed log write (ENOSPC, EIO), for the FUSE side. */
int qcore_last_io_errno(const struct qcore *c);

/* done runs when every write submitted before this call has been applied. */
int qcore_sync(struct qcore *c, qcore_done_fn done, void *arg);

/*
 * Sessions. qcore_session_open logs a createSession; done gets the new id in
 * res->session_id. The timeout is clamped to [min, max]. A session expires
 * (closeSession logged, ephemerals deleted) when not touched for its timeout.
 * owner: "host/mount" for the mount, "ip:port" for a wire client; copied.
 */
int qcore_session_open(struct qcore *c, int32_t timeout_ms, const char *owner,
		       qcore_done_fn done, void *arg);
/* Heard from the session's client now. Returns ZOK or ZSESSIONEXPIRED. */
int qcore_session_touch(struct qcore *c, int64_t id);
/* The session's password (16 bytes, derived from id and a server secret, so
 * it survives restarts), for the wire protocol's connect response. */
void qcore_session_password(const struct qcore *c, int64_t id, uint8_t pw[16]);
int qcore_session_close(struct qcore *c, int64_t id, qcore_done_fn done, void *arg);
/* Close now every open session whose owner is `owner` (the mount's session of
 * a previous run that crashed). done is called once, after all. */
int qcore_session_close_owner(struct qcore *c, const char *owner, qcore_done_fn done,
			      void *arg);
/*
 * When each open session expires unless heard from, as the leader's clock
 * has it: fn(arg, id, expire_ms) per session, expire_ms on the monotonic
 * clock in milliseconds (as ZooKeeper's dump gives its elapsed time), in no
 * order. Only the leader expires sessions, so another member's clock says
 * nothing: it returns -EAGAIN there (and on a leader not yet ready), 0 here.
 */
int qcore_session_expiries(struct qcore *c,
			   void (*fn)(void *arg, int64_t id, int64_t expire_ms), void *arg);

/*
 * Subscribe to applied changes: fn is called on the loop thread for every
 * change, in zxid order, right after it is applied and before any reply to
 * the write that made it is sent (ZooKeeper's "event before data" order).
 * Returns 0 or -ENOMEM. Up to 8 subscribers.
 */
int qcore_subscribe(struct qcore *c, tree_listener_fn fn, void *arg);
/* Withdraw a subscription (the same fn and arg). Not from inside a
 * subscriber. */
void qcore_unsubscribe(struct qcore *c, tree_listener_fn fn, void *arg);

/* Figures for srvr/mntr/metrics. */
struct qcore_stats {
	uint64_t txns;	      /* applied since start */
	uint64_t fsyncs;      /* log commits since start */
	uint64_t outstanding; /* submitted, not yet applied */
	zxid_t last_zxid;
	uint64_t log_bytes;
	uint64_t snapshots;
	int64_t max_commit_us;
	uint64_t log_txns; /* records made durable; log_txns / fsyncs = txns per fsync */
	uint64_t log_failed; /* records the log could not keep (ENOSPC, EIO) */
	zxid_t snap_zxid;    /* of the newest snapshot on disk */
	int64_t snap_time;   /* its file's mtime, s since the epoch (0: unknown) */
	int snap_running;    /* a background snapshot is being written */
	uint64_t sessions;   /* tracked by the session clock */
	uint64_t nodes;
	/* Committed entries this member could not apply and skipped (each
	 * logged): its tree may differ from the others'. See core_apply.c. */
	uint64_t apply_failed;
	zxid_t apply_failed_zxid; /* the newest of them */
};
void qcore_stats(const struct qcore *c, struct qcore_stats *out);

/*
 * Write a snapshot of the applied tree now, on the loop thread (blocking it
 * for the whole write), then purge as the policy says. For quorumctl
 * snapshot, tests and benchmarks; the automatic ones every snap_count
 * transactions run in a forked child instead. Returns 0 or a negative errno
 * with errbuf set.
 */
int qcore_snapshot_now(struct qcore *c, char *errbuf, size_t errlen);

/*
 * Online backup (core_backup.c): a snapshot of the applied tree, in
 * snapshot.h's format, written by a forked child while writes go on.
 * done runs once, on the loop, never from inside qcore_backup_start: rc 0
 * with res->path naming the complete file (res->size bytes, CRC-32C
 * res->crc) of the tree at res->zxid, or a negative errno with res->msg
 * (-ECANCELED when the core is quiesced first). res and the file are
 * borrowed for the call only: the file is removed right after it, so a
 * caller that wants the bytes opens it inside done. Several backups may
 * run at once. Returns 0 (*zxid: the backup's zxid) or a negative errno
 * with errbuf set (done not called then).
 */
struct qcore_backup_result {
	zxid_t zxid;
	const char *path;
	uint64_t size;
	uint32_t crc;
	const char *msg;
};
typedef void (*qcore_backup_fn)(void *arg, int rc, const struct qcore_backup_result *res);
int qcore_backup_start(struct qcore *c, qcore_backup_fn done, void *arg, zxid_t *zxid,
		       char *errbuf, size_t errlen);

/* This member's place in the ensemble, for srvr/stat/mntr and quorumctl. */
enum qcore_role {
	QCORE_STANDALONE = 1, /* a one-member ensemble */
	QCORE_LEADER,
	QCORE_FOLLOWER,
	QCORE_OBSERVER,
	QCORE_LOOKING, /* no leader heard for an election timeout: reads only */
	QCORE_REMOVED, /* reconfigured out of the ensemble: never votes */
};
struct qcore_replica {
	enum qcore_role role;
	uint32_t epoch;
	int64_t leader;	  /* server id, 0 = none known */
	zxid_t last_zxid; /* newest entry in the log */
	zxid_t commit_zxid;
	int n_members;	      /* participants and observers */
	int n_voters;	      /* participants: ZooKeeper's quorum size */
	int n_followers;	/* leader: connected participants and observers */
	int n_synced;		/* leader: connected participants */
	int n_synced_observers; /* leader: connected observers */
	uint64_t pending_syncs;
};
void qcore_replica(const struct qcore *c, struct qcore_replica *out);
/*
 * A leader's learners (the admin server's "observers", as ZooKeeper's
 * learner handlers show them): every other member with a connection up,
 * in configuration order, at most max of them; returns how many (0 on a
 * server that does not lead). requests counts what it forwarded here
 * (session touches aside) since this server took the lead; sent and
 * received count peer messages on its connection, since it opened. Both
 * count from zero again at qcore_learners_reset. last_zxid: durable on it
 * and matching the leader's log.
 */
#define QCORE_MAX_MEMBERS 64 /* consensus's CONS_MAX_MEMBERS */
struct qcore_learner {
	uint32_t id;
	int observer;
	char addr[64];	   /* "/address:port", as Java prints a socket address */
	int64_t opened_ms; /* wall clock, when its connection authenticated */
	uint64_t queued, queued_bytes; /* on its connection's output */
	uint64_t sent, received, requests;
	zxid_t last_zxid;
};
size_t qcore_learners(struct qcore *c, struct qcore_learner *out, size_t max);
/* Counts from zero again for the learners (observers only, or every one). */
void qcore_learners_reset(struct qcore *c, int observers_only);
/* "leader", "follower", "observer", "standalone", "read-only" (as
 * ZooKeeper's read-only mode names a server without a quorum) or
 * "removed". */
const char *qcore_role_name(enum qcore_role r);

/*
 * Membership at runtime (core_members.c). The configuration in force is
 * the consensus engine's (CONFIG log entries, joint consensus); the
 * leader writes its ZooKeeper text form ("server.N=host:peer:election:
 * role;client" lines and "version=<hex>", version = the zxid of the
 * configuration's entry) to /zookeeper/config once it is committed, and
 * every member keeps a copy in dataDir/zoo.cfg.dynamic for its restarts.
 *
 * qcore_reconfig: ZooKeeper's reconfig, asked of any member. joining and
 * leaving (comma-separated server specs and ids) change the current list;
 * members (comma-separated specs), when not empty, replaces it.
 * from_version -1: no check. The leader runs it: a follower or observer
 * forwards it there (core_req.h's CR_RECONFIG) and hears the outcome as an
 * entry of the log, so /zookeeper/config here shows the change when done
 * runs with ZOK. The leader checks, in this order: reconfig_enabled
 * (ZRECONFIGDISABLED), WRITE on /zookeeper/config for auth (ZNOAUTH; NULL:
 * no identity), an ensemble (ZUNIMPLEMENTED), the arguments
 * (ZBADARGUMENTS), from_version (ZBADVERSION), no change under way
 * (ZRECONFIGINPROGRESS). A change that cannot complete (a new member did
 * not catch up) ends in ZNEWCONFIGNOQUORUM; a leader change before the
 * answer came back in ZCONNECTIONLOSS (the change may or may not have been
 * made, as for any write), and so does no leader within the time a write
 * waits for one. Returns ZOK (done runs later, once) or an error at once
 * (done not called).
 *
 * qcore_leader_transfer: hand the leadership to voter `to` (0: the most up
 * to date), under the same checks, from any member. ZOK (done runs once
 * the leader that was asked no longer leads -- at a follower, once another
 * leader is known -- or with ZOPERATIONTIMEOUT when `to` did not take
 * over) or an error at once. Writes submitted meanwhile wait for the new
 * leader; none fails.
 */
int qcore_reconfig(struct qcore *c, const char *joining, const char *leaving,
		   const char *members, int64_t from_version, const struct zauth *auth,
		   qcore_done_fn done, void *arg);
int qcore_leader_transfer(struct qcore *c, int64_t to, const struct zauth *auth,
			  qcore_done_fn done, void *arg);

#endif
