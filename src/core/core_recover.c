/*
 * core_recover.c - restart: the newest valid snapshot, then the log after
 * it. Refuses, with a message naming the file and -o repair=yes, anything
 * that would otherwise lose acknowledged transactions silently: a damaged
 * snapshot or log, a log that does not reach the snapshot, a log that does
 * not go back far enough.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_int.h"
#include "log.h"
#include "snapshot.h"
#include "storage_sql.h"
#include "zerr.h"

struct replay_ctx {
	struct qcore *c;
	char *errbuf;
	size_t errlen;
	uint64_t n;
};

static int replay_one(void *arg, zxid_t zxid, const void *rec, size_t len)
{
	struct replay_ctx *r = arg;
	struct ztxn *txn = NULL;
	struct zresult res;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = txn_decode(rec, len, &txn);
	if (rc != ZOK || txn_zxid(txn) != zxid) {
		snprintf(
		    r->errbuf, r->errlen,
		    "%s/log.db: record 0x%llx does not decode (%s) although its checksum "
		    "matches; a newer quorumfs wrote it?",
		    r->c->dir, (unsigned long long)zxid,
		    rc != ZOK ? zerr_str(rc) : "zxid differs");
		if (txn)
			txn_free(txn);
		return -EBADMSG;
	}
	rc = tree_apply(r->c->tree, r->c->prep, txn, &res);
	zresult_free(&res);
	txn_free(txn);
	if (rc != ZOK) {
		snprintf(
		    r->errbuf, r->errlen,
		    "%s/log.db: transaction 0x%llx does not fit the snapshot's tree (%s)",
		    r->c->dir, (unsigned long long)zxid, zerr_str(rc));
		return -EBADMSG;
	}
	r->n++;
	return 0;
}

static void move_aside(const char *path)
{
	char aside[4200];

	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, (long long)time(NULL));
	if (rename(path, aside) == 0)
		log_warnx("REPAIR: moved %s aside to %s", path, aside);
	else
		log_warn("REPAIR: moving %s aside", path);
}

/*
 * What recovery found among the snapshots, before it changes anything:
 * base is the index of the snapshot to start from (n: none, start from
 * an empty tree and the whole log), damaged[i] whether zxids[i] is a
 * damaged file (only those newer than base are looked at). Repair moves
 * the damaged ones aside only after the tree has been rebuilt without
 * them (core_recover), so a repair that cannot finish changes nothing.
 */
struct snap_plan {
	size_t base;
	size_t ndamaged;
	char *damaged;
	char first_why[6144]; /* why the newest snapshot was not used */
};

/* Whether the log reaches back to just after z (or to the beginning). */
static int log_continues(zxid_t z, zxid_t lo)
{
	return !lo || lo <= z + 1 || storage_zxid_follows(z, lo);
}

/* The end of "... lost" sentences: what the damaged snapshots held that
 * the log does not. */
static void describe_loss(char *buf, size_t len, zxid_t newest_bad, zxid_t hi)
{
	if (hi >= newest_bad)
		snprintf(buf, len,
			 "the log reaches 0x%llx, past the newest damaged snapshot "
			 "(0x%llx): no transaction is lost",
			 (unsigned long long)hi, (unsigned long long)newest_bad);
	else
		snprintf(
		    buf, len,
		    "the log ends at 0x%llx: the transactions 0x%llx to 0x%llx, held "
		    "only by the damaged snapshot, are lost",
		    (unsigned long long)hi, (unsigned long long)hi + 1,
		    (unsigned long long)newest_bad);
}

/*
 * Load the newest snapshot that is whole and that the log continues. Never
 * changes the directory. Without repair a damaged newest snapshot is
 * refused with a message saying what repair would do and lose; with repair
 * the plan says which files to set aside once the rest has been replayed.
 * If every snapshot is damaged, a log that starts at the beginning can
 * still rebuild everything (with repair); otherwise nothing complete is
 * left and recovery refuses, repair or not.
 */
