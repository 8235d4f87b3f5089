/* snapshot.c - writing and loading snapshot files; format in snapshot.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "log.h"
#include "snapshot.h"
#include "snapshot_codec.h"
#include "storage_sql.h"

#define SNAP_FORMAT 1

static const char snap_schema[] =
    "CREATE TABLE nodes (path TEXT NOT NULL, data BLOB, czxid INTEGER, mzxid INTEGER,"
    " ctime INTEGER, mtime INTEGER, version INTEGER, cversion INTEGER,"
    " aversion INTEGER, ephemeral_owner INTEGER, pzxid INTEGER,"
    " num_children INTEGER, data_length INTEGER, acl BLOB, kind INTEGER,"
    " flags INTEGER, ttl_ms INTEGER, child_kind INTEGER, child_ttl_ms INTEGER);"
    "CREATE TABLE sessions (id INTEGER PRIMARY KEY, timeout_ms INTEGER, owner TEXT);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value);";

static const char node_cols[] =
    "path, data, czxid, mzxid, ctime, mtime, version, cversion, aversion,"
    " ephemeral_owner, pzxid, num_children, data_length, acl, kind, flags, ttl_ms,"
    " child_kind, child_ttl_ms";

void snapshot_path(char *buf, size_t len, const char *dir, zxid_t zxid)
{
	snprintf(buf, len, "%s/snapshot.%016" PRIx64 ".db", dir, (uint64_t)zxid);
}

/* A growable array of sessions (owners borrowed from the tree). */
struct snap_sessions {
	struct tree_session *v;
	size_t n, cap;
};

struct snap_writer {
	sqlite3 *db;
	sqlite3_stmt *ins_node, *ins_sess;
	struct buf acl;
	uint32_t crc;
	int64_t nodes, sessions;
	int rc; /* SQLite code of the first failure */
};

static int write_node(void *arg, const struct znode *n)
{
	struct snap_writer *w = arg;
	sqlite3_stmt *st = w->ins_node;
	const struct zstat *s = &n->stat;

	buf_reset(&w->acl);
	snapshot_acl_encode(&n->acl, &w->acl);
	if (buf_failed(&w->acl)) {
		w->rc = SQLITE_NOMEM;
		return 1;
	}
	w->crc = snapshot_node_crc(w->crc, n, n->data, w->acl.data, w->acl.len);
	sqlite3_bind_text(st, 1, n->path, -1, SQLITE_STATIC);
	if (s->data_length > 0)
		sqlite3_bind_blob(st, 2, n->data, s->data_length, SQLITE_STATIC);
	else
		sqlite3_bind_zeroblob(st, 2, 0);
	sqlite3_bind_int64(st, 3, s->czxid);
	sqlite3_bind_int64(st, 4, s->mzxid);
	sqlite3_bind_int64(st, 5, s->ctime);
	sqlite3_bind_int64(st, 6, s->mtime);
	sqlite3_bind_int(st, 7, s->version);
	sqlite3_bind_int(st, 8, s->cversion);
	sqlite3_bind_int(st, 9, s->aversion);
	sqlite3_bind_int64(st, 10, s->ephemeral_owner);
	sqlite3_bind_int64(st, 11, s->pzxid);
	sqlite3_bind_int(st, 12, s->num_children);
	sqlite3_bind_int(st, 13, s->data_length);
	sqlite3_bind_blob(st, 14, w->acl.data, (int)w->acl.len, SQLITE_STATIC);
	sqlite3_bind_int(st, 15, (int)n->kind);
	sqlite3_bind_int64(st, 16, n->flags);
	sqlite3_bind_int64(st, 17, n->ttl_ms);
	sqlite3_bind_int(st, 18, (int)n->child_kind);
	sqlite3_bind_int64(st, 19, n->child_ttl_ms);
	w->rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (w->rc != SQLITE_DONE)
		return 1;
	w->rc = SQLITE_OK;
	w->nodes++;
	return 0;
}

static int collect_session(void *arg, const struct tree_session *ts)
{
	struct snap_sessions *v = arg;
	struct tree_session *nv;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		nv = realloc(v->v, v->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		v->v = nv;
	}
	v->v[v->n++] = *ts;
	return 0;
}

