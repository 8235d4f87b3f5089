/*
 * sim.h - the deterministic simulator of the replication engine.
 *
 * A seeded cluster of cons_node instances (the same host driver the daemon
 * uses) over an in-memory log store and a simulated network, both behind
 * the cons.h vtables, in virtual time. A fault schedule drawn from the seed
 * crashes and restarts servers (losing what was not durable), partitions
 * the network (symmetric, asymmetric, flapping), loses, duplicates, delays
 * and reorders messages, slows and fails disks and jumps clocks. The
 * checker (sim_check.c) verifies the safety properties after every step and
 * liveness once the faults stop. Everything random comes from one PRNG
 * seeded by the seed, so a seed replays bit for bit.
 */
#ifndef QFS_SIM_H
#define QFS_SIM_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include "cons.h"
#include "cons_node.h"
#include "quorum.h"

#define SIM_MAX_NODES 10
#define SIM_PROBES    4

struct sim;

/* One queued disk operation of the in-memory store. */
struct sim_op {
	int kind; /* SIM_OP_* */
	struct cons_store_req *req;
	cons_store_cb cb;
	int truncate;
	zxid_t after;
	struct cons_entry *entries; /* copies */
	size_t n;
	struct cons_meta meta;
	zxid_t zxid; /* RESET: the snapshot; APPEND: the commit watermark */
};

enum { SIM_OP_APPEND = 1, SIM_OP_META, SIM_OP_RESET };

/* The in-memory log store: what is durable survives a crash, the queue
 * does not. */
struct sim_store {
	struct cons_store vt;
	struct sim *sim;
	int node;
	struct cons_meta meta;
	zxid_t snap_zxid;
	zxid_t commit;	      /* the durable commit watermark */
	struct cons_entry *e; /* durable entries, data owned */
	size_t n, cap;
	struct sim_op *q;
	size_t q_head, q_n, q_cap;
	uint64_t busy_until;  /* the last scheduled batch completes */
	uint64_t batch_start; /* a batch not yet started, open to join */
	int poisoned;
};

/* The host's replicated state: a hash chain over the applied entries, and
 * a counter every prepared txn sets to "its value as prepared + 1"
 * (compare-and-set): prepared against a stale state, a txn repeats or
 * skips a value. */
struct sim_state {
	zxid_t zxid;
	uint64_t count;
	uint64_t hash;
	uint64_t cas;
};

#define SIM_HOLD 64

struct sim_node {
	struct sim *sim;
	int idx;
	uint32_t id;
	int observer;
	int up;
	uint32_t gen; /* incarnation; events of an older one are dropped */
	struct cons_node *node;
	struct sim_store store;
	struct cons_transport tr;
	cons_recv_fn recv;
	void *recv_arg;
	int64_t clock_off;
	struct sim_state st;   /* applied, volatile */
	struct sim_state snap; /* the durable snapshot */
	uint8_t snap_blob[32];
	uint8_t *legacy_blob; /* hosts without chunk callbacks: the whole one */
	zxid_t legacy_zxid;
	uint64_t legacy_len;
	zxid_t rx_zxid; /* chunked receipt: the snapshot being written */
	uint64_t rx_total, rx_got;
	uint8_t rx_hdr[32];
	int rx_bad;
	uint64_t snaps, snap_bytes; /* snapshots it installed, the last's size */
	uint64_t prep_count;	    /* leader host: the counter as it will be */
	uint8_t held[SIM_HOLD][40]; /* forwarded before it may prepare */
	uint32_t held_len[SIM_HOLD];
	int n_held;
	/* Prepared, not yet proposed (the daemon's batch): proposed at a
	 * SIM_EV_FLUSH or when the node asks (cons_node_host.flush). */
	uint8_t pend[SIM_HOLD][56];
	uint32_t pend_len[SIM_HOLD];
	int n_pend;
	zxid_t pend_first;    /* the zxid the first was prepared for */
	uint64_t pend_count0; /* prep_count before the first */
	uint64_t since_snap;
	zxid_t installing; /* a snapshot the host holds, the core not yet */
	int slow_disk;
	int failing_disk;
	uint64_t restart_at;
	uint64_t paused_until; /* SIGSTOP: its events wait until then */
	uint64_t clock_max;    /* the newest reading of its clock (the core's now) */
	uint64_t heard[SIM_MAX_NODES]; /* clock_max when a frame from i arrived */
	uint64_t lead_since;	       /* clock_max when it became leader */
	int read_ok;		       /* a read index asked after the heal succeeded */
	/* Membership: the host keeps the configuration as of its state and
	 * stores it with its snapshot (cons_node.h, snap_config). */
	uint8_t conf_applied[CONS_MEMBERSHIP_MAX]; /* newest CONFIG applied */
	uint32_t conf_applied_len;
	uint8_t snap_conf[CONS_MEMBERSHIP_MAX]; /* with the durable snapshot */
	uint32_t snap_conf_len;
	uint8_t rx_conf[CONS_MEMBERSHIP_MAX]; /* with the one being installed */
	uint32_t rx_conf_len;
};

