/*
 * core_apply.c - committed entries into the tree, on every member, in zxid
 * order; the origin of each entry then completes its request. The
 * invariants are listed in core_int.h and are fatal here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_int.h"
#include "log.h"
#include "storage_sql.h"
#include "zerr.h"

int core_is_void(const struct qcore *c, zxid_t z)
{
	for (size_t i = 0; i < c->n_voids; i++)
		if (z >= c->voids[i].lo && z <= c->voids[i].hi)
			return 1;
	return 0;
}

/* The item this server submitted as reqid, if still waiting. */
static struct qitem *find_item(struct qcore *c, uint64_t reqid)
{
	struct qitem *it;

	for (it = c->head; it; it = it->next)
		if (it->kind == QI_TXN && it->reqid == reqid)
			return it->back ? NULL : it;
	return NULL;
}

/* A CE_ERR entry's result: i32 err, i32 n, n x (i32 op, i32 err). */
static void decode_err(const struct cons_entry *e, struct zresult *res)
{
	struct rd r;
	int32_t n;

	rd_init(&r, e->data + CORE_ENTRY_HDR, e->len - CORE_ENTRY_HDR);
	res->err = (int32_t)rd_u32(&r);
	n = (int32_t)rd_u32(&r);
	if (!rd_ok(&r) || res->err == ZOK) {
		res->err = ZSYSTEMERROR;
		return;
	}
	if (n <= 0 || n > 4096)
		return;
	res->ops = calloc((size_t)n, sizeof(*res->ops));
	if (!res->ops)
		return;
	res->n_ops = n;
	for (int32_t i = 0; i < n; i++) {
		res->ops[i].op = (int32_t)rd_u32(&r);
		res->ops[i].err = (int32_t)rd_u32(&r);
	}
}

/*
 * Apply one entry. Returns ZOK, or for replay an error with errbuf set;
 * outside replay every failure is fatal.
 */
static int apply_one(struct qcore *c, const struct cons_entry *e, int replay,
		     char *errbuf, size_t errlen)
{
	struct ztxn *txn = NULL;
	struct zresult res;
	struct qitem *it = NULL;
	uint64_t reqid;
	uint32_t origin;
	uint8_t kind;
	int rc;

	if (e->type == CONS_ENTRY_EPOCH) {
		/* (The node says when this leader may prepare:
		 * prepare_ready, core_repl.c.) */
		return ZOK;
	}
	if (e->zxid <= c->applied)
		return ZOK; /* replayed at start already */
	if (e->type == CONS_ENTRY_CONFIG) {
		/* A membership: no txn, but it takes its zxid. */
		if (!storage_zxid_follows(c->applied, e->zxid))
			fatalx("apply: zxid 0x%llx does not follow 0x%llx",
			       (unsigned long long)e->zxid, (unsigned long long)c->applied);
		core_members_applied(c, e);
		tree_set_last_zxid(c->tree, e->zxid);
		c->applied = e->zxid;
		return ZOK;
	}
	if (core_entry_parse(e->data, e->len, &kind, &origin, &reqid)) {
		if (replay) {
			snprintf(errbuf, errlen, "log entry 0x%llx: unknown payload",
				 (unsigned long long)e->zxid);
			return ZDATAINCONSISTENCY;
		}
		fatalx("apply: entry 0x%llx has an unknown payload (a newer quorumfs "
		       "wrote it?)",
		       (unsigned long long)e->zxid);
	}
	if (!storage_zxid_follows(c->applied, e->zxid)) {
		if (replay) {
			snprintf(
			    errbuf, errlen, "log entry 0x%llx does not follow 0x%llx",
			    (unsigned long long)e->zxid, (unsigned long long)c->applied);
			return ZDATAINCONSISTENCY;
		}
		fatalx("apply: zxid 0x%llx does not follow 0x%llx",
		       (unsigned long long)e->zxid, (unsigned long long)c->applied);
	}
	memset(&res, 0, sizeof(res));
	if (origin == c->self && !replay)
		it = find_item(c, reqid);
	if (kind != CE_TXN || core_is_void(c, e->zxid)) {
		/* A sync's mark, a failed prepare, or a slot the log lost:
		 * nothing changes in the tree. (A voided write's prepared
		 * changes were dropped when it was voided.) */
		tree_set_last_zxid(c->tree, e->zxid);
		c->applied = e->zxid;
		res.zxid = e->zxid;
		if (core_is_void(c, e->zxid))
			res.err = ZSYSTEMERROR;
		else if (kind == CE_ERR && (it || (origin == c->self && !replay)))
			decode_err(e, &res);
		goto done;
	}
	rc = txn_decode(e->data + CORE_ENTRY_HDR, e->len - CORE_ENTRY_HDR, &txn);
	if (rc == ZOK && txn_zxid(txn) != e->zxid)
		rc = ZDATAINCONSISTENCY;
	if (rc == ZOK)
		rc = tree_apply(c->tree, c->prep, txn, &res);
	if (rc != ZOK) {
		zresult_free(&res);
		if (txn)
			txn_free(txn);
		if (replay) {
			snprintf(errbuf, errlen,
				 "log entry 0x%llx does not decode or does not fit the "
				 "snapshot's tree (%s)",
				 (unsigned long long)e->zxid, zerr_str(rc));
			return rc;
		}
		fatalx("apply: zxid 0x%llx does not fit the tree (%s): the tree and the "
		       "log disagree",
		       (unsigned long long)e->zxid, zerr_str(rc));
	}
	c->applied = e->zxid;
	c->txns++;
	c->since_snap++;
	if (!res.zxid)
		res.zxid = e->zxid;
	core_session_applied(c, txn, &res);
	txn_free(txn);
done:
	if (it) {
		/* FIFO per origin: what this server submitted before it was
		 * applied (or failed) before it. */
		if (it->zxid && it->zxid != e->zxid)
			log_debug("request %llu prepared as 0x%llx, committed as 0x%llx",
				  (unsigned long long)reqid, (unsigned long long)it->zxid,
				  (unsigned long long)e->zxid);
		zresult_free(&it->res);
		it->res = res;
		it->back = 1;
		c->outstanding--;
	} else {
		/* No item: perhaps the answer to a forwarded reconfig. */
		if (origin == c->self && !replay && kind != CE_TXN)
			core_members_answered(c, reqid, &res);
		zresult_free(&res);
	}
	return ZOK;
}

void core_apply(struct qcore *c, const struct cons_entry *e, size_t n)
{
	/* Each reply right after its own events and before the next
	 * entry's: ZooKeeper's order. */
	for (size_t i = 0; i < n; i++) {
		apply_one(c, &e[i], 0, NULL, 0);
		core_syncs_applied(c);
		core_drain(c);
	}
	/* Void ranges wholly applied are done with. */
	while (c->n_voids && c->voids[0].hi <= c->applied) {
		memmove(c->voids, c->voids + 1, (c->n_voids - 1) * sizeof(*c->voids));
		c->n_voids--;
	}
	core_archive_applied(c);
	core_drain(c);
}

int core_apply_replay(struct qcore *c, const struct cons_entry *e, size_t n, char *errbuf,
		      size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (apply_one(c, &e[i], 1, errbuf, errlen) != ZOK)
			return -EBADMSG;
	return 0;
}
