/*
 * cons_int.h - the core's private state, shared by the files that each
 * implement one part of the protocol:
 *
 *   cons.c           lifecycle, the step loop, actions, durable meta, tracer
 *   cons_log.c       the in-memory log addressed by zxid
 *   cons_election.c  timeouts, vote requests and replies, becoming leader
 *   cons_leader.c    broadcast: proposals, batching, pipelining, acks, commit
 *   cons_follower.c  append handling: consistency check, truncation, acks
 *   cons_snapshot.c  snapshot transfer, install and log compaction
 *   cons_read.c      the read index (linearizable read barrier)
 *   cons_config.c    membership changes (joint consensus), leadership transfer
 */
#ifndef QFS_CONS_INT_H
#define QFS_CONS_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cons.h"
#include "quorum.h"

/* Replication progress of one peer, kept by the leader (Raft's progress). */
enum peer_mode {
	PEER_PROBE = 1, /* one append at a time until the logs are found to match */
	PEER_REPLICATE, /* pipelined appends, up to max_inflight */
	PEER_SNAPSHOT,	/* waiting for a snapshot to be installed */
};

struct cons_peer {
	uint32_t id;
	int slot; /* quorum slot */
	uint8_t observer;
	uint8_t mode;
	uint8_t probe_out; /* PROBE: an append is outstanding */
	uint8_t acked;	   /* an answer arrived since the last heartbeat */
	uint32_t inflight; /* REPLICATE: appends not yet answered */
	zxid_t next;	   /* entries after this zxid are to be sent */
	zxid_t match;	   /* durable on the peer and equal to ours up to here */
	uint64_t last_heard;
	uint64_t last_sent;
	uint64_t snap_at;  /* SNAPSHOT: offered, or last progress, at */
	uint64_t read_ack; /* the newest read round it echoed in this epoch */
	zxid_t stable_sent; /* our stable, as last sent to it (cons_fast_commit) */
	/* SNAPSHOT: the transfer (snap_zxid 0 = waiting for the host's offer) */
	zxid_t snap_zxid;
	uint64_t snap_total;
	uint64_t snap_sent;   /* chunks before this offset were sent */
	uint64_t snap_acked;  /* the peer has everything before this offset */
	uint64_t snap_resent; /* last go-back */
	uint64_t snap_fast;   /* acked offset of the last fast resend, +1 */
	uint8_t snap_empty;   /* an empty snapshot's one chunk was sent */
	uint8_t departing;    /* leader: removed, told until it holds the config */
};

/* A read index request waiting in the core. */
enum read_kind {
	READ_LOCAL = 1, /* leader: its own host's, token is the host's */
	READ_REMOTE,	/* leader: a follower's, token is the follower's id */
	READ_ASKED,	/* follower: sent to `peer` as id `seq`, waiting */
};

struct cons_read {
	uint8_t kind;
	uint32_t peer;	   /* READ_REMOTE: asker; READ_ASKED: the leader asked */
	uint64_t token;	   /* the host's token, or the asker's id */
	uint64_t seq;	   /* leader: the round that confirms it, 0 = unassigned;
			      READ_ASKED: the id sent */
	zxid_t zxid;	   /* leader: the commit point when it was assigned */
	uint64_t deadline; /* READ_ASKED: fail with -ETIMEDOUT at */
};

/* The log: entries strictly increasing by zxid, all above base. */
struct cons_seg; /* cons_log.c */

struct cons_log {
	struct cons_entry *e; /* data owned by the log, in its segments */
	size_t n;
	/* e is `skip` entries into an allocation of `cap` (compaction moves
	 * e forward; the entries move down only when the end is reached) */
	struct cons_entry *alloc;
	size_t skip, cap;
	zxid_t base; /* the snapshot's zxid; nothing at or below it is kept */
	struct cons_seg *seg_head, *seg_tail;
	struct cons_seg *seg_free; /* emptied full-size segments, for reuse */
	size_t n_free;
	void *(*seg_map)(size_t len); /* cons_config's, or NULL */
	void (*seg_unmap)(void *p, size_t len);
};

