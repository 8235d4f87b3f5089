/*
 * tree_apply.c - applying a prepared (or logged) transaction to the tree, as
 * ZooKeeper's DataTree.processTxn. Deterministic: it reads nothing but the
 * transaction and the tree. Every change is reported to the listener in
 * order, after it is made.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree_int.h"
#include "txn_int.h"
#include "zerr.h"

struct actx {
	struct tree *t;
	const struct ztxn *txn;
};

static struct tnode *find_path(struct tree *t, const char *path)
{
	return path ? tree_find(t, path, strlen(path)) : NULL;
}

static int apply_create(struct actx *a, const struct txn_op *op, struct zop_result *r)
{
	struct tree *t = a->t;
	struct zstat st = {0};
	struct tnode *parent, *n;
	const char *slash;
	int rc;

	if (!op->path || op->path[0] != '/' || !(slash = strrchr(op->path, '/')))
		return ZDATAINCONSISTENCY;
	parent = tree_find(t, op->path, (size_t)(slash - op->path));
	if (!parent || parent->z.kind == ZNODE_EPHEMERAL)
		return ZDATAINCONSISTENCY;
	if (op->kind == ZNODE_EPHEMERAL && !tree_session_get(t, op->ephemeral_owner))
		return ZDATAINCONSISTENCY;
	st.czxid = st.mzxid = st.pzxid = (int64_t)a->txn->zxid;
	st.ctime = st.mtime = a->txn->time_ms;
	st.ephemeral_owner = op->ephemeral_owner;
	rc = tree_insert(t, op->path, op->data, op->data_len, &op->acl, &st,
			 (enum znode_kind)op->kind, op->flags, op->ttl_ms,
			 ZNODE_PERSISTENT, 0, &n);
	if (rc == -ENOMEM)
		return ZSYSTEMERROR;
	if (rc < 0)
		return ZDATAINCONSISTENCY;
	/* DataTree.createNode: only a newer cversion moves cversion and pzxid. */
	if (op->parent_cversion > parent->z.stat.cversion) {
		parent->z.stat.cversion = op->parent_cversion;
		parent->z.stat.pzxid = (int64_t)a->txn->zxid;
	}
	r->path = strdup(op->path);
	if (!r->path)
		return ZSYSTEMERROR;
	r->stat = n->z.stat;
	tree_emit(t, TREE_CREATED, n->z.path, &n->z, 0, a->txn->zxid, a->txn->session);
	return ZOK;
}

/* Delete a leaf; ZooKeeper's deleteNode moves the parent's pzxid only. */
static int delete_node(struct tree *t, struct tnode *n, zxid_t zxid, int64_t session)
{
	struct tnode *parent = tnode_of(n->z.parent);
	size_t len = strlen(n->z.path);
	int was_dir = (n->z.flags & ZNODE_F_DIR) != 0;
	char small[256], *path = len < sizeof(small) ? small : malloc(len + 1);

	if (!parent || n->z.stat.num_children > 0)
		return ZDATAINCONSISTENCY;
	if (!path)
		return ZSYSTEMERROR;
	memcpy(path, n->z.path, len + 1);
	if ((int64_t)zxid > parent->z.stat.pzxid)
		parent->z.stat.pzxid = (int64_t)zxid;
	tree_remove(t, n);
	tree_emit(t, TREE_DELETED, path, NULL, was_dir, zxid, session);
	if (path != small)
		free(path);
	return ZOK;
}

static int apply_delete(struct actx *a, const struct txn_op *op)
{
	struct tnode *n = find_path(a->t, op->path);

	if (!n || tree_is_special_path(op->path))
		return ZDATAINCONSISTENCY;
	return delete_node(a->t, n, a->txn->zxid, a->txn->session);
}

static int apply_setdata(struct actx *a, const struct txn_op *op, struct zop_result *r)
{
	struct tnode *n = find_path(a->t, op->path);

	if (!n)
		return ZDATAINCONSISTENCY;
	if (tree_node_set_data(a->t, n, op->data, op->data_len) < 0)
		return ZSYSTEMERROR;
	n->z.stat.version = op->version;
	n->z.stat.mzxid = (int64_t)a->txn->zxid;
	n->z.stat.mtime = a->txn->time_ms;
	r->stat = n->z.stat;
	tree_emit(a->t, TREE_DATA, n->z.path, &n->z, 0, a->txn->zxid, a->txn->session);
	return ZOK;
}