static int load_snapshot(struct qcore *c, const zxid_t *zxids, size_t n, zxid_t lo,
			 zxid_t hi, struct snap_plan *plan, char *errbuf, size_t errlen)
{
	char path[4096], why[6144], loss[256];
	zxid_t z, newest_bad = 0;
	size_t i;
	int ret;

	plan->damaged = calloc(n ? n : 1, 1);
	if (!plan->damaged)
		return -ENOMEM;
	plan->base = n;
	for (i = 0; i < n; i++) {
		snapshot_path(path, sizeof(path), c->dir, zxids[i]);
		c->tree = tree_new();
		if (!c->tree)
			return -ENOMEM;
		ret = snapshot_load(path, c->tree, &z, why, sizeof(why));
		if (!ret && z != zxids[i]) {
			snprintf(why, sizeof(why),
				 "%s: meta.zxid 0x%llx does not match its name", path,
				 (unsigned long long)z);
			ret = -EBADMSG;
		}
		if (ret == -EBADMSG) {
			plan->damaged[i] = 1;
			plan->ndamaged++;
			if (!newest_bad)
				newest_bad = zxids[i];
		} else if (!ret && !log_continues(z, lo)) {
			snprintf(
			    why, sizeof(why),
			    "%s/log.db starts at 0x%llx: the records after snapshot %s "
			    "(0x%llx) were purged",
			    c->dir, (unsigned long long)lo, path, (unsigned long long)z);
			ret = -EBADMSG;
		}
		if (!ret) {
			c->snap_zxid = z;
			plan->base = i;
			break;
		}
		tree_free(c->tree);
		c->tree = NULL;
		if (ret == -ENOMEM)
			return ret;
		if (i == 0)
			snprintf(plan->first_why, sizeof(plan->first_why), "%s", why);
		log_warnx("%s", why);
	}
	if (plan->base == 0)
		goto loaded;
	describe_loss(loss, sizeof(loss), newest_bad, hi);
	if (plan->base < n) {
		/* An older snapshot and the log make a complete state. */
		snapshot_path(path, sizeof(path), c->dir, zxids[plan->base]);
		if (!c->o.repair) {
			snprintf(errbuf, errlen,
				 "%s; -o repair=yes would set aside the %zu damaged "
				 "snapshot(s) newer than %s and start from it and the "
				 "log (%s)",
				 plan->first_why, plan->ndamaged, path, loss);
			goto refuse;
		}
		log_warnx("REPAIR: starting from %s and the log instead of the %zu "
			  "damaged snapshot(s) after it; %s",
			  path, plan->ndamaged, loss);
		goto loaded;
	}
	if (n && plan->ndamaged == 0) {
		/* Whole snapshots, but the log was purged past all of them. */
		snprintf(errbuf, errlen, "%s; no snapshot is continued by the log",
			 plan->first_why);
		goto refuse;
	}
	if (!log_continues(0, lo)) {
		snprintf(errbuf, errlen,
			 "%s; every one of the %zu snapshots in %s is damaged or not "
			 "continued by log.db (which starts at 0x%llx): nothing here "
			 "holds a complete tree, so nothing was changed, with or "
			 "without repair=yes. Restore a snapshot file from a backup "
			 "into %s (or copy one from another server) and start again",
			 plan->first_why, n, c->dir, (unsigned long long)lo, c->dir);
		goto refuse;
	}
	/* The log goes back to the first transaction: it alone rebuilds the
	 * tree, slower but complete. */
	if (!c->o.repair) {
		snprintf(errbuf, errlen,
			 "%s; every snapshot is damaged, but log.db goes back to the "
			 "beginning: -o repair=yes would rebuild the tree from the log "
			 "alone and set the %zu damaged snapshot(s) aside (%s)",
			 plan->first_why, plan->ndamaged, loss);
		goto refuse;
	}
	log_warnx("REPAIR: every snapshot is damaged; rebuilding the tree from the "
		  "whole log (it goes back to the beginning); %s",
		  loss);
	c->tree = tree_new();
	if (!c->tree)
		return -ENOMEM;
	c->snap_zxid = 0;
loaded:
	if (plan->base < n) {
		snapshot_path(path, sizeof(path), c->dir, zxids[plan->base]);
		log_info("loaded %s: %zu znodes", path, tree_node_count(c->tree));
	}
	return 0;
refuse:
	if (c->tree)
		tree_free(c->tree);
	c->tree = NULL;
	return -EBADMSG;
}

/* After a successful repair: the damaged snapshots out of the way, each
 * named, and a fresh snapshot of the recovered state so that the next
 * start does not depend on the replay again. */
