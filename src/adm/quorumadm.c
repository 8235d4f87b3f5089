/*
 * quorumadm.c - offline administration of quorumfs data directories (as
 * etcd's etcdutl beside etcdctl): verify, restore, import-zk, export-zk.
 * See quorumadm(8). Exit status: 0 done/good, 1 a bad or refused input,
 * 2 usage, 3 an operating-system failure.
 */
#include <dirent.h>
#include <syslog.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adm.h"
#include "pitr.h"
#include "progress.h"
#include "snapshot.h"
#include "tmpfile.h"
#include "txn.h"
#include "verify.h"
#include "zkfile.h"

#define EX_BAD	 1
#define EX_USAGE 2
#define EX_OS	 3

static const char usage_text[] =
    "usage: quorumadm verify FILE...\n"
    "       quorumadm restore FILE --data-dir DIR [--name CLUSTER] [--force]\n"
    "       quorumadm restore --archive DIR --to-zxid ZXID | --to-time ISO8601\n"
    "                 --data-dir DIR [--subtree PATH] [--name CLUSTER] [--force]\n"
    "       quorumadm import-zk ZK_DATA_DIR --data-dir DIR [--log-dir ZK_LOG_DIR]\n"
    "                 [--name CLUSTER] [--force]\n"
    "       quorumadm export-zk DIR --to ZK_DATA_DIR [--committed-only]\n"
    "       quorumadm recover --force-new-ensemble --data-dir DIR [--name CLUSTER]\n"
    "                 [--keep-uncommitted]\n"
    "See quorumadm(8).\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return EX_USAGE;
}

static int status_of(int rc)
{
	return rc == -EBADMSG || rc == -ENOTEMPTY || rc == -ENODATA || rc == -ENOENT ||
		       rc == -EINVAL || rc == -EEXIST || rc == -EBUSY
		   ? EX_BAD
		   : EX_OS;
}

struct opts {
	const char *arg;      /* the positional argument */
	const char *data_dir; /* --data-dir */
	const char *to;	      /* --to */
	const char *name;     /* --name */
	const char *log_dir;  /* --log-dir */
	const char *archive;  /* --archive */
	const char *to_zxid;  /* --to-zxid */
	const char *to_time;  /* --to-time */
	const char *subtree;  /* --subtree */
	int force;
	int committed_only; /* --committed-only */
	int force_new;	    /* --force-new-ensemble */
	int keep_tail;	    /* --keep-uncommitted */
};

static int parse(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (strcmp(argv[i], "--data-dir") == 0)
			slot = &o->data_dir;
		else if (strcmp(argv[i], "--to") == 0)
			slot = &o->to;
		else if (strcmp(argv[i], "--name") == 0)
			slot = &o->name;
		else if (strcmp(argv[i], "--log-dir") == 0)
			slot = &o->log_dir;
		else if (strcmp(argv[i], "--archive") == 0)
			slot = &o->archive;
		else if (strcmp(argv[i], "--to-zxid") == 0)
			slot = &o->to_zxid;
		else if (strcmp(argv[i], "--to-time") == 0)
			slot = &o->to_time;
		else if (strcmp(argv[i], "--subtree") == 0)
			slot = &o->subtree;
		else if (strcmp(argv[i], "--force") == 0) {
			o->force = 1;
			continue;
		} else if (strcmp(argv[i], "--committed-only") == 0) {
			o->committed_only = 1;
			continue;
		} else if (strcmp(argv[i], "--force-new-ensemble") == 0) {
			o->force_new = 1;
			continue;
		} else if (strcmp(argv[i], "--keep-uncommitted") == 0) {
			o->keep_tail = 1;
			continue;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "quorumadm: unknown option %s\n", argv[i]);
			return -1;
		} else if (!o->arg) {
			o->arg = argv[i];
			continue;
		} else {
			fprintf(stderr, "quorumadm: unexpected argument %s\n", argv[i]);
			return -1;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "quorumadm: %s needs a value\n", argv[i]);
			return -1;
		}
		*slot = argv[++i];
	}
	return 0;
}

static void fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || !gmtime_r(&tt, &tm))
		snprintf(buf, len, "unknown");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void phase(struct progress *pr, const char *what, const char *name);

