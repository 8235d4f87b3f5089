/*
 * cons.h - the replication engine: a pure state machine for leader-based
 * atomic broadcast with leader election, and the interfaces (log store,
 * transport) the I/O side plugs into.
 *
 * PROTOCOL. quorumfs uses a Raft-family protocol that keeps ZooKeeper's
 * identifiers and Zab's guarantees (total order of committed txns, primary
 * order across leader changes, no committed txn lost or reordered, the same
 * delivery order on every replica). Why Raft's shape rather than Zab's four
 * phases: Raft's single-round election with a durable (epoch, vote) pair,
 * where a voter grants only to a candidate whose last zxid is at least its
 * own, gives the winner every committed txn (Zab's discovery phase, which
 * fetches the most up-to-date history from a quorum, is folded into the
 * vote); Zab's synchronisation phase becomes the append consistency check
 * (DIFF), truncation of a divergent suffix (TRUNC) and snapshot transfer
 * (SNAP) for every follower, one code path instead of three. The mapping:
 *
 *   - epoch     = Raft's term = Zab's accepted/current epoch; durable with
 *                 the vote before any message that depends on it leaves.
 *   - zxid      = epoch << 32 | counter. Entries are addressed by zxid, not
 *                 by index: one leader per epoch makes a zxid name exactly
 *                 one entry, so "both logs hold zxid Z" implies "both logs
 *                 are identical up to Z" (Raft's Log Matching).
 *   - NEWLEADER = the epoch entry, zxid epoch<<32|0, which a new leader
 *                 appends first; nothing of earlier epochs is committed by
 *                 counting, only by this entry (or a later one of the new
 *                 epoch) reaching a quorum (Raft §5.4.2 / Zab's
 *                 ACK-NEWLEADER). Its payload is empty; hosts skip it.
 *   - COMMIT    = the commit zxid piggybacked on every append/heartbeat.
 *
 * Observers receive every append and commit, never vote and never count.
 * Quorums are decided by a quorum system (quorum.h): majority, weighted or
 * hierarchical (ZooKeeper's group.X/weight.N).
 *
 * THE STATE MACHINE. cons_step() takes one event (a message received, a
 * tick with the current time, a log or epoch write done or failed, a client
 * proposal, a snapshot installed, a compaction) and returns a list of
 * actions the host carries out in order. Nothing inside does I/O, reads a
 * clock or calls malloc-heavy globals; election timeouts come from a PRNG
 * seeded by the config. Safety invariants are checked with CONS_INVARIANT
 * and stay fatal in release builds.
 *
 * The host's duties for each action (cons_node.h does them all over the two
 * vtables below, for the daemon and the simulator alike):
 *
 *   PERSIST_META  write (epoch, vote) durably, then step CONS_EV_META_DONE.
 *                 The core holds every outgoing message until then.
 *   PERSIST_LOG   atomically truncate entries after `truncate_after` (when
 *                 `truncate` is set) and append `entries`, durably, in the
 *                 order issued, and in the same atomic write raise the
 *                 stored commit watermark to `commit_zxid` (never lower it;
 *                 a reset sets it to the snapshot's zxid); then step
 *                 CONS_EV_LOG_DONE with `seq`. The watermark is what a
 *                 restart recovers to (cons_boot.commit_zxid). With
 *                 no entries and no truncate it only raises the
 *                 watermark (a commit learned after the last batch,
 *                 written at a tick when nothing else is written; the
 *                 store may skip the fsync for it). A
 *                 failed write leaves the log as before it, and the store
 *                 fails every write queued behind it until one with
 *                 `truncate` set arrives (the core re-syncs with one).
 *   SEND          encode (codec.h) and send best-effort to server `to`.
 *   APPLY         apply committed entries, in order (skip type EPOCH).
 *   SNAP_SEND     server `to` needs a snapshot: step CONS_EV_SNAP_OFFER
 *                 with `to`, the zxid and byte size of the host's newest
 *                 durable snapshot (or a negative status when it has
 *                 none; the core asks again later).
 *   SNAP_CHUNK    read `len` bytes at `offset` of the snapshot at `zxid`
 *                 (the one offered; `total` bytes long) and send them to
 *                 `to` in a CONS_MSG_SNAP built with cons_snap_chunk_msg().
 *                 A snapshot that is gone or unreadable: drop the chunk
 *                 (a stalled transfer is resent, then offered again).
 *   SNAP_BEGIN    follower: a snapshot at `zxid` of `total` bytes starts
 *                 arriving; discard any partial one received before.
 *   SNAP_WRITE    follower: append `len` bytes (`data`, borrowed for the
 *                 step) at `offset`, which is always the end of what was
 *                 written since SNAP_BEGIN. On failure step
 *                 CONS_EV_SNAP_DONE with `zxid` and the error: the
 *                 transfer starts over.
 *   SNAP_INSTALL  follower: the `total` bytes written since SNAP_BEGIN are
 *                 the whole snapshot at `zxid`: replace the state with it,
 *                 store it durably together with `conf` (the configuration
 *                 as of `zxid`, which came with chunk 0: cons_boot.conf
 *                 gives it back at start), reset the log store to empty
 *                 after `zxid`, then step CONS_EV_SNAP_DONE. A host that
 *                 takes its own snapshots stores with each the payload of
 *                 the newest CONFIG entry it applied at or below it (or
 *                 what its current snapshot came with).
 *                 Snapshots thus travel in chunks (cfg.snap_chunk bytes, at
 *                 most cfg.snap_window of them in flight per peer,
 *                 acknowledged by CONS_MSG_SNAP_ACK, a lost one resent),
 *                 never as one frame or one buffer, and with no size cap;
 *                 heartbeats and appends to other peers go on meanwhile.
 *   ROLE          informational: role, epoch and known leader changed. A
 *                 leader that hears no quorum for an election timeout
 *                 steps down (check-quorum) and this reports it: fail or
 *                 refuse writes from then on.
 *   FORWARDED     (forward_to_host) prepare these requests against the
 *                 state as it will be and propose the results; before
 *                 PREPARE_READY hold them.
 *   PREPARE_READY this leader has committed and applied its epoch entry,
 *                 so the host's state holds every txn of earlier epochs:
 *                 only from now on may the host prepare txns against it
 *                 (ZooKeeper's leader prepares against the tree as it
 *                 will be; a new leader that prepared earlier would build
 *                 on a state missing committed txns: a duplicate or lost
 *                 update). Requests forwarded to it before this (FORWARDED)
 *                 are held by the host and prepared now. cons_next_zxid()
 *                 is 0 until then. Once per leadership, after the APPLY
 *                 that applied the epoch entry.
 *   CONFIG        a configuration was committed (status 0, `version`), or
 *                 the change this leader was asked for (CONS_EV_RECONFIG)
 *                 failed (status < 0). See MEMBERSHIP below.
 *   READ_READY    the CONS_EV_READ_INDEX with `token` completed. Status 0:
 *                 serve the reads waiting on it only once the host has
 *                 applied read_zxid (they then see every write acknowledged
 *                 anywhere before the request). CONS_ENOTLEADER: no leader,
 *                 or the role, epoch or leader changed first; -ETIMEDOUT:
 *                 the leader did not answer in two election timeouts. Each
 *                 request gets exactly one READ_READY (not kept across a
 *                 cons_free).
 *
 * READ INDEX (cons_read.c; Raft thesis §6.4, etcd's ReadIndex). A leader
 * answers with its commit point at the request, after it has committed an
 * entry of its own epoch and a quorum has answered a heartbeat round sent
 * after the request arrived (appends carry read_seq, answers echo it);
 * followers and observers ask the leader (READ_REQ/READ_RESP). Unlike
 * ZooKeeper's sync, a leader paused or partitioned past an election never
 * answers from its stale state.
 *
 * LEADERSHIP STABILITY (cons_election.c). A server that times out first
 * asks whether it could win (pre-vote, Raft thesis §9.6) and raises its
 * epoch only with a quorum of yeses, so one cut off by a partition does not
 * depose a healthy leader when it returns; a leader that hears no quorum
 * for an election timeout steps down (check-quorum), so a minority side
 * stops taking writes.
 *
 * LEADERSHIP TRANSFER (cons_transfer.c; Raft thesis §3.10). On
 * CONS_EV_TRANSFER the leader stops appending new requests (it holds
 * them), brings the target up to its last entry, then sends it
 * TIMEOUT_NOW; the target stands at once (no pre-vote; voters answer
 * even though they hear the leader), and its higher epoch makes the old
 * leader step down and hand what it held to the new leader. If the
 * target has not taken over within an election timeout the leader
 * resumes and appends what it held.
 *
 * MEMBERSHIP (cons_config.c; joint consensus, Raft §4.3). Configurations
 * are CONFIG log entries and each server uses the newest in its log,
 * committed or not; a change (CONS_EV_RECONFIG on the leader: the whole
 * new list and ZooKeeper's fromConfig version) first catches the new
 * voters up as learners, then appends C(old,new), then C(new); the host
 * hears of C(new)'s commit through CONFIG and of its own role (added:
 * FOLLOWER or OBSERVER; removed: REMOVED) through ROLE. The safety
 * argument is in cons_config.c.
 *
 * Everything an action points to is owned by the core and valid until the
 * next cons_step() or cons_free() on that core.
 *
 * Memory: the core keeps every entry since the last CONS_EV_COMPACT in
 * memory (it serves lagging peers from it); the host compacts after each
 * snapshot. Timing from zoo.cfg: election_timeout_ms = syncLimit * tickTime
 * and heartbeat_ms = tickTime / 2 are sensible; the daemon ticks the core
 * every few ms. A snapshot travels in chunks (cons_snapshot.c).
 */
