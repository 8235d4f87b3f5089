/*
 * zks_op_read.c - the read opcodes, answered from the local replica
 * (qcore_tree) on the loop thread, as ZooKeeper's FinalRequestProcessor
 * answers them:
 *
 *   exists       registers the watch (an exist watch) even when the node is
 *                missing, then ZNONODE; no ACL check
 *   getData      ZNONODE, then READ permission (ZNOAUTH), then the watch
 *   getChildren  likewise; getChildren2 adds the parent's stat
 *   getACL       ZNONODE, then READ or ADMIN permission
 *   getAllChildrenNumber  ZNONODE, READ permission, the descendant count
 *   getEphemerals the session's ephemeral paths under a prefix (a plain
 *                string prefix, as ZooKeeper's startsWith)
 *   multiRead    getData/getChildren ops, each answered on its own; a
 *                failing op is an ErrorResult and the others still run
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "zerr.h"
#include "zks_int.h"

static struct tree *zks_tree(struct zks_req *r)
{
	return qcore_tree(r->conn->srv->core);
}

/*
 * Register a watch. At clientMaxWatches (or out of memory) the read fails
 * with ZSYSTEMERROR instead of answering as if the watch were set: the
 * client must not wait for an event that will never come. ZooKeeper's own
 * limit errors (ZQUOTAEXCEEDED -125, ZTHROTTLEDOP -127) are not used: kazoo
 * 2.8 knows neither and drops its connection thread on an unknown code, and
 * the 3.8 C client has no name for -125. Returns ZOK or the error (r->err).
 */
static int zks_read_watch(struct zks_req *r, const char *path, unsigned kind)
{
	struct zks_conn *c = r->conn;

	if (!path || !c->srv->watches)
		return ZOK;
	if (zks_watch_add(c->srv->watches, path, c, kind) != ZOK)
		r->err = ZSYSTEMERROR;
	return r->err;
}

int zks_op_exists(struct zks_req *r)
{
	struct jute_exists_request *q = &r->jr.body.exists_request;
	const struct znode *n;

	if (!q->path)
		return -EPROTO;
	n = tree_lookup(zks_tree(r), q->path);
	if (q->watch && zks_read_watch(r, q->path, ZKS_W_DATA) != ZOK)
		return ZKS_DONE;
	if (!n) {
		r->err = ZNONODE;
		return ZKS_DONE;
	}
	zks_put_stat(&r->body, &n->stat);
	return ZKS_DONE;
}

/* The node at path that auth may read, or NULL with r->err set. */
static const struct znode *zks_readable(struct zks_req *r, const char *path)
{
	const struct znode *n = path ? tree_lookup(zks_tree(r), path) : NULL;

	if (!n) {
		r->err = ZNONODE;
		return NULL;
	}
	if (acl_check(&n->acl, &r->conn->auth, ZPERM_READ) != ZOK) {
		r->err = ZNOAUTH;
		return NULL;
	}
	return n;
}

/* GetDataResponse{data, stat} into b; ZOK or the error. */
static int zks_get_data(struct zks_req *r, const struct jute_get_data_request *q,
			struct buf *b)
{
	const struct znode *n = zks_readable(r, q->path);

	if (!n)
		return r->err;
	if (q->watch && zks_read_watch(r, q->path, ZKS_W_DATA) != ZOK)
		return r->err;
	/* ZooKeeper answers what the client stored: null stays null. */
	if (n->flags & ZNODE_F_NULLDATA)
		buf_put_bytes(b, NULL, -1);
	else if (n->stat.data_length == 0)
		buf_put_u32(b, 0);
	else
		buf_put_bytes(b, n->data, n->stat.data_length);
	zks_put_stat(b, &n->stat);
	return ZOK;
}

int zks_op_get_data(struct zks_req *r)
{
	if (!r->jr.body.get_data_request.path)
		return -EPROTO;
	zks_get_data(r, &r->jr.body.get_data_request, &r->body);
	return ZKS_DONE;
}

/* GetChildrenResponse (with_stat: GetChildren2Response) into b. */
static int zks_get_children(struct zks_req *r, const char *path, int watch, int with_stat,
			    struct buf *b)
{
	const struct znode *n = zks_readable(r, path);
	char **names = NULL;
	size_t count = 0;

	if (!n)
		return r->err;
	if (tree_children(zks_tree(r), n, &names, &count) < 0) {
		r->err = ZSYSTEMERROR;
		return r->err;
	}
	if (watch && zks_read_watch(r, path, ZKS_W_CHILD) != ZOK) {
		tree_names_free(names);
		return r->err;
	}
	buf_put_u32(b, (uint32_t)count);
	for (size_t i = 0; i < count; i++)
		buf_put_str(b, names[i]);
	tree_names_free(names);
	if (with_stat)
		zks_put_stat(b, &n->stat);
	return ZOK;
}