static int cmd_verify(int argc, char **argv)
{
	struct progress pr;
	struct verify_report r;
	char when[64];
	int i, status = 0, rc;

	if (argc < 1)
		return usage();
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "quorumadm: unknown option %s\n", argv[i]);
			return usage();
		}
	}
	for (i = 0; i < argc; i++) {
		progress_begin(&pr, "verifying", "nodes", 0);
		phase(&pr, "verifying", argv[i]);
		rc = adm_verify(argv[i], &r);
		if (rc) {
			fprintf(stderr, "quorumadm: %s: %s\n", argv[i], r.problems);
			status = status ? status : EX_OS;
			continue;
		}
		fmt_time(r.created, when, sizeof(when));
		if (r.nproblems) {
			printf("%s: BAD (%u problem%s)\n", argv[i], r.nproblems,
			       r.nproblems == 1 ? "" : "s");
			fprintf(stderr, "quorumadm: %s: %s\n", argv[i], r.problems);
			if (r.nproblems > 20)
				fprintf(stderr, "quorumadm: %s: ... and %u more\n",
					argv[i], r.nproblems - 20);
			status = EX_BAD;
			continue;
		}
		printf("%s: good: %s zxid 0x%" PRIx64 ", created %s, %" PRIu64
		       " nodes, %" PRIu64 " sessions\n",
		       argv[i],
		       r.zookeeper ? "ZooKeeper snapshot," : "quorumfs snapshot,",
		       (uint64_t)r.zxid, when, r.nodes, r.sessions);
	}
	return status;
}

/*
 * restore --archive: the tree at a zxid or time from a continuous archive
 * (pitr.c), whole or one subtree, into a new data directory.
 */
