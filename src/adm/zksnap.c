/* zksnap.c - ZooKeeper snapshot files: decode into a zkdb, write from a
 * quorumfs tree. Layout in zkfile.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "zkfile.h"

#define ZK_MAX_FIELD (64 << 20)

uint32_t zk_adler32(uint32_t adler, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t a = adler & 0xffff, s = adler >> 16;
	size_t k;

	while (n > 0) {
		/* 5552: the most bytes before s can overflow 32 bits. */
		k = n < 5552 ? n : 5552;
		n -= k;
		while (k--) {
			a += *b++;
			s += a;
		}
		a %= 65521;
		s %= 65521;
	}
	return (s << 16) | a;
}

static size_t off_of(const struct rd *r, const void *start)
{
	return (size_t)(r->p - (const uint8_t *)start);
}

/* A seal: the Adler-32 of everything before it, then the string "/". */
static int read_seal(struct rd *r, const void *start, const char *what, char *errbuf,
		     size_t errlen)
{
	size_t off = off_of(r, start);
	uint32_t want = zk_adler32(1, start, off);
	uint64_t val = rd_u64(r);
	int32_t len = (int32_t)rd_u32(r);
	uint8_t slash = rd_u8(r);

	if (!rd_ok(r)) {
		snprintf(errbuf, errlen, "truncated at byte %zu (in the %s checksum)",
			 off, what);
		return -EBADMSG;
	}
	if (len != 1 || slash != '/') {
		snprintf(errbuf, errlen, "byte %zu: no end mark after the %s checksum",
			 off + 8, what);
		return -EBADMSG;
	}
	if (val != want) {
		snprintf(errbuf, errlen,
			 "checksum mismatch at byte %zu (%s): file says %08llx, contents "
			 "give %08x",
			 off, what, (unsigned long long)val, want);
		return -EBADMSG;
	}
	return 0;
}

struct acl_map {
	int64_t idx;
	int32_t local;
};

static int cmp_map(const void *a, const void *b)
{
	int64_t x = ((const struct acl_map *)a)->idx,
		y = ((const struct acl_map *)b)->idx;

	return x < y ? -1 : x > y;
}

static int read_acl_vec(struct rd *r, struct acl_list *out)
{
	int32_t n = (int32_t)rd_u32(r), i;

	out->n = 0;
	out->v = NULL;
	if (!rd_ok(r) || n < -1 || (n > 0 && (size_t)n > r->left / 12))
		return -EBADMSG;
	if (n <= 0)
		return 0;
	out->v = calloc((size_t)n, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		out->v[i].perms = (int32_t)rd_u32(r);
		out->v[i].scheme = rd_str(r, ZK_MAX_FIELD);
		out->v[i].id = rd_str(r, ZK_MAX_FIELD);
		out->n = i + 1;
		if (!rd_ok(r) || !out->v[i].scheme || !out->v[i].id)
			return -EBADMSG;
	}
	return 0;
}

static int read_acls(struct zkdb *db, struct rd *r, const void *start,
		     struct acl_map **mapp, size_t *nmap, char *errbuf, size_t errlen)
{
	struct acl_list acl;
	struct acl_map *map;
	int32_t n = (int32_t)rd_u32(r), i, local;
	int rc;

	if (!rd_ok(r) || n < 0 || (size_t)n > r->left / 12) {
		snprintf(errbuf, errlen, "byte %zu: bad ACL count %d",
			 off_of(r, start) - 4, (int)n);
		return -EBADMSG;
	}
	map = calloc((size_t)n + 1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		map[i].idx = (int64_t)rd_u64(r);
		rc = read_acl_vec(r, &acl);
		if (rc) {
			acl_free(&acl);
			free(map);
			if (rc == -EBADMSG)
				snprintf(errbuf, errlen,
					 "byte %zu: ACL %d of %d is malformed",
					 off_of(r, start), (int)i + 1, (int)n);
			return rc;
		}
		local = zkdb_acl_index(db, &acl);
		acl_free(&acl);
		if (local < 0) {
			free(map);
			return -ENOMEM;
		}
		map[i].local = local;
	}
	qsort(map, (size_t)n, sizeof(*map), cmp_map);
	for (i = 1; i < n; i++)
		if (map[i].idx == map[i - 1].idx) {
			snprintf(errbuf, errlen, "ACL index %lld appears twice",
				 (long long)map[i].idx);
			free(map);
			return -EBADMSG;
		}
	*mapp = map;
	*nmap = (size_t)n;
	return 0;
}