#ifndef QFS_CONS_H
#define QFS_CONS_H

#include <stddef.h>
#include <stdint.h>

#include "zxid.h"

struct cons;

#define CONS_MAX_MEMBERS 64	     /* participants + observers */
#define CONS_MAX_PAYLOAD (16u << 20) /* one entry (a tree txn) */

/* Entry kinds. */
enum {
	CONS_ENTRY_TXN = 1,    /* an opaque tree transaction */
	CONS_ENTRY_EPOCH = 2,  /* a leader's first entry of its epoch; empty */
	CONS_ENTRY_CONFIG = 3, /* a membership (cons_membership_encode); hosts
				  keep the newest applied one (see below) */
};

/* A log entry. In core output the data is borrowed from the core. */
struct cons_entry {
	zxid_t zxid;
	uint8_t type;
	uint32_t len;
	const uint8_t *data;
};

/* A proposal's bytes, borrowed from the host for the duration of a step. */
struct cons_payload {
	const uint8_t *data;
	uint32_t len;
};

/* The durable election state: current epoch and the vote cast in it. */
struct cons_meta {
	uint32_t epoch;
	uint32_t vote; /* server id voted for in `epoch`, 0 = none */
};

enum cons_state {
	CONS_FOLLOWER = 1,
	CONS_CANDIDATE,
	CONS_LEADER,
	CONS_OBSERVER, /* a non-voting member (or a learner catching up) */
	CONS_REMOVED,  /* not in the newest configuration in its log: never
			  votes nor stands; a removed member says so here */
};

