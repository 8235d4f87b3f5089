/* verify.c - quorumadm verify: a snapshot/backup file, checked whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "adm.h"
#include "snapshot.h"
#include "verify.h"
#include "zkfile.h"

static void problem(struct verify_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct verify_report *r, const char *fmt, ...)
{
	va_list ap;
	size_t l = strlen(r->problems);

	r->nproblems++;
	if (r->nproblems > 20 || l + 2 >= sizeof(r->problems))
		return;
	if (l)
		r->problems[l++] = '\n', r->problems[l] = '\0';
	va_start(ap, fmt);
	vsnprintf(r->problems + l, sizeof(r->problems) - l, fmt, ap);
	va_end(ap);
}

static int64_t meta_int(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* What snapshot_load cannot see: SQLite's own structure, the stored child
 * counts, and the zxid/version/owner rules of every row. */
static void check_rows(const char *path, const struct tree *t, zxid_t zxid,
		       struct verify_report *r)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	const struct znode *n;
	const char *p;
	int64_t owner, ttl;
	int rc, kind;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		problem(r, "cannot open: %s", sqlite3_errmsg(db));
		goto out;
	}
	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		p = (const char *)sqlite3_column_text(st, 0);
		if (p && strcmp(p, "ok") != 0)
			problem(r, "SQLite integrity: %s", p);
	}
	sqlite3_finalize(st);
	st = NULL;
	r->created = meta_int(db, "created");
	rc = sqlite3_prepare_v2(
	    db,
	    "SELECT path, num_children, czxid, mzxid, pzxid, version,"
	    " cversion, aversion, ephemeral_owner, kind, ttl_ms FROM nodes",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		problem(r, "no nodes table: %s", sqlite3_errmsg(db));
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		p = (const char *)sqlite3_column_text(st, 0);
		n = p ? tree_lookup(t, p) : NULL;
		if (!n) {
			problem(r, "row %s is not in the loaded tree", p ? p : "(null)");
			continue;
		}
		if (sqlite3_column_int(st, 1) != n->stat.num_children)
			problem(r, "%s: num_children says %d, it has %d children", p,
				sqlite3_column_int(st, 1), n->stat.num_children);
		if (n->stat.mzxid < n->stat.czxid || n->stat.pzxid < n->stat.czxid)
			problem(r, "%s: mzxid 0x%llx / pzxid 0x%llx below czxid 0x%llx",
				p, (unsigned long long)n->stat.mzxid,
				(unsigned long long)n->stat.pzxid,
				(unsigned long long)n->stat.czxid);
		if ((zxid_t)n->stat.mzxid > zxid || (zxid_t)n->stat.pzxid > zxid ||
		    (zxid_t)n->stat.czxid > zxid)
			problem(r, "%s: a zxid above the file's zxid 0x%llx", p,
				(unsigned long long)zxid);
		if (n->stat.version < -1 || n->stat.cversion < 0 || n->stat.aversion < -1)
			problem(r, "%s: a version below -1", p);
		owner = n->stat.ephemeral_owner;
		kind = (int)zk_owner_kind(owner, &ttl);
		if (kind != (int)n->kind || (kind == ZNODE_TTL && ttl != n->ttl_ms))
			problem(r, "%s: kind %d does not match ephemeral_owner 0x%llx", p,
				(int)n->kind, (unsigned long long)owner);
		if (n->kind == ZNODE_EPHEMERAL && !tree_session_get(t, owner))
			problem(
			    r,
			    "%s: ephemeral of session 0x%llx, which is not in the file",
			    p, (unsigned long long)owner);
		if (n->kind == ZNODE_EPHEMERAL && n->stat.num_children)
			problem(r, "%s: an ephemeral with children", p);
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int count_sess(void *arg, const struct tree_session *s)
{
	(void)s;
	(*(uint64_t *)arg)++;
	return 0;
}

static int verify_zk(const char *path, const void *p, size_t n, struct verify_report *r)
{
	struct zkdb db;
	const char *base = strrchr(path, '/');
	char why[512];
	size_t i;
	int rc;

	r->zookeeper = 1;
	rc = zkdb_init(&db);
	if (rc)
		return rc;
	rc = zk_snap_decode(&db, p, n, why, sizeof(why));
	if (rc == -EBADMSG)
		problem(r, "%s", why);
	r->nodes = db.count;
	r->sessions = db.nsess;
	base = base ? base + 1 : path;
	if (strncmp(base, "snapshot.", 9) == 0)
		r->zxid = strtoull(base + 9, NULL, 16);
	for (i = 0; !rc && i < db.nhash; i++) {
		const struct zk_node *z;
		int64_t ttl;

		for (z = db.hash[i]; z; z = z->hnext)
			if (zk_owner_kind(z->st.ephemeral_owner, &ttl) ==
				ZNODE_EPHEMERAL &&
			    !zkdb_session_has(&db, z->st.ephemeral_owner))
				problem(
				    r, "%s: ephemeral of session 0x%llx, not in the file",
				    z->path, (unsigned long long)z->st.ephemeral_owner);
	}
	zkdb_free(&db);
	return rc == -EBADMSG ? 0 : rc;
}

int adm_verify(const char *path, struct verify_report *r)
{
	struct tree *t = NULL;
	const void *p;
	size_t n;
	char why[4096];
	int rc;

	memset(r, 0, sizeof(*r));
	r->created = -1;
	rc = adm_map(path, &p, &n);
	if (rc) {
		snprintf(r->problems, sizeof(r->problems), "%s", strerror(-rc));
		return rc;
	}
	if (n >= 4 && memcmp(p, "ZKSN", 4) == 0) {
		rc = verify_zk(path, p, n, r);
		adm_unmap(p, n);
		return rc;
	}
	if (n < 16 || memcmp(p, "SQLite format 3", 16) != 0) {
		adm_unmap(p, n);
		problem(r,
			"neither a quorumfs snapshot (SQLite) nor a ZooKeeper snapshot");
		return 0;
	}
	adm_unmap(p, n);
	t = tree_new();
	if (!t)
		return -ENOMEM;
	rc = snapshot_load(path, t, &r->zxid, why, sizeof(why));
	if (rc == -ENOMEM)
		goto out;
	if (rc) {
		/* snapshot_load names the file; the report names it once. */
		const char *w =
		    strncmp(why, path, strlen(path)) == 0 ? why + strlen(path) : why;

		problem(r, "%s", w[0] == ':' ? w + 2 : w);
		rc = 0;
		goto out;
	}
	r->nodes = tree_node_count(t);
	tree_session_foreach(t, count_sess, &r->sessions);
	check_rows(path, t, r->zxid, r);
out:
	tree_free(t);
	return rc;
}
