/*
 * txn_codec.c - the log record of a transaction (quorumfs's own format, not
 * ZooKeeper's jute TxnHeader/Txn pair). Big-endian, buf.h primitives:
 *
 *   u8  format (TXN_FORMAT = 1)
 *   u32 type        u64 zxid       u64 time (ms)
 *   u64 session     u32 cxid
 *   body of type, or for a multi: u32 count, then count x (u32 type, body)
 *
 * bodies (str = i32 length + bytes, -1 for none; acl = u32 n, n x (u32 perms,
 * str scheme, str id)):
 *   create*      str path, str data, acl, u32 parent_cversion,
 *                u64 ephemeral_owner, u8 kind, u8 flags, u64 ttl_ms
 *   delete*      str path
 *   setData      str path, str data, u32 version
 *   setACL       str path, acl, u32 version
 *   check        str path, u32 version
 *   setMeta      str path, u32 child_kind, u64 child_ttl_ms, u8 dir
 *   createSession u32 timeout_ms, str owner
 *   closeSession (nothing)
 *
 * The decoder checks every length and count against what is left and against
 * the bounds in txn_int.h, refuses unknown types, nested multis, bad paths
 * and trailing bytes: a record it accepts is one tree_apply can act on (or
 * refuse with ZDATAINCONSISTENCY), never one that makes it misbehave.
 */
#include <stdlib.h>
#include <string.h>

#include "txn_int.h"
#include "zerr.h"

static void put_acl(struct buf *b, const struct acl_list *a)
{
	int32_t i;

	buf_put_u32(b, (uint32_t)a->n);
	for (i = 0; i < a->n; i++) {
		buf_put_u32(b, (uint32_t)a->v[i].perms);
		buf_put_str(b, a->v[i].scheme);
		buf_put_str(b, a->v[i].id);
	}
}

static void put_body(struct buf *b, const struct txn_op *op)
{
	switch (op->type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
	case ZOP_CREATETTL:
		buf_put_str(b, op->path);
		buf_put_bytes(b, op->data, op->data_len);
		put_acl(b, &op->acl);
		buf_put_u32(b, (uint32_t)op->parent_cversion);
		buf_put_u64(b, (uint64_t)op->ephemeral_owner);
		buf_put_u8(b, (uint8_t)op->kind);
		buf_put_u8(b, (uint8_t)op->flags);
		buf_put_u64(b, (uint64_t)op->ttl_ms);
		break;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		buf_put_str(b, op->path);
		break;
	case ZOP_SETDATA:
		buf_put_str(b, op->path);
		buf_put_bytes(b, op->data, op->data_len);
		buf_put_u32(b, (uint32_t)op->version);
		break;
	case ZOP_SETACL:
		buf_put_str(b, op->path);
		put_acl(b, &op->acl);
		buf_put_u32(b, (uint32_t)op->version);
		break;
	case ZOP_CHECK:
		buf_put_str(b, op->path);
		buf_put_u32(b, (uint32_t)op->version);
		break;
	case QOP_SETMETA:
		buf_put_str(b, op->path);
		buf_put_u32(b, (uint32_t)op->child_kind);
		buf_put_u64(b, (uint64_t)op->child_ttl_ms);
		buf_put_u8(b, (uint8_t)op->dir);
		break;
	case ZOP_CREATESESSION:
		buf_put_u32(b, (uint32_t)op->timeout_ms);
		buf_put_str(b, op->owner ? op->owner : "");
		break;
	default: /* closeSession: no body */
		break;
	}
}

int txn_encode(const struct ztxn *t, struct buf *out)
{
	int32_t i;

	buf_put_u8(out, TXN_FORMAT);
	buf_put_u32(out, (uint32_t)t->type);
	buf_put_u64(out, t->zxid);
	buf_put_u64(out, (uint64_t)t->time_ms);
	buf_put_u64(out, (uint64_t)t->session);
	buf_put_u32(out, (uint32_t)t->cxid);
	if (t->type == ZOP_MULTI) {
		buf_put_u32(out, (uint32_t)t->n_ops);
		for (i = 0; i < t->n_ops; i++) {
			buf_put_u32(out, (uint32_t)t->ops[i].type);
			put_body(out, &t->ops[i]);
		}
	} else {
		put_body(out, &t->op);
	}
	return buf_failed(out) ? ZSYSTEMERROR : ZOK;
}

static int get_path(struct rd *r, char **out)
{
	*out = rd_str(r, TXN_MAX_PATH);
	if (!*out || !rd_ok(r) || path_validate(*out) != ZOK)
		return -1;
	return 0;
}

static int get_data(struct rd *r, struct txn_op *op)
{
	int32_t n;
	const void *p = rd_bytes(r, &n, ZNODE_MAX_DATA_STORED);

	if (!rd_ok(r))
		return -1;
	if (n < 0)
		op->data_len = -1; /* null, not empty */
	if (n > 0) {
		op->data = malloc((size_t)n);
		if (!op->data)
			return -1;
		memcpy(op->data, p, (size_t)n);
		op->data_len = n;
	}
	return 0;
}

