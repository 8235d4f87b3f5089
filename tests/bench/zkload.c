/*
 * zkload.c - ZooKeeper-protocol load generator: many sessions on one libevent
 * loop, each keeping a fixed number of requests outstanding (pipelined).
 *
 *   zkload -s HOST:PORT [-c SESSIONS] [-p PIPELINE] [-d SECONDS] [-k KEYS]
 *          [-z BYTES] -o get|set|create|mix
 *
 * get: getData of random keys; set: setData of random keys; create: create
 * a node then delete it (both requests counted); mix: 90% getData, 10%
 * setData. The keys (/zkload-PID/kN, BYTES of data each) are made before
 * and removed after the timed run. Prints one line:
 *
 *   RESULT op=get sessions=32 pipeline=16 ops=N secs=S ops_per_s=X p50_us=A p99_us=B errors=E
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "txn.h"
#include "zerr.h"
#include "zkc.h"

#define MAX_SAMPLES (4 * 1024 * 1024)

enum load_op { OP_GET, OP_SET, OP_CREATE, OP_MIX };

struct load {
	struct event_base *base;
	const char *hosts;
	int n_sessions, pipeline, keys, size, secs;
	enum load_op op;
	char root[64];
	char *data;
	int running;	/* timed phase: count and refill */
	int stopping;
	int connected, lost;
	long outstanding;
	uint64_t ops, errors;
	uint32_t *lat_us; /* one sample per completed request, up to MAX_SAMPLES */
	size_t n_lat;
	uint64_t seen; /* for reservoir sampling past MAX_SAMPLES */
	uint64_t rng;
};

struct sess {
	struct load *L;
	struct zkc *zk;
	int id;
	long seq;
};

struct req {
	struct sess *s;
	uint64_t t0;
	int chained; /* create: the delete follows */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(struct load *L)
{
	/* xorshift64: cheap, and the key choice needs no quality. */
	L->rng ^= L->rng << 13;
	L->rng ^= L->rng >> 7;
	L->rng ^= L->rng << 17;
	return L->rng;
}

static void sample(struct load *L, uint64_t ns)
{
	uint32_t us = (uint32_t)(ns / 1000);
	uint64_t j;

	L->seen++;
	if (L->n_lat < MAX_SAMPLES) {
		L->lat_us[L->n_lat++] = us;
		return;
	}
	j = rnd(L) % L->seen;
	if (j < MAX_SAMPLES)
		L->lat_us[j] = us;
}

static void issue(struct sess *s);

static void done(void *arg, const struct zkc_reply *r)
{
	struct req *q = arg;
	struct sess *s = q->s;
	struct load *L = s->L;

	L->outstanding--;
	if (L->running) {
		L->ops++;
		sample(L, now_ns() - q->t0);
		if (r->err != ZOK)
			L->errors++;
	}
	if (r->op == ZOP_CREATE && r->err == ZOK) {
		/* The delete half of create/delete reuses this request. */
		struct jute_delete_request d = {.path = r->body.create_response.path,
						.version = -1};

		q->t0 = now_ns();
		if (zkc_submit(s->zk, ZOP_DELETE, &d, done, q) >= 0) {
			L->outstanding++;
			return;
		}
	}
	free(q);
	if (!L->stopping)
		issue(s);
	else if (L->outstanding == 0)
		event_base_loopbreak(L->base);
}

static void issue(struct sess *s)
{
	struct load *L = s->L;
	char path[128];
	struct req *q;
	int32_t op;
	int rc;

	q = calloc(1, sizeof(*q));
	if (!q) {
		L->errors++;
		return;
	}
	q->s = s;
	snprintf(path, sizeof(path), "%s/k%d", L->root, (int)(rnd(L) % (uint64_t)L->keys));
	op = L->op == OP_GET ? ZOP_GETDATA : L->op == OP_SET ? ZOP_SETDATA : ZOP_CREATE;
	if (L->op == OP_MIX)
		op = rnd(L) % 10 ? ZOP_GETDATA : ZOP_SETDATA;
	q->t0 = now_ns();
	if (op == ZOP_GETDATA) {
		struct jute_get_data_request g = {.path = path};

		rc = zkc_submit(s->zk, op, &g, done, q);
	} else if (op == ZOP_SETDATA) {
		struct jute_set_data_request d = {
			.path = path,
			.data = {.len = L->size, .data = (uint8_t *)L->data},
			.version = -1};

		rc = zkc_submit(s->zk, op, &d, done, q);
	} else {
		struct zacl open = {.perms = ZPERM_ALL, .scheme = "world", .id = "anyone"};
		struct jute_create_request c = {
			.data = {.len = L->size, .data = (uint8_t *)L->data},
			.acl = {.n = 1, .v = &open}};

		snprintf(path, sizeof(path), "%s/c%d-%ld", L->root, s->id, s->seq++);
		c.path = path;
		rc = zkc_submit(s->zk, op, &c, done, q);
	}
	if (rc < 0) {
		free(q);
		L->errors++;
		return;
	}
	L->outstanding++;
}

static void on_state(void *arg, enum zkc_state st)
{
	struct sess *s = arg;

	if (st == ZKC_CONNECTED)
		s->L->connected++;
	else
		s->L->lost++;
}

/* Setup and teardown: plain requests whose errors (NODEEXISTS on setup,
 * NONODE on teardown) do not matter. */
static void plain_done(void *arg, const struct zkc_reply *r)
{
	struct load *L = arg;

	if (--L->outstanding == 0)
		event_base_loopbreak(L->base);
}

static void run_until_idle(struct load *L)
{
	if (L->outstanding)
		event_base_dispatch(L->base);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct load *L = arg;

	L->running = 0;
	L->stopping = 1;
	if (L->outstanding == 0)
		event_base_loopbreak(L->base);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: zkload -s HOST:PORT [-c SESSIONS] [-p PIPELINE] [-d SECONDS] "
			"[-k KEYS] [-z BYTES] -o get|set|create|mix\n");
}