/* A PERSIST_LOG in flight: completions arrive in order. */
struct cons_write {
	uint64_t seq;
	zxid_t last; /* the log's newest zxid when the write was issued */
};

struct cons {
	struct cons_config cfg;
	struct cons_member members[CONS_MAX_MEMBERS];
	struct quorum q;     /* the configuration in force (its new half) */
	struct quorum q_old; /* joint: the old half, also required */
	int self_slot;	     /* in members[], -1 when not a member */
	uint8_t removed;     /* not in the configuration in force */
	struct cons_peer peers[CONS_MAX_MEMBERS]; /* every member but self */
	unsigned n_peers;
	uint8_t observer; /* self is an observer */
	uint64_t rng;
	uint64_t now;

	/* election */
	enum cons_state state;
	uint32_t leader;
	struct cons_meta meta;	       /* in memory */
	struct cons_meta durable_meta; /* on disk */
	struct cons_meta writing_meta;
	uint8_t meta_busy;	    /* a PERSIST_META is in flight */
	uint8_t meta_failed;	    /* retry on the next tick */
	uint32_t grant_to;	    /* a vote reply waiting for the meta write */
	uint64_t votes;		    /* candidate: slots that granted */
	uint8_t prevoting;	    /* asking whether an election could be won */
	uint64_t prevotes;	    /* slots that would vote for us in epoch+1 */
	uint64_t deadline;	    /* follower/candidate: start an election at */
	uint64_t heard_leader;	    /* last append from the leader */
	uint64_t heard_empty;	    /* first_with_all: slots heard with an
				       empty log since their connection opened */
	uint64_t quorum_check;	    /* leader: check-quorum from then on */
	enum cons_state role_state; /* last reported by ROLE */
	uint32_t role_epoch, role_leader;

	/* log */
	struct cons_log log;
	zxid_t stable;	 /* durable and equal to the log up to here */
	zxid_t verified; /* follower: equal to the leader's log up to here */
	zxid_t commit;
	zxid_t applied;
	uint32_t counter;    /* leader: last counter used in this epoch */
	uint8_t prep_ready;  /* leader: PREPARE_READY issued in this leadership */
	size_t unpersisted;  /* leader: log position of the first entry not yet written */
	uint8_t resync;	     /* the next write must truncate after stable */
	uint8_t boot_apply;  /* apply base..commit (the watermark) first */
	zxid_t mark;	     /* the highest commit watermark handed to the store */
	uint8_t write_fails; /* leaderships lost to a failed log write in a row */
	uint64_t wseq;	     /* next write sequence */
	uint64_t wvalid;     /* completions below this seq are stale */
	struct cons_write *writes;
	size_t w_head, w_n, w_cap;

	/* read index */
	struct cons_read *reads;
	size_t n_reads, cap_reads;
	uint64_t read_sent;  /* leader: the newest round sent (every append
				carries it) */
	uint64_t read_acked; /* leader: the newest round a quorum echoed */
	uint64_t lead_ctx;   /* follower: the newest round heard from the leader */
	zxid_t lead_stable;  /* follower: durable on the leader up to here */
	struct {	     /* follower: the last answer sent (cons_follower_ack) */
		uint32_t to, epoch;
		zxid_t last, match;
		uint64_t read_seq, at;
	} acked;
	uint64_t read_id;    /* follower: the last request id used */

	/* snapshot */
	uint8_t installing;
	zxid_t install_zxid;
	zxid_t rs_zxid; /* follower: receiving this snapshot (0 = none) */
	uint32_t rs_from;
	uint64_t rs_total, rs_next;