enum quorum_kind {
	QUORUM_MAJORITY = 1,
	QUORUM_WEIGHTED,     /* weight.N only: > half the total weight */
	QUORUM_HIERARCHICAL, /* group.X + weight.N: majority of groups */
};

struct cons_member {
	uint32_t id; /* myid, > 0 */
	uint8_t observer;
	uint32_t group;	 /* hierarchical only */
	uint32_t weight; /* weighted/hierarchical; 0 = never counts */
};

/*
 * A configuration (cons_config.c): who votes, with which quorum system,
 * and who observes. `version` is the zxid of the CONFIG entry that holds
 * it (ZooKeeper's version= of the dynamic config), 0 for the static one
 * from cons_config. During a change the configuration is joint: a set is
 * a quorum only if it is one of both `m` (the new members) and `old`.
 */
struct cons_membership {
	zxid_t version;
	enum quorum_kind quorum;
	unsigned n;
	struct cons_member m[CONS_MAX_MEMBERS];
	uint8_t joint;
	enum quorum_kind old_quorum;
	unsigned n_old;
	struct cons_member old[CONS_MAX_MEMBERS];
};
#define CONS_MEMBERSHIP_MAX (2 * 3 + 8 + 2 * CONS_MAX_MEMBERS * 13 + 8)

/*
 * Tracer: called only when set, with a formatted line (borrowed). The
 * format work is skipped entirely when trace is NULL.
 */
typedef void (*cons_trace_fn)(void *arg, uint32_t self, uint64_t now_ms,
			      const char *line);