int main(int argc, char **argv)
{
	static const char *const op_names[] = {"get", "set", "create", "mix"};
	struct load L;
	struct sess *ss = NULL;
	struct zkc_opts o;
	struct zacl open = {.perms = ZPERM_ALL, .scheme = "world", .id = "anyone"};
	struct timeval tv;
	struct event *stop = NULL;
	char err[256], path[128];
	uint64_t t0, t1;
	double secs;
	int i, opt, rc = 1, op_set = 0;

	memset(&L, 0, sizeof(L));
	L.n_sessions = 16;
	L.pipeline = 16;
	L.secs = 10;
	L.keys = 1000;
	L.size = 100;
	L.rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)now_ns();
	while ((opt = getopt(argc, argv, "s:c:p:d:k:z:o:")) != -1) {
		switch (opt) {
		case 's':
			L.hosts = optarg;
			break;
		case 'c':
			L.n_sessions = atoi(optarg);
			break;
		case 'p':
			L.pipeline = atoi(optarg);
			break;
		case 'd':
			L.secs = atoi(optarg);
			break;
		case 'k':
			L.keys = atoi(optarg);
			break;
		case 'z':
			L.size = atoi(optarg);
			break;
		case 'o':
			for (i = 0; i < 4; i++)
				if (!strcmp(optarg, op_names[i]))
					break;
			if (i == 4) {
				usage();
				return 2;
			}
			L.op = (enum load_op)i;
			op_set = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!L.hosts || !op_set || L.n_sessions < 1 || L.n_sessions > 10000 || L.pipeline < 1 ||
	    L.pipeline > 10000 || L.secs < 1 || L.keys < 1 || L.size < 0 ||
	    L.size > 1024 * 1024) {
		usage();
		return 2;
	}
	L.base = event_base_new();
	L.data = malloc((size_t)L.size + 1);
	L.lat_us = malloc(MAX_SAMPLES * sizeof(*L.lat_us));
	ss = calloc((size_t)L.n_sessions, sizeof(*ss));
	if (!L.base || !L.data || !L.lat_us || !ss) {
		fprintf(stderr, "zkload: out of memory\n");
		goto out;
	}
	memset(L.data, 'x', (size_t)L.size);
	snprintf(L.root, sizeof(L.root), "/zkload-%ld", (long)getpid());

	for (i = 0; i < L.n_sessions; i++) {
		memset(&o, 0, sizeof(o));
		o.hosts = L.hosts;
		o.timeout_ms = 30000;
		o.state = on_state;
		o.arg = &ss[i];
		ss[i].L = &L;
		ss[i].id = i;
		if (zkc_new(L.base, &o, &ss[i].zk, err, sizeof(err))) {
			fprintf(stderr, "zkload: %s: %s\n", L.hosts, err);
			goto out;
		}
	}
	t0 = now_ns();
	while (L.connected + L.lost < L.n_sessions && now_ns() - t0 < 30000000000ull)
		event_base_loop(L.base, EVLOOP_ONCE);
	if (L.connected < L.n_sessions) {
		fprintf(stderr, "zkload: only %d of %d sessions connected\n", L.connected,
			L.n_sessions);
		goto out;
	}

	/* The keys, pipelined on the first session. */
	{
		struct jute_create_request c = {
			.data = {.len = L.size, .data = (uint8_t *)L.data},
			.acl = {.n = 1, .v = &open}};

		c.path = L.root;
		if (zkc_submit(ss[0].zk, ZOP_CREATE, &c, plain_done, &L) >= 0)
			L.outstanding++;
		for (i = 0; i < L.keys; i++) {
			snprintf(path, sizeof(path), "%s/k%d", L.root, i);
			c.path = path;
			if (zkc_submit(ss[0].zk, ZOP_CREATE, &c, plain_done, &L) >= 0)
				L.outstanding++;
		}
		run_until_idle(&L);
	}

	stop = evtimer_new(L.base, on_stop, &L);
	if (!stop)
		goto out;
	tv.tv_sec = L.secs;
	tv.tv_usec = 0;
	evtimer_add(stop, &tv);
	L.running = 1;
	t0 = now_ns();
	for (i = 0; i < L.n_sessions * L.pipeline; i++)
		issue(&ss[i % L.n_sessions]);
	event_base_dispatch(L.base);
	t1 = now_ns();
	/* The run ends at the stop timer; the drain after it is not counted. */
	secs = (double)L.secs;
	if ((double)(t1 - t0) / 1e9 < secs)
		secs = (double)(t1 - t0) / 1e9;
	qsort(L.lat_us, L.n_lat, sizeof(*L.lat_us), cmp_u32);
	printf("RESULT op=%s sessions=%d pipeline=%d ops=%" PRIu64
	       " secs=%.1f ops_per_s=%.0f p50_us=%u p99_us=%u errors=%" PRIu64 "\n",
	       op_names[L.op], L.n_sessions, L.pipeline, L.ops, secs, (double)L.ops / secs,
	       L.n_lat ? L.lat_us[L.n_lat / 2] : 0,
	       L.n_lat ? L.lat_us[L.n_lat * 99 / 100] : 0, L.errors);
	fflush(stdout);

	/* Remove the keys (left-over create/delete nodes were deleted in line). */
	L.stopping = 1;
	for (i = 0; i < L.keys; i++) {
		struct jute_delete_request d = {.path = path, .version = -1};

		snprintf(path, sizeof(path), "%s/k%d", L.root, i);
		if (zkc_submit(ss[0].zk, ZOP_DELETE, &d, plain_done, &L) >= 0)
			L.outstanding++;
	}
	{
		struct jute_delete_request d = {.path = L.root, .version = -1};

		if (zkc_submit(ss[0].zk, ZOP_DELETE, &d, plain_done, &L) >= 0)
			L.outstanding++;
	}
	run_until_idle(&L);
	for (i = 0; i < L.n_sessions; i++)
		if (zkc_close(ss[i].zk, plain_done, &L) == 0)
			L.outstanding++;
	run_until_idle(&L);
	rc = L.errors ? 1 : 0;
out:
	if (stop)
		event_free(stop);
	for (i = 0; ss && i < L.n_sessions; i++)
		zkc_free(ss[i].zk);
	free(ss);
	free(L.lat_us);
	free(L.data);
	if (L.base)
		event_base_free(L.base);
	return rc;
}
