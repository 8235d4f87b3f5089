/*
 * test_sim.c - the simulator as part of `make check`: a few thousand seeds
 * over every cluster shape, the planted bugs must be caught (so the checker
 * cannot pass vacuously), a seed must replay bit for bit, and the seeds
 * that once found bugs stay in the suite. QFS_SIM_SEEDS overrides the
 * number of seeds of the main sweep (default 5000).
 */
#include <stdlib.h>

#include "sim.h"
#include "tap.h"

static struct sim S;

static int scenario;
static int reconfig;

static uint64_t sweep(uint64_t start, uint64_t n, int participants, int observers,
		      int mutant)
{
	struct sim_opts o = {.participants = participants, .observers = observers};

	o.scenario = scenario;
	o.reconfig = reconfig;
	uint64_t i, bad = 0;

	o.mutant = mutant;
	for (i = 0; i < n; i++) {
		o.seed = start + i;
		if (sim_run(&o, &S)) {
			if (!mutant)
				printf("# seed %llu: %s\n", (unsigned long long)o.seed,
				       S.why);
			bad++;
		}
		sim_free(&S);
	}
	return bad;
}

static void test_sweep(void)
{
	const char *env = getenv("QFS_SIM_SEEDS");
	uint64_t n = env ? strtoull(env, NULL, 10) : 5000;

	TAP_EQ(sweep(1, n, 0, -1, 0), 0);
}

static void test_three(void)
{
	TAP_EQ(sweep(100000, 300, 3, 0, 0), 0);
}

static void test_seven_observers(void)
{
	TAP_EQ(sweep(200000, 200, 7, 2, 0), 0);
}

static void test_no_faults(void)
{
	struct sim_opts o = {
	    .seed = 7, .participants = 5, .observers = 1, .no_faults = 1};

	TAP_EQ(sim_run(&o, &S), 0);
	TAP_ASSERT(S.live_ok);
	TAP_ASSERT(S.commits > 0);
	sim_free(&S);
}

