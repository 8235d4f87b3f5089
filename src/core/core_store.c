/*
 * core_store.c - the struct cons_store the node writes through: the SQLite
 * log store (logstore_cons.h) with what the host must see of its writes.
 *
 * A FAILED WRITE (one member). When the log cannot keep an append (a full
 * disk, an I/O error), the consensus core keeps the entries in memory and
 * rewrites them once the disk lets it; on a one-member ensemble they would
 * then commit, after their writers were told they failed. So the host voids
 * them instead: every entry proposed so far from the failed one on is
 * marked void (c->voids), the requests waiting for them fail with
 * ZSYSTEMERROR (qcore_last_io_errno says ENOSPC or EIO), the prepared state
 * goes back to the applied tree, and when the core rewrites those entries
 * this shim writes them as CE_NOP entries (same header, no txn). The log on
 * disk, the tree and the replies then agree: nothing of a failed write is
 * ever applied, as the single server promised before replication. After an
 * I/O error other than a full disk the log is not trusted until restart
 * (every write fails). With several members a failed leader write is
 * another matter (a quorum of followers may still commit the entries): the
 * requests stay pending and the origin answers when the entries apply or
 * the leadership changes.
 *
 * The log store reports every SQLite failure as -EIO; a full disk is told
 * apart by the free space of the dataDir's file system.
 *
 * CLOSING: once c->store_closed is set every new write is refused with
 * -ECANCELED (the node counts it as a failed write); the log store's close
 * runs the completions of what was already queued.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "cons_node.h"
#include "core_int.h"
#include "log.h"
#include "zerr.h"

struct shim_req {
	struct cons_store_req inner; /* handed to logstore_cons */
	struct cons_store_req *outer;
	cons_store_cb outer_cb;
	struct qcore *c;
	zxid_t lo; /* append: its first zxid, 0 if none */
};

/* A full disk or an I/O error? The store says -EIO either way. */
static int classify(struct qcore *c, int status)
{
	struct statvfs sv;

	if (status != -EIO)
		return -status;
	if (statvfs(c->dir, &sv) == 0 &&
	    (unsigned long long)sv.f_bavail * sv.f_frsize < (4ull << 20))
		return ENOSPC;
	return EIO;
}

static void add_void(struct qcore *c, zxid_t lo, zxid_t hi)
{
	struct core_void *v;

	if (c->n_voids && c->voids[c->n_voids - 1].hi >= lo) {
		if (hi > c->voids[c->n_voids - 1].hi)
			c->voids[c->n_voids - 1].hi = hi;
		return;
	}
	if (c->n_voids == c->cap_voids) {
		size_t cap = c->cap_voids ? c->cap_voids * 2 : 4;

		v = realloc(c->voids, cap * sizeof(*v));
		if (!v)
			fatalx("out of memory voiding failed log writes");
		c->voids = v;
		c->cap_voids = cap;
	}
	c->voids[c->n_voids++] = (struct core_void){lo, hi};
}

/* An append from lo on failed with status. */
static void write_failed(struct qcore *c, zxid_t lo, int status)
{
	struct cons_status st;
	int e;

	if (c->store_closed || !c->standalone || !lo)
		return;
	cons_status(cons_node_core(c->node), &st);
	if (lo <= c->applied || st.last_zxid < lo)
		return;
	if (core_is_void(c, lo) && core_is_void(c, st.last_zxid))
		return; /* queued behind a failure already handled */
	e = classify(c, status);
	add_void(c, lo, st.last_zxid);
	c->io_errno = e;
	if (e != ENOSPC)
		c->io_dead = e;
	log_warnx("log write of zxid 0x%llx failed (%s); the writes from it to 0x%llx "
		  "fail with it%s",
		  (unsigned long long)lo, strerror(e), (unsigned long long)st.last_zxid,
		  e == ENOSPC ? "" : "; every later write fails until a restart");
	c->log_failed += (uint64_t)core_fail_outstanding(c, ZSYSTEMERROR);
}

/* A write of no entries failed (the commit point written alone at an idle
 * tick, or the engine's meta): nothing to void, but a lone member must still
 * know why its next writes fail, for the errors it gives (a full disk may
 * first show on such a write, and the member then stops leading). */
static void meta_write_failed(struct qcore *c, int status)
{
	int e;

	if (c->store_closed)
		return;
	/* A record the log could not keep, like a failed append's (and the
	 * only one counted when a full disk first shows here: the member
	 * then refuses writes before they reach the log). */
	c->log_failed++;
	if (!c->standalone)
		return;
	e = classify(c, status);
	if (c->io_errno != e)
		log_warnx("log write of the commit point failed (%s)", strerror(e));
	c->io_errno = e;
}

