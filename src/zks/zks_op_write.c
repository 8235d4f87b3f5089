/*
 * zks_op_write.c - the write opcodes: translated into a struct zreq and
 * submitted to the core (qcore_submit), which prepares, logs and applies
 * them; the completion encodes the reply as FinalRequestProcessor does:
 *
 *   create                 CreateResponse{path}
 *   create2/TTL/container  Create2Response{path, stat}
 *   delete                 no body
 *   setData, check         SetDataResponse{stat}
 *   setACL                 SetACLResponse{stat}
 *   multi                  MultiResponse, header err always 0: on failure
 *                          every op is an ErrorResult (ZOK before the failing
 *                          op, its error, ZRUNTIMEINCONSISTENCY after)
 *   sync                   SyncResponse{path} once earlier writes applied
 *   reconfig               zks_reconfig.c
 *
 * The reply header's zxid is the last applied zxid when the reply is made.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

static void zks_write_done(void *arg, const struct zresult *res);

/*
 * A null Id string in an ACL as ""; kazoo writes every empty string as null
 * (CREATOR_ALL_ACL is auth with id ""), and ZooKeeper's fixupACL ignores
 * the id of "auth" entries. Returns 0 or -ENOMEM.
 */
static int zks_acl_nulls(struct acl_list *a)
{
	for (int32_t i = 0; i < a->n; i++) {
		if (!a->v[i].id && !(a->v[i].id = strdup("")))
			return -ENOMEM;
		if (!a->v[i].scheme && !(a->v[i].scheme = strdup("")))
			return -ENOMEM;
	}
	return 0;
}

/* A value over ZNODE_MAX_DATA is refused by the tree (ZBADARGUMENTS); say
 * why in the log, with the length and the limit. */
static void zks_log_too_big(const struct zks_conn *c, const struct zreq *q)
{
	if (q->data_len > ZNODE_MAX_DATA)
		log_warnx("zk: %s: %s %s with a value of %d bytes, over the largest "
			  "value (%d bytes): refused with ZBADARGUMENTS",
			  c->peer, q->op == ZOP_SETDATA ? "setData" : "create",
			  q->path ? q->path : "?", (int)q->data_len, ZNODE_MAX_DATA);
}

static int zks_submit(struct zks_req *r, const struct zreq *q)
{
	struct zks_conn *c = r->conn;
	int rc;

	zks_log_too_big(c, q);
	rc = qcore_submit(c->srv->core, c->session_id, r->xid, q, &c->auth,
			  zks_write_done, r);
	if (rc < 0) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	return ZKS_PENDING;
}

/* One multi result: MultiHeader + body. */
static void zks_put_op_result(struct buf *b, int32_t type, int32_t err, const char *path,
			      const struct zstat *st, int failed)
{
	struct jute_multi_header h = {type, 0, 0};

	if (failed) {
		h.type = ZOP_ERROR;
		h.err = err;
		jute_put_multi_header(b, &h);
		buf_put_u32(b, (uint32_t)err);
		return;
	}
	jute_put_multi_header(b, &h);
	switch (type) {
	case ZOP_CREATE:
		buf_put_str(b, path);
		break;
	case ZOP_CREATE2:
	case ZOP_CREATETTL:
	case ZOP_CREATECONTAINER:
		buf_put_str(b, path);
		zks_put_stat(b, st);
		break;
	case ZOP_SETDATA:
		zks_put_stat(b, st);
		break;
	default: /* delete, check: no body */
		break;
	}
}