static int restore_archive(const struct opts *o)
{
	struct pitr_target tg;
	struct pitr_report r;
	struct progress pr;
	struct tree *t = NULL, *sub = NULL;
	char why[8400], aside[4200], origin[4400], when[64], next[64];
	uint64_t nodes = 0;
	char *end;
	int rc;

	memset(&tg, 0, sizeof(tg));
	if (o->to_zxid) {
		errno = 0;
		tg.zxid = strtoull(o->to_zxid, &end, 16);
		if (strncmp(o->to_zxid, "0x", 2) != 0 || *end || errno || !tg.zxid) {
			fprintf(stderr,
				"quorumadm: --to-zxid %s: %s\n", o->to_zxid,
				strncmp(o->to_zxid, "0x", 2) || *end || errno
				    ? "a zxid in hex, as 0x100000005"
				    : "0x0 is before every transaction: give the "
				      "zxid of the last one to keep");
			return EX_USAGE;
		}
	} else {
		tg.by_time = 1;
		if (adm_parse_time(o->to_time, &tg.time_ms)) {
			fprintf(
			    stderr,
			    "quorumadm: --to-time %s: an ISO 8601 time with a zone, as "
			    "2026-11-30T14:02:00Z, 2026-11-30T14:02:00.250+01:00\n",
			    o->to_time);
			return EX_USAGE;
		}
	}
	if (o->subtree && (o->subtree[0] != '/' || path_validate(o->subtree) != 0)) {
		fprintf(stderr,
			"quorumadm: --subtree %s: a znode path, absolute, as ZooKeeper "
			"writes it (/app/conf: no trailing or doubled '/')\n",
			o->subtree);
		return EX_USAGE;
	}
	progress_begin(&pr, "restoring", "entries", 0);
	rc = adm_pitr_build(o->archive, &tg, &pr, &t, &r, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "quorumadm: restore refused: %s\n", why);
		return rc == -ENOMEM || rc == -EIO ? EX_OS : EX_BAD;
	}
	if (o->subtree) {
		rc = adm_subtree(t, o->subtree, &sub, &nodes, why, sizeof(why));
		if (rc) {
			fprintf(stderr, "quorumadm: restore refused: %s\n", why);
			tree_free(t);
			return rc == -ENOMEM ? EX_OS : EX_BAD;
		}
	}
	if (pr.on)
		fprintf(stderr, "writing %s ...\n", o->data_dir);
	snprintf(origin, sizeof(origin), "restore --archive %s to 0x%" PRIx64 "%s%s",
		 o->archive, (uint64_t)r.zxid, o->subtree ? " subtree " : "",
		 o->subtree ? o->subtree : "");
	rc = adm_datadir_write(sub ? sub : t, r.zxid, o->data_dir, o->name, o->force,
			       origin, aside, sizeof(aside), why, sizeof(why));
	if (!sub)
		nodes = tree_node_count(t);
	if (sub)
		tree_free(sub);
	tree_free(t);
	if (rc) {
		fprintf(stderr, "quorumadm: %s\n", why);
		return status_of(rc);
	}
	if (aside[0])
		fprintf(stderr, "quorumadm: the old %s is now %s\n", o->data_dir, aside);
	adm_fmt_time_ms(r.last_time, when, sizeof(when));
	printf("restored %s%s%s to zxid 0x%" PRIx64 " (last transaction %s) from "
	       "snapshot 0x%" PRIx64 " + %" PRIu64 " entries of %" PRIu64
	       " segment%s into %s: %" PRIu64
	       " nodes%s, new cluster identity (%s/CLUSTER)\n",
	       o->archive, o->subtree ? " subtree " : "", o->subtree ? o->subtree : "",
	       (uint64_t)r.zxid, when, (uint64_t)r.snap, r.entries, r.segments,
	       r.segments == 1 ? "" : "s", o->data_dir, nodes,
	       o->subtree ? " in the subtree" : "", o->data_dir);
	if (tg.by_time) {
		adm_fmt_time_ms(r.next_time, next, sizeof(next));
		printf("the first transaction left out: zxid 0x%" PRIx64 " at %s\n",
		       (uint64_t)r.next_zxid, next);
	}
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	struct progress pr;
	struct verify_report r;
	struct tree *t;
	struct opts o;
	char why[4096], aside[4200], origin[4200];
	zxid_t zxid;
	int rc;

	if (parse(argc, argv, &o) || !o.data_dir || o.to || o.log_dir)
		return usage();
	if (o.archive || o.to_zxid || o.to_time || o.subtree) {
		if (!o.archive || o.arg || !o.to_zxid == !o.to_time)
			return usage();
		return restore_archive(&o);
	}
	if (!o.arg)
		return usage();
	/* Everything verify checks, first: never restore a damaged file. */
	progress_begin(&pr, "restoring", "nodes", 0);
	phase(&pr, "verifying", o.arg);
	rc = adm_verify(o.arg, &r);
	if (rc) {
		fprintf(stderr, "quorumadm: %s: %s\n", o.arg, r.problems);
		return EX_OS;
	}
	if (r.nproblems || r.zookeeper) {
		fprintf(stderr, "quorumadm: %s: %s\n", o.arg,
			r.zookeeper ? "a ZooKeeper snapshot: use import-zk on its data "
				      "directory"
				    : r.problems);
		return EX_BAD;
	}
	t = tree_new();
	if (!t)
		return EX_OS;
	phase(&pr, "loading", o.arg);
	rc = snapshot_load(o.arg, t, &zxid, why, sizeof(why));
	if (!rc) {
		phase(&pr, "writing", o.data_dir);
		snprintf(origin, sizeof(origin), "restore %s", o.arg);
		rc = adm_datadir_write(t, zxid, o.data_dir, o.name, o.force, origin,
				       aside, sizeof(aside), why, sizeof(why));
	}
	tree_free(t);
	if (rc) {
		fprintf(stderr, "quorumadm: %s\n", why);
		return status_of(rc);
	}
	if (aside[0])
		fprintf(stderr, "quorumadm: the old %s is now %s\n", o.data_dir, aside);
	printf("restored %s into %s: zxid 0x%" PRIx64 ", %" PRIu64
	       " nodes, new cluster identity (%s/CLUSTER)\n",
	       o.arg, o.data_dir, (uint64_t)zxid, r.nodes, o.data_dir);
	return 0;
}

