/*
 * logstore_cons.c - struct cons_store over the SQLite log store; see
 * logstore_cons.h for the mapping.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logstore_cons.h"

struct lsc {
	struct cons_store vt;
	struct logstore *ls;
	/* What load() returned; kept until the next call. */
	struct logstore_req loaded;
	struct cons_entry *loaded_entries;
};

/* One operation in flight: the store's request, the core's, and the copies
 * of the core's entries, all in one allocation. */
struct lsc_op {
	struct logstore_req req;
	struct lsc *s;
	struct cons_store_req *creq;
	struct logstore_entry *entries;
};

static void release_loaded(struct lsc *s)
{
	logstore_req_release(&s->loaded);
	free(s->loaded_entries);
	s->loaded_entries = NULL;
}

static int lsc_load(struct cons_store *vt, struct cons_meta *meta, zxid_t *snap_zxid,
		    zxid_t *commit_zxid, const struct cons_entry **entries, size_t *n)
{
	struct lsc *s = vt->impl;
	const struct logstore_meta *m = logstore_meta(s->ls);
	int rc;

	release_loaded(s);
	meta->epoch = m->current_epoch;
	meta->vote = (uint32_t)m->vote;
	*snap_zxid = m->snapshot_zxid;
	*commit_zxid = m->commit_zxid;
	*entries = NULL;
	*n = 0;
	rc = logstore_read_sync(s->ls, &s->loaded, 0, INT64_MAX, SIZE_MAX);
	if (rc < 0) {
		log_warnx("%s", s->loaded.errmsg);
		release_loaded(s);
		return rc;
	}
	if (s->loaded.n_entries == 0)
		return 0;
	s->loaded_entries = calloc(s->loaded.n_entries, sizeof(*s->loaded_entries));
	if (!s->loaded_entries) {
		release_loaded(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->loaded.n_entries; i++) {
		const struct logstore_entry *e = &s->loaded.entries[i];
		s->loaded_entries[i] = (struct cons_entry){.zxid = e->zxid,
							   .type = e->type,
							   .len = (uint32_t)e->len,
							   .data = e->data};
	}
	*entries = s->loaded_entries;
	*n = s->loaded.n_entries;
	return 0;
}

static void op_done(struct logstore_req *req, int status)
{
	struct lsc_op *op = req->data;
	struct cons_store_req *creq = op->creq;

	if (status < 0)
		log_warnx("%s", req->errmsg);
	free(op);
	if (creq)
		creq->cb(creq, status);
}

static struct lsc_op *op_new(struct lsc *s, struct cons_store_req *creq, cons_store_cb cb,
			     size_t extra)
{
	struct lsc_op *op = calloc(1, sizeof(*op) + extra);

	if (!op)
		return NULL;
	op->s = s;
	op->creq = creq;
	op->req.data = op;
	if (creq)
		creq->cb = cb;
	return op;
}

static int lsc_set_meta(struct cons_store *vt, struct cons_store_req *creq,
			const struct cons_meta *meta, cons_store_cb cb)
{
	struct lsc *s = vt->impl;
	struct logstore_meta m = *logstore_meta(s->ls);
	struct lsc_op *op = op_new(s, creq, cb, 0);

	if (!op)
		return -ENOMEM;
	m.accepted_epoch = m.current_epoch = meta->epoch;
	m.vote = meta->vote;
	return logstore_set_meta(s->ls, &op->req, &m, op_done);
}

static int lsc_append(struct cons_store *vt, struct cons_store_req *creq, int truncate,
		      zxid_t truncate_after, const struct cons_entry *entries, size_t n,
		      zxid_t commit_zxid, cons_store_cb cb)
{
	struct lsc *s = vt->impl;
	size_t bytes = 0;
	struct lsc_op *op;
	uint8_t *p;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (bytes > SIZE_MAX / 2 || n > SIZE_MAX / (2 * sizeof(*op->entries)))
			return -ENOMEM;
		bytes += entries[i].len;
	}
	op = op_new(s, creq, cb, n * sizeof(*op->entries) + bytes);
	if (!op)
		return -ENOMEM;
	op->entries = (struct logstore_entry *)(op + 1);
	p = (uint8_t *)(op->entries + n);
	for (size_t i = 0; i < n; i++) {
		op->entries[i] =
		    (struct logstore_entry){.zxid = entries[i].zxid,
					    .epoch = zxid_epoch(entries[i].zxid),
					    .type = entries[i].type,
					    .data = p,
					    .len = entries[i].len};
		if (entries[i].len)
			memcpy(p, entries[i].data, entries[i].len);
		p += entries[i].len;
	}
	if (!truncate && n == 0 && commit_zxid == 0)
		rc = logstore_barrier(s->ls, &op->req, op_done);
	else if (!truncate && n == 0)
		rc = logstore_mark_commit(s->ls, &op->req, commit_zxid, op_done);
	else
		rc = logstore_append_commit(s->ls, &op->req, truncate, truncate_after,
					    op->entries, n, commit_zxid, op_done);
	if (rc < 0)
		free(op);
	return rc;
}

static int lsc_compact(struct cons_store *vt, zxid_t zxid)
{
	struct lsc *s = vt->impl;
	struct lsc_op *op = op_new(s, NULL, NULL, 0);

	if (!op)
		return -ENOMEM;
	return logstore_compact(s->ls, &op->req, zxid + 1, op_done);
}

static int lsc_reset(struct cons_store *vt, struct cons_store_req *creq, zxid_t snap_zxid,
		     cons_store_cb cb)
{
	struct lsc *s = vt->impl;
	struct lsc_op *op = op_new(s, creq, cb, 0);

	if (!op)
		return -ENOMEM;
	return logstore_reset(s->ls, &op->req, snap_zxid, op_done);
}

static void lsc_close(struct cons_store *vt)
{
	struct lsc *s = vt->impl;

	logstore_close(s->ls);
	release_loaded(s);
	free(s);
}

int logstore_cons_new(struct logstore *ls, struct cons_store **out)
{
	struct lsc *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->ls = ls;
	s->vt = (struct cons_store){.impl = s,
				    .load = lsc_load,
				    .set_meta = lsc_set_meta,
				    .append = lsc_append,
				    .compact = lsc_compact,
				    .reset = lsc_reset,
				    .close = lsc_close};
	*out = &s->vt;
	return 0;
}
