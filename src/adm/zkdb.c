/* zkdb.c - the offline DataTree: nodes, ACL table, sessions, txn apply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "txn.h"
#include "zkdb.h"

#define ZK_MAX_FIELD (64 << 20) /* no jute field in a sane file is bigger */

static struct zk_session *sess_get(struct zkdb *db, int64_t id);
static void sess_drop(struct zkdb *db, struct zk_session *s);

static size_t hash_path(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	while (*p)
		h = (h ^ (uint8_t)*p++) * 1099511628211ull;
	return (size_t)h;
}

int zkdb_init(struct zkdb *db)
{
	memset(db, 0, sizeof(*db));
	db->nhash = 1024;
	db->hash = calloc(db->nhash, sizeof(*db->hash));
	db->nshash = 256;
	db->shash = calloc(db->nshash, sizeof(*db->shash));
	return db->hash && db->shash ? 0 : -ENOMEM;
}

static void node_free(struct zk_node *n)
{
	free(n->path);
	free(n->data);
	free(n);
}

void zkdb_free(struct zkdb *db)
{
	struct zk_node *n, *next;
	size_t i;

	for (i = 0; i < db->nhash && db->hash; i++)
		for (n = db->hash[i]; n; n = next) {
			next = n->hnext;
			node_free(n);
		}
	free(db->hash);
	for (i = 0; i < db->nacls; i++)
		acl_free(&db->acls[i]);
	free(db->acls);
	for (i = 0; i < db->nshash && db->shash; i++) {
		struct zk_session *s, *sn;

		for (s = db->shash[i]; s; s = sn) {
			sn = s->hnext;
			free(s);
		}
	}
	free(db->shash);
	memset(db, 0, sizeof(*db));
}

struct zk_node *zkdb_get(const struct zkdb *db, const char *path)
{
	struct zk_node *n;

	for (n = db->hash[hash_path(path) & (db->nhash - 1)]; n; n = n->hnext)
		if (strcmp(n->path, path) == 0)
			return n;
	return NULL;
}

static int grow(struct zkdb *db)
{
	struct zk_node **nh, *n, *next;
	size_t i, nn = db->nhash * 2, b;

	nh = calloc(nn, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	for (i = 0; i < db->nhash; i++)
		for (n = db->hash[i]; n; n = next) {
			next = n->hnext;
			b = hash_path(n->path) & (nn - 1);
			n->hnext = nh[b];
			nh[b] = n;
		}
	free(db->hash);
	db->hash = nh;
	db->nhash = nn;
	return 0;
}

int32_t zkdb_acl_index(struct zkdb *db, const struct acl_list *acl)
{
	struct acl_list *na;
	size_t i;

	/* Few distinct ACLs exist in practice; the newest is the likeliest. */
	for (i = db->nacls; i-- > 0;)
		if (acl_equal(&db->acls[i], acl))
			return (int32_t)i;
	if (db->nacls == db->capacls) {
		size_t cap = db->capacls ? db->capacls * 2 : 16;

		na = realloc(db->acls, cap * sizeof(*na));
		if (!na)
			return -ENOMEM;
		db->acls = na;
		db->capacls = cap;
	}
	if (acl_copy(&db->acls[db->nacls], acl))
		return -ENOMEM;
	return (int32_t)db->nacls++;
}

/* The parent's path of p ("/" for "/a"), into buf. */
static void parent_of(const char *p, char *buf, size_t len)
{
	const char *s = strrchr(p, '/');
	size_t l = s ? (size_t)(s - p) : 0;

	if (l == 0)
		l = 1;
	if (l >= len)
		l = len - 1;
	memcpy(buf, p, l);
	buf[l] = '\0';
}

static struct zk_node *parent_node(const struct zkdb *db, const char *path)
{
	char pp[4096];

	if (strlen(path) >= sizeof(pp))
		return NULL;
	parent_of(path, pp, sizeof(pp));
	return zkdb_get(db, pp);
}

int zkdb_insert(struct zkdb *db, const char *path, const void *data, int32_t len,
		int32_t acl, const struct zstat *st)
{
	struct zk_node *n, *parent = NULL;
	int64_t ttl;
	size_t b;

	if (path[0] != '/' || (path[1] && path[strlen(path) - 1] == '/'))
		return -EINVAL;
	if (zkdb_get(db, path))
		return -EEXIST;
	if (strcmp(path, "/") != 0) {
		parent = parent_node(db, path);
		if (!parent)
			return -ENOENT;
	}
	if (db->count >= db->nhash && grow(db))
		return -ENOMEM;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->path = strdup(path);
	if (len > 0) {
		n->data = malloc((size_t)len);
		if (n->data)
			memcpy(n->data, data, (size_t)len);
	}
	if (!n->path || (len > 0 && !n->data)) {
		node_free(n);
		return -ENOMEM;
	}
	n->len = len > 0 ? len : 0;
	n->null_data = len < 0;
	n->acl = acl;
	n->st = *st;
	n->st.data_length = n->len;
	n->st.num_children = 0;
	if (zk_owner_kind(st->ephemeral_owner, &ttl) == ZNODE_EPHEMERAL) {
		n->owner = sess_get(db, st->ephemeral_owner);
		if (!n->owner) {
			node_free(n);
			return -ENOMEM;
		}
		n->eph_next = n->owner->eph;
		if (n->eph_next)
			n->eph_next->eph_prev = n;
		n->owner->eph = n;
	}
	b = hash_path(path) & (db->nhash - 1);
	n->hnext = db->hash[b];
	db->hash[b] = n;
	db->count++;
	if (parent)
		parent->st.num_children++;
	return 0;
}

static void unlink_node(struct zkdb *db, struct zk_node *n)
{
	struct zk_node **pp = &db->hash[hash_path(n->path) & (db->nhash - 1)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	db->count--;
	if (n->owner) {
		if (n->eph_prev)
			n->eph_prev->eph_next = n->eph_next;
		else
			n->owner->eph = n->eph_next;
		if (n->eph_next)
			n->eph_next->eph_prev = n->eph_prev;
		sess_drop(db, n->owner);
	}
	node_free(n);
}

static size_t sess_bucket(int64_t id, size_t n)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 32) & (n - 1);
}