struct cons_config {
	uint32_t self;
	const struct cons_member *members; /* copied */
	unsigned n_members;
	enum quorum_kind quorum;
	uint32_t election_timeout_ms; /* randomised in [t, 2t) */
	uint32_t heartbeat_ms;	      /* < election_timeout_ms / 2 */
	uint32_t max_batch;	      /* entries per append message, 0 = 1024 */
	uint32_t max_inflight;	      /* append messages in flight per peer, 0 = 8 */
	uint64_t seed;		      /* PRNG seed for timeouts and request ids:
					 give each start of a server its own */
	cons_trace_fn trace;
	void *trace_arg;
	/* A planted bug for the simulator's self-test; 0 in production.
	 * 1: the leader commits on its own log alone (no quorum).
	 * 2: followers acknowledge entries before they are durable.
	 * 3: votes are granted without comparing logs.
	 * 4: the leader answers a read index without a quorum round.
	 * 5: a restart applies the whole log, past the commit watermark.
	 * 6: a timed-out server stands for election without a pre-vote.
	 * 7: the leader never checks that it still hears a quorum.
	 * 8: a new leader lets its host prepare before it has applied the
	 *    entries of earlier epochs.
	 * 9: a membership change skips the joint configuration (the new one
	 *    is used, alone, straight after the old).
	 * 10: a leadership transfer sends TIMEOUT_NOW at once: the target
	 *    campaigns before it is up to date.
	 * 11: 4 and 7 together: a leader cut off from its quorum keeps
	 *    leading and serves sync without asking anyone (the chaos
	 *    harness's planted bug: one alone leaves no window to see).
	 * 12: the commit watermark is written only with entries, never
	 *    alone (an idle member restarts a batch behind).
	 * 15: the leader's read index is its commit, not also what it has
	 *    told followers is durable (a sync misses a write a follower
	 *    committed by itself and answered). */
	int mutant;
	/*
	 * 0: the leader appends payloads forwarded by followers as they are
	 * (payloads that need no preparation). 1: the leader hands them to
	 * its host (CONS_ACT_FORWARDED), which prepares them against the
	 * newest state and proposes the results, as ZooKeeper's leader
	 * prepares the requests its followers forward; CONS_EV_PROPOSE on a
	 * non-leader then fails with CONS_ENOTLEADER rather than forwarding a
	 * txn prepared elsewhere, and followers use CONS_EV_FORWARD.
	 */
	int forward_to_host;
	/*
	 * 1: an ensemble is born with every voter (cons_election.c). A
	 * member whose log is empty votes for a candidate whose log is empty
	 * only once it has heard every voter of its configuration say its
	 * log is empty too, so a majority of empty members cannot elect an
	 * empty leader beside a member that holds data (the survivor that
	 * quorumadm recover turned into a new ensemble, whose empty partners
	 * were started first). 0: any majority of empty members may.
	 */
	int first_with_all;
	uint32_t snap_chunk;  /* snapshot bytes per chunk, 0 = 256 KiB */
	uint32_t snap_window; /* snapshot chunks in flight per peer, 0 = 4 */
	/*
	 * Memory for the log's entry bytes, in blocks of 256 KiB or more;
	 * NULL for malloc and free. A block given back (seg_unmap, with its
	 * length) may be asked for again at once: the log keeps emptied
	 * blocks for reuse. The daemon maps blocks a fork does not copy,
	 * so its snapshot children cost no copy-on-write faults for the log
	 * (core_repl.c); those children must not read the log.
	 */
	void *(*seg_map)(size_t len);
	void (*seg_unmap)(void *p, size_t len);
};

/*
 * The durable state found at start: the election meta, the newest
 * snapshot's zxid (0 = none) and the log entries after it (entries at or
 * below snap_zxid are ignored). Everything is copied.
 */
struct cons_boot {
	struct cons_meta meta;
	zxid_t snap_zxid;
	const struct cons_entry *entries;
	size_t n_entries;
	/* The commit watermark the store holds (0 = none). When the entries
	 * hold it, the core starts committed up to it and the first
	 * cons_step applies snap_zxid..commit_zxid (never beyond) before
	 * anything else; otherwise it starts at the snapshot. */
	zxid_t commit_zxid;
	/* The configuration as of snap_zxid (cons_membership_encode bytes the
	 * host stored with the snapshot: from the SNAP_INSTALL that brought
	 * it, or the newest CONFIG entry it applied at or below it); len 0 =
	 * the static one of cons_config. Later CONFIG entries in the log
	 * supersede it. */
	const uint8_t *conf;
	uint32_t conf_len;
};

/* ---- messages (encoded by codec.h) ---- */