	/* actions of the current step */
	/* membership (cons_config.c). members[] above is the union of the
	 * halves of conf (and, on a leader, of the learners catching up). */
	struct cons_membership static_conf; /* from cons_config */
	struct cons_membership base_conf;   /* as of log.base */
	uint8_t *base_enc;		    /* its encoding */
	uint32_t base_enc_len;
	struct cons_membership conf; /* in force: the newest in the log */
	zxid_t conf_scan;	     /* the log was searched for configs up to here */
	zxid_t conf_reported;	     /* newest committed config reported */
	uint8_t chg;		     /* leader: CHG_* */
	struct cons_membership chg_to;
	uint64_t chg_deadline;
	uint8_t rs_conf[CONS_MEMBERSHIP_MAX]; /* with the snapshot being received */
	uint32_t rs_conf_len;
	uint8_t in_conf[CONS_MEMBERSHIP_MAX]; /* with the snapshot being installed */
	uint32_t in_conf_len;

	/* leadership transfer (cons_transfer.c) */
	uint32_t xfer_to;	/* leader: the target, 0 = none */
	uint64_t xfer_deadline; /* give up and resume at */
	uint8_t xfer_sent;	/* TIMEOUT_NOW sent */
	struct cons_held *held; /* requests held during a transfer */
	size_t n_held, cap_held;
	uint64_t held_until;		 /* drop what is held after this */
	struct cons_payload *held_views; /* what this step handed on */
	uint8_t held_done;		 /* free the held at the next step */
	uint8_t campaign_transfer;	 /* candidate: standing on TIMEOUT_NOW */

	struct cons_action *acts;
	size_t *act_pos; /* log position an action's entries start at, or SIZE_MAX */
	size_t n_acts, cap_acts;
	int oom;
};