static int read_nodes(struct zkdb *db, struct rd *r, const void *start,
		      const struct acl_map *map, size_t nmap, char *errbuf, size_t errlen)
{
	struct acl_map key, *hit;
	struct zstat st;
	const void *data;
	int32_t len, open_acl = -1;
	char *path;
	size_t at;
	int64_t aidx;
	int rc;

	for (;;) {
		at = off_of(r, start);
		path = rd_str(r, ZK_MAX_FIELD);
		if (!rd_ok(r) || !path) {
			free(path);
			snprintf(errbuf, errlen,
				 "truncated or malformed at byte %zu (a node path)", at);
			return -EBADMSG;
		}
		if (strcmp(path, "/") == 0) {
			free(path);
			return 0;
		}
		data = rd_bytes(r, &len, ZK_MAX_FIELD);
		aidx = (int64_t)rd_u64(r);
		memset(&st, 0, sizeof(st));
		st.czxid = (int64_t)rd_u64(r);
		st.mzxid = (int64_t)rd_u64(r);
		st.ctime = (int64_t)rd_u64(r);
		st.mtime = (int64_t)rd_u64(r);
		st.version = (int32_t)rd_u32(r);
		st.cversion = (int32_t)rd_u32(r);
		st.aversion = (int32_t)rd_u32(r);
		st.ephemeral_owner = (int64_t)rd_u64(r);
		st.pzxid = (int64_t)rd_u64(r);
		if (!rd_ok(r)) {
			snprintf(errbuf, errlen, "truncated at byte %zu (node %s)", at,
				 path);
			free(path);
			return -EBADMSG;
		}
		key.idx = aidx;
		hit = nmap ? bsearch(&key, map, nmap, sizeof(*map), cmp_map) : NULL;
		if (!hit && aidx != -1) {
			snprintf(errbuf, errlen,
				 "byte %zu: node %s has ACL index %lld, not in the "
				 "ACL table",
				 at, path, (long long)aidx);
			free(path);
			return -EBADMSG;
		}
		if (!hit && open_acl < 0)
			open_acl = zkdb_acl_index(db, acl_open_unsafe());
		rc = zkdb_insert(db, path[0] ? path : "/", data, len,
				 hit ? hit->local : open_acl, &st);
		if (rc == -ENOMEM || open_acl == -ENOMEM) {
			free(path);
			return -ENOMEM;
		}
		if (rc) {
			snprintf(errbuf, errlen, "byte %zu: node \"%s\" %s", at, path,
				 rc == -EEXIST	 ? "appears twice"
				 : rc == -ENOENT ? "comes without its parent"
						 : "has an invalid path");
			free(path);
			return -EBADMSG;
		}
		free(path);
		if (db->progress && (db->count & 0xffff) == 0)
			db->progress(db->progress_arg, db->count);
	}
}

int zk_snap_decode(struct zkdb *db, const void *p, size_t n, char *errbuf, size_t errlen)
{
	struct acl_map *map = NULL;
	struct rd r;
	size_t nmap = 0, left;
	int32_t ns, i, to;
	uint32_t magic, ver;
	int64_t id;
	int rc;

	rd_init(&r, p, n);
	magic = rd_u32(&r);
	ver = rd_u32(&r);
	rd_u64(&r);
	if (!rd_ok(&r) || magic != ZK_SNAP_MAGIC) {
		snprintf(errbuf, errlen, "not a ZooKeeper snapshot (no ZKSN header)");
		return -EBADMSG;
	}
	if (ver != 2) {
		snprintf(errbuf, errlen, "snapshot format version %u (only 2 is known)",
			 ver);
		return -EBADMSG;
	}
	ns = (int32_t)rd_u32(&r);
	if (!rd_ok(&r) || ns < 0 || (size_t)ns > r.left / 12) {
		snprintf(errbuf, errlen,
			 "byte 16: session count %d does not fit the %zu bytes left "
			 "(truncated?)",
			 (int)ns, r.left);
		return -EBADMSG;
	}
	for (i = 0; i < ns; i++) {
		id = (int64_t)rd_u64(&r);
		to = (int32_t)rd_u32(&r);
		if (zkdb_session_put(db, id, to))
			return -ENOMEM;
	}
	rc = read_acls(db, &r, p, &map, &nmap, errbuf, errlen);
	if (!rc)
		rc = read_nodes(db, &r, p, map, nmap, errbuf, errlen);
	free(map);
	if (rc)
		return rc;
	if (!zkdb_get(db, "/")) {
		snprintf(errbuf, errlen, "the snapshot has no root node");
		return -EBADMSG;
	}
	rc = read_seal(&r, p, "tree", errbuf, errlen);
	if (rc)
		return rc;
	/* 3.6+ appends a digest and 3.8+ the last zxid, each sealed again. */
	left = r.left;
	if (left == 33 || left == 54) {
		rd_u64(&r);
		rd_u32(&r);
		rd_u64(&r);
		rc = read_seal(&r, p, "digest", errbuf, errlen);
		if (rc)
			return rc;
		left = r.left;
	}
	if (left == 21) {
		rd_u64(&r);
		rc = read_seal(&r, p, "last zxid", errbuf, errlen);
		if (rc)
			return rc;
		left = r.left;
	}
	if (left) {
		snprintf(errbuf, errlen,
			 "%zu unexpected bytes after the checksum at byte %zu", left,
			 n - left);
		return -EBADMSG;
	}
	return 0;
}

/* --- writing --- */

struct snap_out {
	FILE *f;
	uint32_t adler;
	int err;
	struct buf b;
	struct acl_list *acls; /* distinct ACLs, index + 1 is the file's index */
	size_t nacls, cap;
	uint64_t nodes;
	void (*progress)(void *arg, uint64_t nodes);
	void *arg;
};

