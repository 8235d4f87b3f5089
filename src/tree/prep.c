/*
 * prep.c - txn_prepare: checks a write against the tree as it will be once
 * every transaction prepared before it is applied, as ZooKeeper's
 * PrepRequestProcessor does with its outstanding ChangeRecords.
 *
 * A change record holds what a later prepare needs to know of one path
 * (existence, stat, child count, ACL, kind) or of one session (open,
 * closing). Records sit in one queue in zxid order and in a map from key to
 * the newest record; records of one key are chained newest to oldest, so
 * aborting the newest brings the previous one back. tree_apply drops records
 * from the queue's head; prep_abort and a failed multi drop them from its
 * tail.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree_int.h"
#include "txn_int.h"
#include "zerr.h"

struct prec {
	zxid_t zxid;
	char *key; /* a path, or "#<id>" for a session (paths start with '/') */
	size_t klen;
	uint32_t hash;
	int exists;
	struct zstat stat;
	int32_t child_count;
	struct acl_list acl;
	enum znode_kind kind;
	unsigned flags;
	int closing; /* session: closeSession prepared */
	struct prec *hnext;
	struct prec *qprev, *qnext;
	struct prec *older, *newer;
};

struct prep {
	struct tree *t;
	struct prec **b;
	size_t nb, n;
	struct prec *head, *tail;
};

/* What prepare sees of a path: a record's state or the tree's. */
struct pview {
	int exists;
	struct zstat stat;
	int32_t child_count;
	const struct acl_list *acl;
	enum znode_kind kind;
	unsigned flags;
};

struct prep *prep_new(struct tree *t)
{
	struct prep *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->t = t;
	p->nb = 256;
	p->b = calloc(p->nb, sizeof(*p->b));
	if (!p->b) {
		free(p);
		return NULL;
	}
	return p;
}

static void rec_free(struct prec *r)
{
	acl_free(&r->acl);
	free(r->key);
	free(r);
}

void prep_free(struct prep *p)
{
	struct prec *r, *next;

	if (!p)
		return;
	for (r = p->head; r; r = next) {
		next = r->qnext;
		rec_free(r);
	}
	free(p->b);
	free(p);
}

static struct prec **map_slot(struct prep *p, const char *key, size_t len, uint32_t h)
{
	struct prec **pp = &p->b[h & (p->nb - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->hash == h && (*pp)->klen == len &&
		    memcmp((*pp)->key, key, len) == 0)
			return pp;
	return pp;
}

static struct prec *map_get(const struct prep *p, const char *key, size_t len)
{
	uint32_t h = tree_hash(key, len);

	return *map_slot((struct prep *)p, key, len, h);
}

static void map_grow(struct prep *p)
{
	size_t nb = p->nb * 2, i;
	struct prec **b = calloc(nb, sizeof(*b)), *r, *next;

	if (!b)
		return; /* longer chains, still correct */
	for (i = 0; i < p->nb; i++) {
		for (r = p->b[i]; r; r = next) {
			next = r->hnext;
			r->hnext = b[r->hash & (nb - 1)];
			b[r->hash & (nb - 1)] = r;
		}
	}
	free(p->b);
	p->b = b;
	p->nb = nb;
}

/* Unlink r from the key map (it must be the newest of its key), putting the
 * older record of the same key back if there is one. */
static void map_unlink_newest(struct prep *p, struct prec *r)
{
	struct prec **pp = map_slot(p, r->key, r->klen, r->hash);

	if (*pp != r)
		return;
	if (r->older) {
		r->older->hnext = r->hnext;
		r->older->newer = NULL;
		*pp = r->older;
	} else {
		*pp = r->hnext;
		p->n--;
	}
}

/* A new record for key, newest of its key, at the queue's tail. The caller
 * fills its state. NULL on ENOMEM. */
static struct prec *rec_add(struct prep *p, zxid_t zxid, const char *key, size_t len)
{
	struct prec *r = calloc(1, sizeof(*r)), **pp;

