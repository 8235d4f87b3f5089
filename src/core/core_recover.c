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
 * Load the newest snapshot that is whole and that the log continues. With
 * repair a damaged one is moved aside and the previous one tried.
 */
static int load_snapshot(struct qcore *c, const zxid_t *zxids, size_t n, zxid_t lo,
			 char *errbuf, size_t errlen)
{
	char path[4096], why[6144];
	zxid_t z;
	size_t i;
	int ret;

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
		if (!ret && lo && lo > z + 1 && !storage_zxid_follows(z, lo)) {
			snprintf(
			    why, sizeof(why),
			    "%s/log.db starts at 0x%llx: the records after snapshot %s "
			    "(0x%llx) were purged",
			    c->dir, (unsigned long long)lo, path, (unsigned long long)z);
			ret = -EBADMSG;
		}
		if (!ret) {
			c->snap_zxid = z;
			log_info("loaded %s: %zu znodes", path, tree_node_count(c->tree));
			return 0;
		}
		tree_free(c->tree);
		c->tree = NULL;
		if (ret == -ENOMEM)
			return ret;
		if (!c->o.repair) {
			snprintf(errbuf, errlen,
				 "%s; start with -o repair=yes to fall back to the "
				 "previous snapshot "
				 "and replay the log from there",
				 why);
			return -EBADMSG;
		}
		log_warnx(
		    "REPAIR: %s; falling back to the previous snapshot (repair=yes)",
		    why);
		if (ret == -EBADMSG && strstr(why, "purged") == NULL)
			move_aside(path);
	}
	snprintf(errbuf, errlen, "%s: no usable snapshot (of %zu found)", c->dir, n);
	return -EBADMSG;
}

int core_recover(struct qcore *c, char *errbuf, size_t errlen)
{
	struct storage_opts so = {c->o.force_sync, c->o.repair};
	struct replay_ctx r = {c, errbuf, errlen, 0};
	zxid_t *zxids = NULL, lo = 0, hi = 0;
	size_t n = 0;
	int ret, fresh;
	char why[1024];

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
		ret = load_snapshot(c, zxids, n, lo, errbuf, errlen);
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
	if (fresh) {
		/* Every later restart then has a base, and purge a rule. */
		ret = snapshot_write(c->tree, c->dir, c->applied, errbuf, errlen);
		if (ret)
			goto out;
		c->snap_zxid = c->applied;
	}
out:
	free(zxids);
	return ret;
}