static int cmp_session_id(const void *a, const void *b)
{
	int64_t x = ((const struct tree_session *)a)->id;
	int64_t y = ((const struct tree_session *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * The open sessions of t in ascending id order (the order SQLite returns
 * them in, id being the rowid), borrowed from t: v->v is malloc'd, the
 * owners are t's. 0 or -ENOMEM.
 */
static int sorted_sessions(const struct tree *t, struct snap_sessions *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	rc = tree_session_foreach(t, collect_session, v);
	if (rc) {
		free(v->v);
		v->v = NULL;
		return rc;
	}
	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), cmp_session_id);
	return 0;
}

static int write_session(struct snap_writer *w, const struct tree_session *ts)
{
	sqlite3_stmt *st = w->ins_sess;
	const char *owner = ts->owner ? ts->owner : "";

	w->crc = snapshot_session_crc(w->crc, ts->id, ts->timeout_ms, owner);
	sqlite3_bind_int64(st, 1, ts->id);
	sqlite3_bind_int(st, 2, ts->timeout_ms);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	w->rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (w->rc != SQLITE_DONE)
		return 1;
	w->rc = SQLITE_OK;
	w->sessions++;
	return 0;
}

static int fsync_path(const char *path)
{
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int snapshot_write(const struct tree *t, const char *dir, zxid_t zxid, char *errbuf,
		   size_t errlen)
{
	struct snap_writer w;
	struct snap_sessions sess = {NULL, 0, 0};
	char final[4096], tmp[4200], meta[512], sql[1024];
	size_t i;
	int rc, ret;

	memset(&w, 0, sizeof(w));
	buf_init(&w.acl);
	snapshot_path(final, sizeof(final), dir, zxid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", final);
	unlink(tmp);
	rc =
	    sqlite3_open_v2(tmp, &w.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", tmp, sqlite3_errstr(rc));
		ret = storage_sql_errno(w.db, rc);
		goto err_after_open;
	}
	/* No journal: the file is invisible until renamed, and is fsync'd as a
	 * whole before that; a crash leaves only a .tmp to clean up. */
	ret = storage_exec(w.db,
			   "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
			   " PRAGMA page_size=8192",
			   tmp, errbuf, errlen);
	if (!ret)
		ret = storage_exec(w.db, snap_schema, tmp, errbuf, errlen);
	if (!ret)
		ret = storage_exec(w.db, "BEGIN", tmp, errbuf, errlen);
	if (ret)
		goto err_after_open;
	snprintf(sql, sizeof(sql),
		 "INSERT INTO nodes (%s) VALUES "
		 "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		 node_cols);
	rc = sqlite3_prepare_v2(w.db, sql, -1, &w.ins_node, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(w.db, "INSERT INTO sessions VALUES (?,?,?)", -1,
					&w.ins_sess, NULL);
	if (rc != SQLITE_OK)
		goto err_sql;

	if (tree_walk(t, write_node, &w) || w.rc != SQLITE_OK) {
		rc = w.rc;
		goto err_sql;
	}
	/* In id order, the order the loader reads them back in: the checksum
	 * must not depend on the hash table's history. */
	if (sorted_sessions(t, &sess)) {
		snprintf(errbuf, errlen, "%s: %s", tmp, strerror(ENOMEM));
		ret = -ENOMEM;
		goto err_after_open;
	}
	for (i = 0; i < sess.n; i++) {
		if (write_session(&w, &sess.v[i])) {
			rc = w.rc;
			goto err_sql;
		}
	}
	snprintf(
	    meta, sizeof(meta),
	    "INSERT INTO meta VALUES ('format', %d), ('zxid', %lld), ('nodes', %lld),"
	    " ('sessions', %lld), ('checksum', %lld), ('created', %lld); COMMIT",
	    SNAP_FORMAT, (long long)zxid, (long long)w.nodes, (long long)w.sessions,
	    (long long)w.crc, (long long)time(NULL));
	ret = storage_exec(w.db, meta, tmp, errbuf, errlen);
	if (ret)
		goto err_after_open;
	sqlite3_finalize(w.ins_node);
	sqlite3_finalize(w.ins_sess);
	w.ins_node = w.ins_sess = NULL;
	rc = sqlite3_close(w.db);
	w.db = NULL;
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: close: %s", tmp, sqlite3_errstr(rc));
		ret = -EIO;
		goto err_after_open;
	}
	ret = fsync_path(tmp);
	if (!ret && rename(tmp, final) < 0)
		ret = -errno;
	if (!ret)
		ret = storage_fsync_dir(dir);
	if (ret) {
		snprintf(errbuf, errlen, "%s: %s", tmp, strerror(-ret));
		goto err_after_open;
	}
	buf_free(&w.acl);
	free(sess.v);
	return 0;
err_sql:
	snprintf(errbuf, errlen, "%s: %s", tmp,
		 w.db ? sqlite3_errmsg(w.db) : sqlite3_errstr(rc));
	ret = storage_sql_errno(w.db, rc);
	if (!ret)
		ret = -EIO;
err_after_open:
	sqlite3_finalize(w.ins_node);
	sqlite3_finalize(w.ins_sess);
	sqlite3_close(w.db);
	unlink(tmp);
	buf_free(&w.acl);
	free(sess.v);
	return ret;
}

static int meta_get(sqlite3 *db, const char *key, int64_t *v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc =
	    sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_CORRUPT;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * The decoded ACL of the previous row. Most nodes share a handful of ACLs,
 * so consecutive rows mostly carry the same bytes: decoding once per change
 * saves a malloc/free per node when loading millions.
 */
struct acl_cache {
	struct buf raw;
	struct acl_list acl;
	int valid;
};

static int acl_cached(struct acl_cache *ac, const void *a, size_t alen)
{
	int rc;

	if (ac->valid && ac->raw.len == alen &&
	    (!alen || memcmp(ac->raw.data, a, alen) == 0))
		return 0;
	if (ac->valid)
		acl_free(&ac->acl);
	ac->valid = 0;
	ac->acl.n = 0;
	ac->acl.v = NULL;
	rc = snapshot_acl_decode(a, alen, &ac->acl);
	if (rc)
		return rc;
	buf_reset(&ac->raw);
	buf_put(&ac->raw, a, alen);
	if (buf_failed(&ac->raw)) {
		acl_free(&ac->acl);
		return -ENOMEM;
	}
	ac->valid = 1;
	return 0;
}

/* A row of nodes as a znode, pointing into the statement's columns and the
 * ACL cache; acl and acl_len get the raw ACL bytes for the checksum. */
static int row_node(sqlite3_stmt *st, struct znode *n, const void **data,
		    struct acl_cache *ac, const void **acl, size_t *acl_len)
{
	struct zstat *s = &n->stat;
	int alen, rc;

	memset(n, 0, sizeof(*n));
	n->path = (const char *)sqlite3_column_text(st, 0);
	if (!n->path)
		return -EBADMSG;
	*data = sqlite3_column_blob(st, 1);
	s->czxid = sqlite3_column_int64(st, 2);
	s->mzxid = sqlite3_column_int64(st, 3);
	s->ctime = sqlite3_column_int64(st, 4);
	s->mtime = sqlite3_column_int64(st, 5);
	s->version = sqlite3_column_int(st, 6);
	s->cversion = sqlite3_column_int(st, 7);
	s->aversion = sqlite3_column_int(st, 8);
	s->ephemeral_owner = sqlite3_column_int64(st, 9);
	s->pzxid = sqlite3_column_int64(st, 10);
	s->num_children = sqlite3_column_int(st, 11);
	s->data_length = sqlite3_column_int(st, 12);
	if (s->data_length != sqlite3_column_bytes(st, 1) || s->data_length < 0 ||
	    s->data_length > ZNODE_MAX_DATA_STORED)
		return -EBADMSG;
	*acl = sqlite3_column_blob(st, 13);
	alen = sqlite3_column_bytes(st, 13);
	*acl_len = (size_t)alen;
	rc = acl_cached(ac, *acl, (size_t)alen);
	if (rc)
		return rc;
	n->acl = ac->acl;
	n->kind = (enum znode_kind)sqlite3_column_int(st, 14);
	n->flags = (unsigned)sqlite3_column_int64(st, 15);
	n->ttl_ms = sqlite3_column_int64(st, 16);
	n->child_kind = (enum znode_kind)sqlite3_column_int(st, 17);
	n->child_ttl_ms = sqlite3_column_int64(st, 18);
	if ((unsigned)n->kind > ZNODE_TTL || (unsigned)n->child_kind > ZNODE_TTL)
		return -EBADMSG;
	return 0;
}

static int load_nodes(sqlite3 *db, struct tree *t, uint32_t *crc, int64_t *count,
		      const char *path, char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct acl_cache ac;
	struct znode n;
	const void *data, *acl;
	size_t acl_len;
	char sql[512];
	int rc, ret = 0;

	memset(&ac, 0, sizeof(ac));
	buf_init(&ac.raw);
	snprintf(sql, sizeof(sql), "SELECT %s FROM nodes ORDER BY rowid", node_cols);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto err_sql;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = row_node(st, &n, &data, &ac, &acl, &acl_len);
		if (ret) {
			snprintf(errbuf, errlen, "%s: node row %lld is malformed", path,
				 (long long)*count + 1);
			if (ret != -ENOMEM)
				ret = -EBADMSG;
			goto out;
		}
		*crc = snapshot_node_crc(*crc, &n, data, acl, acl_len);
		ret = tree_load_node(t, &n, data);
		if (ret) {
			snprintf(errbuf, errlen, "%s: node %s does not fit the tree: %s",
				 path, n.path, strerror(-ret));
			if (ret != -ENOMEM)
				ret = -EBADMSG;
			goto out;
		}
		(*count)++;
	}
	if (rc == SQLITE_DONE)
		goto out;
err_sql:
	snprintf(errbuf, errlen, "%s: reading nodes: %s", path, sqlite3_errmsg(db));
	ret = storage_sql_errno(db, rc);
	if (!ret || ret == -EIO)
		ret = -EBADMSG;
out:
	if (ac.valid)
		acl_free(&ac.acl);
	buf_free(&ac.raw);
	sqlite3_finalize(st);
	return ret;
}

/*
 * Read the sessions in id order into t and into *v (owners borrowed from
 * t), for the checksum.
 */
static int load_sessions(sqlite3 *db, struct tree *t, struct snap_sessions *v,
			 const char *path, char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const struct tree_session *ts;
	const char *owner;
	int64_t id;
	int32_t to;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(
	    db, "SELECT id, timeout_ms, owner FROM sessions ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto err_sql;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		to = sqlite3_column_int(st, 1);
		owner = (const char *)sqlite3_column_text(st, 2);
		if (!owner)
			owner = "";
		if (tree_session_get(t, id)) {
			/* *v borrows the first one's owner, which a second
			 * load would free. SQLite's rowid makes this a damaged
			 * file. */
			snprintf(errbuf, errlen, "%s: session 0x%llx twice", path,
				 (unsigned long long)id);
			ret = -EBADMSG;
			goto out;
		}
		ret = tree_load_session(t, id, to, owner);
		ts = ret ? NULL : tree_session_get(t, id);
		if (!ts || collect_session(v, ts)) {
			snprintf(errbuf, errlen, "%s: session 0x%llx: %s", path,
				 (unsigned long long)id, strerror(ret ? -ret : ENOMEM));
			ret = -ENOMEM;
			goto out;
		}
	}
	if (rc == SQLITE_DONE)
		goto out;
err_sql:
	snprintf(errbuf, errlen, "%s: reading sessions: %s", path, sqlite3_errmsg(db));
	ret = storage_sql_errno(db, rc);
	if (!ret || ret == -EIO)
		ret = -EBADMSG;
out:
	sqlite3_finalize(st);
	return ret;
}

static uint32_t sessions_crc(uint32_t crc, const struct tree_session *v,
			     const size_t *order, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tree_session *s = &v[order ? order[i] : i];

		crc = snapshot_session_crc(crc, s->id, s->timeout_ms, s->owner);
	}
	return crc;
}

/*
 * Files written before sessions were sorted (quorumfs up to 0eaee6f) hold
 * them in the order of the writer's session hash table, and the checksum
 * follows that order: by bucket, the bucket being FNV-1a over the id's 8
 * bytes in host order (as tree.c hashed them; frozen here because the files
 * are) masked to a power-of-two table of at least 64 buckets; within a
 * bucket in an order that depended on the history of insertions. This tries
 * those orders for every table size a writer could have had, up to
 * LEGACY_MAX_ORDERS candidates in all, and says whether one matches.
 *
 * Each candidate is another 2^-32 chance for a corrupt file to pass, so the
 * cap keeps such a file's check within 2^-24 of a current one's; a file
 * whose sessions collide so much that the orders cannot be tried within the
 * cap is refused (its message says why).
 */
#define LEGACY_MAX_ORDERS 256
#define LEGACY_MIN_BITS	  6  /* tree.c started at 64 buckets */
#define LEGACY_MAX_BITS	  24 /* 16M sessions in the table at once */

static uint32_t legacy_bucket_hash(int64_t id)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char b[sizeof(id)];
	size_t i;

	memcpy(b, &id, sizeof(id));
	for (i = 0; i < sizeof(b); i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

struct legacy_key {
	uint32_t bucket;
	size_t idx;
};

static int cmp_legacy_key(const void *a, const void *b)
{
	const struct legacy_key *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* order[lo..lo+g) := the k-th permutation (factorial number system) of the
 * indices in keys[lo..lo+g); pool is scratch of g entries. */
static void nth_permutation(const struct legacy_key *keys, size_t lo, size_t g,
			    uint64_t k, size_t *order, size_t *pool)
{
	uint64_t f = 1;
	size_t i, j, pick;

	for (i = 0; i < g; i++)
		pool[i] = keys[lo + i].idx;
	for (i = 2; i < g; i++)
		f *= i;
	for (i = 0; i < g; i++) {
		pick = g - i > 1 ? (size_t)(k / f) : 0;
		if (g - i > 1) {
			k %= f;
			f /= g - i - 1;
		}
		order[lo + i] = pool[pick];
		for (j = pick; j + 1 < g - i; j++)
			pool[j] = pool[j + 1];
	}
}

/* 1 if some hash-table order of v gives want, 0 if none, -ENOMEM; *tried
 * counts the candidates; *too_many is set if a table size had to be
 * skipped for having more orders than the cap leaves. */
static int legacy_order_matches(uint32_t crc0, const struct tree_session *v, size_t n,
				uint32_t want, unsigned *tried, int *too_many)
{
	struct legacy_key *keys;
	size_t *order, *pool, i, lo, g;
	uint64_t orders, k, rest;
	unsigned bits;
	int ret = 0;

	keys = calloc(n, sizeof(*keys));
	order = calloc(n, sizeof(*order));
	pool = calloc(n, sizeof(*pool));
	if (!keys || !order || !pool) {
		ret = -ENOMEM;
		goto out;
	}
	for (bits = LEGACY_MIN_BITS; bits <= LEGACY_MAX_BITS && !ret; bits++) {
		if (((uint64_t)1 << bits) < n)
			continue; /* the table never held fewer buckets than entries */
		for (i = 0; i < n; i++) {
			keys[i].bucket =
			    legacy_bucket_hash(v[i].id) & (((uint32_t)1 << bits) - 1);
			keys[i].idx = i;
		}
		qsort(keys, n, sizeof(*keys), cmp_legacy_key);
		orders = 1;
		for (lo = 0; lo < n && orders <= LEGACY_MAX_ORDERS; lo += g) {
			for (g = 1; lo + g < n && keys[lo + g].bucket == keys[lo].bucket;
			     g++)
				if (orders <= LEGACY_MAX_ORDERS)
					orders *= g + 1; /* saturates: no overflow */
		}
		if (orders > LEGACY_MAX_ORDERS - *tried) {
			*too_many = 1;
			continue;
		}
		for (k = 0; k < orders && !ret; k++) {
			rest = k;
			for (lo = 0; lo < n; lo += g) {
				uint64_t f = 1;

				for (g = 1;
				     lo + g < n && keys[lo + g].bucket == keys[lo].bucket;
				     g++)
					f *= g + 1;
				nth_permutation(keys, lo, g, rest % f, order, pool);
				rest /= f;
			}
			(*tried)++;
			if (sessions_crc(crc0, v, order, n) == want)
				ret = 1;
		}
	}
out:
	free(keys);
	free(order);
	free(pool);
	return ret;
}

int snapshot_load(const char *path, struct tree *t, zxid_t *zxid, char *errbuf,
		  size_t errlen)
{
	sqlite3 *db = NULL;
	struct snap_sessions sess = {NULL, 0, 0};
	int64_t format = 0, z = 0, want_nodes = 0, want_sess = 0, want_crc = 0;
	int64_t nodes = 0;
	uint32_t crc = 0, crc_nodes;
	unsigned tried = 0;
	int rc, ret, too_many = 0;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = meta_get(db, "format", &format);
	if (rc == SQLITE_OK)
		rc = meta_get(db, "zxid", &z);
	if (rc == SQLITE_OK)
		rc = meta_get(db, "nodes", &want_nodes);
	if (rc == SQLITE_OK)
		rc = meta_get(db, "sessions", &want_sess);
	if (rc == SQLITE_OK)
		rc = meta_get(db, "checksum", &want_crc);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: no readable meta table: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		ret = -EBADMSG;
		goto out;
	}
	if (format != SNAP_FORMAT) {
		snprintf(errbuf, errlen, "%s: unknown format %lld", path,
			 (long long)format);
		ret = -EBADMSG;
		goto out;
	}
	ret = load_nodes(db, t, &crc, &nodes, path, errbuf, errlen);
	if (!ret)
		ret = load_sessions(db, t, &sess, path, errbuf, errlen);
	if (ret)
		goto out;
	crc_nodes = crc;
	crc = sessions_crc(crc_nodes, sess.v, NULL, sess.n);
	if (nodes == want_nodes && (int64_t)sess.n == want_sess &&
	    crc != (uint32_t)want_crc && sess.n > 1) {
		ret = legacy_order_matches(crc_nodes, sess.v, sess.n, (uint32_t)want_crc,
					   &tried, &too_many);
		if (ret < 0) {
			snprintf(errbuf, errlen, "%s: %s", path, strerror(-ret));
			goto out;
		}
		if (ret) {
			crc = (uint32_t)want_crc;
			log_info("%s: written by an older quorumfs (sessions in hash "
				 "order); verified against %u candidate orders",
				 path, tried);
		}
		ret = 0;
	}
	if (nodes != want_nodes || (int64_t)sess.n != want_sess ||
	    crc != (uint32_t)want_crc) {
		snprintf(
		    errbuf, errlen,
		    "%s: contents do not match its checksum (%lld nodes, %zu sessions, "
		    "crc %08x; meta says %lld, %lld, %08x)%s",
		    path, (long long)nodes, sess.n, crc, (long long)want_nodes,
		    (long long)want_sess, (uint32_t)want_crc,
		    too_many ? "; an older quorumfs may have written its sessions in "
			       "an order too costly to reconstruct"
			     : "");
		ret = -EBADMSG;
		goto out;
	}
	tree_set_last_zxid(t, (zxid_t)z);
	*zxid = (zxid_t)z;
out:
	free(sess.v);
	sqlite3_close(db);
	return ret;
}

static int cmp_desc(const void *a, const void *b)
{
	zxid_t x = *(const zxid_t *)a, y = *(const zxid_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int snapshot_list(const char *dir, zxid_t **zxids, size_t *n)
{
	DIR *d;
	struct dirent *e;
	zxid_t *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	unsigned long long z;
	int off;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		off = 0;
		if (sscanf(e->d_name, "snapshot.%16llx.db%n", &z, &off) != 1 ||
		    off != 28 || e->d_name[off] != '\0')
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
		v[cnt++] = (zxid_t)z;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_desc);
	*zxids = v;
	*n = cnt;
	return 0;
}

void snapshot_clean_tmp(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char p[4096];
	size_t l;

	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		l = strlen(e->d_name);
		if (strncmp(e->d_name, "snapshot.", 9) != 0 || l < 4 ||
		    strcmp(e->d_name + l - 4, ".tmp") != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		log_info("removing %s, a snapshot cut short", p);
		unlink(p);
	}
	closedir(d);
}
