/*
 * core_recover.c - restart: the dataDir's format, the log's extent, then
 * the newest whole snapshot the log continues (the log after it is the
 * replica's, core_repl.c). Refuses, with a message naming the file and
 * what -o repair=yes would do and lose, anything that would otherwise lose
 * acknowledged transactions silently: a damaged snapshot, a dataDir of
 * another format.
 *
 * THE FORMAT. dataDir/VERSION holds "quorumfs-data N"; this build writes
 * and reads N = CORE_DATA_FORMAT (2: the consensus log store txnlog.db,
 * snapshot.<zxid>.db files). Format 1 (before replication: log.db, no
 * VERSION file) and any other N are refused with what to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_int.h"
#include "log.h"
#include "logstore.h"
#include "snapshot.h"
#include "storage_sql.h"
#include "tmpfile.h"
#include "zerr.h"

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
 * THE REPAIR PLAN. The log holds every entry above the zxid it was
 * compacted at (log_compacted), up to log_last. A snapshot at z can start
 * the tree only if z >= log_compacted: below that, the entries between are
 * in no file. So the start is the newest whole snapshot at or above
 * log_compacted; or, when every snapshot is damaged and the log was never
 * compacted (it reaches back to the first transaction), the empty tree with
 * the whole log. That start reaches its own zxid or the log's end,
 * whichever is later; what lies between there and the newest snapshot's
 * zxid only the damaged file held, and the plan names it. Nothing on disk
 * changes before the start has loaded and repair=yes was given; when there
 * is no start, nothing changes at all.
 */
struct plan {
	size_t pick; /* index of the snapshot loaded; n: the empty tree */
	size_t bad;  /* damaged ones tried (all newer than pick) */
	zxid_t from; /* the start's zxid */
	zxid_t reach;
	char path[4096]; /* the snapshot loaded */
	char why[6144];	 /* the first damaged one's fault */
};

/* Load the first whole snapshot at or above log_compacted into c->tree;
 * counts the damaged ones before it. 0, -ENOENT (none), -ENOMEM. */
static int plan_find(struct qcore *c, const zxid_t *zxids, size_t n, struct plan *p)
{
	char why[6144];
	zxid_t z;
	int ret;

	for (p->pick = 0; p->pick < n && zxids[p->pick] >= c->log_compacted; p->pick++) {
		snapshot_path(p->path, sizeof(p->path), c->dir, zxids[p->pick]);
		c->tree = tree_new();
		if (!c->tree)
			return -ENOMEM;
		ret = snapshot_load(p->path, c->tree, &z, why, sizeof(why));
		if (!ret && z != zxids[p->pick]) {
			snprintf(why, sizeof(why),
				 "%s: meta.zxid 0x%llx does not match its name", p->path,
				 (unsigned long long)z);
			ret = -EBADMSG;
		}
		if (!ret) {
			p->from = z;
			return 0;
		}
		tree_free(c->tree);
		c->tree = NULL;
		if (ret == -ENOMEM)
			return ret;
		if (!p->bad++)
			snprintf(p->why, sizeof(p->why), "%s", why);
	}
	return -ENOENT;
}

/* There is no start: say why; nothing was changed. */
static int plan_refuse(struct qcore *c, const zxid_t *zxids, size_t n,
		       const struct plan *p, char *errbuf, size_t errlen)
{
	if (!p->bad)
		snprintf(errbuf, errlen,
			 "%s/txnlog.db was compacted up to 0x%llx but the newest "
			 "snapshot is 0x%llx: the snapshots in between are missing; "
			 "nothing was changed; restore them from a backup or another "
			 "server",
			 c->dir, (unsigned long long)c->log_compacted,
			 (unsigned long long)zxids[0]);
	else
		snprintf(errbuf, errlen,
			 "%s; %s: no whole snapshot (%zu damaged of %zu) at or after "
			 "0x%llx, where the log begins: repair cannot rebuild the tree "
			 "and nothing was changed; restore a snapshot file from a backup "
			 "or another server",
			 p->why, c->dir, p->bad, n, (unsigned long long)c->log_compacted);
	return -EBADMSG;
}

/* What a repair would do, and lose, in words. */
static void plan_words(struct qcore *c, const zxid_t *zxids, size_t n,
		       const struct plan *p, char *out, size_t len)
{
	int k;

	if (p->pick < n)
		k = snprintf(out, len,
			     "set aside the %zu damaged snapshot%s and start from %s with "
			     "the log after it",
			     p->bad, p->bad > 1 ? "s" : "", p->path);
	else
		k = snprintf(out, len,
			     "set aside the %zu damaged snapshot%s and rebuild the tree "
			     "from the log, which reaches back to the first transaction",
			     p->bad, p->bad > 1 ? "s" : "");
	if (k < 0 || (size_t)k >= len)
		return;
	if (p->reach >= zxids[0])
		snprintf(out + k, len - (size_t)k,
			 "; the log reaches 0x%llx, so no transaction is lost",
			 (unsigned long long)p->reach);
	else
		snprintf(out + k, len - (size_t)k,
			 "; the log ends at 0x%llx, so transactions 0x%llx to 0x%llx "
			 "are lost (only the damaged snapshot held them)",
			 (unsigned long long)p->reach, (unsigned long long)p->reach + 1,
			 (unsigned long long)zxids[0]);
}

/* Load the start the plan finds (*rebuild: the empty tree), refusing
 * with what repair=yes would do when a snapshot is damaged. */