static int cmd_import(int argc, char **argv)
{
	struct zk_import_stats st;
	struct progress pr;
	struct tree *t = NULL;
	struct zkdb db;
	struct opts o;
	char why[8400], aside[4200], origin[4200];
	int rc;

	if (parse(argc, argv, &o) || !o.arg || !o.data_dir || o.to)
		return usage();
	if (zkdb_init(&db))
		return EX_OS;
	progress_begin(&pr, "reading ZooKeeper snapshot", "nodes", 0);
	db.progress = progress_cb;
	db.progress_arg = &pr;
	rc = zk_import_dir(o.arg, o.log_dir, &db, &st, why, sizeof(why));
	progress_end(&pr, db.count);
	if (rc) {
		fprintf(stderr, "quorumadm: import-zk refused: %s\n", why);
		goto out;
	}
	if (!st.logs)
		fprintf(stderr,
			"quorumadm: warning: no ZooKeeper transaction log "
			"(log.<zxid>) in %s: only the snapshot is imported, and a "
			"snapshot ZooKeeper took while serving is fuzzy (the log after "
			"it completes it); give --log-dir if dataLogDir is elsewhere\n",
			st.log_dir);
	if (st.torn)
		fprintf(
		    stderr,
		    "quorumadm: %s ends in a record cut short at byte %zu (a write torn "
		    "by a crash, never acknowledged); the import stops before it, as "
		    "ZooKeeper does\n",
		    st.torn_file, st.torn_offset);
	progress_begin(&pr, "building the quorumfs tree", "nodes", db.count);
	t = tree_new();
	rc = t ? adm_zkdb_to_tree(&db, t, why, sizeof(why)) : -ENOMEM;
	progress_end(&pr, rc ? 0 : db.count);
	if (rc) {
		fprintf(stderr, "quorumadm: import-zk refused: %s\n",
			rc == -ENOMEM ? strerror(ENOMEM) : why);
		goto out;
	}
	if (pr.on)
		fprintf(stderr, "writing %s (%zu nodes)\n", o.data_dir, db.count);
	snprintf(origin, sizeof(origin), "import-zk %s", o.arg);
	rc = adm_datadir_write(t, db.zxid, o.data_dir, o.name, o.force, origin, aside,
			       sizeof(aside), why, sizeof(why));
	if (rc) {
		fprintf(stderr, "quorumadm: %s\n", why);
		goto out;
	}
	if (aside[0])
		fprintf(stderr, "quorumadm: the old %s is now %s\n", o.data_dir, aside);
	printf("imported %s into %s: snapshot 0x%" PRIx64 " + %" PRIu64
	       " transactions from %u log file%s = zxid 0x%" PRIx64 ", %zu nodes, %zu "
	       "sessions\n",
	       o.arg, o.data_dir, (uint64_t)st.snap_zxid, st.applied, st.logs,
	       st.logs == 1 ? "" : "s", (uint64_t)db.zxid, db.count, db.nsess);
out:
	if (t)
		tree_free(t);
	zkdb_free(&db);
	return rc ? status_of(rc) : 0;
}

/* A snapshot or log already in dir would be loaded on top of ours. */
static int has_zk_files(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int found = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "snapshot.", 9) == 0 ||
		    strncmp(e->d_name, "log.", 4) == 0)
			found = 1;
	closedir(d);
	return found;
}