static int get_acl(struct rd *r, struct acl_list *a)
{
	uint32_t n = rd_u32(r), i;

	if (!rd_ok(r) || n > TXN_MAX_ACL || n > r->left / 12)
		return -1;
	a->v = calloc(n ? n : 1, sizeof(*a->v));
	if (!a->v)
		return -1;
	for (i = 0; i < n; i++) {
		a->v[i].perms = (int32_t)rd_u32(r);
		a->v[i].scheme = rd_str(r, TXN_MAX_PATH);
		a->v[i].id = rd_str(r, TXN_MAX_PATH);
		a->n = (int32_t)i + 1;
		if (!a->v[i].scheme || !a->v[i].id || !rd_ok(r))
			return -1;
	}
	return 0;
}

static int get_body(struct rd *r, struct txn_op *op)
{
	switch (op->type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
	case ZOP_CREATETTL:
		if (get_path(r, &op->path) < 0 || get_data(r, op) < 0 ||
		    get_acl(r, &op->acl) < 0)
			return -1;
		op->parent_cversion = (int32_t)rd_u32(r);
		op->ephemeral_owner = (int64_t)rd_u64(r);
		op->kind = rd_u8(r);
		op->flags = rd_u8(r);
		op->ttl_ms = (int64_t)rd_u64(r);
		if (op->kind > ZNODE_TTL ||
		    (op->flags & ~(ZNODE_F_SEQUENTIAL | ZNODE_F_DIR)))
			return -1;
		break;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		return get_path(r, &op->path);
	case ZOP_SETDATA:
		if (get_path(r, &op->path) < 0 || get_data(r, op) < 0)
			return -1;
		op->version = (int32_t)rd_u32(r);
		break;
	case ZOP_SETACL:
		if (get_path(r, &op->path) < 0 || get_acl(r, &op->acl) < 0)
			return -1;
		op->version = (int32_t)rd_u32(r);
		break;
	case ZOP_CHECK:
		if (get_path(r, &op->path) < 0)
			return -1;
		op->version = (int32_t)rd_u32(r);
		break;
	case QOP_SETMETA:
		if (get_path(r, &op->path) < 0)
			return -1;
		op->child_kind = (int32_t)rd_u32(r);
		op->child_ttl_ms = (int64_t)rd_u64(r);
		op->dir = rd_u8(r);
		if (op->child_kind < -1 || op->child_kind > ZNODE_TTL || op->dir > 1)
			return -1;
		break;
	default:
		return -1;
	}
	return rd_ok(r) ? 0 : -1;
}

static int multi_sub_ok(int32_t type)
{
	return txn_is_create(type) || type == ZOP_DELETE || type == ZOP_SETDATA ||
	       type == ZOP_CHECK;
}

int txn_decode(const void *p, size_t n, struct ztxn **out)
{
	struct ztxn *t;
	struct rd r;
	uint32_t count, i;

	*out = NULL;
	rd_init(&r, p, n);
	if (rd_u8(&r) != TXN_FORMAT || !rd_ok(&r))
		return ZMARSHALLINGERROR;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ZMARSHALLINGERROR;
	t->type = (int32_t)rd_u32(&r);
	t->zxid = rd_u64(&r);
	t->time_ms = (int64_t)rd_u64(&r);
	t->session = (int64_t)rd_u64(&r);
	t->cxid = (int32_t)rd_u32(&r);
	if (!rd_ok(&r))
		goto err_after_txn;
	t->op.type = t->type;
	switch (t->type) {
	case ZOP_MULTI:
		count = rd_u32(&r);
		/* each op takes at least its type and a path length */
		if (!rd_ok(&r) || count > TXN_MAX_OPS || count > r.left / 8)
			goto err_after_txn;
		t->ops = calloc(count ? count : 1, sizeof(*t->ops));
		if (!t->ops)
			goto err_after_txn;
		t->n_ops = (int32_t)count;
		for (i = 0; i < count; i++) {
			t->ops[i].type = (int32_t)rd_u32(&r);
			if (!rd_ok(&r) || !multi_sub_ok(t->ops[i].type) ||
			    get_body(&r, &t->ops[i]) < 0)
				goto err_after_txn;
		}
		break;
	case ZOP_CREATESESSION:
		t->op.timeout_ms = (int32_t)rd_u32(&r);
		t->op.owner = rd_str(&r, TXN_MAX_PATH);
		if (!t->op.owner)
			goto err_after_txn;
		break;
	case ZOP_CLOSESESSION:
		break;
	default:
		if (get_body(&r, &t->op) < 0)
			goto err_after_txn;
		break;
	}
	if (!rd_ok(&r) || r.left != 0)
		goto err_after_txn;
	*out = t;
	return ZOK;

err_after_txn:
	txn_free(t);
	return ZMARSHALLINGERROR;
}