static struct zk_session *sess_find(const struct zkdb *db, int64_t id)
{
	struct zk_session *s;

	for (s = db->shash[sess_bucket(id, db->nshash)]; s; s = s->hnext)
		if (s->id == id)
			return s;
	return NULL;
}

static int sess_grow(struct zkdb *db)
{
	struct zk_session **nh, *s, *next;
	size_t i, nn = db->nshash * 2, b;

	nh = calloc(nn, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	for (i = 0; i < db->nshash; i++)
		for (s = db->shash[i]; s; s = next) {
			next = s->hnext;
			b = sess_bucket(s->id, nn);
			s->hnext = nh[b];
			nh[b] = s;
		}
	free(db->shash);
	db->shash = nh;
	db->nshash = nn;
	return 0;
}

/* The record of id, made (not live) if there is none; NULL on ENOMEM. */
static struct zk_session *sess_get(struct zkdb *db, int64_t id)
{
	struct zk_session *s = sess_find(db, id);
	size_t b;

	if (s)
		return s;
	if (db->nsrec >= db->nshash && sess_grow(db))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	b = sess_bucket(id, db->nshash);
	s->hnext = db->shash[b];
	db->shash[b] = s;
	db->nsrec++;
	return s;
}

/* Forget a record that is neither live nor owns anything. */
static void sess_drop(struct zkdb *db, struct zk_session *s)
{
	struct zk_session **pp = &db->shash[sess_bucket(s->id, db->nshash)];

	if (s->live || s->eph)
		return;
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	db->nsrec--;
	free(s);
}

int zkdb_session_put(struct zkdb *db, int64_t id, int32_t timeout_ms)
{
	struct zk_session *s = sess_get(db, id);

	if (!s)
		return -ENOMEM;
	if (!s->live)
		db->nsess++;
	s->live = 1;
	s->timeout_ms = timeout_ms;
	return 0;
}

void zkdb_session_del(struct zkdb *db, int64_t id)
{
	struct zk_session *s = sess_find(db, id);

	if (!s)
		return;
	if (s->live)
		db->nsess--;
	s->live = 0;
	sess_drop(db, s);
}

int zkdb_session_has(const struct zkdb *db, int64_t id)
{
	const struct zk_session *s = sess_find(db, id);

	return s && s->live;
}

int zkdb_session_foreach(const struct zkdb *db,
			 int (*fn)(void *arg, const struct zk_session *s), void *arg)
{
	const struct zk_session *s;
	size_t i;
	int rc;

	for (i = 0; i < db->nshash; i++)
		for (s = db->shash[i]; s; s = s->hnext)
			if (s->live && (rc = fn(arg, s)))
				return rc;
	return 0;
}

enum znode_kind zk_owner_kind(int64_t owner, int64_t *ttl_ms)
{
	*ttl_ms = 0;
	if (owner == 0)
		return ZNODE_PERSISTENT;
	if (owner == ZK_OWNER_CONTAINER)
		return ZNODE_CONTAINER;
	if (((uint64_t)owner & ZK_OWNER_EXT_MASK) == ZK_OWNER_EXT_MASK) {
		*ttl_ms = (int64_t)((uint64_t)owner & ZK_TTL_MASK);
		return ZNODE_TTL;
	}
	return ZNODE_EPHEMERAL;
}

/* --- transactions (DataTree.processTxn) --- */

static int read_acl(struct rd *r, struct acl_list *out)
{
	int32_t n = (int32_t)rd_u32(r), i;

	out->n = 0;
	out->v = NULL;
	if (!rd_ok(r) || n < -1 || (size_t)n > r->left / 12)
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

/* DataTree.setCversionPzxid: cversion -1 means "one more". */
static void set_cversion_pzxid(struct zk_node *p, int32_t cv, int64_t zxid)
{
	if (cv == -1)
		cv = p->st.cversion + 1;
	if (cv > p->st.cversion) {
		p->st.cversion = cv;
		p->st.pzxid = zxid;
	}
}

static int do_create(struct zkdb *db, const struct zk_txnhdr *h, int32_t type,
		     struct rd *r)
{
	struct acl_list acl = {0, NULL};
	struct zk_node *parent;
	struct zstat st;
	const void *data;
	char *path;
	int32_t len, cv, ai;
	int64_t owner = 0;
	int eph = 0, rc;

	path = rd_str(r, ZK_MAX_FIELD);
	data = rd_bytes(r, &len, ZK_MAX_FIELD);
	rc = read_acl(r, &acl);
	if (!rc && (type == ZOP_CREATE || type == ZOP_CREATE2))
		eph = rd_u8(r) != 0;
	cv = (int32_t)rd_u32(r);
	if (type == ZOP_CREATETTL)
		owner = (int64_t)(ZK_OWNER_EXT_MASK | (rd_u64(r) & ZK_TTL_MASK));
	else if (type == ZOP_CREATECONTAINER)
		owner = ZK_OWNER_CONTAINER;
	else if (eph)
		owner = h->client_id;
	if (rc || !rd_ok(r) || !path) {
		rc = rc ? rc : -EBADMSG;
		goto out;
	}
	parent = path[0] == '/' && path[1] ? parent_node(db, path) : NULL;
	if (!parent)
		goto out; /* NONODE: ZooKeeper records the error, changes nothing */
	if (zkdb_get(db, path)) {
		/* NODEEXISTS while replaying over a fuzzy snapshot: ZooKeeper
		 * still moves the parent's cversion/pzxid for a plain create. */
		if (type == ZOP_CREATE)
			set_cversion_pzxid(parent, cv, h->zxid);
		goto out;
	}
	ai = zkdb_acl_index(db, &acl);
	if (ai < 0) {
		rc = -ENOMEM;
		goto out;
	}
	memset(&st, 0, sizeof(st));
	st.czxid = st.mzxid = st.pzxid = h->zxid;
	st.ctime = st.mtime = h->time;
	st.ephemeral_owner = owner;
	rc = zkdb_insert(db, path, data, len, ai, &st);
	if (rc == -EINVAL || rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (!rc)
		set_cversion_pzxid(parent, cv, h->zxid);
out:
	acl_free(&acl);
	free(path);
	return rc;
}

static void delete_node(struct zkdb *db, const char *path, int64_t zxid)
{
	struct zk_node *n = zkdb_get(db, path), *p;

	if (!n || n->st.num_children > 0 || strcmp(path, "/") == 0)
		return;
	p = parent_node(db, path);
	if (p) {
		p->st.num_children--;
		if (zxid > p->st.pzxid)
			p->st.pzxid = zxid;
	}
	unlink_node(db, n);
}

static int kill_session(struct zkdb *db, int64_t id, int64_t zxid)
{
	struct zk_session *s = sess_find(db, id);
	struct zk_node *n, *next;

	if (!s)
		return 0;
	if (s->live)
		db->nsess--;
	s->live = 0;
	/* Ephemerals have no children: any order is safe. The record stays
	 * while it owns nodes (delete_node drops it with the last one). */
	for (n = s->eph; n; n = next) {
		next = n->eph_next;
		if (!next) {
			delete_node(db, n->path, zxid); /* may free s */
			return 0;
		}
		delete_node(db, n->path, zxid);
	}
	sess_drop(db, s);
	return 0;
}

static int apply_one(struct zkdb *db, const struct zk_txnhdr *h, int32_t type,
		     struct rd *r, int depth, char *errbuf, size_t errlen);

static int do_multi(struct zkdb *db, const struct zk_txnhdr *h, struct rd *r, int depth,
		    char *errbuf, size_t errlen)
{
	int32_t n = (int32_t)rd_u32(r), i, type, len;
	const void *p;
	struct rd sub;
	int rc;

	if (!rd_ok(r) || n < -1 || depth > 0)
		return -EBADMSG;
	/* A multi with an error in it changed nothing (DataTree.processTxn
	 * turns every op into an error then): the ops before the failing one
	 * are logged as real txns, but must not be applied. */
	sub = *r;
	for (i = 0; i < n; i++) {
		type = (int32_t)rd_u32(&sub);
		p = rd_bytes(&sub, &len, ZK_MAX_FIELD);
		if (!rd_ok(&sub) || len < 0)
			return -EBADMSG;
		if (type == ZOP_ERROR)
			return 0;
	}
	for (i = 0; i < n; i++) {
		type = (int32_t)rd_u32(r);
		p = rd_bytes(r, &len, ZK_MAX_FIELD);
		if (!rd_ok(r) || len < 0)
			return -EBADMSG;
		rd_init(&sub, p, (size_t)len);
		rc = apply_one(db, h, type, &sub, depth + 1, errbuf, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int apply_one(struct zkdb *db, const struct zk_txnhdr *h, int32_t type,
		     struct rd *r, int depth, char *errbuf, size_t errlen)
{
	struct acl_list acl = {0, NULL};
	struct zk_node *n;
	const void *data;
	char *path = NULL;
	int32_t len, v;
	int rc = 0;

	switch (type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
	case ZOP_CREATETTL:
		rc = do_create(db, h, type, r);
		break;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		path = rd_str(r, ZK_MAX_FIELD);
		if (!rd_ok(r) || !path)
			return -EBADMSG;
		delete_node(db, path, h->zxid);
		break;
	case ZOP_SETDATA:
	case ZOP_RECONFIG:
		path = rd_str(r, ZK_MAX_FIELD);
		data = rd_bytes(r, &len, ZK_MAX_FIELD);
		v = (int32_t)rd_u32(r);
		if (!rd_ok(r) || !path)
			return -EBADMSG;
		n = zkdb_get(db, path);
		if (!n)
			break;
		free(n->data);
		n->data = NULL;
		n->len = len > 0 ? len : 0;
		n->null_data = len < 0;
		if (len > 0) {
			n->data = malloc((size_t)len);
			if (!n->data) {
				rc = -ENOMEM;
				break;
			}
			memcpy(n->data, data, (size_t)len);
		}
		n->st.data_length = n->len;
		n->st.version = v;
		n->st.mzxid = h->zxid;
		n->st.mtime = h->time;
		break;
	case ZOP_SETACL:
		path = rd_str(r, ZK_MAX_FIELD);
		rc = read_acl(r, &acl);
		v = (int32_t)rd_u32(r);
		if (!rc && (!rd_ok(r) || !path))
			rc = -EBADMSG;
		if (!rc && (n = zkdb_get(db, path))) {
			int32_t ai = zkdb_acl_index(db, &acl);

			if (ai < 0)
				rc = -ENOMEM;
			else {
				n->acl = ai;
				n->st.aversion = v;
			}
		}
		acl_free(&acl);
		break;
	case ZOP_CREATESESSION:
		v = (int32_t)rd_u32(r);
		if (!rd_ok(r))
			return -EBADMSG;
		rc = zkdb_session_put(db, h->client_id, v);
		break;
	case ZOP_CLOSESESSION:
		/* 3.6+ may list the paths (CloseSessionTxn); they are the
		 * session's ephemerals, which is what is deleted either way. */
		rc = kill_session(db, h->client_id, h->zxid);
		break;
	case ZOP_MULTI:
		rc = do_multi(db, h, r, depth, errbuf, errlen);
		break;
	case ZOP_CHECK:
	case ZOP_ERROR:
		break;
	default:
		/* setMaxChildren (3.3) and unknown types: nothing in the tree. */
		snprintf(errbuf, errlen, "unknown transaction type %d", (int)type);
		return -EBADMSG;
	}
	free(path);
	if (rc == -EBADMSG)
		snprintf(errbuf, errlen, "transaction type %d does not decode",
			 (int)type);
	return rc;
}

int zkdb_apply(struct zkdb *db, const struct zk_txnhdr *h, const void *body, size_t n,
	       char *errbuf, size_t errlen)
{
	struct rd r;
	int rc;

	rd_init(&r, body, n);
	rc = apply_one(db, h, h->type, &r, 0, errbuf, errlen);
	if (!rc) {
		db->zxid = (zxid_t)h->zxid;
		db->txns++;
	}
	return rc;
}

static int depth_of(const char *p)
{
	int d = 0;

	if (strcmp(p, "/") == 0)
		return 0;
	for (; *p; p++)
		d += *p == '/';
	return d;
}

static int cmp_node(const void *a, const void *b)
{
	const struct zk_node *x = *(const struct zk_node *const *)a;
	const struct zk_node *y = *(const struct zk_node *const *)b;
	int dx = depth_of(x->path), dy = depth_of(y->path);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->path, y->path);
}

struct zk_node **zkdb_sorted(const struct zkdb *db)
{
	struct zk_node **v, *n;
	size_t i, k = 0;

	v = malloc((db->count ? db->count : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < db->nhash; i++)
		for (n = db->hash[i]; n; n = n->hnext)
			v[k++] = n;
	qsort(v, k, sizeof(*v), cmp_node);
	return v;
}