static void zks_multi_reply(struct zks_req *r, const struct zresult *res)
{
	const struct jute_multi *m = &r->jr.multi;
	struct jute_multi_header end = {-1, 1, -1};
	int failed = res->err != ZOK;

	r->err = ZOK;
	r->always_body = 1;
	for (int32_t i = 0; i < m->n; i++) {
		int32_t err = ZOK;
		const char *path = NULL;
		struct zstat st;

		memset(&st, 0, sizeof(st));
		if (i < res->n_ops) {
			err = res->ops[i].err;
			path = res->ops[i].path;
			st = res->ops[i].stat;
		} else if (failed) {
			/* The core failed the whole multi without per-op results:
			 * blame the first op, as prepare would have. */
			err = i == 0 ? res->err : ZRUNTIMEINCONSISTENCY;
		}
		zks_put_op_result(&r->body, m->ops[i].type, err, path, &st, failed);
	}
	jute_put_multi_header(&r->body, &end);
}

static void zks_write_done(void *arg, const struct zresult *res)
{
	struct zks_req *r = arg;
	struct zks_conn *c = r->conn;

	if (c->dead) {
		zks_req_finish(r);
		return;
	}
	r->zxid = (int64_t)tree_last_zxid(qcore_tree(c->srv->core));
	if (r->type == ZOP_MULTI) {
		zks_multi_reply(r, res);
		zks_req_finish(r);
		return;
	}
	r->err = res->err;
	if (res->err == ZOK) {
		switch (r->type) {
		case ZOP_CREATE:
			buf_put_str(&r->body, res->path);
			break;
		case ZOP_CREATE2:
		case ZOP_CREATETTL:
		case ZOP_CREATECONTAINER:
			buf_put_str(&r->body, res->path);
			zks_put_stat(&r->body, &res->stat);
			break;
		case ZOP_SETDATA:
		case ZOP_SETACL:
		case ZOP_CHECK:
			zks_put_stat(&r->body, &res->stat);
			break;
		default:
			break;
		}
	}
	zks_req_finish(r);
}

int zks_op_create(struct zks_req *r)
{
	struct zreq q;

	memset(&q, 0, sizeof(q));
	q.op = r->type;
	if (r->type == ZOP_CREATETTL) {
		const struct jute_create_ttl_request *b = &r->jr.body.create_ttl_request;

		q.path = b->path;
		q.data = b->data.data;
		q.data_len = b->data.len;
		q.acl = &b->acl;
		q.mode = b->flags;
		q.ttl_ms = b->ttl;
	} else {
		const struct jute_create_request *b = &r->jr.body.create_request;

		q.path = b->path;
		q.data = b->data.data;
		q.data_len = b->data.len;
		q.acl = &b->acl;
		q.mode = b->flags;
	}
	if (!q.path)
		return -EPROTO;
	if (zks_acl_nulls((struct acl_list *)q.acl) < 0) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	return zks_submit(r, &q);
}

int zks_op_delete(struct zks_req *r)
{
	struct zreq q;

	memset(&q, 0, sizeof(q));
	q.op = ZOP_DELETE;
	q.path = r->jr.body.delete_request.path;
	q.version = r->jr.body.delete_request.version;
	if (!q.path)
		return -EPROTO;
	return zks_submit(r, &q);
}

int zks_op_set_data(struct zks_req *r)
{
	const struct jute_set_data_request *b = &r->jr.body.set_data_request;
	struct zreq q;

	memset(&q, 0, sizeof(q));
	q.op = ZOP_SETDATA;
	q.path = b->path;
	q.data = b->data.data;
	q.data_len = b->data.len;
	q.version = b->version;
	if (!q.path)
		return -EPROTO;
	return zks_submit(r, &q);
}

int zks_op_set_acl(struct zks_req *r)
{
	struct jute_set_acl_request *b = &r->jr.body.set_acl_request;
	struct zreq q;

	memset(&q, 0, sizeof(q));
	q.op = ZOP_SETACL;
	q.path = b->path;
	q.acl = &b->acl;
	q.version = b->version;
	if (!q.path)
		return -EPROTO;
	if (zks_acl_nulls(&b->acl) < 0) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	return zks_submit(r, &q);
}

