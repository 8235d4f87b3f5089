/*
 * bench_restart.c - restart time and memory with 100k and 1M znodes.
 *
 * Builds each state through the real pipeline (creates, 256 in flight, with
 * the default snapshot policy: a background snapshot every 100000
 * transactions, 3 kept), closes, and then times qcore_open in a fresh
 * process (this program re-executed with "open DIR") so that VmRSS/VmHWM
 * are the restarted daemon's own: newest snapshot + replay of the log
 * after it. Sizes from $QFS_BENCH_SIZES (default "100000 1000000"); the
 * dataDir goes in $QFS_BENCH_DIR (default /var/tmp); $QFS_BENCH_KEEP keeps it.
 * "bench_restart snapshot DIR" opens DIR and writes a snapshot of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core.h"
#include "log.h"
#include "zerr.h"

#define PER_DIR	  1000
#define IN_FLIGHT 256

struct build {
	struct qcore *c;
	long n, submitted, done, failed;
	int inflight;
	char data[16];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = atol(line + strlen(key) + 1);
	fclose(f);
	return v;
}

static void submit_next(struct build *b);

static void built(void *arg, const struct zresult *res)
{
	struct build *b = arg;

	b->inflight--;
	b->done++;
	if (res->err != ZOK)
		b->failed++;
	submit_next(b);
}

static void submit_next(struct build *b)
{
	struct zreq req;
	char path[64];
	long i;

	if (b->submitted >= b->n)
		return;
	i = b->submitted;
	memset(&req, 0, sizeof(req));
	req.op = ZOP_CREATE;
	req.acl = acl_open_unsafe();
	req.child_kind = -1;
	if (i % (PER_DIR + 1) == 0) {
		snprintf(path, sizeof(path), "/d%ld", i / (PER_DIR + 1));
	} else {
		snprintf(path, sizeof(path), "/d%ld/n%ld", i / (PER_DIR + 1),
			 i % (PER_DIR + 1));
		req.data = b->data;
		req.data_len = sizeof(b->data);
	}
	req.path = path;
	if (qcore_submit(b->c, 0, 0, &req, NULL, built, b) == 0) {
		b->submitted++;
		b->inflight++;
	}
}

/* With snap: also write a snapshot of everything before closing (for
 * bench_big_cluster.sh, which restores it into an ensemble). */
static int do_open(const char *dir, int snap)
{
	struct qcore_opts o;
	struct event_base *base = event_base_new();
	struct qcore_stats st;
	struct qcore *c;
	char err[1024];
	double t0, dt;

	memset(&o, 0, sizeof(o));
	o.base = base;
	o.data_dir = dir;
	o.server_id = 1;
	o.force_sync = 1;
	t0 = now_s();
	if (qcore_open(&o, &c, err, sizeof(err))) {
		fprintf(stderr, "qcore_open: %s\n", err);
		return 1;
	}
	dt = now_s() - t0;
	qcore_stats(c, &st);
	printf(
	    "  restart: %.2f s for %llu znodes (snapshot 0x%llx + %llu log records), "
	    "VmRSS %ld MiB, VmHWM %ld MiB\n",
	    dt, (unsigned long long)st.nodes, (unsigned long long)st.snap_zxid,
	    (unsigned long long)(zxid_counter(st.last_zxid) - zxid_counter(st.snap_zxid)),
	    status_kb("VmRSS:") / 1024, status_kb("VmHWM:") / 1024);
	fflush(stdout);
	if (snap && qcore_snapshot_now(c, err, sizeof(err))) {
		fprintf(stderr, "snapshot: %s\n", err);
		qcore_close(c);
		event_base_free(base);
		return 1;
	}
	qcore_close(c);
	event_base_free(base);
	return 0;
}

static int one_size(long n, const char *root)
{
	struct qcore_opts o;
	struct event_base *base = event_base_new();
	struct qcore_stats st;
	struct build b;
	char dir[512], err[1024], cmd[1200];
	double t0, dt;
	int status, i;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/qcore-restart.XXXXXX", root);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.base = base;
	o.data_dir = dir;
	o.server_id = 1;
	o.force_sync = 1;
	memset(&b, 0, sizeof(b));
	memset(b.data, 'v', sizeof(b.data));
	/* n znodes: n / PER_DIR directories of PER_DIR files each. */
	b.n = n + n / PER_DIR;
	if (qcore_open(&o, &b.c, err, sizeof(err))) {
		fprintf(stderr, "qcore_open: %s\n", err);
		return 1;
	}
	printf("bench_restart: %ld znodes in %s\n", b.n, dir);
	t0 = now_s();
	for (i = 0; i < IN_FLIGHT; i++)
		submit_next(&b);
	while (b.done < b.n)
		event_base_loop(base, EVLOOP_ONCE);
	dt = now_s() - t0;
	/* Let a background snapshot in progress finish. */
	for (i = 0; i < 600; i++) {
		qcore_stats(b.c, &st);
		if (!st.snap_running)
			break;
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(50000);
	}
	qcore_stats(b.c, &st);
	printf("  build: %.1f s, %.0f creates/s, %.1f txns per fsync, %llu snapshots, "
	       "%ld failed\n",
	       dt, b.done / dt, (double)st.log_txns / (double)(st.fsyncs ? st.fsyncs : 1),
	       (unsigned long long)st.snapshots, b.failed);
	fflush(stdout);
	qcore_close(b.c);
	event_base_free(base);

	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "bench_restart", "open", dir, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (getenv("QFS_BENCH_KEEP")) {
		printf("  kept %s (QFS_BENCH_KEEP); time a restart with: %s open %s\n",
		       dir, "tests/bench/bench_restart", dir);
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
	}
	snprintf(cmd, sizeof(cmd),
		 "du -sh '%s' | cut -f1 | sed 's/^/  dataDir size: /'; rm -rf '%s'", dir,
		 dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *root = getenv("QFS_BENCH_DIR");
	const char *sizes = getenv("QFS_BENCH_SIZES");
	char *list, *tok, *save;
	int rc = 0;

	log_init("bench_restart", 1, 0);
	if (argc == 3 && strcmp(argv[1], "open") == 0)
		return do_open(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "snapshot") == 0)
		return do_open(argv[2], 1);
	list = strdup(sizes ? sizes : "100000 1000000");
	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		rc |= one_size(atol(tok), root ? root : "/var/tmp");
	free(list);
	return rc;
}