/* A read index request: the committed prefix its answer must cover. */
struct sim_read {
	int node;
	uint64_t floor; /* entries committed (acknowledged) when it was asked */
	int after_heal;
	int done;
};

/* One committed entry of the global sequence. */
struct sim_gent {
	zxid_t zxid;
	uint64_t ph;	 /* payload hash */
	uint64_t prefix; /* hash chain up to and including it */
	uint32_t epoch;	 /* the newest leader's epoch when it was committed: it
			    was committed in this epoch or an earlier one */
};

struct sim_event {
	uint64_t t, seq;
	int type;
	int node;
	uint32_t gen;
	uint32_t from;
	uint8_t *frame;
	size_t len;
};

struct sim_opts {
	uint64_t seed;
	int trace;
	int mutant;
	int participants; /* 0 = from the seed: 3, 5 or 7 */
	int observers;	  /* -1 = from the seed */
	int no_faults;
	/* 1: no faults but one: a follower is cut off for 8 election
	 * timeouts, then rejoins; the leader must survive it (pre-vote).
	 * 2: a server far behind catches up by snapshot over a lossy network.
	 * 3: the leader is paused past an election and asked for a sync as
	 *    it resumes (ZooKeeper's stale sync).
	 * 4: leadership transfer under a steady write load to a follower
	 *    that has fallen behind: it must take over in the next epoch, and
	 *    every write issued meanwhile must commit (none failed). */
	int scenario;
	/* Membership changes (and leadership transfers) during the faults:
	 * 0 = on half the seeds, 1 = always, -1 = never. Scenarios have none. */
	int reconfig;
};

struct sim {
	struct sim_opts o;
	uint64_t rng;
	uint64_t now;
	uint64_t seq;
	int n;
	struct sim_node nodes[SIM_MAX_NODES];
	struct cons_member members[SIM_MAX_NODES];
	enum quorum_kind quorum;
	struct quorum q;
	uint32_t snap_every;
	uint32_t fault_gap; /* the longest quiet time between faults */
	uint32_t election_ms, heartbeat_ms, max_batch, max_inflight;
	int fwd_host; /* cons_config.forward_to_host */
	/* Snapshots: 32 bytes of state then filler, big and in small chunks
	 * by seed; some seeds run hosts without the chunk callbacks. */
	uint32_t snap_pad, snap_chunk, snap_window;
	int legacy_snap;
	uint64_t snap_bytes_installed, snaps_installed;

	struct sim_event *heap;
	size_t h_n, h_cap;

	/* network faults */
	uint8_t block[SIM_MAX_NODES][SIM_MAX_NODES]; /* from, to */
	uint32_t loss_pct, dup_pct, max_delay;
	int flapping;
	uint8_t flap[SIM_MAX_NODES][SIM_MAX_NODES];
	int flap_on;

	uint64_t fault_end, heal_at, deadline;
	uint64_t hold_until; /* a scenario runs at least until then */
	int sc_stage, sc_node;
	uint32_t sc_leader, sc_epoch;
	uint64_t sc_at;
	int healed;
	uint64_t next_id;