/* cons.c */
struct cons_action *cons_act(struct cons *c, enum cons_action_type t, size_t pos);
void cons_send(struct cons *c, uint32_t to, const struct cons_msg *m, size_t pos);
int cons_meta_ready(const struct cons *c);
void cons_set_meta(struct cons *c, uint32_t epoch, uint32_t vote);
void cons_set_role(struct cons *c, enum cons_state s, uint32_t leader);
void cons_become_follower(struct cons *c, uint32_t epoch, uint32_t leader);
uint64_t cons_rand(struct cons *c);
struct cons_peer *cons_peer(struct cons *c, uint32_t id);
void cons_tracef(struct cons *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define CONS_TRACE(c, ...)                                                               \
	do {                                                                             \
		if ((c)->cfg.trace)                                                      \
			cons_tracef((c), __VA_ARGS__);                                   \
	} while (0)

/* cons_log.c */
void cons_log_free(struct cons_log *l);
int cons_log_append(struct cons_log *l, zxid_t zxid, uint8_t type, const uint8_t *data,
		    uint32_t len);
/* Position of zxid, or -1; base is position -1 too: use cons_log_has. */
long cons_log_find(const struct cons_log *l, zxid_t zxid);
int cons_log_has(const struct cons_log *l, zxid_t zxid);
/* Position of the first entry above zxid (n when none). */
size_t cons_log_after(const struct cons_log *l, zxid_t zxid);
/* The newest zxid at or below zxid held in the log, base when none. */
zxid_t cons_log_floor(const struct cons_log *l, zxid_t zxid);
zxid_t cons_log_last(const struct cons_log *l);
/* Drop entries from position pos on. */
void cons_log_truncate(struct cons_log *l, size_t pos);
/* Drop entries at or below zxid and make it the base. */
void cons_log_compact(struct cons_log *l, zxid_t zxid);
void cons_log_reset(struct cons_log *l, zxid_t base);

/* cons_election.c */
void cons_election_tick(struct cons *c);
void cons_reset_deadline(struct cons *c);
void cons_on_vote_req(struct cons *c, const struct cons_msg *m);
void cons_on_vote_resp(struct cons *c, const struct cons_msg *m);
void cons_on_prevote_req(struct cons *c, const struct cons_msg *m);
void cons_on_prevote_resp(struct cons *c, const struct cons_msg *m);
void cons_on_meta_durable(struct cons *c);

/* cons_leader.c */
void cons_become_leader(struct cons *c);
int cons_propose(struct cons *c, const struct cons_payload *p, size_t n, zxid_t first);
void cons_on_forward(struct cons *c, const struct cons_msg *m);
int cons_forward(struct cons *c, const struct cons_payload *p, size_t n);
void cons_on_append_resp(struct cons *c, const struct cons_msg *m);
void cons_leader_flush(struct cons *c);
void cons_leader_tick(struct cons *c);
void cons_leader_send(struct cons *c, struct cons_peer *p, int heartbeat);
void cons_advance_commit(struct cons *c);
void cons_apply(struct cons *c);

/* cons_follower.c */
void cons_on_append(struct cons *c, const struct cons_msg *m);
void cons_follower_ack(struct cons *c, int quiet);
void cons_fast_commit(struct cons *c);
int cons_commits_alone(const struct cons *c, const struct cons_peer *p);
void cons_leader_stable(struct cons *c);
void cons_persist(struct cons *c, int truncate, size_t pos);
void cons_persist_mark(struct cons *c);
void cons_on_peer_down(struct cons *c, uint32_t id);
/* first_with_all: a voter not yet heard empty (cons_status.birth_wait) */
uint32_t cons_birth_wait(const struct cons *c);
void cons_on_log_done(struct cons *c, uint64_t seq, int status);

/* cons_snapshot.c */
void cons_snap_start(struct cons *c, struct cons_peer *p);
void cons_snap_send(struct cons *c, struct cons_peer *p, int heartbeat);
void cons_on_snap_offer(struct cons *c, uint32_t to, zxid_t zxid, uint64_t total,
			int status);
void cons_on_snap_ack(struct cons *c, const struct cons_msg *m);
void cons_on_snap(struct cons *c, const struct cons_msg *m);
void cons_on_snap_done(struct cons *c, zxid_t zxid, int status);
void cons_on_compact(struct cons *c, zxid_t zxid);

/* cons_config.c */
enum { CHG_NONE = 0, CHG_CATCHUP, CHG_JOINT, CHG_NEW };
int cons_conf_init(struct cons *c, const struct cons_boot *boot);
void cons_conf_free(struct cons *c);
void cons_conf_sync(struct cons *c);
int cons_quorum(const struct cons *c, uint64_t set);
uint64_t cons_self_bit(const struct cons *c);
enum cons_state cons_idle_state(const struct cons *c);
int cons_may_vote(const struct cons *c);
int cons_may_stand(const struct cons *c);
int cons_on_reconfig(struct cons *c, const struct cons_membership *to, zxid_t from);
void cons_conf_leader(struct cons *c);
void cons_conf_committed(struct cons *c);
void cons_conf_lost_lead(struct cons *c);
void cons_conf_compact(struct cons *c, zxid_t zxid);
void cons_conf_installed(struct cons *c);
const uint8_t *cons_conf_at(const struct cons *c, zxid_t zxid, uint32_t *len);
int cons_conf_entry_ok(const struct cons_entry *e);

/* cons_transfer.c */
struct cons_held {
	uint32_t from; /* whose host sent it (self: ours) */
	uint8_t *data;
	uint32_t len;
};
int cons_on_transfer(struct cons *c, uint32_t to);
int cons_transfer_hold(struct cons *c, uint32_t from, const struct cons_payload *p,
		       size_t n);
void cons_transfer_progress(struct cons *c);
void cons_transfer_tick(struct cons *c);
void cons_on_timeout_now(struct cons *c, const struct cons_msg *m);
void cons_transfer_free(struct cons *c);
void cons_transfer_step_start(struct cons *c);
void cons_start_election(struct cons *c, int transfer);

/* cons_read.c */
int cons_read_index(struct cons *c, uint64_t token);
void cons_on_read_req(struct cons *c, const struct cons_msg *m);
void cons_on_read_resp(struct cons *c, const struct cons_msg *m);
void cons_read_progress(struct cons *c);
void cons_read_tick(struct cons *c);
void cons_read_fail_all(struct cons *c);

#endif