static int load_snapshot(struct qcore *c, const zxid_t *zxids, size_t n, int *rebuild,
			 char *errbuf, size_t errlen)
{
	struct plan *p;
	char words[5000];
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*rebuild = 0;
	ret = plan_find(c, zxids, n, p);
	if (ret == -ENOENT && p->bad == n && c->log_compacted == 0) {
		/* Every snapshot damaged, the log whole from the start. */
		p->pick = n;
		p->from = 0;
		ret = 0;
	} else if (ret == -ENOENT) {
		ret = plan_refuse(c, zxids, n, p, errbuf, errlen);
	}
	if (ret)
		goto out;
	p->reach = c->log_last > p->from ? c->log_last : p->from;
	if (p->bad) {
		plan_words(c, zxids, n, p, words, sizeof(words));
		if (!c->o.repair) {
			snprintf(errbuf, errlen,
				 "%s; start with -o repair=yes to fall back: repair=yes "
				 "would %s",
				 p->why, words);
			tree_free(c->tree);
			c->tree = NULL;
			ret = -EBADMSG;
			goto out;
		}
		log_warnx("REPAIR: %s; repair=yes: %s", p->why, words);
	}
	if (p->pick == n) {
		c->tree = tree_new();
		if (!c->tree) {
			ret = -ENOMEM;
			goto out;
		}
		*rebuild = 1;
	} else {
		c->snap_zxid = p->from;
		log_info("loaded %s: %zu znodes", p->path, tree_node_count(c->tree));
	}
	/* repair=yes: the start loaded; only now set the damaged aside. */
	for (size_t k = 0; k < p->bad; k++) {
		char path[4096];

		snapshot_path(path, sizeof(path), c->dir, zxids[k]);
		move_aside(path);
	}
out:
	free(p);
	return ret;
}

/* Open the log before choosing the snapshot: the plan needs its extent. */
static int open_log(struct qcore *c, char *errbuf, size_t errlen)
{
	struct logstore_state st;
	char path[4096], msg[4400];
	int rc;

	snprintf(path, sizeof(path), "%s/txnlog.db", c->dir);
	rc = logstore_open(path, c->base, &c->ls, &st, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(errbuf, errlen, "%s", msg);
		return rc;
	}
	c->log_compacted = st.meta.snapshot_zxid;
	c->log_last = st.last_zxid;
	return 0;
}

static const char format_name[] = "VERSION";

int core_format_check(const char *dir, char *errbuf, size_t errlen)
{
	char path[4096], tmp[4200], text[64];
	zxid_t *zxids = NULL;
	size_t n = 0;
	ssize_t len;
	int fd, v = -1, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, format_name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, text, sizeof(text) - 1);
		close(fd);
		text[len > 0 ? len : 0] = '\0';
		if (sscanf(text, "quorumfs-data %d", &v) != 1 || v != CORE_DATA_FORMAT) {
			snprintf(
			    errbuf, errlen,
			    "%s: data format %d, this quorumfs reads format %d only: "
			    "start the quorumfs that wrote it, or give an empty "
			    "dataDir",
			    path, v, CORE_DATA_FORMAT);
			return -EPROTO;
		}
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* No VERSION: a new dataDir, or one of format 1. */
	snprintf(tmp, sizeof(tmp), "%s/log.db", dir);
	rc = snapshot_list(dir, &zxids, &n);
	free(zxids);
	if (rc == 0 && (n > 0 || access(tmp, F_OK) == 0)) {
		snprintf(errbuf, errlen,
			 "%s holds data format 1 (log.db, written by quorumfs before "
			 "replication), which this quorumfs (format %d) does not read: "
			 "copy the tree out with the quorumfs that wrote it (cp -a from "
			 "its mount) into a new dataDir served by this one",
			 dir, CORE_DATA_FORMAT);
		return -EPROTO;
	}
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, format_name);
	fd = tmpfile_create(tmp, 0600);
	if (fd < 0)
		goto err;
	len = snprintf(text, sizeof(text), "quorumfs-data %d\n", CORE_DATA_FORMAT);
	if (write(fd, text, (size_t)len) != len || fsync(fd) < 0) {
		close(fd);
		goto err;
	}
	close(fd);
	if (rename(tmp, path) < 0 || storage_fsync_dir(dir) < 0)
		goto err;
	return 0;
err:
	rc = -errno;
	snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
	return rc ? rc : -EIO;
}

int core_recover(struct qcore *c, char *errbuf, size_t errlen)
{
	zxid_t *zxids = NULL;
	size_t n = 0;
	int ret, fresh;

	ret = core_format_check(c->dir, errbuf, errlen);
	if (ret)
		return ret;
	snapshot_clean_tmp(c->dir);
	ret = snapshot_list(c->dir, &zxids, &n);
	if (ret) {
		snprintf(errbuf, errlen, "%s: %s", c->dir, strerror(-ret));
		return ret;
	}
	ret = open_log(c, errbuf, errlen);
	if (ret)
		goto out;
	fresh = n == 0;
	if (fresh) {
		c->tree = tree_new();
		if (!c->tree) {
			ret = -ENOMEM;
			goto out;
		}
	} else {
		ret = load_snapshot(c, zxids, n, &fresh, errbuf, errlen);
		if (ret)
			goto out;
	}
	c->prep = prep_new(c->tree);
	if (!c->prep) {
		ret = -ENOMEM;
		goto out;
	}
	c->applied = tree_last_zxid(c->tree);
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