static void shim_done(struct cons_store_req *r, int status)
{
	struct shim_req *s = (struct shim_req *)r;
	struct cons_store_req *outer = s->outer;
	cons_store_cb cb = s->outer_cb;

	if (status < 0 && s->lo)
		write_failed(s->c, s->lo, status);
	else if (status < 0)
		meta_write_failed(s->c, status);
	free(s);
	if (outer)
		cb(outer, status);
}

static struct shim_req *shim_new(struct qcore *c, struct cons_store_req *outer,
				 cons_store_cb cb)
{
	struct shim_req *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->outer = outer;
	s->outer_cb = cb;
	s->c = c;
	if (outer)
		outer->cb = cb;
	return s;
}

static int s_load(struct cons_store *vt, struct cons_meta *meta, zxid_t *snap_zxid,
		  zxid_t *commit_zxid, const struct cons_entry **entries, size_t *n)
{
	struct qcore *c = vt->impl;

	return c->lsc->load(c->lsc, meta, snap_zxid, commit_zxid, entries, n);
}

static int s_set_meta(struct cons_store *vt, struct cons_store_req *req,
		      const struct cons_meta *meta, cons_store_cb cb)
{
	struct qcore *c = vt->impl;
	struct shim_req *s;
	int rc;

	if (c->store_closed)
		return -ECANCELED;
	s = shim_new(c, req, cb);
	if (!s)
		return -ENOMEM;
	rc = c->lsc->set_meta(c->lsc, &s->inner, meta, shim_done);
	if (rc)
		free(s);
	return rc;
}

static int s_append(struct cons_store *vt, struct cons_store_req *req, int truncate,
		    zxid_t truncate_after, const struct cons_entry *entries, size_t n,
		    zxid_t commit_zxid, cons_store_cb cb)
{
	struct qcore *c = vt->impl;
	struct cons_entry *copy = NULL;
	uint8_t(*nops)[CORE_ENTRY_HDR] = NULL;
	struct shim_req *s;
	uint64_t reqid;
	uint32_t origin;
	uint8_t kind;
	int rc;

	if (c->store_closed)
		return -ECANCELED;
	s = shim_new(c, req, cb);
	if (!s)
		return -ENOMEM;
	s->lo = n ? entries[0].zxid : 0;
	if (c->n_voids && n) {
		/* Rewritten entries of failed writes go to disk as voids. */
		copy = malloc(n * sizeof(*copy));
		nops = malloc(n * sizeof(*nops));
		if (!copy || !nops) {
			free(copy);
			free(nops);
			free(s);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			copy[i] = entries[i];
			if (entries[i].type != CONS_ENTRY_TXN ||
			    !core_is_void(c, entries[i].zxid))
				continue;
			if (core_entry_parse(entries[i].data, entries[i].len, &kind,
					     &origin, &reqid))
				origin = 0, reqid = 0;
			core_entry_hdr(nops[i], CE_NOP, origin, reqid);
			copy[i].data = nops[i];
			copy[i].len = CORE_ENTRY_HDR;
		}
		entries = copy;
	}
	rc = c->lsc->append(c->lsc, &s->inner, truncate, truncate_after, entries, n,
			    commit_zxid, shim_done);
	/* logstore_cons copied the entries. */
	free(copy);
	free(nops);
	if (rc) {
		if (s->lo)
			write_failed(c, s->lo, rc);
		free(s);
	}
	return rc;
}

static int s_compact(struct cons_store *vt, zxid_t zxid)
{
	struct qcore *c = vt->impl;

	if (c->store_closed)
		return -ECANCELED;
	return c->lsc->compact(c->lsc, zxid);
}

static int s_reset(struct cons_store *vt, struct cons_store_req *req, zxid_t snap_zxid,
		   cons_store_cb cb)
{
	struct qcore *c = vt->impl;
	struct shim_req *s;
	int rc;

	if (c->store_closed)
		return -ECANCELED;
	s = shim_new(c, req, cb);
	if (!s)
		return -ENOMEM;
	rc = c->lsc->reset(c->lsc, &s->inner, snap_zxid, shim_done);
	if (rc)
		free(s);
	return rc;
}

static void s_close(struct cons_store *vt)
{
	struct qcore *c = vt->impl;

	c->store_closed = 1;
	if (c->lsc)
		c->lsc->close(c->lsc);
	c->lsc = NULL;
	c->ls = NULL;
}

void core_store_init(struct qcore *c)
{
	c->store = (struct cons_store){.impl = c,
				       .load = s_load,
				       .set_meta = s_set_meta,
				       .append = s_append,
				       .compact = s_compact,
				       .reset = s_reset,
				       .close = s_close};
}