	/* membership changes: their own PRNG, so that the fault schedule of
	 * a seed is the same with or without them */
	int reconfig;
	uint64_t rrng;
	uint64_t reconfigs, reconfigs_ok, reconfigs_failed, configs_committed;
	uint64_t stale_batches; /* prepared batches refused: CONS_ESTALE */
	uint64_t transfers, transfers_ok;
	/* scenario 4: the writes issued during the transfer, and how many of
	 * them committed; writes refused (retried) meanwhile */
	uint64_t xfer_first, xfer_last, xfer_committed, xfer_refused;
	uint64_t xfer_ms;	      /* from the request to the target leading */
	int xfer_gave_up;	      /* the target was too slow: the leader resumed */
	struct cons_membership gconf; /* the newest committed configuration */

	/* checker */
	struct sim_gent *g;
	size_t g_n, g_cap;
	uint32_t *leaders; /* per epoch */
	uint32_t max_lead_epoch;
	size_t l_cap;
	struct sim_read *reads; /* by token */
	size_t r_n, r_cap;
	uint64_t reads_ok, reads_failed;
	uint64_t probe_id[SIM_PROBES];
	long probe_pos[SIM_PROBES];
	int live_ok;
	char why[256];
	int violations;
	jmp_buf jmp;
	uint8_t *cur_frame; /* the frame being delivered, freed if we jump out */

	/* figures */
	uint64_t steps, msgs, commits;
	uint64_t burst_ms, burst; /* frames sent in the current virtual ms */
	uint64_t live_ms;	  /* from the end of faults to every probe applied */
};

/* sim.c */
uint64_t sim_rand(struct sim *s);
int sim_chance(struct sim *s, uint32_t pct);
void sim_push(struct sim *s, uint64_t t, int type, int node, uint32_t gen);
/* Queue a frame (owned by the queue from now on) for delivery. */
void sim_push_msg(struct sim *s, uint64_t t, int node, uint32_t from, uint8_t *frame,
		  size_t len);
void sim_tracef(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t sim_node_now(struct sim_node *n);
/* Run one seed; returns the number of violations (0 or 1), why in s->why. */
int sim_run(const struct sim_opts *o, struct sim *s);
void sim_free(struct sim *s);

enum {
	SIM_EV_TICK = 1,
	SIM_EV_DELIVER,
	SIM_EV_DISK,
	SIM_EV_PROPOSE,
	SIM_EV_FAULT,
	SIM_EV_RESTART,
	SIM_EV_FLAP,
	SIM_EV_HEAL,
	SIM_EV_PROBE,
	SIM_EV_READ,	/* a client's sync reaches a server (gen = token) */
	SIM_EV_SYNC_AT, /* a client issues a sync to a given server */
	SIM_EV_SCENARIO,
	SIM_EV_RECONFIG, /* change the membership (or transfer leadership) */
	SIM_EV_RETRY,	 /* a client retries a refused write (gen = its id) */
	SIM_EV_FLUSH,	 /* a leader's host proposes what it prepared */
};

/* sim_store.c */
void sim_store_init(struct sim_store *st, struct sim *s, int node);
void sim_store_crash(struct sim_store *st);
void sim_store_free(struct sim_store *st);
void sim_store_complete(struct sim_store *st);

/* sim_net.c */
void sim_net_init(struct sim_node *n);
void sim_net_deliver(struct sim *s, struct sim_event *ev);

/* sim_check.c */
void sim_violation(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_check_apply(struct sim_node *n, const struct cons_entry *e, size_t cnt);
void sim_check_leader(struct sim_node *n, uint32_t epoch);
void sim_check_snapshot(struct sim_node *n, const struct sim_state *st);
void sim_check_restart(struct sim_node *n);
void sim_check_watermark(struct sim_node *n);
uint64_t sim_node_clock(struct sim_node *n);
void sim_check_quorum_heard(struct sim_node *n);
/* A client asks node n for a read index; returns the token. */
uint64_t sim_read_issue(struct sim *s, struct sim_node *n);
void sim_check_read(struct sim_node *n, uint64_t token, zxid_t zxid, int status);
void sim_check_step(struct sim *s);
/* Is the set of node indices a quorum of configuration m (of both halves
 * when joint; of the new half only with new_half)? */
int sim_conf_quorum(const struct sim *s, const struct cons_membership *m, uint64_t set,
		    int new_half);
int sim_conf_member(const struct cons_membership *m, uint32_t id);
int sim_check_live(struct sim *s);
uint64_t sim_payload_hash(const struct cons_entry *e);

#endif
