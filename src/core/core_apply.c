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
 * A committed entry this member cannot apply: a payload it does not know (a
 * newer quorumfs wrote it), a record that does not decode, or a transaction
 * that does not fit its tree. Every member applies the same entries to what
 * should be the same tree, so either all fail here alike (a prepare bug, a
 * newer member's entry) or this member's tree already differed. Neither is
 * a reason to stop: a fatal error here takes down every member that
 * applies the entry, and again at each restart, since replay meets it too:
 * the whole ensemble gone for one entry. So the entry is consumed as a
 * failed transaction: nothing changes (tree_apply is all or nothing), the
 * zxid moves on, its client gets ZDATAINCONSISTENCY, and the failure is
 * logged and counted (mntr zk_apply_failures, quorumctl status) for an
 * operator to resync a member that alone differs. Replay makes the same
 * choice, so a restart rebuilds the same tree.
 */
static void skip_entry(struct qcore *c, const struct cons_entry *e, int replay,
		       const char *why, struct zresult *res)
{
	log_warnx("apply: committed zxid 0x%llx %s: skipped as a failed transaction "
		  "(%s); this member's tree may differ from the leader's: compare "
		  "zk_last_apply_failure_zxid on every member (echo mntr | nc), and "
		  "resync a member that alone reports it (quorumfs(8), APPLY FAILURES)",
		  (unsigned long long)e->zxid, why,
		  replay ? "replayed at start" : "from the log");
	c->apply_failed++;
	c->apply_failed_zxid = e->zxid;
	tree_set_last_zxid(c->tree, e->zxid);
	c->applied = e->zxid;
	zresult_free(res);
	memset(res, 0, sizeof(*res));
	res->zxid = e->zxid;
	res->err = ZDATAINCONSISTENCY;
}

/*
 * A test hook that makes this member's tree differ from the others', as a
 * bug or a bad memory cell would: with QUORUMFS_FAULT_SKIP_CREATE=PATH in
 * its environment the member consumes the creation of PATH without
 * applying it, and says nothing. Read at qcore_open; tests only
 * (tests/cluster/apply_fail.sh, tests/unit/test_core.c).
 */
static int fault_skips(const struct qcore *c, const struct ztxn *txn)
{
	int32_t t = txn_type(txn);
	const char *path;

	if (!c->fault_skip_create || (t != ZOP_CREATE && t != ZOP_CREATE2 &&
				      t != ZOP_CREATECONTAINER && t != ZOP_CREATETTL))
		return 0;
	path = txn_path(txn);
	return path && strcmp(path, c->fault_skip_create) == 0;
}

/*
 * Apply one entry. Returns ZOK, or for replay an error with errbuf set;
 * outside replay a gap in the zxids (the engine's invariant) is fatal.
 */
static int apply_one(struct qcore *c, const struct cons_entry *e, int replay,
		     char *errbuf, size_t errlen)
{
	struct ztxn *txn = NULL;
	struct zresult res;
	struct qitem *it = NULL;
	uint64_t reqid;
	uint32_t origin;
	const char *why;
	uint8_t kind;
	int unknown, rc;

	if (e->type == CONS_ENTRY_EPOCH) {
		/* (The node says when this leader may prepare:
		 * prepare_ready, core_repl.c.) */
		if (e->zxid > c->epoch_applied)
			c->epoch_applied = e->zxid;
		return ZOK;
	}
	if (e->zxid <= c->applied)
		return ZOK; /* replayed at start already */
	if (e->type == CONS_ENTRY_CONFIG) {
		/* A membership: no txn, but it takes its zxid. */
		if (!storage_zxid_follows(c->applied, e->zxid))
			fatalx("apply: zxid 0x%llx does not follow 0x%llx",
			       (unsigned long long)e->zxid,
			       (unsigned long long)c->applied);
		if (core_members_applied(c, e) < 0) {
			/* (The engine decoded it to use it; the host keeps
			 * its addresses as they were.) */
			memset(&res, 0, sizeof(res));
			skip_entry(c, e, replay,
				   "is a configuration this member cannot decode", &res);
			zresult_free(&res);
			return ZOK;
		}
		tree_set_last_zxid(c->tree, e->zxid);
		c->applied = e->zxid;
		return ZOK;
	}
	unknown = core_entry_parse(e->data, e->len, &kind, &origin, &reqid) != 0;
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
	if (unknown) {
		/* Not even the origin can be read: nobody waits on an answer. */
		skip_entry(c, e, replay,
			   "has a payload this quorumfs does not know "
			   "(a newer quorumfs wrote it?)",
			   &res);
		zresult_free(&res);
		return ZOK;
	}
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
	if (rc != ZOK) {
		why = "does not decode as a transaction";
	} else if (txn_zxid(txn) != e->zxid) {
		why = "holds a transaction of another zxid";
		rc = ZDATAINCONSISTENCY;
	} else if (fault_skips(c, txn)) {
		log_warnx("apply: QUORUMFS_FAULT_SKIP_CREATE: zxid 0x%llx not applied",
			  (unsigned long long)e->zxid);
		txn_free(txn);
		tree_set_last_zxid(c->tree, e->zxid);
		c->applied = e->zxid;
		res.zxid = e->zxid;
		goto done;
	} else {
		why = "does not fit this member's tree";
		rc = tree_apply(c->tree, c->prep, txn, &res);
		if (rc == ZSYSTEMERROR)
			/* Out of memory part-way: the tree may hold half a
			 * multi, and nothing can say which half. */
			fatalx("apply: zxid 0x%llx: out of memory",
			       (unsigned long long)e->zxid);
	}
	if (rc != ZOK) {
		if (txn)
			txn_free(txn);
		skip_entry(c, e, replay, why, &res);
		goto done;
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
