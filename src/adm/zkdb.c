/* zkdb.c - the offline DataTree: nodes, ACL table, sessions; the
 * transactions that change them are in zkdb_txn.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "txn.h"
#include "zkdb.h"
#include "zkdb_int.h"

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

struct zk_node *zkdb_parent(const struct zkdb *db, const char *path)
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
		parent = zkdb_parent(db, path);
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

void zkdb_delete(struct zkdb *db, const char *path, int64_t zxid)
{
	struct zk_node *n = zkdb_get(db, path), *p;

	if (!n) {
		zkdb_deleted_before(db, path, zxid);
		return;
	}
	if (n->st.num_children > 0 || strcmp(path, "/") == 0)
		return;
	p = zkdb_parent(db, path);
	if (p) {
		p->st.num_children--;
		if (zxid > p->st.pzxid)
			p->st.pzxid = zxid;
	}
	unlink_node(db, n);
}

void zkdb_deleted_before(struct zkdb *db, const char *path, int64_t zxid)
{
	struct zk_node *p;

	if (zkdb_get(db, path) || strcmp(path, "/") == 0)
		return;
	p = zkdb_parent(db, path);
	if (p && zxid > p->st.pzxid)
		p->st.pzxid = zxid;
}

int zkdb_kill_session(struct zkdb *db, int64_t id, int64_t zxid)
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
			zkdb_delete(db, n->path, zxid); /* may free s */
			return 0;
		}
		zkdb_delete(db, n->path, zxid);
	}
	sess_drop(db, s);
	return 0;
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