static void test_mutant_commit_minority(void)
{
	uint64_t bad = sweep(1, 200, 0, -1, 1);

	printf("# mutant 1 (leader commits alone): %llu of 200 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_mutant_ack_early(void)
{
	uint64_t bad = sweep(1, 300, 0, -1, 2);

	printf("# mutant 2 (ack before durable): %llu of 300 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_mutant_stale_vote(void)
{
	uint64_t bad = sweep(1, 300, 0, -1, 3);

	printf("# mutant 3 (vote without comparing logs): %llu of 300 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_mutant_read_no_round(void)
{
	uint64_t bad = sweep(1, 1000, 0, -1, 4);

	printf("# mutant 4 (read index without a quorum round): %llu of 1000 seeds "
	       "violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_mutant_apply_tail(void)
{
	uint64_t bad = sweep(1, 300, 0, -1, 5);

	printf("# mutant 5 (restart applies past the commit watermark): %llu of 300 "
	       "seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

/* Followers of 3 commit alone (cons_fast_commit), and answer writes the
 * leader has not counted yet: a read index of only the leader's commit
 * then misses them. */
static void test_mutant_read_fast(void)
{
	uint64_t bad = sweep(100000, 300, 3, 0, 15);

	printf("# mutant 15 (read index misses what followers commit alone): %llu of "
	       "300 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_mutant_lagging_watermark(void)
{
	uint64_t bad = sweep(1, 100, 0, -1, 12);

	printf("# mutant 12 (the watermark only rides with entries): %llu of 100 "
	       "seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

/* A follower cut off and rejoining leaves the leader alone (pre-vote). */
static void test_rejoin(void)
{
	scenario = 1;
	TAP_EQ(sweep(1, 200, 0, -1, 0), 0);
	scenario = 0;
}

/* A server far behind catches up by a snapshot of many chunks over a
 * lossy, duplicating, reordering network; chunked transfer also runs in
 * every sweep (sizes up to ~100 KiB, chunks of 16 B to 8 KiB). */
static void test_far_behind(void)
{
	struct sim_opts o = {.observers = -1, .scenario = 2};
	uint64_t i, bad = 0, snaps = 0, bytes = 0;

	for (i = 0; i < 100; i++) {
		o.seed = 300000 + i;
		if (sim_run(&o, &S)) {
			printf("# seed %llu: %s\n", (unsigned long long)o.seed, S.why);
			bad++;
		}
		snaps += S.snaps_installed;
		bytes += S.snap_bytes_installed;
		sim_free(&S);
	}
	printf("# far behind: %llu snapshots installed, %llu bytes, in chunks\n",
	       (unsigned long long)snaps, (unsigned long long)bytes);
	TAP_EQ(bad, 0);
	TAP_ASSERT(snaps >= 100);
}

/* ZooKeeper's stale sync: a leader paused past an election answers a
 * sync on resuming. The read index never is stale; mutant 4 nearly always
 * is in this scenario. */
static void test_paused_leader_sync(void)
{
	uint64_t bad;

	scenario = 3;
	TAP_EQ(sweep(1, 200, 0, -1, 0), 0);
	bad = sweep(1, 200, 0, -1, 4);
	scenario = 0;
	printf("# mutant 4 in the paused-leader scenario: %llu of 200 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad >= 100);
}

static void test_mutant_no_prevote(void)
{
	uint64_t bad;

	scenario = 1;
	bad = sweep(1, 200, 0, -1, 6);
	scenario = 0;
	printf("# mutant 6 (no pre-vote): a rejoining follower deposes the leader in "
	       "%llu of 200 seeds\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_mutant_no_check_quorum(void)
{
	uint64_t bad = sweep(1, 300, 0, -1, 7);

	printf("# mutant 7 (no check-quorum): %llu of 300 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_mutant_prepare_early(void)
{
	uint64_t bad = sweep(1, 300, 0, -1, 8);

	printf("# mutant 8 (a new leader prepares before applying the old epochs): "
	       "%llu of 300 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

static void test_replay(void)
{
	struct sim_opts o = {.seed = 4242, .observers = -1};
	uint64_t steps, msgs, commits;

	sim_run(&o, &S);
	steps = S.steps;
	msgs = S.msgs;
	commits = S.commits;
	sim_free(&S);
	sim_run(&o, &S);
	TAP_EQ(S.steps, steps);
	TAP_EQ(S.msgs, msgs);
	TAP_EQ(S.commits, commits);
	sim_free(&S);
}

/* Seeds that found bugs (see the commit log); the scenario each one hit is
 * also pinned by a unit test in tests/unit/test_cons.c. */
static void test_regressions(void)
{
	static const uint64_t seeds[] = {20,	  194,	   1014133, 1022611,
					 1028790, 1043780, 1058556};
	struct sim_opts o = {.observers = -1};
	size_t i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		o.seed = seeds[i];
		TAP_EQ(sim_run(&o, &S), 0);
		sim_free(&S);
	}
}

/* Membership changes of every kind under every fault. */
static void test_reconfig(void)
{
	uint64_t bad, i, confs = 0;

	reconfig = 1;
	bad = sweep(400000, 300, 0, -1, 0);
	for (i = 0; i < 20; i++) {
		struct sim_opts o = {.observers = -1, .reconfig = 1, .seed = 400000 + i};

		(void)sim_run(&o, &S);
		confs += S.configs_committed;
		sim_free(&S);
	}
	reconfig = 0;
	printf("# reconfig: %llu configurations committed in 20 seeds\n",
	       (unsigned long long)confs);
	TAP_EQ(bad, 0);
	TAP_ASSERT(confs >= 20);
}

static void test_mutant_joint_skipped(void)
{
	uint64_t bad;

	reconfig = 1;
	bad = sweep(1, 300, 0, -1, 9);
	reconfig = 0;
	printf("# mutant 9 (the joint configuration skipped): %llu of 300 seeds "
	       "violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

/*
 * A leader's host prepares txns with zxids and proposes them a little
 * later; when a joint configuration commits in between, the engine appends
 * the final one and takes the first prepared zxid (the chaos harness's
 * DATAINCONSISTENCY, seed 202 with membership changes). With the node's
 * flush before every step nothing is ever refused; without it (mutant 14)
 * the engine refuses the stale batches (CONS_ESTALE) and nothing is
 * committed at the wrong zxid; with neither (mutant 13) the checker sees a
 * txn committed one slot later than it was prepared for.
 */
static uint64_t stale_sweep(int mutant, uint64_t *stale)
{
	struct sim_opts o = {.observers = -1, .reconfig = 1, .mutant = mutant};
	uint64_t i, bad = 0;

	*stale = 0;
	for (i = 0; i < 200; i++) {
		o.seed = 400000 + i;
		bad += sim_run(&o, &S) ? 1 : 0;
		*stale += S.stale_batches;
		sim_free(&S);
	}
	return bad;
}

static void test_prepared_batches(void)
{
	uint64_t stale, bad;

	bad = stale_sweep(0, &stale);
	printf("# flushing before each step: %llu stale batches, %llu of 200 seeds violate\n",
	       (unsigned long long)stale, (unsigned long long)bad);
	TAP_EQ(bad, 0);
	TAP_EQ(stale, 0);
	bad = stale_sweep(14, &stale);
	printf("# mutant 14 (no flush): %llu stale batches refused, %llu of 200 seeds "
	       "violate\n",
	       (unsigned long long)stale, (unsigned long long)bad);
	TAP_EQ(bad, 0);
	TAP_ASSERT(stale > 0);
	bad = stale_sweep(13, &stale);
	printf("# mutant 13 (no flush, no check): %llu of 200 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad > 0);
}

/* Leadership transfer to a follower that fell behind, under load. */
static void test_transfer(void)
{
	scenario = 4;
	TAP_EQ(sweep(1, 200, 0, -1, 0), 0);
	scenario = 0;
}

static void test_mutant_transfer_early(void)
{
	uint64_t bad;

	scenario = 4;
	bad = sweep(1, 200, 0, -1, 10);
	scenario = 0;
	printf("# mutant 10 (transfer target campaigns before it is up to date): %llu "
	       "of 200 seeds violate\n",
	       (unsigned long long)bad);
	TAP_ASSERT(bad >= 100);
}

static const struct tap_case cases[] = {
    {"sim sweep of mixed clusters under faults: no violations", test_sweep},
    {"sim 3 participants: no violations", test_three},
    {"sim 7 participants and 2 observers: no violations", test_seven_observers},
    {"sim without faults elects and commits", test_no_faults},
    {"sim catches mutant 1 (leader commits on a minority)", test_mutant_commit_minority},
    {"sim catches mutant 2 (follower acks before persisting)", test_mutant_ack_early},
    {"sim catches mutant 3 (votes without comparing logs)", test_mutant_stale_vote},
    {"sim catches mutant 4 (read index without a quorum round)",
     test_mutant_read_no_round},
    {"sim catches mutant 5 (restart applies past the commit watermark)",
     test_mutant_apply_tail},
    {"sim catches mutant 12 (the commit watermark lags a batch when idle)",
     test_mutant_lagging_watermark},
    {"sim catches mutant 15 (a read index that misses a follower's own commit)",
     test_mutant_read_fast},
    {"sim a follower rejoining from a partition does not depose the leader", test_rejoin},
    {"sim a server far behind catches up by a chunked snapshot over a lossy network",
     test_far_behind},
    {"sim a leader paused past an election never answers a sync stale",
     test_paused_leader_sync},
    {"sim catches mutant 6 (no pre-vote) in the rejoin scenario", test_mutant_no_prevote},
    {"sim catches mutant 7 (no check-quorum)", test_mutant_no_check_quorum},
    {"sim catches mutant 8 (prepare before the old epochs are applied)",
     test_mutant_prepare_early},
    {"sim a seed replays bit for bit", test_replay},
    {"sim regression seeds", test_regressions},
    {"sim membership changes under faults: no violations", test_reconfig},
    {"sim mutant 9 (joint configuration skipped) is caught", test_mutant_joint_skipped},
    {"sim prepared batches keep their zxids across a configuration append (mutants 13, "
     "14)",
     test_prepared_batches},
    {"sim leadership transfer to a follower behind, under load: target takes over, no "
     "write lost",
     test_transfer},
    {"sim mutant 10 (transfer target campaigns before it is up to date) is caught",
     test_mutant_transfer_early},
};

TAP_MAIN(cases)