	if (!r)
		return NULL;
	r->key = malloc(len + 1);
	if (!r->key) {
		free(r);
		return NULL;
	}
	memcpy(r->key, key, len);
	r->key[len] = '\0';
	r->klen = len;
	r->zxid = zxid;
	r->hash = tree_hash(key, len);
	if (p->n >= p->nb)
		map_grow(p);
	pp = map_slot(p, key, len, r->hash);
	if (*pp) {
		r->older = *pp;
		(*pp)->newer = r;
		r->hnext = (*pp)->hnext;
		(*pp)->hnext = NULL;
	} else {
		r->hnext = NULL;
		p->n++;
	}
	*pp = r;
	r->qprev = p->tail;
	if (p->tail)
		p->tail->qnext = r;
	else
		p->head = r;
	p->tail = r;
	return r;
}

void prep_applied(struct prep *p, zxid_t zxid)
{
	struct prec *r;

	while ((r = p->head) && r->zxid <= zxid) {
		p->head = r->qnext;
		if (p->head)
			p->head->qprev = NULL;
		else
			p->tail = NULL;
		if (r->newer) {
			r->newer->older = NULL;
		} else {
			struct prec **pp = map_slot(p, r->key, r->klen, r->hash);

			*pp = r->hnext;
			p->n--;
		}
		rec_free(r);
	}
}

/* Drop records from the tail while their zxid is above `above`. */
static void drop_tail(struct prep *p, zxid_t above)
{
	struct prec *r;

	while ((r = p->tail) && r->zxid > above) {
		p->tail = r->qprev;
		if (p->tail)
			p->tail->qnext = NULL;
		else
			p->head = NULL;
		map_unlink_newest(p, r);
		rec_free(r);
	}
}

void prep_abort(struct prep *p, zxid_t above)
{
	drop_tail(p, above);
}

/* ---- views ---- */

static void view_of_node(const struct tnode *n, struct pview *v)
{
	v->exists = 1;
	v->stat = n->z.stat;
	v->child_count = n->z.stat.num_children;
	v->acl = &n->z.acl;
	v->kind = n->z.kind;
	v->flags = n->z.flags;
}

/* The state of path[0..len) once everything prepared is applied; "" is the
 * root. Returns ZOK or ZNONODE. */
static int view_get(const struct prep *p, const char *path, size_t len, struct pview *v)
{
	struct prec *r;
	struct tnode *n;

	if (len == 0) {
		path = "/";
		len = 1;
	}
	memset(v, 0, sizeof(*v));
	r = map_get(p, path, len);
	if (r) {
		if (!r->exists)
			return ZNONODE;
		v->exists = 1;
		v->stat = r->stat;
		v->child_count = r->child_count;
		v->acl = &r->acl;
		v->kind = r->kind;
		v->flags = r->flags;
		return ZOK;
	}
	n = tree_find(p->t, path, len);
	if (!n)
		return ZNONODE;
	view_of_node(n, v);
	return ZOK;
}

/* Record a path's new state (copies v's ACL). */
static int rec_put(struct prep *p, zxid_t zxid, const char *path, size_t len,
		   const struct pview *v)
{
	struct prec *r;

	if (len == 0) {
		path = "/";
		len = 1;
	}
	r = rec_add(p, zxid, path, len);
	if (!r)
		return ZSYSTEMERROR;
	r->exists = v->exists;
	if (!v->exists)
		return ZOK;
	r->stat = v->stat;
	r->stat.num_children = v->child_count;
	r->child_count = v->child_count;
	r->kind = v->kind;
	r->flags = v->flags;
	if (acl_copy(&r->acl, v->acl) < 0)
		return ZSYSTEMERROR;
	return ZOK;
}

static int session_key(int64_t id, char *buf, size_t len)
{
	return snprintf(buf, len, "#%" PRId64, id);
}

/* Is the session open (and not being closed) once everything prepared is
 * applied? */
static int session_live(const struct prep *p, int64_t id)
{
	char key[32];
	struct prec *r;
	struct tsession *s;
	int n = session_key(id, key, sizeof(key));

	r = map_get(p, key, (size_t)n);
	if (r)
		return r->exists && !r->closing;
	s = tree_session_find(p->t, id);
	return s && s->open;
}

/* closeSession: an open session, or one loaded from a snapshot only through
 * its ephemerals (so they can still be released), not already closing. */
static int session_closable(const struct prep *p, int64_t id)
{
	char key[32];
	int n = session_key(id, key, sizeof(key));
	struct prec *r = map_get(p, key, (size_t)n);

	if (r)
		return r->exists && !r->closing;
	return tree_session_find(p->t, id) != NULL;
}

static int session_put(struct prep *p, zxid_t zxid, int64_t id, int exists, int closing)
{
	char key[32];
	int n = session_key(id, key, sizeof(key));
	struct prec *r = rec_add(p, zxid, key, (size_t)n);

	if (!r)
		return ZSYSTEMERROR;
	r->exists = exists;
	r->closing = closing;
	return ZOK;
}

/* checkAndIncVersion */
static int version_check(int32_t cur, int32_t expected)
{
	return expected != -1 && expected != cur ? ZBADVERSION : ZOK;
}

/* ---- operations ---- */

struct pctx {
	struct prep *p;
	const struct zauth *auth;
	int64_t session;
	zxid_t zxid;
	int64_t now;
};

static int op_set_path(struct txn_op *op, const char *path)
{
	op->path = strdup(path);
	return op->path ? ZOK : ZSYSTEMERROR;
}

/* A null buffer (len < 0) stays null: data_len -1 (see ZNODE_F_NULLDATA). */
static int op_set_data(struct txn_op *op, const void *data, int32_t len)
{
	if (len < 0)
		op->data_len = -1;
	if (len <= 0)
		return ZOK;
	op->data = malloc((size_t)len);
	if (!op->data)
		return ZSYSTEMERROR;
	memcpy(op->data, data, (size_t)len);
	op->data_len = len;
	return ZOK;
}

static int data_ok(const struct zreq *req)
{
	if (req->data_len > ZNODE_MAX_DATA)
		return 0;
	return req->data_len <= 0 || req->data;
}

static int prep_create(struct pctx *c, const struct zreq *req, struct txn_op *op,
		       char **res_path)
{
	struct pview parent, node = {0};
	struct acl_list acl = {0};
	const char *slash;
	char *path = NULL;
	size_t plen;
	int mode = req->mode, rc;
	int kind, seq;
	int64_t ttl = 0, owner = 0;

	/* validateCreateRequest */
	if (mode < ZCM_PERSISTENT || mode > ZCM_PERSISTENT_SEQUENTIAL_WITH_TTL)
		return ZBADARGUMENTS;
	if (req->op == ZOP_CREATECONTAINER)
		mode = ZCM_CONTAINER;
	seq = mode == ZCM_PERSISTENT_SEQUENTIAL || mode == ZCM_EPHEMERAL_SEQUENTIAL ||
	      mode == ZCM_PERSISTENT_SEQUENTIAL_WITH_TTL;
	if (mode == ZCM_PERSISTENT_WITH_TTL ||
	    mode == ZCM_PERSISTENT_SEQUENTIAL_WITH_TTL) {
		if (req->ttl_ms <= 0 || req->ttl_ms > ZK_TTL_MAX)
			return ZBADARGUMENTS;
		kind = ZNODE_TTL;
		ttl = req->ttl_ms;
		owner = ZK_TTL_OWNER_MASK | ttl;
	} else if (req->op == ZOP_CREATETTL && req->ttl_ms >= 0) {
		return ZBADARGUMENTS; /* a TTL given for a mode without one */
	} else if (mode == ZCM_CONTAINER) {
		kind = ZNODE_CONTAINER;
		owner = ZK_CONTAINER_OWNER;
	} else if (mode == ZCM_EPHEMERAL || mode == ZCM_EPHEMERAL_SEQUENTIAL) {
		if (c->session == 0 || !session_live(c->p, c->session))
			return ZSESSIONEXPIRED;
		kind = ZNODE_EPHEMERAL;
		owner = c->session;
	} else {
		kind = ZNODE_PERSISTENT;
	}
	/* validatePathForCreate */
	if (!req->path || !(slash = strrchr(req->path, '/')))
		return ZBADARGUMENTS;
	if (!data_ok(req))
		return ZBADARGUMENTS;
	rc = acl_fixup(req->acl, c->auth, &acl);
	if (rc != ZOK)
		return rc;
	rc = view_get(c->p, req->path, (size_t)(slash - req->path), &parent);
	if (rc != ZOK)
		goto out;
	rc = acl_check(parent.acl, c->auth, ZPERM_CREATE);
	if (rc != ZOK)
		goto out;
	plen = strlen(req->path);
	path = malloc(plen + 16);
	if (!path) {
		rc = ZSYSTEMERROR;
		goto out;
	}
	memcpy(path, req->path, plen + 1);
	if (seq)
		snprintf(path + plen, 16, "%010d", parent.stat.cversion);
	rc = path_validate(path);
	if (rc != ZOK)
		goto out;
	if (view_get(c->p, path, strlen(path), &node) == ZOK) {
		rc = ZNODEEXISTS;
		goto out;
	}
	if (parent.kind == ZNODE_EPHEMERAL) {
		rc = ZNOCHILDRENFOREPHEMERALS;
		goto out;
	}

	op->type = req->op == ZOP_CREATECONTAINER ? ZOP_CREATECONTAINER
		   : kind == ZNODE_TTL		  ? ZOP_CREATETTL
						  : req->op;
	op->path = path;
	path = NULL;
	rc = op_set_data(op, req->data, req->data_len);
	if (rc != ZOK)
		goto out;
	op->acl = acl;
	acl.v = NULL;
	acl.n = 0;
	op->parent_cversion = parent.stat.cversion + 1;
	op->ephemeral_owner = owner;
	op->kind = kind;
	op->flags = (seq ? ZNODE_F_SEQUENTIAL : 0) | (req->dir ? ZNODE_F_DIR : 0);
	op->ttl_ms = ttl;

	/* The parent as it will be, then the node (DataTree.createStat). */
	parent.child_count++;
	parent.stat.cversion = op->parent_cversion;
	parent.stat.pzxid = (int64_t)c->zxid;
	parent.flags |= ZNODE_F_DIR;
	rc = rec_put(c->p, c->zxid, op->path, (size_t)(strrchr(op->path, '/') - op->path),
		     &parent);
	if (rc != ZOK)
		goto out;
	node.exists = 1;
	node.stat.czxid = node.stat.mzxid = node.stat.pzxid = (int64_t)c->zxid;
	node.stat.ctime = node.stat.mtime = c->now;
	node.stat.ephemeral_owner = owner;
	node.stat.data_length = op->data_len < 0 ? 0 : op->data_len;
	node.acl = &op->acl;
	node.kind = kind;
	node.flags = op->flags;
	rc = rec_put(c->p, c->zxid, op->path, strlen(op->path), &node);
	if (rc != ZOK)
		goto out;
	if (res_path) {
		*res_path = strdup(op->path);
		if (!*res_path)
			rc = ZSYSTEMERROR;
	}
out:
	free(path);
	acl_free(&acl);
	return rc;
}

/* delete and deleteContainer (getParentPathAndValidate, then the checks in
 * ZooKeeper's order for each). */
static int prep_delete(struct pctx *c, const struct zreq *req, struct txn_op *op)
{
	struct pview parent, node, gone = {0};
	const char *slash;
	size_t plen;
	int rc;

	if (!req->path || !(slash = strrchr(req->path, '/')) ||
	    tree_is_special_path(req->path))
		return ZBADARGUMENTS;
	plen = (size_t)(slash - req->path);
	if (req->op == ZOP_DELETECONTAINER) {
		rc = view_get(c->p, req->path, strlen(req->path), &node);
		if (rc != ZOK)
			return rc;
		if (node.child_count > 0)
			return ZNOTEMPTY;
		if (node.kind == ZNODE_EPHEMERAL)
			return ZBADVERSION; /* as ZooKeeper: not a container-like node */
		rc = view_get(c->p, req->path, plen, &parent);
		if (rc != ZOK)
			return rc;
	} else {
		rc = view_get(c->p, req->path, plen, &parent);
		if (rc != ZOK)
			return rc;
		rc = acl_check(parent.acl, c->auth, ZPERM_DELETE);
		if (rc != ZOK)
			return rc;
		rc = view_get(c->p, req->path, strlen(req->path), &node);
		if (rc != ZOK)
			return rc;
		rc = version_check(node.stat.version, req->version);
		if (rc != ZOK)
			return rc;
		if (node.child_count > 0)
			return ZNOTEMPTY;
	}
	op->type = req->op;
	rc = op_set_path(op, req->path);
	if (rc != ZOK)
		return rc;
	parent.child_count--;
	parent.stat.pzxid = (int64_t)c->zxid;
	rc = rec_put(c->p, c->zxid, req->path, plen, &parent);
	if (rc != ZOK)
		return rc;
	return rec_put(c->p, c->zxid, req->path, strlen(req->path), &gone);
}

static int prep_setdata(struct pctx *c, const struct zreq *req, struct txn_op *op,
			struct zstat *st)
{
	struct pview node;
	int rc;

