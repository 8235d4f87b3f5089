/*
 * bench_tree.c - the tree at scale: N znodes (default 1,000,000; argv[1]
 * overrides) created through txn_prepare + tree_apply, spread over 1000
 * directories, plus one directory of 100k sequential children. Prints
 * throughput, RSS per znode, lookup rate, a sorted listing of the big
 * directory, a full walk, and the reap query with many TTL nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tree.h"
#include "txn.h"
#include "zerr.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static struct tree *T;
static struct prep *P;
static zxid_t Z;

static void write_one(const struct zreq *q)
{
	struct ztxn *x;
	struct zresult r;

	if (txn_prepare(P, q, NULL, 0, 0, ++Z, 1000, &x, &r) != ZOK) {
		fprintf(stderr, "prepare %s failed: %s\n", q->path, zerr_str(r.err));
		exit(1);
	}
	zresult_free(&r);
	if (tree_apply(T, P, x, &r) != ZOK) {
		fprintf(stderr, "apply %s failed\n", q->path);
		exit(1);
	}
	zresult_free(&r);
	txn_free(x);
}

static int count_cb(void *arg, const struct znode *n)
{
	(*(long *)arg)++;
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, i, dirs = 1000, k = 0;
	struct zreq q = {.op = ZOP_CREATE,
			 .acl = acl_open_unsafe(),
			 .data = "0123456789",
			 .data_len = 10};
	char path[64], **names;
	size_t count;
	long rss0, rss1;
	double t0, t1;

	T = tree_new();
	P = prep_new(T);
	rss0 = rss_kb();
	t0 = now_s();
	for (i = 0; i < dirs; i++) {
		snprintf(path, sizeof(path), "/d%04ld", i);
		q.path = path;
		write_one(&q);
	}
	for (i = 0; i < n - dirs; i++) {
		snprintf(path, sizeof(path), "/d%04ld/node-%ld", i % dirs, i);
		q.path = path;
		write_one(&q);
	}
	t1 = now_s();
	rss1 = rss_kb();
	printf(
	    "create %ld znodes: %.2f s, %.0f creates/s (prepare+apply, 10-byte data)\n",
	    n, t1 - t0, (double)n / (t1 - t0));
	printf("RSS %ld MiB, %.0f bytes per znode (path ~18 bytes)\n",
	       (rss1 - rss0) / 1024, (double)(rss1 - rss0) * 1024.0 / (double)n);

	t0 = now_s();
	for (i = 0; i < n - dirs; i++) {
		long j = (i * 7919) % (n - dirs);

		snprintf(path, sizeof(path), "/d%04ld/node-%ld", j % dirs, j);
		k += tree_lookup(T, path) != NULL;
	}
	t1 = now_s();
	printf("lookup: %.0f lookups/s (%ld hits)\n", (double)(n - dirs) / (t1 - t0), k);

	q.path = "/seq";
	write_one(&q);
	q.path = "/seq/s-";
	q.mode = ZCM_PERSISTENT_SEQUENTIAL;
	t0 = now_s();
	for (i = 0; i < 100000; i++)
		write_one(&q);
	t1 = now_s();
	printf("100k sequential children of one node: %.2f s\n", t1 - t0);
	t0 = now_s();
	if (tree_children(T, tree_lookup(T, "/seq"), &names, &count) != 0)
		return 1;
	t1 = now_s();
	printf("sorted listing of 100k children: %.1f ms (%s .. %s)\n", (t1 - t0) * 1e3,
	       names[0], names[count - 1]);
	tree_names_free(names);

	k = 0;
	t0 = now_s();
	tree_walk(T, count_cb, &k);
	t1 = now_s();
	printf("walk of %ld znodes: %.2f s\n", k, t1 - t0);

	q.mode = ZCM_PERSISTENT_WITH_TTL;
	q.ttl_ms = 1;
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/ttl-%ld", i);
		q.path = path;
		write_one(&q);
	}
	k = 0;
	t0 = now_s();
	tree_reap_candidates(T, 5000, count_cb, &k);
	t1 = now_s();
	printf("reap query: %ld candidates among %zu znodes in %.3f ms\n", k,
	       tree_node_count(T), (t1 - t0) * 1e3);
	prep_free(P);
	tree_free(T);
	return 0;
}
