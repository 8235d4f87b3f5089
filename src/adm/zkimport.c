/* zkimport.c - a ZooKeeper data directory into a zkdb, and a zkdb into a
 * quorumfs tree (adm.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adm.h"
#include "zkfile.h"

struct zfile {
	zxid_t zxid;
	char name[256];
};

static int cmp_zfile(const void *a, const void *b)
{
	zxid_t x = ((const struct zfile *)a)->zxid, y = ((const struct zfile *)b)->zxid;

	return x < y ? -1 : x > y;
}

/* Files named PREFIX.<hex zxid> (exactly: compressed snapshots, .tmp and
 * the like are not ZooKeeper's uncompressed files), sorted by zxid. */
static int list_files(const char *dir, const char *prefix, struct zfile **out, size_t *n)
{
	struct zfile *v = NULL, *nv;
	size_t cnt = 0, cap = 0, pl = strlen(prefix);
	struct dirent *e;
	unsigned long long z;
	char *end;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, pl) != 0 || !e->d_name[pl] ||
		    strlen(e->d_name) >= sizeof(v->name))
			continue;
		z = strtoull(e->d_name + pl, &end, 16);
		if (*end)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt].zxid = (zxid_t)z;
		snprintf(v[cnt].name, sizeof(v[cnt].name), "%s", e->d_name);
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_zfile);
	*out = v;
	*n = cnt;
	return 0;
}

/* zk_dir/version-2 if it exists, else zk_dir itself. */
static void version_dir(const char *zk_dir, char *buf, size_t len)
{
	struct stat sb;

	snprintf(buf, len, "%s/version-2", zk_dir);
	if (stat(buf, &sb) < 0 || !S_ISDIR(sb.st_mode))
		snprintf(buf, len, "%s", zk_dir);
}

