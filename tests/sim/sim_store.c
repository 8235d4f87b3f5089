/*
 * sim_store.c - the in-memory log store behind struct cons_store, with the
 * simulator's disk: operations complete in order after a latency drawn
 * from the seed (slower when the disk is "slow"), may fail when it is
 * "failing", and a crash forgets every operation not yet completed.
 *
 * Failure semantics are the contract of cons.h: a failed append leaves the
 * log as it was, and every later append fails until one that truncates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static void free_entries(struct cons_entry *e, size_t n)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < n; i++)
		free((void *)e[i].data);
	free(e);
}

static int push_op(struct sim_store *st, struct sim_op *op)
{
	struct sim *s = st->sim;
	struct sim_node *node = &s->nodes[st->node];
	uint64_t lat;

	if (st->q_n == st->q_cap) {
		size_t cap = st->q_cap ? st->q_cap * 2 : 16, i;
		struct sim_op *nq = malloc(cap * sizeof(*nq));

		if (!nq)
			return -ENOMEM;
		for (i = 0; i < st->q_n; i++)
			nq[i] = st->q[(st->q_head + i) % st->q_cap];
		free(st->q);
		st->q = nq;
		st->q_cap = cap;
		st->q_head = 0;
	}
	st->q[(st->q_head + st->q_n++) % st->q_cap] = *op;
	/* Group commit: an operation submitted while a write is in progress
	 * joins the batch that starts when it ends; one latency per batch. */
	if (st->batch_start <= s->now) {
		lat = 1 + sim_rand(s) % 3;
		if (node->slow_disk)
			lat += 20 + sim_rand(s) % 120;
		st->batch_start = st->busy_until > s->now ? st->busy_until : s->now;
		st->busy_until = st->batch_start + lat;
		if (st->batch_start == s->now)
			st->batch_start =
			    0; /* started already: the next op opens a new one */
	}
	sim_push(s, st->busy_until, SIM_EV_DISK, st->node, node->gen);
	return 0;
}

static int st_load(struct cons_store *vt, struct cons_meta *meta, zxid_t *snap_zxid,
		   zxid_t *commit_zxid, const struct cons_entry **entries, size_t *n)
{
	struct sim_store *st = vt->impl;

	*meta = st->meta;
	*snap_zxid = st->snap_zxid;
	*commit_zxid = st->commit;
	*entries = st->e;
	*n = st->n;
	return 0;
}

static int st_set_meta(struct cons_store *vt, struct cons_store_req *req,
		       const struct cons_meta *meta, cons_store_cb cb)
{
	struct sim_op op = {.kind = SIM_OP_META, .req = req, .cb = cb, .meta = *meta};

	return push_op(vt->impl, &op);
}

static int st_append(struct cons_store *vt, struct cons_store_req *req, int truncate,
		     zxid_t after, const struct cons_entry *entries, size_t n,
		     zxid_t commit_zxid, cons_store_cb cb)
{
	struct sim_op op = {
	    .kind = SIM_OP_APPEND, .req = req, .cb = cb, .zxid = commit_zxid};
	size_t i;
	int rc;

	op.truncate = truncate;
	op.after = after;
	op.n = n;
	if (n) {
		op.entries = calloc(n, sizeof(*op.entries));
		if (!op.entries)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		uint8_t *d = NULL;

		op.entries[i] = entries[i];
		if (entries[i].len) {
			d = malloc(entries[i].len);
			if (!d) {
				free_entries(op.entries, i);
				return -ENOMEM;
			}
			memcpy(d, entries[i].data, entries[i].len);
		}
		op.entries[i].data = d;
	}
	rc = push_op(vt->impl, &op);
	if (rc)
		free_entries(op.entries, n);
	return rc;
}

static int st_compact(struct cons_store *vt, zxid_t zxid)
{
	struct sim_store *st = vt->impl;
	size_t k = 0, i;

	while (k < st->n && st->e[k].zxid <= zxid)
		k++;
	for (i = 0; i < k; i++)
		free((void *)st->e[i].data);
	if (k) {
		memmove(st->e, st->e + k, (st->n - k) * sizeof(*st->e));
		st->n -= k;
	}
	if (zxid > st->snap_zxid)
		st->snap_zxid = zxid;
	return 0;
}