enum cons_msg_type {
	CONS_MSG_VOTE_REQ = 1,
	CONS_MSG_VOTE_RESP,
	CONS_MSG_APPEND, /* entries and/or heartbeat, with the commit zxid */
	CONS_MSG_APPEND_RESP,
	CONS_MSG_SNAP,	       /* a chunk of a snapshot (opaque host bytes) */
	CONS_MSG_FORWARD,      /* a follower forwards proposals to the leader */
	CONS_MSG_READ_REQ,     /* a follower asks the leader for a read index */
	CONS_MSG_READ_RESP,    /* the leader's answer */
	CONS_MSG_PREVOTE_REQ,  /* would you vote for me in epoch+1? (vote_req) */
	CONS_MSG_PREVOTE_RESP, /* the answer, no state changed (vote_resp) */
	CONS_MSG_SNAP_ACK,     /* snapshot bytes received in order so far */
	CONS_MSG_TIMEOUT_NOW,  /* leadership transfer: stand for election now */
	CONS_MSG_TYPE_MAX = CONS_MSG_TIMEOUT_NOW,
};

struct cons_msg {
	uint8_t type;
	uint32_t from;
	uint32_t epoch;
	union {
		struct {
			zxid_t last_zxid;
			/* a transfer's election: voters that hear the leader
			 * answer anyway (Raft thesis §3.10); not on pre-vote */
			uint8_t transfer;
		} vote_req;
		struct {
			uint8_t granted;
		} vote_resp;
		struct {
			zxid_t prev_zxid;   /* the entry just before entries[0] */
			zxid_t commit_zxid; /* the leader's commit point */
			uint64_t read_seq;  /* the leader's newest read round */
			zxid_t stable_zxid; /* durable on the leader up to here */
			uint8_t notice;	    /* a commit or stable notice: no
					       answer is owed */
			const struct cons_entry *entries;
			uint32_t n;
		} append;
		struct {
			uint8_t ok;
			zxid_t match_zxid; /* ok: durable and matching up to here;
					      !ok: a hint, the follower's newest
					      zxid <= prev_zxid */
			zxid_t last_zxid;  /* ok: the newest entry the append matched */
			uint64_t read_seq; /* the newest read round heard from the
					      leader of this epoch (echoed) */
		} append_resp;
		struct {
			zxid_t zxid;	     /* the state the snapshot holds */
			uint64_t offset;     /* of this chunk in the snapshot */
			uint64_t total;	     /* the snapshot's size in bytes */
			const uint8_t *blob; /* the chunk */
			uint32_t len;
			/* offset 0 only: the configuration as of zxid */
			const uint8_t *conf;
			uint32_t conf_len;
		} snap;
		struct {
			zxid_t zxid;
			uint64_t next; /* bytes received in order (0: start over) */
		} snap_ack;
		struct {
			const struct cons_payload *payloads;
			uint32_t n;
		} forward;
		struct {
			uint64_t id; /* the follower's, echoed in the answer */
		} read_req;
		struct {
			uint64_t id;
			uint8_t ok;	  /* 0: not the leader (any more) */
			zxid_t read_zxid; /* ok: the read index */
		} read_resp;
	};
};

/* ---- events ---- */

enum cons_event_type {
	CONS_EV_TICK = 1,
	CONS_EV_RECV,	    /* msg (borrowed for the step) */
	CONS_EV_PROPOSE,    /* payloads (borrowed until the next step) */
	CONS_EV_LOG_DONE,   /* the PERSIST_LOG with seq finished */
	CONS_EV_META_DONE,  /* the last PERSIST_META finished */
	CONS_EV_SNAP_DONE,  /* the SNAP_INSTALL of zxid finished */
	CONS_EV_COMPACT,    /* the host holds a durable snapshot at zxid */
	CONS_EV_FORWARD,    /* payloads (borrowed) for the leader's host */
	CONS_EV_READ_INDEX, /* the host asks for a read index (token) */
	CONS_EV_SNAP_OFFER, /* the host's newest snapshot, for a SNAP_SEND */
	CONS_EV_RECONFIG,   /* leader: change the membership (cons_config.c) */
	CONS_EV_TRANSFER,   /* leader: hand leadership to transfer.to */
	CONS_EV_PEER_DOWN,  /* the host's connection to peer_down.id closed */
};

