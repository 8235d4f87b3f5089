/* txn.c - transaction and result lifetimes; see txn.h. */
#include <stdlib.h>
#include <string.h>

#include "txn_int.h"

int txn_is_create(int32_t type)
{
	return type == ZOP_CREATE || type == ZOP_CREATE2 || type == ZOP_CREATECONTAINER ||
	       type == ZOP_CREATETTL;
}

void txn_op_clear(struct txn_op *op)
{
	free(op->path);
	free(op->data);
	acl_free(&op->acl);
	free(op->owner);
	memset(op, 0, sizeof(*op));
}

zxid_t txn_zxid(const struct ztxn *t)
{
	return t->zxid;
}

int32_t txn_type(const struct ztxn *t)
{
	return t->type;
}

const char *txn_path(const struct ztxn *t)
{
	return t->type == ZOP_MULTI ? NULL : t->op.path;
}

int64_t txn_session(const struct ztxn *t)
{
	return t->session;
}

void txn_free(struct ztxn *t)
{
	int32_t i;

	if (!t)
		return;
	txn_op_clear(&t->op);
	for (i = 0; i < t->n_ops; i++)
		txn_op_clear(&t->ops[i]);
	free(t->ops);
	free(t);
}

void zresult_free(struct zresult *r)
{
	int32_t i;

	if (!r)
		return;
	free(r->path);
	for (i = 0; i < r->n_ops; i++)
		free(r->ops[i].path);
	free(r->ops);
	memset(r, 0, sizeof(*r));
}

int64_t txn_time(const struct ztxn *t)
{
	return t->time_ms;
}