static int finish_repair(struct qcore *c, const zxid_t *zxids, size_t n,
			 const struct snap_plan *plan, char *errbuf, size_t errlen)
{
	char path[4096];
	size_t i;
	int ret;

	if (!plan->ndamaged)
		return 0;
	ret = snapshot_write(c->tree, c->dir, c->applied, errbuf, errlen);
	if (ret)
		return ret;
	for (i = 0; i < plan->base && i < n; i++) {
		if (!plan->damaged[i] || zxids[i] == c->applied)
			continue;
		snapshot_path(path, sizeof(path), c->dir, zxids[i]);
		move_aside(path);
	}
	c->snap_zxid = c->applied;
	log_warnx("REPAIR: done: %zu damaged snapshot(s) set aside, new snapshot at "
		  "0x%llx",
		  plan->ndamaged, (unsigned long long)c->applied);
	return 0;
}

int core_recover(struct qcore *c, char *errbuf, size_t errlen)
{
	struct storage_opts so = {c->o.force_sync, c->o.repair};
	struct replay_ctx r = {c, errbuf, errlen, 0};
	struct snap_plan plan;
	zxid_t *zxids = NULL, lo = 0, hi = 0;
	size_t n = 0;
	int ret, fresh;
	char why[1024];

	memset(&plan, 0, sizeof(plan));
	snapshot_clean_tmp(c->dir);
	ret = snapshot_list(c->dir, &zxids, &n);
	if (ret) {
		snprintf(errbuf, errlen, "%s: %s", c->dir, strerror(-ret));
		return ret;
	}
	ret = storage_open(c->dir, &so, &c->st, errbuf, errlen);
	log_debug("%s/log.db opened and checked", c->dir);
	if (!ret)
		ret = storage_bounds(c->st, &lo, &hi);
	if (ret)
		goto out;
	fresh = n == 0;
	if (fresh) {
		/* A new dataDir, or one whose snapshots are all gone: only a log
		 * that starts at the beginning can rebuild the tree. */
		if (lo && !storage_zxid_follows(0, lo)) {
			snprintf(
			    errbuf, errlen,
			    "%s: no snapshot, and log.db starts at 0x%llx, not at the "
			    "beginning: the snapshots were removed?",
			    c->dir, (unsigned long long)lo);
			ret = -EBADMSG;
			goto out;
		}
		c->tree = tree_new();
		if (!c->tree) {
			ret = -ENOMEM;
			goto out;
		}
	} else {
		ret = load_snapshot(c, zxids, n, lo, hi, &plan, errbuf, errlen);
		if (ret)
			goto out;
	}
	if (hi < c->snap_zxid) {
		snprintf(why, sizeof(why),
			 "%s/log.db ends at 0x%llx, before the snapshot at 0x%llx: the "
			 "log lost "
			 "records",
			 c->dir, (unsigned long long)hi,
			 (unsigned long long)c->snap_zxid);
		if (!c->o.repair) {
			snprintf(errbuf, errlen,
				 "%s; start with -o repair=yes to start from the "
				 "snapshot",
				 why);
			ret = -EBADMSG;
			goto out;
		}
		log_warnx("REPAIR: %s; starting from the snapshot (repair=yes)", why);
	}
	c->prep = prep_new(c->tree);
	if (!c->prep) {
		ret = -ENOMEM;
		goto out;
	}
	ret = storage_replay(c->st, c->snap_zxid, replay_one, &r, errbuf, errlen);
	if (ret)
		goto out;
	c->applied = tree_last_zxid(c->tree);
	c->epoch = zxid_epoch(c->applied) ? zxid_epoch(c->applied) : 1;
	c->counter = zxid_epoch(c->applied) ? zxid_counter(c->applied) : 0;
	log_info("recovered %s: snapshot 0x%llx + %llu log records -> zxid 0x%llx",
		 c->dir, (unsigned long long)c->snap_zxid, (unsigned long long)r.n,
		 (unsigned long long)c->applied);
	if (plan.ndamaged) {
		/* Only now, with the whole state rebuilt without them. */
		ret = finish_repair(c, zxids, n, &plan, errbuf, errlen);
		goto out;
	}
	if (fresh) {
		/* Every later restart then has a base, and purge a rule. */
		ret = snapshot_write(c->tree, c->dir, c->applied, errbuf, errlen);
		if (ret)
			goto out;
		c->snap_zxid = c->applied;
	}
out:
	free(plan.damaged);
	free(zxids);
	return ret;
}