struct cons_event {
	enum cons_event_type type;
	uint64_t now_ms; /* the host's monotonic clock; a step back is ignored */
	union {
		const struct cons_msg *msg;
		struct {
			const struct cons_payload *p;
			size_t n;
			/* PROPOSE of txns the host prepared with zxids
			 * (forward_to_host): the zxid it gave the first, from
			 * cons_next_zxid. Anything else appended since (a
			 * configuration entry, cons_config.c) makes it stale:
			 * CONS_ESTALE, nothing appended. 0: not prepared. */
			zxid_t first;
		} propose; /* also CONS_EV_FORWARD */
		struct {
			uint64_t seq;
			int status; /* 0 or a negative errno */
		} log_done;
		struct {
			int status;
		} meta_done;
		struct {
			zxid_t zxid;
			int status;
		} snap_done;
		struct {
			zxid_t zxid;
		} compact;
		struct {
			uint64_t token; /* the host's; echoed in READ_READY */
		} read_index;
		struct {
			uint32_t to;
			zxid_t zxid;
			uint64_t total;
			int status; /* 0, or negative: no snapshot to offer now */
		} snap_offer;
		struct {
			/* the whole new membership (not joint; borrowed) */
			const struct cons_membership *to;
			/* fail with -ESTALE unless the current version is this
			 * (ZooKeeper's fromConfig); (zxid_t)-1 = no check */
			zxid_t from_version;
		} reconfig;
		struct {
			uint32_t to; /* a voter; 0 = the most up-to-date one */
		} transfer;
		struct {
			uint32_t id;
		} peer_down;
	};
};

/* ---- actions ---- */

enum cons_action_type {
	CONS_ACT_PERSIST_META = 1,
	CONS_ACT_PERSIST_LOG,
	CONS_ACT_SEND,
	CONS_ACT_APPLY,
	CONS_ACT_SNAP_SEND,
	CONS_ACT_SNAP_INSTALL,
	CONS_ACT_ROLE,
	CONS_ACT_FORWARDED,	/* leader, forward_to_host: prepare and propose these */
	CONS_ACT_READ_READY,	/* a CONS_EV_READ_INDEX completed */
	CONS_ACT_PREPARE_READY, /* this leader may now prepare (epoch) */
	CONS_ACT_SNAP_CHUNK,	/* leader: read and send a snapshot chunk */
	CONS_ACT_SNAP_BEGIN,	/* follower: a snapshot starts arriving */
	CONS_ACT_SNAP_WRITE,	/* follower: store a chunk of it */
	CONS_ACT_CONFIG,	/* a configuration committed, or a change failed */
};

struct cons_action {
	enum cons_action_type type;
	union {
		struct cons_meta meta;
		struct {
			uint64_t seq;
			int truncate; /* drop entries after truncate_after first */
			zxid_t truncate_after;
			const struct cons_entry *entries;
			size_t n;
			zxid_t commit_zxid; /* the watermark to record with it */
		} log;
		struct {
			uint32_t to;
			struct cons_msg msg;
		} send;
		struct {
			const struct cons_entry *entries;
			size_t n;
		} apply;
		struct {
			uint32_t to;
		} snap_send;
		struct {
			zxid_t zxid;
			uint64_t total;
			/* SNAP_INSTALL: the configuration as of zxid, to store
			 * with the snapshot (cons_boot.conf); len 0 = static */
			const uint8_t *conf;
			uint32_t conf_len;
		} snap_install; /* also SNAP_BEGIN */
		struct {
			uint32_t to;
			zxid_t zxid;
			uint64_t offset, total;
			uint32_t len;
			uint32_t epoch; /* the message's (durable when issued) */
		} snap_chunk;
		struct {
			zxid_t zxid;
			uint64_t offset;
			const uint8_t *data;
			uint32_t len;
		} snap_write;
		struct {
			enum cons_state state;
			uint32_t epoch;
			uint32_t leader; /* 0 = unknown */
		} role;
		struct {
			uint32_t from; /* the server whose host sent them (maybe self) */
			const struct cons_payload *p;
			uint32_t n;
		} forwarded;
		struct {
			uint32_t epoch;
		} prepare_ready;
		struct {
			uint64_t token;
			zxid_t read_zxid; /* status 0: serve reads once applied here */
			int status;	  /* 0, CONS_ENOTLEADER or -ETIMEDOUT */
		} read_ready;
		struct {
			/* status 0: the (non-joint) configuration `version` is
			 * committed, on every server that learns it; else, on the
			 * leader that took a CONS_EV_RECONFIG: it failed
			 * (-ETIMEDOUT: a new member did not catch up;
			 * CONS_ENOTLEADER: leadership lost, the change may
			 * still complete under the next leader) */
			zxid_t version;
			int status;
		} config;
	};
};