int zks_op_get_children(struct zks_req *r)
{
	const char *path;
	int watch;

	if (r->type == ZOP_GETCHILDREN2) {
		path = r->jr.body.get_children2_request.path;
		watch = r->jr.body.get_children2_request.watch;
	} else {
		path = r->jr.body.get_children_request.path;
		watch = r->jr.body.get_children_request.watch;
	}
	if (!path)
		return -EPROTO;
	zks_get_children(r, path, watch, r->type == ZOP_GETCHILDREN2, &r->body);
	return ZKS_DONE;
}

int zks_op_get_acl(struct zks_req *r)
{
	const char *path = r->jr.body.get_acl_request.path;
	const struct znode *n;

	if (!path)
		return -EPROTO;
	n = tree_lookup(zks_tree(r), path);
	if (!n) {
		r->err = ZNONODE;
		return ZKS_DONE;
	}
	/* ZOOKEEPER-1392: reading an ACL needs READ or ADMIN on the node. */
	if (acl_check(&n->acl, &r->conn->auth, ZPERM_READ) != ZOK &&
	    acl_check(&n->acl, &r->conn->auth, ZPERM_ADMIN) != ZOK) {
		r->err = ZNOAUTH;
		return ZKS_DONE;
	}
	/* Without ADMIN the digest hashes are masked ("user:x"), so a reader
	 * cannot brute-force passwords offline. */
	buf_put_u32(&r->body, (uint32_t)n->acl.n);
	for (int32_t i = 0; i < n->acl.n; i++) {
		struct zacl a = n->acl.v[i];
		char *masked = NULL;

		if (strcmp(a.scheme, "digest") == 0 &&
		    acl_check(&n->acl, &r->conn->auth, ZPERM_ADMIN) != ZOK) {
			const char *colon = strchr(a.id, ':');
			size_t ulen = colon ? (size_t)(colon - a.id) : strlen(a.id);

			masked = malloc(ulen + 3);
			if (!masked) {
				r->body.failed = 1;
				break;
			}
			memcpy(masked, a.id, ulen);
			memcpy(masked + ulen, ":x", 3);
			a.id = masked;
		}
		jute_put_acl(&r->body, &a);
		free(masked);
	}
	zks_put_stat(&r->body, &n->stat);
	return ZKS_DONE;
}

int zks_op_get_all_children_number(struct zks_req *r)
{
	const struct znode *n =
	    zks_readable(r, r->jr.body.get_all_children_number_request.path);

	if (!r->jr.body.get_all_children_number_request.path)
		return -EPROTO;
	if (!n)
		return ZKS_DONE;
	buf_put_u32(&r->body, (uint32_t)tree_descendants(zks_tree(r), n));
	return ZKS_DONE;
}

int zks_op_get_ephemerals(struct zks_req *r)
{
	const char *prefix = r->jr.body.get_ephemerals_request.prefix_path;
	char **paths = NULL;
	size_t count = 0, n = 0, plen;
	size_t off;

	if (tree_session_ephemerals(zks_tree(r), r->conn->session_id, &paths, &count) <
	    0) {
		r->err = ZSYSTEMERROR;
		return ZKS_DONE;
	}
	if (!prefix || strcmp(prefix, "/") == 0)
		prefix = "";
	plen = strlen(prefix);
	off = r->body.len;
	buf_put_u32(&r->body, 0);
	for (size_t i = 0; i < count; i++) {
		if (strncmp(paths[i], prefix, plen) != 0)
			continue;
		buf_put_str(&r->body, paths[i]);
		n++;
	}
	tree_names_free(paths);
	if (!buf_failed(&r->body)) {
		r->body.data[off] = (uint8_t)(n >> 24);
		r->body.data[off + 1] = (uint8_t)(n >> 16);
		r->body.data[off + 2] = (uint8_t)(n >> 8);
		r->body.data[off + 3] = (uint8_t)n;
	}
	return ZKS_DONE;
}

int zks_op_multi_read(struct zks_req *r)
{
	const struct jute_multi *m = &r->jr.multi;
	struct buf one;

	buf_init(&one);
	for (int32_t i = 0; i < m->n; i++) {
		const struct jute_multi_op *op = &m->ops[i];
		struct jute_multi_header h = {op->type, 0, 0};
		int err;

		buf_reset(&one);
		r->err = ZOK;
		if (op->type == ZOP_GETDATA)
			err = zks_get_data(r, &op->body.get_data_request, &one);
		else if (op->type == ZOP_GETCHILDREN)
			err = zks_get_children(r, op->body.get_children_request.path,
					       op->body.get_children_request.watch, 0,
					       &one);
		else
			err = ZBADARGUMENTS;
		if (err != ZOK) {
			h.type = ZOP_ERROR;
			h.err = err;
			jute_put_multi_header(&r->body, &h);
			buf_put_u32(&r->body, (uint32_t)err);
		} else {
			jute_put_multi_header(&r->body, &h);
			buf_put(&r->body, one.data, one.len);
		}
	}
	{
		struct jute_multi_header end = {-1, 1, -1};

		jute_put_multi_header(&r->body, &end);
	}
	if (buf_failed(&one))
		r->body.failed = 1;
	buf_free(&one);
	r->err = ZOK;
	return ZKS_DONE;
}
