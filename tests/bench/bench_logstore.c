/*
 * bench_logstore.c - appended entries per second and entries per fsync of
 * the SQLite log store, through its asynchronous API on a libevent loop:
 *
 *   1 appender, 1 entry per append, waiting for each (no batching)
 *   1 appender, 64 entries per append (the leader's own batching)
 *   64 concurrent appenders, 1 entry each (group commit in the writer)
 *   256 concurrent appenders, 8 entries each
 *
 * Each run lasts QFS_BENCH_SECONDS (default 2) seconds. Every committed
 * transaction is one fsync of the WAL (synchronous=FULL), so entries per
 * transaction is entries per fsync. The database goes in QFS_BENCH_DIR, or
 * the current directory; fsync on tmpfs would measure nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "logstore.h"

#define PAYLOAD	     128
#define MAX_INFLIGHT 256
#define MAX_BATCH    64

struct slot {
	struct logstore_req req;
	struct logstore_entry e[MAX_BATCH];
};

static struct {
	struct event_base *base;
	struct logstore *ls;
	struct slot *slots;
	size_t batch;
	zxid_t next;
	double deadline;
	int outstanding;
	int failed;
	char payload[PAYLOAD];
} b;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void submit(struct slot *s);

static void done(struct logstore_req *req, int status)
{
	b.outstanding--;
	if (status < 0) {
		fprintf(stderr, "bench_logstore: %s\n", req->errmsg);
		b.failed = 1;
	}
	if (!b.failed && now() < b.deadline)
		submit(req->data);
	else if (b.outstanding == 0)
		event_base_loopbreak(b.base);
}

static void submit(struct slot *s)
{
	for (size_t i = 0; i < b.batch; i++) {
		zxid_t z = ++b.next;
		s->e[i] = (struct logstore_entry){.zxid = z,
						  .epoch = zxid_epoch(z),
						  .type = 1,
						  .data = b.payload,
						  .len = PAYLOAD};
	}
	s->req.data = s;
	if (logstore_append(b.ls, &s->req, s->e, b.batch, done) < 0) {
		b.failed = 1;
		return;
	}
	b.outstanding++;
}

static int run(const char *dir, const char *name, int inflight, size_t batch, double secs)
{
	struct logstore_state st;
	char path[512], err[LOGSTORE_ERRMSG];
	uint64_t commits, entries;
	double t0, t1;

	snprintf(path, sizeof(path), "%s/bench-logstore-%d.db", dir, (int)getpid());
	memset(&b, 0, sizeof(b));
	memset(b.payload, 'x', sizeof(b.payload));
	b.base = event_base_new();
	b.slots = calloc((size_t)inflight, sizeof(*b.slots));
	b.batch = batch;
	b.next = zxid_make(1, 0);
	if (!b.base || !b.slots ||
	    logstore_open(path, b.base, &b.ls, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_logstore: %s\n", err);
		return 1;
	}
	t0 = now();
	b.deadline = t0 + secs;
	for (int i = 0; i < inflight; i++)
		submit(&b.slots[i]);
	event_base_dispatch(b.base);
	t1 = now();
	logstore_stats(b.ls, &commits, &entries);
	logstore_close(b.ls);
	printf("logstore %-34s %9.0f entries/s  %7llu fsyncs  %7.1f entries/fsync  "
	       "%6.2f ms/fsync\n",
	       name, (double)entries / (t1 - t0), (unsigned long long)commits,
	       commits ? (double)entries / (double)commits : 0.0,
	       commits ? (t1 - t0) * 1000 / (double)commits : 0.0);
	event_base_free(b.base);
	free(b.slots);
	for (const char *sfx = ""; sfx; sfx = *sfx ? NULL : "-wal") {
		char p[560];
		snprintf(p, sizeof(p), "%s%s", path, sfx);
		unlink(p);
	}
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "-shm");
	unlink(path);
	return b.failed;
}

int main(void)
{
	const char *dir = getenv("QFS_BENCH_DIR") ? getenv("QFS_BENCH_DIR") : ".";
	double secs =
	    getenv("QFS_BENCH_SECONDS") ? atof(getenv("QFS_BENCH_SECONDS")) : 2.0;
	struct statfs sf;
	int rc = 0;

	if (statfs(dir, &sf) == 0 && sf.f_type == 0x01021994)
		printf("logstore: warning: %s is tmpfs, fsync costs nothing there\n",
		       dir);
	printf("logstore: %d-byte entries, %.1f s per run, in %s\n", PAYLOAD, secs, dir);
	rc |= run(dir, "1 appender, 1 entry/append", 1, 1, secs);
	rc |= run(dir, "1 appender, 64 entries/append", 1, 64, secs);
	rc |= run(dir, "64 concurrent appenders, 1 entry", 64, 1, secs);
	rc |= run(dir, "256 concurrent appenders, 8 entries", 256, 8, secs);
	return rc;
}