/* Error codes returned by cons_step/cons_new (besides -ENOMEM, -EINVAL). */
#define CONS_ENOTLEADER (-1001) /* proposal: no leader known to forward to */
/* Proposal (forward_to_host, prepared txns) while this leader hands over
 * leadership (CONS_EV_TRANSFER): nothing was appended; retry on the new
 * leader, which the role callback names. Raw requests (CONS_EV_FORWARD,
 * and proposals without forward_to_host) are held instead and go to
 * whoever leads once the transfer ends. */
#define CONS_ETRANSFER (-1002)
/* Proposal of prepared txns (propose.first) whose zxids are no longer the
 * next ones: the leader appended an entry of its own (a configuration)
 * after the host prepared them. Nothing was appended; the host discards
 * what it prepared from the first on and prepares the requests again (or
 * fails them). A host that proposes what it prepared before feeding the
 * node anything else (cons_node's flush callback) never sees it. */
#define CONS_ESTALE (-1003)

/*
 * Create a core. cfg and boot are copied. Returns 0 or a negative errno
 * (-EINVAL for a bad membership, self not a member, ...).
 */
int cons_new(const struct cons_config *cfg, const struct cons_boot *boot, uint64_t now_ms,
	     struct cons **out);
void cons_free(struct cons *c);

/*
 * Feed one event. *acts and *n receive the actions (owned by the core, valid
 * until the next call). Returns 0, CONS_ENOTLEADER for a proposal that can
 * be neither handled nor forwarded (or, with forward_to_host, any proposal
 * on a non-leader), or -ENOMEM (the event is then dropped;
 * the protocol tolerates a lost message, and a lost proposal is the
 * host's to fail).
 */
int cons_step(struct cons *c, const struct cons_event *ev,
	      const struct cons_action **acts, size_t *n);

/*
 * The zxid the next proposed payload gets (the k-th of a batch gets this
 * plus k) if this core leads and nothing else is proposed first, for hosts
 * that prepare a txn with its zxid before proposing it; 0 when not leading
 * or not yet ready to prepare (see PREPARE_READY).
 */
zxid_t cons_next_zxid(const struct cons *c);

/* Fill a CONS_MSG_SNAP for a SNAP_CHUNK action; data is borrowed. */
void cons_snap_chunk_msg(const struct cons *c, zxid_t zxid, uint64_t offset,
			 uint64_t total, const uint8_t *data, uint32_t len,
			 struct cons_msg *out);
/* A whole snapshot as one chunk (offset 0, total len): what hosts that
 * answered SNAP_SEND with one frame did; still understood. */
void cons_snap_msg(const struct cons *c, zxid_t zxid, const uint8_t *blob, uint32_t len,
		   struct cons_msg *out);

/*
 * The configuration: committed = 0, the newest in the log (the one in
 * force, Raft §4.1), 1: the newest committed one (/zookeeper/config).
 */
void cons_get_membership(const struct cons *c, int committed,
			 struct cons_membership *out);
/* 1 if the servers `ids` hold a quorum of the configuration in force
 * (of both halves when joint). */
int cons_is_quorum(const struct cons *c, const uint32_t *ids, size_t n);
/* Encode a membership (at most CONS_MEMBERSHIP_MAX bytes; returns the
 * length) and decode one (0, or -EINVAL for bytes that are not a valid
 * membership: bad counts, duplicate ids, no voter, ...). codec.c. */
size_t cons_membership_encode(const struct cons_membership *m, uint8_t *buf);
int cons_membership_decode(const uint8_t *p, size_t n, struct cons_membership *out);
/* Check a membership (as cons_membership_decode does): 0 or -EINVAL. */
int cons_membership_check(const struct cons_membership *m);

/* Introspection for the host, metrics and the simulator's checker. */
struct cons_status {
	enum cons_state state;
	uint32_t epoch;
	uint32_t leader;
	zxid_t last_zxid;   /* newest entry in the log */
	zxid_t stable_zxid; /* newest durable entry matching the log */
	zxid_t commit_zxid;
	zxid_t applied_zxid;
	zxid_t snap_zxid; /* the log holds nothing at or below this */
	size_t n_entries;
	int can_prepare;      /* leading, and PREPARE_READY was issued */
	zxid_t conf_version;  /* the configuration in force */
	int conf_joint;	      /* it is joint: a change is under way */
	int voter;	      /* this server votes in it */
	uint32_t transfer_to; /* leader: handing leadership to it (0 = no) */
	/* first_with_all: a voter not yet heard with an empty log, while
	 * this member's log is empty and no leader is known (0 = none) */
	uint32_t birth_wait;
};
void cons_status(const struct cons *c, struct cons_status *out);
/* The leader's view of one peer (the admin server's "observers"):
 * observer as the configuration in force says; match: durable on the peer
 * and equal to the leader's log up to there (0 while unknown). Returns 0,
 * or -ENOENT when this server does not lead or id is not its peer. */
