/*
 * core_recover.c - restart: the dataDir's format, then the newest valid
 * snapshot (the log after it is the replica's, core_repl.c). Refuses, with
 * a message naming the file and -o repair=yes, anything that would
 * otherwise lose acknowledged transactions silently: a damaged snapshot, a
 * dataDir of another format.
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
#include "snapshot.h"
#include "storage_sql.h"
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
 * Load the newest snapshot that is whole and that the log continues. With
 * repair a damaged one is moved aside and the previous one tried.
 */
static int load_snapshot(struct qcore *c, const zxid_t *zxids, size_t n, char *errbuf,
			 size_t errlen)
{
	char path[4096], why[6144], first_why[6144] = "";
	size_t i, bad = 0;
	zxid_t z;
	int ret;

	/* Find the newest whole snapshot without changing anything. */
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
		if (!ret)
			break;
		tree_free(c->tree);
		c->tree = NULL;
		if (ret == -ENOMEM)
			return ret;
		if (!bad)
			snprintf(first_why, sizeof(first_why), "%s", why);
		bad++;
	}
	if (i == n) {
		snprintf(
		    errbuf, errlen,
		    "%s; %s: no whole snapshot (of %zu found): repair cannot rebuild "
		    "the tree and nothing was changed; restore a snapshot file from "
		    "a backup or another server",
		    first_why, c->dir, n);
		return -EBADMSG;
	}
	if (bad && !c->o.repair) {
		tree_free(c->tree);
		c->tree = NULL;
		snprintf(
		    errbuf, errlen,
		    "%s; start with -o repair=yes to fall back: repair=yes would set "
		    "aside the %zu damaged snapshot%s and start from %s with the log "
		    "after it, which reaches back to it, so no transaction is lost",
		    first_why, bad, bad > 1 ? "s" : "", path);
		return -EBADMSG;
	}
	c->snap_zxid = z;
	log_info("loaded %s: %zu znodes", path, tree_node_count(c->tree));
	/* repair=yes: the whole one loaded; only now set the damaged aside. */
	for (size_t k = 0; k < i; k++) {
		char p[4096];

		snapshot_path(p, sizeof(p), c->dir, zxids[k]);
		log_warnx("REPAIR: %s is damaged; starting from %s (repair=yes)", p,
			  path);
		move_aside(p);
	}
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
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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
	fresh = n == 0;
	if (fresh) {
		c->tree = tree_new();
		if (!c->tree) {
			ret = -ENOMEM;
			goto out;
		}
	} else {
		ret = load_snapshot(c, zxids, n, errbuf, errlen);
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
