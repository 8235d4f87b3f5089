/*
 * tree_fit.c - does a transaction fit the tree? Asked before tree_apply
 * changes anything, so that a transaction applies whole or not at all: a
 * multi whose third op would fail must not leave its first two applied
 * (and their events raised) on one member and not on another.
 *
 * A multi's later ops see its earlier ones (create /a then /a/b; delete
 * /a/b then /a), so the check walks the ops against a small overlay of
 * what the ops before it created and deleted. The conditions are exactly
 * those on which tree_apply.c returns ZDATAINCONSISTENCY; running out of
 * memory is the only failure left after a yes.
 */
#include <stdlib.h>
#include <string.h>

#include "tree_int.h"
#include "txn_int.h"
#include "zerr.h"

/* What the ops so far did to one path. */
struct fent {
	const char *path; /* borrowed from the txn */
	size_t len;
	int exists;    /* after those ops */
	int ephemeral; /* when created by them */
	int64_t kids;  /* children added minus removed by them */
};

struct fit {
	const struct tree *t;
	struct fent *v;
	size_t n;
};

static struct fent *fent_find(struct fit *f, const char *path, size_t len)
{
	/* Newest first: a path may be created, deleted and created again. */
	for (size_t i = f->n; i-- > 0;)
		if (f->v[i].len == len && memcmp(f->v[i].path, path, len) == 0)
			return &f->v[i];
	return NULL;
}

/* The overlay entry for path, made from the tree when the ops have not
 * touched it yet. NULL only when the overlay is full (it has room for two
 * entries per op: the path and its parent). */
static struct fent *fent_get(struct fit *f, const char *path, size_t len, size_t cap)
{
	struct fent *e = fent_find(f, path, len);
	const struct tnode *n;

	if (e)
		return e;
	if (f->n == cap)
		return NULL;
	n = tree_find(f->t, path, len);
	e = &f->v[f->n++];
	e->path = path;
	e->len = len;
	e->exists = n != NULL;
	e->ephemeral = n && n->z.kind == ZNODE_EPHEMERAL;
	e->kids = 0;
	return e;
}

static int64_t kids_of(struct fit *f, const struct fent *e)
{
	const struct tnode *n = tree_find(f->t, e->path, e->len);

	return (n ? n->z.stat.num_children : 0) + e->kids;
}

static int fit_op(struct fit *f, const struct txn_op *op, size_t cap)
{
	const char *slash;
	struct fent *e, *parent;
	size_t len;

	if (!op->path || op->path[0] != '/')
		return -1;
	len = strlen(op->path);
	slash = strrchr(op->path, '/');
	e = fent_get(f, op->path, len, cap);
	if (!e)
		return -1;
	switch (op->type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
	case ZOP_CREATETTL:
		parent = fent_get(f, op->path, (size_t)(slash - op->path), cap);
		if (!parent || !parent->exists || parent->ephemeral || e->exists)
			return -1;
		if (op->kind == ZNODE_EPHEMERAL &&
		    !tree_session_get(f->t, op->ephemeral_owner))
			return -1;
		e->exists = 1;
		e->ephemeral = op->kind == ZNODE_EPHEMERAL;
		parent->kids++;
		return 0;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		if (!e->exists || tree_is_special_path(op->path) || len <= 1 ||
		    kids_of(f, e) > 0)
			return -1;
		parent = fent_get(f, op->path, (size_t)(slash - op->path), cap);
		if (!parent)
			return -1;
		e->exists = 0;
		parent->kids--;
		return 0;
	case QOP_SETMETA:
		if (op->child_kind < -1 || op->child_kind > ZNODE_TTL)
			return -1;
		/* fall through */
	case ZOP_SETDATA:
	case ZOP_SETACL:
	case ZOP_CHECK:
		return e->exists ? 0 : -1;
	default:
		return -1;
	}
}

int tree_txn_fits(const struct tree *t, const struct ztxn *txn)
{
	struct fent small[8];
	struct fit f = {t, small, 0};
	size_t cap;
	int rc = 0;

	if (txn->zxid <= t->last_zxid)
		return 0;
	if (txn->type == ZOP_CREATESESSION || txn->type == ZOP_CLOSESESSION)
		return 1; /* a session's ephemerals are leaves: always fit */
	if (txn->type != ZOP_MULTI)
		cap = 2;
	else if (txn->n_ops <= 0)
		return 1;
	else
		cap = 2 * (size_t)txn->n_ops;
	if (cap > sizeof(small) / sizeof(small[0]))
		f.v = calloc(cap, sizeof(*f.v));
	if (!f.v)
		return -1;
	if (txn->type != ZOP_MULTI)
		rc = fit_op(&f, &txn->op, cap);
	for (int32_t i = 0; txn->type == ZOP_MULTI && i < txn->n_ops && rc == 0; i++)
		rc = fit_op(&f, &txn->ops[i], cap);
	if (f.v != small)
		free(f.v);
	return rc == 0;
}