struct cons_peer_status {
	uint8_t observer;
	zxid_t match;
};
int cons_peer_status(const struct cons *c, uint32_t id, struct cons_peer_status *out);
/* The entry with this zxid in the log, or NULL. Borrowed. */
const struct cons_entry *cons_find(const struct cons *c, zxid_t zxid);

/*
 * Fatal safety checks, also in release builds. The hook (for the simulator,
 * which records the failing seed) runs first; then the process aborts
 * unless the hook does not return.
 */
typedef void (*cons_invariant_fn)(const char *file, int line, const char *what);
void cons_set_invariant_hook(cons_invariant_fn fn);
void cons_invariant_failed(const char *file, int line, const char *what);
#define CONS_INVARIANT(cond)                                                             \
	do {                                                                             \
		if (!(cond))                                                             \
			cons_invariant_failed(__FILE__, __LINE__, #cond);                \
	} while (0)

/* ---- the I/O side: log store and transport vtables ---- */

struct cons_store;
struct cons_store_req;
typedef void (*cons_store_cb)(struct cons_store_req *req, int status);

/* A caller-owned request; the store fills nothing but calls cb once. */
struct cons_store_req {
	void *data; /* the caller's */
	uint64_t seq;
	cons_store_cb cb;
};

/*
 * The log store. Completion callbacks may run inside the call (a
 * zero-latency store) or later on the host's loop; requests of one kind
 * complete in the order issued. Entries and payloads given to append and
 * set_meta are borrowed for the call only: the store copies or writes them
 * before returning.
 */
struct cons_store {
	void *impl;
	/* Read the durable state at start: meta, the snapshot's zxid, the
	 * commit watermark (the highest commit_zxid an append recorded, or
	 * the zxid of the last reset; 0 = none) and the entries. The entries
	 * array and payloads belong to the store until the next call on it. */
	int (*load)(struct cons_store *s, struct cons_meta *meta, zxid_t *snap_zxid,
		    zxid_t *commit_zxid, const struct cons_entry **entries, size_t *n);
	int (*set_meta)(struct cons_store *s, struct cons_store_req *req,
			const struct cons_meta *meta, cons_store_cb cb);
	/* One atomic, durable write: optional truncation after truncate_after,
	 * then the entries, and the commit watermark raised to commit_zxid
	 * (in the same transaction: no extra fsync). See PERSIST_LOG above for
	 * failure semantics. */
	int (*append)(struct cons_store *s, struct cons_store_req *req, int truncate,
		      zxid_t truncate_after, const struct cons_entry *entries, size_t n,
		      zxid_t commit_zxid, cons_store_cb cb);
	/* Drop entries at or below zxid (a snapshot holds them). */
	int (*compact)(struct cons_store *s, zxid_t zxid);
	/* Forget every entry; the log starts after snap_zxid (snapshot
	 * installed), which is also the new commit watermark. Ordered after
	 * earlier appends. */
	int (*reset)(struct cons_store *s, struct cons_store_req *req, zxid_t snap_zxid,
		     cons_store_cb cb);
	void (*close)(struct cons_store *s);
};

struct cons_transport;
struct cons_send_req;
typedef void (*cons_send_cb)(struct cons_send_req *req, int status);
struct cons_send_req {
	void *data;
	cons_send_cb cb;
};
/* Called for every complete frame received (bytes borrowed for the call). */
typedef void (*cons_recv_fn)(void *arg, uint32_t from, const uint8_t *frame, size_t len);

/*
 * The peer transport: best-effort delivery of whole frames (codec.h) to a
 * server id; loss, duplication and reordering are tolerated by the core.
 * send borrows frame until cb (which may be NULL: the transport copies).
 */
struct cons_transport {
	void *impl;
	int (*send)(struct cons_transport *t, struct cons_send_req *req, uint32_t to,
		    const uint8_t *frame, size_t len, cons_send_cb cb);
	void (*set_recv)(struct cons_transport *t, cons_recv_fn fn, void *arg);
	void (*close)(struct cons_transport *t);
};

#endif