	rc = path_validate(req->path);
	if (rc != ZOK)
		return rc;
	if (!data_ok(req))
		return ZBADARGUMENTS;
	rc = view_get(c->p, req->path, strlen(req->path), &node);
	if (rc != ZOK)
		return rc;
	rc = acl_check(node.acl, c->auth, ZPERM_WRITE);
	if (rc != ZOK)
		return rc;
	rc = version_check(node.stat.version, req->version);
	if (rc != ZOK)
		return rc;
	op->type = ZOP_SETDATA;
	op->version = node.stat.version + 1;
	rc = op_set_path(op, req->path);
	if (rc == ZOK)
		rc = op_set_data(op, req->data, req->data_len);
	if (rc != ZOK)
		return rc;
	node.stat.version = op->version;
	node.stat.mtime = c->now;
	node.stat.mzxid = (int64_t)c->zxid;
	node.stat.data_length = op->data_len < 0 ? 0 : op->data_len;
	if (st)
		*st = node.stat;
	return rec_put(c->p, c->zxid, req->path, strlen(req->path), &node);
}

static int prep_setacl(struct pctx *c, const struct zreq *req, struct txn_op *op)
{
	struct acl_list acl = {0};
	struct pview node;
	int rc;

	rc = path_validate(req->path);
	if (rc != ZOK)
		return rc;
	rc = acl_fixup(req->acl, c->auth, &acl);
	if (rc != ZOK)
		return rc;
	rc = view_get(c->p, req->path, strlen(req->path), &node);
	if (rc == ZOK)
		rc = acl_check(node.acl, c->auth, ZPERM_ADMIN);
	if (rc == ZOK)
		rc = version_check(node.stat.aversion, req->version);
	if (rc == ZOK)
		rc = op_set_path(op, req->path);
	if (rc != ZOK) {
		acl_free(&acl);
		return rc;
	}
	op->type = ZOP_SETACL;
	op->version = node.stat.aversion + 1;
	op->acl = acl;
	node.stat.aversion = op->version;
	node.acl = &op->acl;
	return rec_put(c->p, c->zxid, req->path, strlen(req->path), &node);
}

static int prep_check(struct pctx *c, const struct zreq *req, struct txn_op *op)
{
	struct pview node;
	int rc;

	rc = path_validate(req->path);
	if (rc != ZOK)
		return rc;
	rc = view_get(c->p, req->path, strlen(req->path), &node);
	if (rc != ZOK)
		return rc;
	rc = acl_check(node.acl, c->auth, ZPERM_READ);
	if (rc != ZOK)
		return rc;
	rc = version_check(node.stat.version, req->version);
	if (rc != ZOK)
		return rc;
	op->type = ZOP_CHECK;
	op->version = req->version;
	return op_set_path(op, req->path);
}

static int kind_ttl_ok(int32_t kind, int64_t ttl)
{
	if (kind < ZNODE_PERSISTENT || kind > ZNODE_TTL)
		return 0;
	return kind != ZNODE_TTL || (ttl > 0 && ttl <= ZK_TTL_MAX);
}

static int prep_setmeta(struct pctx *c, const struct zreq *req, struct txn_op *op)
{
	struct pview node;
	int rc;

	rc = path_validate(req->path);
	if (rc != ZOK)
		return rc;
	if (req->child_kind != -1 && !kind_ttl_ok(req->child_kind, req->child_ttl_ms))
		return ZBADARGUMENTS;
	rc = view_get(c->p, req->path, strlen(req->path), &node);
	if (rc != ZOK)
		return rc;
	rc = acl_check(node.acl, c->auth, ZPERM_ADMIN);
	if (rc != ZOK)
		return rc;
	/* child_kind only means something on a directory. */
	if (req->child_kind != -1 && !(node.flags & ZNODE_F_DIR) && !req->dir)
		return ZBADARGUMENTS;
	op->type = QOP_SETMETA;
	op->child_kind = req->child_kind;
	op->child_ttl_ms = req->child_kind == ZNODE_TTL ? req->child_ttl_ms : 0;
	op->dir = req->dir ? 1 : 0;
	rc = op_set_path(op, req->path);
	if (rc != ZOK)
		return rc;
	if (req->dir)
		node.flags |= ZNODE_F_DIR;
	return rec_put(c->p, c->zxid, req->path, strlen(req->path), &node);
}

static int prep_create_session(struct pctx *c, const struct zreq *req, struct txn_op *op)
{
	if (c->session == 0 || session_live(c->p, c->session))
		return ZBADARGUMENTS;
	op->type = ZOP_CREATESESSION;
	op->timeout_ms = req->timeout_ms;
	op->owner = strdup(req->owner ? req->owner : "");
	if (!op->owner)
		return ZSYSTEMERROR;
	return session_put(c->p, c->zxid, c->session, 1, 0);
}

/* The session's ephemerals go (killSession): those in the tree and those
 * whose creation is still outstanding, as the prepared state sees them. */
static int prep_close_session(struct pctx *c, struct txn_op *op)
{
	struct tnode **v = NULL;
	struct prec *r, *last;
	struct pview node, parent, gone = {0};
	size_t n = 0, i;
	int rc;

	op->type = ZOP_CLOSESESSION;
	if (tree_session_nodes(c->p->t, c->session, &v, &n) < 0)
		return ZSYSTEMERROR;
	last = c->p->tail;
	for (i = 0; i < n; i++) {
		const char *path = v[i]->z.path;

		if (view_get(c->p, path, strlen(path), &node) != ZOK ||
		    node.kind != ZNODE_EPHEMERAL ||
		    node.stat.ephemeral_owner != c->session)
			continue;
		if (map_get(c->p, path, strlen(path)))
			continue; /* outstanding: handled with the records below */
		rc = view_get(c->p, path, (size_t)(strrchr(path, '/') - path), &parent);
		if (rc == ZOK) {
			parent.child_count--;
			parent.stat.pzxid = (int64_t)c->zxid;
			rc = rec_put(c->p, c->zxid, path,
				     (size_t)(strrchr(path, '/') - path), &parent);
		}
		if (rc == ZOK)
			rc = rec_put(c->p, c->zxid, path, strlen(path), &gone);
		if (rc != ZOK)
			goto out;
	}
	/* Outstanding creations: only records that existed before this close. */
	for (r = c->p->head; r && last; r = r->qnext) {
		if (r->newer == NULL && r->exists && r->key[0] == '/' &&
		    r->kind == ZNODE_EPHEMERAL && r->stat.ephemeral_owner == c->session &&
		    r->zxid != c->zxid) {
			const char *path = r->key;
			size_t plen = (size_t)(strrchr(path, '/') - path);

			rc = view_get(c->p, path, plen, &parent);
			if (rc == ZOK) {
				parent.child_count--;
				parent.stat.pzxid = (int64_t)c->zxid;
				rc = rec_put(c->p, c->zxid, path, plen, &parent);
			}
			if (rc == ZOK)
				rc = rec_put(c->p, c->zxid, path, r->klen, &gone);
			if (rc != ZOK)
				goto out;
		}
		if (r == last)
			break;
	}
	rc = session_put(c->p, c->zxid, c->session, 1, 1);
out:
	free(v);
	return rc;
}

static int prep_one(struct pctx *c, const struct zreq *req, struct txn_op *op,
		    char **res_path, struct zstat *st)
{
	if (!req->path)
		return ZBADARGUMENTS;
	switch (req->op) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
	case ZOP_CREATETTL:
		return prep_create(c, req, op, res_path);
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		return prep_delete(c, req, op);
	case ZOP_SETDATA:
		return prep_setdata(c, req, op, st);
	case ZOP_SETACL:
		return prep_setacl(c, req, op);
	case ZOP_CHECK:
		return prep_check(c, req, op);
	case QOP_SETMETA:
		return prep_setmeta(c, req, op);
	default:
		return ZUNIMPLEMENTED;
	}
}

