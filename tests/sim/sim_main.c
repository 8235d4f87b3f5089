/*
 * sim_main.c - qfs_sim: run the simulator over a range of seeds.
 *
 *   qfs_sim [--seeds N] [--start S] [--seed S] [--trace] [--trace-msgs] [--mutant M]
 *           [--participants P] [--observers O] [--no-faults] [--scenario K]
 *
 * Prints each failing seed with the violation, then (on runs of more than
 * one seed) the rate, and ends with "sim: N seeds, V violations". A failing
 * seed replays exactly with --seed S --trace (protocol events and faults;
 * --trace-msgs adds every message delivered). Exit status 1 on violations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sim_opts o = {.observers = -1};
	uint64_t seeds = 100, start = 1, i, bad = 0, steps = 0, commits = 0, live_max = 0;
	uint64_t snaps = 0, snap_bytes = 0, rc_n = 0, rc_ok = 0, rc_failed = 0,
		 rc_conf = 0, stale = 0;
	uint64_t xf_n = 0, xf_ok = 0, xf_done = 0, xf_gave_up = 0, xf_ms = 0, xf_max = 0;
	uint64_t xf_writes = 0, xf_refused = 0;
	struct sim *s;
	double t0;
	int a;

	for (a = 1; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(argv[a], "--seeds") && v) {
			seeds = strtoull(v, NULL, 10);
			a++;
		} else if (!strcmp(argv[a], "--start") && v) {
			start = strtoull(v, NULL, 10);
			a++;
		} else if (!strcmp(argv[a], "--seed") && v) {
			start = strtoull(v, NULL, 10);
			seeds = 1;
			a++;
		} else if (!strcmp(argv[a], "--trace")) {
			o.trace = o.trace > 1 ? 2 : 1;
		} else if (!strcmp(argv[a], "--trace-msgs")) {
			o.trace = 2;
		} else if (!strcmp(argv[a], "--mutant") && v) {
			o.mutant = atoi(v);
			a++;
		} else if (!strcmp(argv[a], "--participants") && v) {
			o.participants = atoi(v);
			a++;
		} else if (!strcmp(argv[a], "--observers") && v) {
			o.observers = atoi(v);
			a++;
		} else if (!strcmp(argv[a], "--reconfig") && v) {
			o.reconfig = atoi(v);
			a++;
		} else if (!strcmp(argv[a], "--no-faults")) {
			o.no_faults = 1;
		} else if (!strcmp(argv[a], "--scenario") && v) {
			o.scenario = atoi(v);
			a++;
		} else {
			fprintf(stderr,
				"usage: %s [--seeds N] [--start S] [--seed S] [--trace] "
				"[--trace-msgs] [--mutant M] [--participants P] "
				"[--observers O] "
				"[--no-faults] [--scenario K] [--reconfig 1|-1]\n",
				argv[0]);
			return 2;
		}
	}
	s = malloc(sizeof(*s));
	if (!s)
		return 1;
	t0 = cpu_seconds();
	for (i = 0; i < seeds; i++) {
		o.seed = start + i;
		if (sim_run(&o, s)) {
			bad++;
			printf("seed %llu: violation: %s\n", (unsigned long long)o.seed,
			       s->why);
			fflush(stdout);
		}
		if (s->live_ms > live_max)
			live_max = s->live_ms;
		steps += s->steps;
		commits += s->commits;
		snaps += s->snaps_installed;
		snap_bytes += s->snap_bytes_installed;
		rc_n += s->reconfigs;
		rc_ok += s->reconfigs_ok;
		rc_failed += s->reconfigs_failed;
		rc_conf += s->configs_committed;
		stale += s->stale_batches;
		xf_n += s->transfers;
		xf_ok += s->transfers_ok;
		if (o.scenario == 4 && !s->violations && s->xfer_first) {
			xf_gave_up += s->xfer_gave_up;
			if (!s->xfer_gave_up) {
				xf_done++;
				xf_ms += s->xfer_ms;
				if (s->xfer_ms > xf_max)
					xf_max = s->xfer_ms;
			}
			xf_writes += s->xfer_last - s->xfer_first + 1;
			xf_refused += s->xfer_refused;
		}
		sim_free(s);
	}
	if (seeds > 1) {
		double dt = cpu_seconds() - t0;

		printf("sim: %.1f seeds/s of CPU, %llu steps, %llu commits in %.2fs; "
		       "slowest recovery after faults %llu ms (bound 15000)\n",
		       dt > 0 ? (double)seeds / dt : 0.0, (unsigned long long)steps,
		       (unsigned long long)commits, dt, (unsigned long long)live_max);
	}
	if (seeds > 1)
		printf("sim: %llu snapshots installed, %llu bytes, in chunks\n",
		       (unsigned long long)snaps, (unsigned long long)snap_bytes);
	if (seeds > 1)
		printf("sim: %llu membership changes asked, %llu started, %llu failed "
		       "(learner too slow, leadership lost), %llu configurations "
		       "committed (joint and new)\n",
		       (unsigned long long)rc_n, (unsigned long long)rc_ok,
		       (unsigned long long)rc_failed, (unsigned long long)rc_conf);
	if (seeds > 1 && stale)
		printf("sim: %llu prepared batches refused as stale (CONS_ESTALE)\n",
		       (unsigned long long)stale);
	if (seeds > 1 && xf_n)
		printf("sim: %llu leadership transfers asked, %llu started\n",
		       (unsigned long long)xf_n, (unsigned long long)xf_ok);
	if (seeds > 1 && o.scenario == 4)
		printf(
		    "sim: transfer scenario: %llu took over (mean %.1f ms, max %llu ms "
		    "from the request to the target leading), %llu gave up (target "
		    "too slow to catch up); %llu writes issued meanwhile all "
		    "committed, %llu refusals retried by clients\n",
		    (unsigned long long)xf_done, xf_done ? (double)xf_ms / xf_done : 0.0,
		    (unsigned long long)xf_max, (unsigned long long)xf_gave_up,
		    (unsigned long long)xf_writes, (unsigned long long)xf_refused);
	printf("sim: %llu seeds, %llu violations\n", (unsigned long long)seeds,
	       (unsigned long long)bad);
	free(s);
	return bad ? 1 : 0;
}