static int mkdir_p(const char *dir)
{
	char p[4200];
	size_t i;

	snprintf(p, sizeof(p), "%s", dir);
	for (i = 1; p[i]; i++)
		if (p[i] == '/') {
			p[i] = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			p[i] = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A phase whose work is not ours to count (loading a snapshot): one line on
 * a terminal that says what is happening and, at the end, how long. */
static void phase(struct progress *pr, const char *what, const char *name)
{
	if (pr->on)
		fprintf(stderr, "%s %s ...\n", what, name);
}

static int cmd_export(int argc, char **argv)
{
	struct progress pr;
	struct tree *t;
	struct opts o;
	char why[4096], vdir[4200], path[4300], tmp[4400];
	uint64_t nodes = 0, past = 0;
	zxid_t zxid;
	FILE *f = NULL;
	int rc, fd;

	if (parse(argc, argv, &o) || !o.arg || !o.to || o.data_dir || o.log_dir || o.name)
		return usage();
	snprintf(vdir, sizeof(vdir), "%s/version-2", o.to);
	if (has_zk_files(vdir)) {
		fprintf(
		    stderr,
		    "quorumadm: %s already holds ZooKeeper snapshots or logs, which "
		    "ZooKeeper would load instead of or on top of the export: give an "
		    "empty ZK_DATA_DIR\n",
		    vdir);
		return EX_BAD;
	}
	t = tree_new();
	if (!t)
		return EX_OS;
	progress_begin(&pr, "loading", "nodes", 0);
	phase(&pr, "loading", o.arg);
	rc = adm_datadir_load(o.arg, t, &zxid, o.committed_only, &past, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "quorumadm: %s\n", why);
		tree_free(t);
		return status_of(rc);
	}
	if (past && !o.committed_only)
		fprintf(stderr,
			"quorumadm: %s: %llu log entries past the commit watermark are "
			"included, as a standalone server replays them; for a member of "
			"an ensemble give --committed-only\n",
			o.arg, (unsigned long long)past);
	rc = mkdir_p(vdir);
	if (rc) {
		fprintf(stderr, "quorumadm: %s: %s\n", vdir, strerror(-rc));
		tree_free(t);
		return EX_OS;
	}
	snprintf(path, sizeof(path), "%s/snapshot.%" PRIx64, vdir, (uint64_t)zxid);
	/* Not named snapshot.*: ZooKeeper must never see it half written. */
	snprintf(tmp, sizeof(tmp), "%s/.quorumadm-export.tmp", vdir);
	fd = tmpfile_create(tmp, 0644);
	rc = fd;
	if (fd >= 0) {
		f = fdopen(fd, "w");
		rc = -errno;
	}
	if (!f) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "quorumadm: %s: %s\n", tmp, strerror(-rc));
		tree_free(t);
		return EX_OS;
	}
	progress_begin(&pr, "writing the ZooKeeper snapshot", "nodes",
		       tree_node_count(t));
	rc = zk_snap_write(t, f, &nodes, progress_cb, &pr);
	progress_end(&pr, nodes);
	if (!rc && fsync(fileno(f)) < 0)
		rc = -errno;
	if (fclose(f) != 0 && !rc)
		rc = -EIO;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (!rc) {
		fd = open(vdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	tree_free(t);
	if (rc) {
		unlink(tmp);
		fprintf(stderr, "quorumadm: writing %s: %s\n", path, strerror(-rc));
		return EX_OS;
	}
	printf("exported %s to %s: zxid 0x%" PRIx64 ", %" PRIu64 " nodes\n", o.arg, path,
	       (uint64_t)zxid, nodes);
	return 0;
}

/* The cluster name DIR/CLUSTER gives, into name (empty when none). */
static void cluster_name_of(const char *dir, char *name, size_t len)
{
	char path[4200], line[512];
	FILE *f;

	name[0] = '\0';
	snprintf(path, sizeof(path), "%s/CLUSTER", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "name ", 5) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(name, len, "%.255s", line + 5);
		}
	fclose(f);
}

/*
 * recover --force-new-ensemble: the survivor's data directory rewritten as
 * the first member of a new ensemble, from its committed data (its log up
 * to the commit watermark, as etcd's --force-new-cluster). With
 * --keep-uncommitted the tail past the watermark is kept too: a follower
 * learns of commits late, so an acknowledged write it holds may lie there,
 * at the price of writes never acknowledged coming back. The count of
 * those entries is reported either way. The old directory is moved aside,
 * never deleted. Refused while a daemon holds the directory.
 */