static int multi_op_allowed(int32_t op)
{
	return txn_is_create(op) || op == ZOP_DELETE || op == ZOP_SETDATA ||
	       op == ZOP_CHECK;
}

static int prep_multi(struct pctx *c, const struct zreq *req, struct ztxn *txn,
		      struct zresult *res)
{
	int32_t i, j;
	int rc = ZOK;

	if (req->n_ops < 0 || req->n_ops > TXN_MAX_OPS || (req->n_ops > 0 && !req->ops))
		return ZBADARGUMENTS;
	txn->ops = calloc((size_t)req->n_ops + 1, sizeof(*txn->ops));
	if (!txn->ops)
		return ZSYSTEMERROR;
	txn->n_ops = req->n_ops;
	for (i = 0; i < req->n_ops; i++) {
		const struct zreq *sub = &req->ops[i];

		if (!multi_op_allowed(sub->op))
			rc = ZBADARGUMENTS;
		else
			rc = prep_one(c, sub, &txn->ops[i], NULL, NULL);
		if (rc != ZOK)
			break;
	}
	if (rc == ZOK)
		return ZOK;
	/* ZooKeeper's error results: ZOK before the failure, its code, then
	 * RUNTIMEINCONSISTENCY for the ops never tried. */
	res->ops = calloc((size_t)req->n_ops, sizeof(*res->ops));
	if (res->ops) {
		res->n_ops = req->n_ops;
		for (j = 0; j < req->n_ops; j++) {
			res->ops[j].op = ZOP_ERROR;
			res->ops[j].err = j < i	   ? ZOK
					  : j == i ? rc
						   : ZRUNTIMEINCONSISTENCY;
		}
	}
	return rc;
}