static void out_flush(struct snap_out *o)
{
	if (buf_failed(&o->b))
		o->err = -ENOMEM;
	if (o->b.len && !o->err) {
		o->adler = zk_adler32(o->adler, o->b.data, o->b.len);
		if (fwrite(o->b.data, 1, o->b.len, o->f) != o->b.len)
			o->err = -EIO;
	}
	buf_reset(&o->b);
}

static void put_acl_vec(struct buf *b, const struct acl_list *a)
{
	int32_t i;

	buf_put_u32(b, (uint32_t)a->n);
	for (i = 0; i < a->n; i++) {
		buf_put_u32(b, (uint32_t)a->v[i].perms);
		buf_put_str(b, a->v[i].scheme);
		buf_put_str(b, a->v[i].id);
	}
}

static int64_t acl_idx(struct snap_out *o, const struct acl_list *a)
{
	struct acl_list *na;
	size_t i;

	for (i = o->nacls; i-- > 0;)
		if (acl_equal(&o->acls[i], a))
			return (int64_t)i + 1;
	if (o->nacls == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		na = realloc(o->acls, o->cap * sizeof(*na));
		if (!na)
			return -1;
		o->acls = na;
	}
	if (acl_copy(&o->acls[o->nacls], a))
		return -1;
	return (int64_t)++o->nacls;
}

static int collect_acl(void *arg, const struct znode *n)
{
	return acl_idx(arg, &n->acl) < 0;
}

static int write_sess(void *arg, const struct tree_session *s)
{
	struct snap_out *o = arg;

	buf_put_u64(&o->b, (uint64_t)s->id);
	buf_put_u32(&o->b, (uint32_t)s->timeout_ms);
	return 0;
}

static int count_sess(void *arg, const struct tree_session *s)
{
	(void)s;
	(*(int32_t *)arg)++;
	return 0;
}

static int write_node(void *arg, const struct znode *n)
{
	struct snap_out *o = arg;
	const struct zstat *s = &n->stat;

	buf_put_str(&o->b, strcmp(n->path, "/") == 0 ? "" : n->path);
	if (n->flags & ZNODE_F_NULLDATA)
		buf_put_bytes(&o->b, NULL, -1);
	else
		buf_put_bytes(&o->b, n->data, s->data_length);
	buf_put_u64(&o->b, (uint64_t)acl_idx(o, &n->acl));
	buf_put_u64(&o->b, (uint64_t)s->czxid);
	buf_put_u64(&o->b, (uint64_t)s->mzxid);
	buf_put_u64(&o->b, (uint64_t)s->ctime);
	buf_put_u64(&o->b, (uint64_t)s->mtime);
	buf_put_u32(&o->b, (uint32_t)s->version);
	buf_put_u32(&o->b, (uint32_t)s->cversion);
	buf_put_u32(&o->b, (uint32_t)s->aversion);
	buf_put_u64(&o->b, (uint64_t)s->ephemeral_owner);
	buf_put_u64(&o->b, (uint64_t)s->pzxid);
	o->nodes++;
	if (o->b.len > (1u << 20)) {
		out_flush(o);
		if (o->progress)
			o->progress(o->arg, o->nodes);
	}
	return o->err != 0;
}

int zk_snap_write(const struct tree *t, FILE *f, uint64_t *nodes,
		  void (*progress)(void *arg, uint64_t nodes), void *arg)
{
	struct snap_out o;
	int32_t ns = 0;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	o.f = f;
	o.adler = 1;
	o.progress = progress;
	o.arg = arg;
	buf_init(&o.b);
	if (tree_walk(t, collect_acl, &o)) {
		rc = -ENOMEM;
		goto out;
	}
	buf_put_u32(&o.b, ZK_SNAP_MAGIC);
	buf_put_u32(&o.b, 2);
	buf_put_u64(&o.b, (uint64_t)-1); /* FileSnap's dbId */
	tree_session_foreach(t, count_sess, &ns);
	buf_put_u32(&o.b, (uint32_t)ns);
	tree_session_foreach(t, write_sess, &o);
	buf_put_u32(&o.b, (uint32_t)o.nacls);
	for (i = 0; i < o.nacls; i++) {
		buf_put_u64(&o.b, (uint64_t)i + 1);
		put_acl_vec(&o.b, &o.acls[i]);
	}
	tree_walk(t, write_node, &o);
	buf_put_str(&o.b, "/");
	out_flush(&o);
	if (!o.err) {
		/* The seal: the checksum of every byte before it. */
		buf_put_u64(&o.b, o.adler);
		buf_put_str(&o.b, "/");
		out_flush(&o);
	}
	if (!o.err && fflush(f) != 0)
		o.err = -EIO;
	rc = o.err;
	*nodes = o.nodes;
out:
	for (i = 0; i < o.nacls; i++)
		acl_free(&o.acls[i]);
	free(o.acls);
	buf_free(&o.b);
	return rc;
}