static int st_reset(struct cons_store *vt, struct cons_store_req *req, zxid_t zxid,
		    cons_store_cb cb)
{
	struct sim_op op = {.kind = SIM_OP_RESET, .req = req, .cb = cb, .zxid = zxid};

	return push_op(vt->impl, &op);
}

static void st_close(struct cons_store *vt)
{
	(void)vt;
}

void sim_store_init(struct sim_store *st, struct sim *s, int node)
{
	memset(st, 0, sizeof(*st));
	st->sim = s;
	st->node = node;
	st->vt.impl = st;
	st->vt.load = st_load;
	st->vt.set_meta = st_set_meta;
	st->vt.append = st_append;
	st->vt.compact = st_compact;
	st->vt.reset = st_reset;
	st->vt.close = st_close;
}

static void truncate_after(struct sim_store *st, zxid_t after)
{
	while (st->n && st->e[st->n - 1].zxid > after)
		free((void *)st->e[--st->n].data);
}

static int apply_append(struct sim_store *st, struct sim_op *op)
{
	size_t i;

	if (op->truncate)
		truncate_after(st, op->after);
	if (st->n + op->n > st->cap) {
		size_t cap = st->cap ? st->cap : 64;
		struct cons_entry *ne;

		while (cap < st->n + op->n)
			cap *= 2;
		ne = realloc(st->e, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		st->e = ne;
		st->cap = cap;
	}
	for (i = 0; i < op->n; i++) {
		/* The log's order is the store's to keep, as SQLite's
		 * primary key would. */
		if (st->n && op->entries[i].zxid <= st->e[st->n - 1].zxid)
			sim_violation(st->sim, "n%u store: append %llx after %llx",
				      st->sim->nodes[st->node].id,
				      (unsigned long long)op->entries[i].zxid,
				      (unsigned long long)st->e[st->n - 1].zxid);
		st->e[st->n++] = op->entries[i];
	}
	free(op->entries);
	op->entries = NULL;
	/* The watermark is written with the entries, atomically. */
	if (op->zxid > st->commit)
		st->commit = op->zxid;
	return 0;
}

void sim_store_complete(struct sim_store *st)
{
	struct sim *s = st->sim;
	struct sim_node *node = &s->nodes[st->node];
	struct sim_op op;
	int rc = 0;

	if (!st->q_n)
		return;
	op = st->q[st->q_head];
	st->q_head = (st->q_head + 1) % st->q_cap;
	st->q_n--;
	switch (op.kind) {
	case SIM_OP_META:
		if (node->failing_disk && sim_chance(s, 30))
			rc = -EIO;
		else
			st->meta = op.meta;
		break;
	case SIM_OP_APPEND:
		if ((st->poisoned && !op.truncate) ||
		    (node->failing_disk && sim_chance(s, 30))) {
			rc = -EIO;
			st->poisoned = 1;
		} else {
			rc = apply_append(st, &op);
			if (!rc)
				st->poisoned = 0;
		}
		free_entries(op.entries, op.n);
		break;
	case SIM_OP_RESET:
		truncate_after(st, 0);
		st->snap_zxid = op.zxid;
		st->commit = op.zxid;
		st->poisoned = 0;
		break;
	}
	op.cb(op.req, rc);
}

void sim_store_crash(struct sim_store *st)
{
	while (st->q_n) {
		struct sim_op *op = &st->q[st->q_head];

		free_entries(op->entries, op->n);
		st->q_head = (st->q_head + 1) % st->q_cap;
		st->q_n--;
	}
	st->busy_until = 0;
	st->batch_start = 0;
}

void sim_store_free(struct sim_store *st)
{
	sim_store_crash(st);
	truncate_after(st, 0);
	free(st->e);
	free(st->q);
	st->e = NULL;
	st->q = NULL;
}