static int cmd_recover(int argc, char **argv)
{
	struct progress pr;
	struct tree *t;
	struct opts o;
	char why[4096], aside[4200], origin[4300], name[256];
	uint64_t past = 0;
	zxid_t zxid;
	int rc, fd;

	if (parse(argc, argv, &o) || o.arg || !o.data_dir || o.to || o.log_dir ||
	    o.committed_only)
		return usage();
	if (!o.force_new) {
		fprintf(stderr,
			"quorumadm: recover starts a new ensemble from this "
			"member's data and discards the old ensemble: say so with "
			"--force-new-ensemble (see quorumadm(8))\n");
		return EX_USAGE;
	}
	/* Refused before the load; adm_datadir_write takes the lock again
	 * for the write itself. */
	if (adm_datadir_lock(o.data_dir, &fd, why, sizeof(why))) {
		fprintf(stderr, "quorumadm: %s\n", why);
		return EX_BAD;
	}
	if (fd >= 0)
		close(fd);
	cluster_name_of(o.data_dir, name, sizeof(name));
	if (o.name)
		snprintf(name, sizeof(name), "%.255s", o.name);
	if (!name[0]) {
		/* The new CLUSTER file must name what the daemon is configured
		 * for (core_cluster.c), and quorumadm does not read zoo.cfg. */
		fprintf(stderr,
			"quorumadm: %s has no CLUSTER file: give --name with the "
			"ensemble's clusterName (quorumfs if zoo.cfg sets none)\n",
			o.data_dir);
		return EX_USAGE;
	}
	t = tree_new();
	if (!t)
		return EX_OS;
	progress_begin(&pr, "recovering", "nodes", 0);
	phase(&pr, "loading", o.data_dir);
	rc =
	    adm_datadir_load(o.data_dir, t, &zxid, !o.keep_tail, &past, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "quorumadm: %s\n", why);
		tree_free(t);
		return status_of(rc);
	}
	openlog("quorumadm", LOG_PID, LOG_DAEMON);
	syslog(LOG_CRIT,
	       "recover --force-new-ensemble: %s becomes the first member of a new "
	       "ensemble at zxid 0x%llx (%llu log entries past its commit watermark "
	       "%s)",
	       o.data_dir, (unsigned long long)zxid, (unsigned long long)past,
	       o.keep_tail ? "kept" : "dropped");
	fprintf(stderr,
		"quorumadm: *** FORCED RECOVERY: %s becomes the first member of a NEW "
		"ensemble at zxid 0x%" PRIx64 " ***\n"
		"quorumadm: every member of the old ensemble that still runs must be "
		"stopped and wiped before it joins: its data is no longer the "
		"cluster's\n",
		o.data_dir, (uint64_t)zxid);
	if (past && o.keep_tail)
		fprintf(
		    stderr,
		    "quorumadm: %llu log entries past this member's commit watermark "
		    "are kept (--keep-uncommitted): some may be writes that were never "
		    "acknowledged\n",
		    (unsigned long long)past);
	else if (past)
		fprintf(stderr,
			"quorumadm: %llu log entries past this member's commit watermark "
			"are dropped: any acknowledged write among them is lost "
			"(--keep-uncommitted keeps them)\n",
			(unsigned long long)past);
	phase(&pr, "writing", o.data_dir);
	snprintf(origin, sizeof(origin), "recover --force-new-ensemble %s", o.data_dir);
	rc = adm_datadir_write(t, zxid, o.data_dir, name, 1, origin, aside, sizeof(aside),
			       why, sizeof(why));
	tree_free(t);
	if (rc) {
		fprintf(stderr, "quorumadm: %s\n", why);
		syslog(LOG_CRIT, "recover --force-new-ensemble: %s failed: %s",
		       o.data_dir, why);
		return status_of(rc);
	}
	syslog(LOG_CRIT, "recover --force-new-ensemble: %s done; the old data is %s",
	       o.data_dir, aside);
	closelog();
	printf("recovered %s as a new ensemble: zxid 0x%" PRIx64 ", %s, cluster "
	       "\"%s\"; the old data directory is %s. Start this member with the "
	       "new ensemble's configuration; the others join with empty data "
	       "directories\n",
	       o.data_dir, (uint64_t)zxid,
	       !past	     ? "nothing past the commit watermark"
	       : o.keep_tail ? "uncommitted tail kept"
			     : "uncommitted tail dropped",
	       name, aside);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 2, argv + 2);
	if (strcmp(argv[1], "restore") == 0)
		return cmd_restore(argc - 2, argv + 2);
	if (strcmp(argv[1], "import-zk") == 0)
		return cmd_import(argc - 2, argv + 2);
	if (strcmp(argv[1], "export-zk") == 0)
		return cmd_export(argc - 2, argv + 2);
	if (strcmp(argv[1], "recover") == 0)
		return cmd_recover(argc - 2, argv + 2);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("quorumadm %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "quorumadm: unknown command %s\n", argv[1]);
	return usage();
}
