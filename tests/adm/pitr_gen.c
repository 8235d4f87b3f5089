/*
 * pitr_gen.c - writes a simulated archive (archive_seg.h) for measuring
 * point-in-time restores: a steady write load of NTXN setData
 * transactions spread evenly over SPAN seconds (ending now) on NODES
 * nodes of 100 bytes, cut into segments as the archiver cuts them every
 * INTERVAL ms, with a snapshot every SNAP transactions (snapCount). The
 * entries are real ones (txn_prepare, txn_encode, the core's entry
 * header), applied to a tree as they are made so each snapshot is exact.
 *
 *   pitr_gen DIR NTXN NODES SPAN_S INTERVAL_MS SNAP
 *
 * Prints the zxid and time (ms) of the last entry. Not a test by itself;
 * quorumadm(8) restores from DIR (see the pitr measurement in the report).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "acl.h"
#include "archive_seg.h"
#include "buf.h"
#include "cons.h"
#include "core_format.h"
#include "snapshot.h"
#include "tree.h"
#include "txn.h"
#include "zerr.h"

struct gen {
	const char *dir;
	struct archive_rec *recs;
	struct buf *bufs;
	size_t n, cap;
	int64_t tmin, tmax;
};

static int flush(struct gen *g)
{
	char name[64], err[4600];
	uint8_t *seg;
	size_t len;
	int rc;

	if (!g->n)
		return 0;
	rc = archive_seg_encode(g->recs, g->n, g->tmin, g->tmax, &seg, &len);
	if (rc)
		return rc;
	archive_seg_name(name, sizeof(name), g->recs[0].zxid, g->recs[g->n - 1].zxid);
	rc = archive_write_file(g->dir, name, seg, len, err, sizeof(err));
	free(seg);
	if (rc)
		fprintf(stderr, "pitr_gen: %s\n", err);
	for (size_t i = 0; i < g->n; i++)
		buf_free(&g->bufs[i]);
	g->n = 0;
	g->tmin = g->tmax = 0;
	return rc;
}

static int add(struct gen *g, zxid_t z, uint8_t type, const struct ztxn *txn, int64_t t)
{
	struct buf *b;

	if (g->n == g->cap)
		return -ENOSPC;
	b = &g->bufs[g->n];
	buf_init(b);
	if (txn) {
		uint8_t hdr[CORE_ENTRY_HDR] = {CE_TXN, 0, 0, 0, 1};

		for (int i = 0; i < 8; i++)
			hdr[5 + i] = (uint8_t)(z >> (56 - 8 * i));
		buf_put(b, hdr, sizeof(hdr));
		txn_encode(txn, b);
		if (!g->tmin || t < g->tmin)
			g->tmin = t;
		if (t > g->tmax)
			g->tmax = t;
	}
	if (buf_failed(b))
		return -ENOMEM;
	g->recs[g->n].zxid = z;
	g->recs[g->n].epoch = 1;
	g->recs[g->n].type = type;
	g->recs[g->n].data = b->data;
	g->recs[g->n].len = (uint32_t)b->len;
	g->n++;
	return 0;
}

int main(int argc, char **argv)
{
	struct zauth super = {.super = 1};
	struct gen g = {0};
	struct tree *t;
	struct prep *p;
	uint64_t ntxn, nodes, snap, k;
	int64_t span_ms, interval_ms, start, now, seg_start;
	char path[64], err[4600], val[100];
	zxid_t z;
	int rc;

	if (argc != 7) {
		fprintf(stderr,
			"usage: pitr_gen DIR NTXN NODES SPAN_S INTERVAL_MS SNAP\n");
		return 2;
	}
	g.dir = argv[1];
	ntxn = strtoull(argv[2], NULL, 10);
	nodes = strtoull(argv[3], NULL, 10);
	span_ms = strtoll(argv[4], NULL, 10) * 1000;
	interval_ms = strtoll(argv[5], NULL, 10);
	snap = strtoull(argv[6], NULL, 10);
	mkdir(g.dir, 0755);
	g.cap = 200000;
	g.recs = calloc(g.cap, sizeof(*g.recs));
	g.bufs = calloc(g.cap, sizeof(*g.bufs));
	t = tree_new();
	p = t ? prep_new(t) : NULL;
	if (!g.recs || !g.bufs || !p)
		return 3;
	now = (int64_t)time(NULL) * 1000;
	start = now - span_ms;
	seg_start = start;
	z = zxid_make(1, 0);
	add(&g, z, CONS_ENTRY_EPOCH, NULL, 0);
	memset(val, 'v', sizeof(val));
	for (k = 0; k < nodes + ntxn; k++) {
		struct zreq req = {0};
		struct zresult res;
		struct ztxn *txn;
		int64_t tm =
		    k < nodes ? start : start + (int64_t)((k - nodes) * span_ms / ntxn);

		if (tm - seg_start >= interval_ms || g.n + 1 >= g.cap) {
			if ((rc = flush(&g)))
				return 3;
			seg_start = tm;
		}
		snprintf(path, sizeof(path), "/load/n%06" PRIu64,
			 k < nodes ? k : (k * 7919) % nodes);
		if (k == 0) {
			req.op = ZOP_CREATE;
			req.path = "/load";
			req.acl = acl_open_unsafe();
			req.data_len = -1;
		} else if (k <= nodes) {
			snprintf(path, sizeof(path), "/load/n%06" PRIu64, k - 1);
			req.op = ZOP_CREATE;
			req.path = path;
			req.acl = acl_open_unsafe();
			req.data = val;
			req.data_len = sizeof(val);
		} else {
			char num[24];

			snprintf(num, sizeof(num), "%011" PRIu64,
				 (uint64_t)(k % 100000000000ULL));
			memcpy(val, num, 11);
			req.op = ZOP_SETDATA;
			req.path = path;
			req.data = val;
			req.data_len = sizeof(val);
			req.version = -1;
		}
		z++;
		rc = txn_prepare(p, &req, &super, 0, 0, z, tm, &txn, &res);
		zresult_free(&res);
		if (rc != ZOK) {
			fprintf(stderr, "pitr_gen: prepare %s: %s\n", req.path,
				zerr_str(rc));
			return 3;
		}
		rc = tree_apply(t, p, txn, &res);
		zresult_free(&res);
		if (rc == ZOK && add(&g, z, CONS_ENTRY_TXN, txn, tm))
			rc = ZSYSTEMERROR;
		txn_free(txn);
		if (rc != ZOK)
			return 3;
		if (snap && (k + 1) % snap == 0) {
			if (snapshot_write(t, g.dir, z, err, sizeof(err))) {
				fprintf(stderr, "pitr_gen: %s\n", err);
				return 3;
			}
		}
	}
	if (flush(&g))
		return 3;
	printf("last zxid 0x%" PRIx64 " time %" PRId64 "\n", (uint64_t)z, now);
	prep_free(p);
	tree_free(t);
	return 0;
}