int zks_op_check(struct zks_req *r)
{
	struct zreq q;

	memset(&q, 0, sizeof(q));
	q.op = ZOP_CHECK;
	q.path = r->jr.body.check_version_request.path;
	q.version = r->jr.body.check_version_request.version;
	if (!q.path)
		return -EPROTO;
	return zks_submit(r, &q);
}

/* One multi op as a zreq (pointers borrowed from the decoded request). */
static int zks_multi_op(const struct jute_multi_op *op, struct zreq *q)
{
	memset(q, 0, sizeof(*q));
	q->op = op->type;
	switch (op->type) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
		q->path = op->body.create_request.path;
		q->data = op->body.create_request.data.data;
		q->data_len = op->body.create_request.data.len;
		q->acl = &op->body.create_request.acl;
		q->mode = op->body.create_request.flags;
		break;
	case ZOP_CREATETTL:
		q->path = op->body.create_ttl_request.path;
		q->data = op->body.create_ttl_request.data.data;
		q->data_len = op->body.create_ttl_request.data.len;
		q->acl = &op->body.create_ttl_request.acl;
		q->mode = op->body.create_ttl_request.flags;
		q->ttl_ms = op->body.create_ttl_request.ttl;
		break;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		q->op = ZOP_DELETE;
		q->path = op->body.delete_request.path;
		q->version = op->body.delete_request.version;
		break;
	case ZOP_SETDATA:
		q->path = op->body.set_data_request.path;
		q->data = op->body.set_data_request.data.data;
		q->data_len = op->body.set_data_request.data.len;
		q->version = op->body.set_data_request.version;
		break;
	case ZOP_CHECK:
		q->path = op->body.check_version_request.path;
		q->version = op->body.check_version_request.version;
		break;
	default:
		/* getData/getChildren belong in multiRead; ZooKeeper fails the
		 * whole request ("Invalid type of op"). */
		return -EPROTO;
	}
	if (q->acl && zks_acl_nulls((struct acl_list *)q->acl) < 0)
		return -ENOMEM;
	return q->path ? 0 : -EPROTO;
}

int zks_op_multi(struct zks_req *r)
{
	const struct jute_multi *m = &r->jr.multi;
	struct zreq q, *ops;
	int rc;

	if (m->n == 0) {
		/* Nothing to apply: an empty MultiResponse, as ZooKeeper
		 * answers an empty transaction. */
		struct jute_multi_header end = {-1, 1, -1};

		r->always_body = 1;
		jute_put_multi_header(&r->body, &end);
		return ZKS_DONE;
	}
	ops = calloc((size_t)m->n, sizeof(*ops));
	if (!ops) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	for (int32_t i = 0; i < m->n; i++) {
		rc = zks_multi_op(&m->ops[i], &ops[i]);
		if (rc == 0)
			zks_log_too_big(r->conn, &ops[i]);
		if (rc == -ENOMEM) {
			r->err = ZSYSTEMERROR;
			rc = ZKS_DONE;
			goto out;
		}
		if (rc < 0)
			goto out;
	}
	memset(&q, 0, sizeof(q));
	q.op = ZOP_MULTI;
	q.ops = ops;
	q.n_ops = m->n;
	/* Kept until the reply: the core may prepare after qcore_submit
	 * returns, and q borrows from ops and r->jr. */
	r->multi_ops = ops;
	return zks_submit(r, &q);
out:
	free(ops);
	return rc;
}

static void zks_sync_done(void *arg, const struct zresult *res)
{
	struct zks_req *r = arg;
	struct zks_conn *c = r->conn;

	if (!c->dead) {
		r->err = res->err;
		r->zxid = (int64_t)tree_last_zxid(qcore_tree(c->srv->core));
		buf_put_str(&r->body, r->jr.body.sync_request.path);
	}
	zks_req_finish(r);
}

int zks_op_sync(struct zks_req *r)
{
	if (qcore_sync(r->conn->srv->core, zks_sync_done, r) < 0) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	return ZKS_PENDING;
}