static int apply_setacl(struct actx *a, const struct txn_op *op, struct zop_result *r)
{
	struct tnode *n = find_path(a->t, op->path);

	if (!n)
		return ZDATAINCONSISTENCY;
	if (tree_node_set_acl(a->t, n, &op->acl) < 0)
		return ZSYSTEMERROR;
	n->z.stat.aversion = op->version;
	r->stat = n->z.stat;
	tree_emit(a->t, TREE_ACL, n->z.path, &n->z, 0, a->txn->zxid, a->txn->session);
	return ZOK;
}

static int apply_setmeta(struct actx *a, const struct txn_op *op, struct zop_result *r)
{
	struct tnode *n = find_path(a->t, op->path);

	if (!n || op->child_kind < -1 || op->child_kind > ZNODE_TTL)
		return ZDATAINCONSISTENCY;
	if (op->child_kind != -1) {
		n->z.child_kind = (enum znode_kind)op->child_kind;
		n->z.child_ttl_ms = op->child_ttl_ms;
	}
	if (op->dir)
		n->z.flags |= ZNODE_F_DIR;
	r->stat = n->z.stat;
	tree_emit(a->t, TREE_META, n->z.path, &n->z, 0, a->txn->zxid, a->txn->session);
	return ZOK;
}

static int apply_check(struct actx *a, const struct txn_op *op, struct zop_result *r)
{
	struct tnode *n = find_path(a->t, op->path);

	if (!n)
		return ZDATAINCONSISTENCY;
	r->stat = n->z.stat;
	return ZOK;
}

static int apply_close_session(struct actx *a)
{
	struct tnode **v;
	size_t n, i;
	struct tsession *s;
	int rc = ZOK;

	if (tree_session_nodes(a->t, a->txn->session, &v, &n) < 0)
		return ZSYSTEMERROR;
	for (i = 0; i < n && rc == ZOK; i++)
		rc = delete_node(a->t, v[i], a->txn->zxid, a->txn->session);
	free(v);
	s = tree_session_find(a->t, a->txn->session);
	if (rc == ZOK && s)
		tree_session_drop(a->t, s);
	return rc;
}

static int apply_op(struct actx *a, const struct txn_op *op, struct zop_result *r)
{
	r->op = op->type;
	switch (op->type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
	case ZOP_CREATETTL:
		return apply_create(a, op, r);
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		return apply_delete(a, op);
	case ZOP_SETDATA:
		return apply_setdata(a, op, r);
	case ZOP_SETACL:
		return apply_setacl(a, op, r);
	case ZOP_CHECK:
		return apply_check(a, op, r);
	case QOP_SETMETA:
		return apply_setmeta(a, op, r);
	default:
		return ZDATAINCONSISTENCY;
	}
}

int tree_apply(struct tree *t, struct prep *p, const struct ztxn *txn,
	       struct zresult *res)
{
	struct actx a = {t, txn};
	struct zop_result one = {0};
	int32_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->zxid = txn->zxid;
	/* All or nothing: a multi must not stop half-way, its first ops
	 * applied and their events raised. */
	rc = tree_txn_fits(t, txn);
	if (rc <= 0) {
		rc = rc < 0 ? ZSYSTEMERROR : ZDATAINCONSISTENCY;
		goto out;
	}
	switch (txn->type) {
	case ZOP_CREATESESSION:
		rc = tree_session_open(t, txn->session, txn->op.timeout_ms,
				       txn->op.owner) < 0
			 ? ZSYSTEMERROR
			 : ZOK;
		res->session_id = txn->session;
		break;
	case ZOP_CLOSESESSION:
		rc = apply_close_session(&a);
		break;
	case ZOP_MULTI:
		rc = ZOK;
		if (txn->n_ops > 0) {
			res->ops = calloc((size_t)txn->n_ops, sizeof(*res->ops));
			if (!res->ops) {
				rc = ZSYSTEMERROR;
				break;
			}
			res->n_ops = txn->n_ops;
		}
		for (i = 0; i < txn->n_ops && rc == ZOK; i++)
			rc = apply_op(&a, &txn->ops[i], &res->ops[i]);
		break;
	default:
		rc = apply_op(&a, &txn->op, &one);
		res->path = one.path;
		res->stat = one.stat;
		break;
	}
out:
	res->err = rc;
	/* A transaction that does not fit leaves last_zxid alone: the caller
	 * decides what the zxid becomes (core_apply.c consumes it). */
	if (rc == ZOK)
		t->last_zxid = txn->zxid;
	/* Applied or not, what was prepared for it is done with: it will
	 * never apply now. */
	if (p && (rc == ZOK || rc == ZDATAINCONSISTENCY))
		prep_applied(p, txn->zxid);
	return rc;
}