int txn_prepare(struct prep *p, const struct zreq *req, const struct zauth *auth,
		int64_t session_id, int32_t cxid, zxid_t zxid, int64_t now_ms,
		struct ztxn **out, struct zresult *res)
{
	struct pctx c = {p, auth, session_id, zxid, now_ms};
	struct ztxn *txn;
	int rc;

	*out = NULL;
	if (res)
		memset(res, 0, sizeof(*res));
	txn = calloc(1, sizeof(*txn));
	if (!txn)
		return ZSYSTEMERROR;
	txn->zxid = zxid;
	txn->time_ms = now_ms;
	txn->session = session_id;
	txn->cxid = cxid;
	txn->type = req->op;
	if (req->op == ZOP_CREATESESSION) {
		rc = prep_create_session(&c, req, &txn->op);
	} else if (req->op == ZOP_CLOSESESSION) {
		rc = session_id == 0 ? ZBADARGUMENTS
		     : !session_closable(p, session_id)
			 ? ZSESSIONEXPIRED
			 : prep_close_session(&c, &txn->op);
	} else if (session_id != 0 && !session_live(p, session_id)) {
		/* checkSession: gone, or its close is already on the way */
		rc = ZSESSIONEXPIRED;
	} else if (req->op == ZOP_MULTI) {
		struct zresult scratch = {0};

		rc = prep_multi(&c, req, txn, res ? res : &scratch);
		zresult_free(&scratch);
	} else {
		rc = prep_one(&c, req, &txn->op, NULL, NULL);
		if (rc == ZOK)
			txn->type = txn->op.type;
	}
	if (rc != ZOK) {
		drop_tail(p, zxid - 1);
		txn_free(txn);
		if (res)
			res->err = rc;
		return rc;
	}
	*out = txn;
	return ZOK;
}
