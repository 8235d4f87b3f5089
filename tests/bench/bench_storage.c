/*
 * bench_storage.c - log throughput through the whole pipeline (prepare,
 * group-committed SQLite log with fsync, apply): appends per second and
 * transactions per fsync with 1, 8 and 64 writers in flight.
 *
 * The dataDir goes in $QFS_BENCH_DIR (default /var/tmp) so that fsync hits
 * a real disk; each run lasts $QFS_BENCH_SECS seconds (default 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core.h"
#include "log.h"
#include "zerr.h"

struct run {
	struct qcore *c;
	struct event_base *base;
	int inflight, target;
	long submitted, done, failed;
	int stop;
	char data[64];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void submit_one(struct run *r);

static void done_cb(void *arg, const struct zresult *res)
{
	struct run *r = arg;

	r->inflight--;
	r->done++;
	if (res->err != ZOK)
		r->failed++;
	if (!r->stop)
		submit_one(r);
}

static void submit_one(struct run *r)
{
	struct zreq req;
	char path[64];

	snprintf(path, sizeof(path), "/w%d/n%ld", r->target, r->submitted);
	memset(&req, 0, sizeof(req));
	req.op = ZOP_CREATE;
	req.path = path;
	req.data = r->data;
	req.data_len = 32;
	req.acl = acl_open_unsafe();
	req.child_kind = -1;
	if (qcore_submit(r->c, 0, 0, &req, NULL, done_cb, r) == 0) {
		r->inflight++;
		r->submitted++;
	}
}

static void one_run(struct qcore *c, struct event_base *base, int writers, double secs)
{
	struct run r;
	struct qcore_stats a, b;
	struct zreq req;
	char dir[32];
	double t0, dt;
	int i;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.base = base;
	r.target = writers;
	memset(r.data, 'd', sizeof(r.data));
	snprintf(dir, sizeof(dir), "/w%d", writers);
	memset(&req, 0, sizeof(req));
	req.op = ZOP_CREATE;
	req.path = dir;
	req.acl = acl_open_unsafe();
	req.child_kind = -1;
	qcore_submit(c, 0, 0, &req, NULL, NULL, NULL);
	qcore_stats(c, &a);
	t0 = now_s();
	for (i = 0; i < writers; i++)
		submit_one(&r);
	while (now_s() - t0 < secs)
		event_base_loop(base, EVLOOP_ONCE);
	r.stop = 1;
	while (r.inflight > 0)
		event_base_loop(base, EVLOOP_ONCE);
	dt = now_s() - t0;
	qcore_stats(c, &b);
	printf("%3d writer(s) in flight: %8.0f txns/s, %6.0f fsyncs/s, %6.1f txns per "
	       "fsync, "
	       "max commit %.1f ms, %ld failed\n",
	       writers, r.done / dt, (b.fsyncs - a.fsyncs) / dt,
	       (double)(b.log_txns - a.log_txns) /
		   (double)(b.fsyncs - a.fsyncs ? b.fsyncs - a.fsyncs : 1),
	       b.max_commit_us / 1000.0, r.failed);
	fflush(stdout);
}

int main(void)
{
	const char *root = getenv("QFS_BENCH_DIR");
	const char *s = getenv("QFS_BENCH_SECS");
	struct qcore_opts o;
	struct event_base *base;
	struct qcore *c;
	char dir[512], err[1024], cmd[600];
	double secs = s ? atof(s) : 3;
	int rc;

	log_init("bench_storage", 1, 0);
	snprintf(dir, sizeof(dir), "%s/qcore-bench.XXXXXX", root ? root : "/var/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	base = event_base_new();
	memset(&o, 0, sizeof(o));
	o.base = base;
	o.data_dir = dir;
	o.server_id = 1;
	o.force_sync = 1;
	o.snap_count = 100000;
	rc = qcore_open(&o, &c, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "qcore_open: %s\n", err);
		return 1;
	}
	printf("bench_storage: dataDir %s, synchronous=FULL, %.0f s per run\n", dir,
	       secs);
	one_run(c, base, 1, secs);
	one_run(c, base, 8, secs);
	one_run(c, base, 64, secs);
	qcore_close(c);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