static int load_snapshot(const char *path, struct zkdb *db, char *errbuf, size_t errlen)
{
	const void *p;
	size_t n;
	char why[512];
	int rc;

	rc = adm_map(path, &p, &n);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = zk_snap_decode(db, p, n, why, sizeof(why));
	adm_unmap(p, n);
	if (rc == -EBADMSG)
		snprintf(errbuf, errlen, "%s: %s", path, why);
	else if (rc)
		snprintf(errbuf, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int zk_import_dir(const char *zk_dir, const char *log_dir, struct zkdb *db,
		  struct zk_import_stats *st, char *errbuf, size_t errlen)
{
	struct zfile *snaps = NULL, *logs = NULL;
	size_t ns = 0, nl = 0, i, first;
	char sdir[4096], ldir[4096], path[4400], torn_path[4400] = "", why[5000];
	size_t torn_off = 0;
	struct zk_log_result lr;
	const void *p;
	size_t n;
	int rc;

	memset(st, 0, sizeof(*st));
	version_dir(zk_dir, sdir, sizeof(sdir));
	version_dir(log_dir ? log_dir : zk_dir, ldir, sizeof(ldir));
	rc = list_files(sdir, "snapshot.", &snaps, &ns);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", zk_dir, strerror(-rc));
		goto out;
	}
	rc = list_files(ldir, "log.", &logs, &nl);
	if (rc) {
		snprintf(errbuf, errlen, "%s%s: %s", log_dir ? "--log-dir " : "",
			 log_dir ? log_dir : zk_dir, strerror(-rc));
		goto out;
	}
	snprintf(st->log_dir, sizeof(st->log_dir), "%s", ldir);
	if (ns == 0) {
		/* ZooKeeper too refuses logs without a snapshot. */
		snprintf(
		    errbuf, errlen,
		    "%s: no snapshot.<zxid> file (not a ZooKeeper data directory, or "
		    "give --log-dir for a separate dataLogDir)",
		    sdir);
		rc = -ENOENT;
		goto out;
	}
	/* The newest snapshot that decodes, as FileSnap.deserialize. */
	for (i = ns; i-- > 0;) {
		void (*cb)(void *, uint64_t) = db->progress;
		void *arg = db->progress_arg;

		snprintf(path, sizeof(path), "%s/%s", sdir, snaps[i].name);
		rc = load_snapshot(path, db, why, sizeof(why));
		if (!rc)
			break;
		if (rc == -ENOMEM) {
			snprintf(errbuf, errlen, "%s", why);
			goto out;
		}
		fprintf(stderr, "quorumadm: %s; trying an older snapshot\n", why);
		st->skipped_snapshots++;
		zkdb_free(db);
		rc = zkdb_init(db);
		if (rc)
			goto out;
		db->progress = cb;
		db->progress_arg = arg;
		snprintf(errbuf, errlen, "%s", why);
		rc = -EBADMSG;
	}
	if (rc) {
		snprintf(errbuf + strlen(errbuf), errlen - strlen(errbuf),
			 " (and no older snapshot is whole)");
		goto out;
	}
	snprintf(st->snapshot, sizeof(st->snapshot), "%s", path);
	st->snap_zxid = db->zxid = snaps[i].zxid;
	/* The log that holds the snapshot's zxid + 1 starts at or before it:
	 * the newest log named at or below the snapshot, and every later one
	 * (FileTxnLog.getLogFiles). */
	first = 0;
	for (i = 0; i < nl; i++)
		if (logs[i].zxid <= db->zxid)
			first = i;
	for (i = first; i < nl; i++) {
		snprintf(path, sizeof(path), "%s/%s", ldir, logs[i].name);
		rc = adm_map(path, &p, &n);
		if (rc) {
			snprintf(errbuf, errlen, "%s: %s", path, strerror(-rc));
			goto out;
		}
		rc = zk_log_replay(db, p, n, &lr, why, sizeof(why));
		adm_unmap(p, n);
		if (rc) {
			snprintf(errbuf, errlen, "%s: %s", path,
				 rc == -ENOMEM ? strerror(ENOMEM) : why);
			if (torn_path[0] && rc != -ENOMEM)
				snprintf(errbuf + strlen(errbuf), errlen - strlen(errbuf),
					 " (the log before it, %s, ends in a record cut "
					 "short at byte %zu)",
					 torn_path, torn_off);
			goto out;
		}
		st->logs++;
		st->records += lr.records;
		st->applied += lr.applied;
		/* A log cut short and a newer one after it is what a crash
		 * and a restart leave (ZooKeeper's reader goes on to the next
		 * log): fine if the next log carries on from the last whole
		 * record, and named in the gap's refusal if it does not. */
		torn_path[0] = '\0';
		if (lr.torn && i + 1 < nl) {
			snprintf(torn_path, sizeof(torn_path), "%s", path);
			torn_off = lr.torn_offset;
		} else if (lr.torn) {
			st->torn = 1;
			snprintf(st->torn_file, sizeof(st->torn_file), "%s", path);
			st->torn_offset = lr.torn_offset;
		}
	}
out:
	free(snaps);
	free(logs);
	return rc;
}

struct load_sess {
	struct tree *t;
	int64_t id;
	int err;
};

static int load_session(void *arg, const struct zk_session *s)
{
	struct load_sess *ls = arg;

	ls->id = s->id;
	ls->err = tree_load_session(ls->t, s->id, s->timeout_ms, "zookeeper-import");
	return ls->err != 0;
}

int adm_zkdb_to_tree(const struct zkdb *db, struct tree *t, char *errbuf, size_t errlen)
{
	struct zk_node **v;
	struct znode zn;
	size_t i;
	int rc = 0;

	v = zkdb_sorted(db);
	if (!v)
		return -ENOMEM;
	for (i = 0; i < db->count; i++) {
		const struct zk_node *n = v[i];
		const char *slash = strrchr(n->path, '/');

		memset(&zn, 0, sizeof(zn));
		zn.path = n->path;
		zn.name = slash ? slash + 1 : n->path;
		zn.data = n->data;
		zn.stat = n->st;
		zn.acl = db->acls[n->acl];
		zn.kind = zk_owner_kind(n->st.ephemeral_owner, &zn.ttl_ms);
		zn.flags = n->null_data ? ZNODE_F_NULLDATA : 0;
		/* Had a child: a directory on the mount, as quorumfs marks it. */
		if (n->st.num_children > 0 || n->st.cversion > 0)
			zn.flags |= ZNODE_F_DIR;
		zn.child_kind = ZNODE_PERSISTENT;
		if (db->progress && (i & 0xffff) == 0)
			db->progress(db->progress_arg, i);
		rc = tree_load_node(t, &zn, n->data);
		if (rc) {
			snprintf(errbuf, errlen, "node %s: %s", n->path,
				 rc == -EINVAL ? "a path or node quorumfs refuses"
					       : strerror(-rc));
			break;
		}
	}
	free(v);
	if (!rc) {
		struct load_sess ls = {t, 0, 0};

		rc = zkdb_session_foreach(db, load_session, &ls);
		if (rc)
			snprintf(errbuf, errlen, "session 0x%llx: %s",
				 (unsigned long long)ls.id, strerror(-ls.err));
		rc = rc ? ls.err : 0;
	}
	if (!rc)
		tree_set_last_zxid(t, db->zxid);
	return rc;
}
