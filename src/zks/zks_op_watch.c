/*
 * zks_op_watch.c - watch registration opcodes.
 *
 * setWatches / setWatches2 (xid -8) re-register a reconnecting client's
 * watches, checked against relativeZxid, the last zxid the client saw, as
 * ZooKeeper's DataTree.setWatches does; an event that happened while the
 * client was away fires at once instead of registering:
 *   data watch:  node gone -> NodeDeleted; mzxid > rel -> NodeDataChanged
 *   exist watch: node there -> NodeCreated
 *   child watch: node gone -> NodeDeleted; pzxid > rel -> NodeChildrenChanged
 *   persistent and persistent-recursive watches: registered as they are
 * Those events leave before the setWatches reply.
 *
 * addWatch{path, mode}: persistent (0) or persistent-recursive (1); answered
 * with ErrorResponse{0} as FinalRequestProcessor does.
 * removeWatches / checkWatches{path, type}: ZNOWATCHER when this connection
 * holds no such watch on the path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "zerr.h"
#include "zks_int.h"

static void zks_watch_or_fire(struct zks_req *r, const char *path, unsigned kind,
			      int32_t fire)
{
	struct zks_conn *c = r->conn;

	if (fire)
		zks_conn_notify(c, fire, ZKS_STATE_SYNC_CONNECTED, path);
	else if (c->srv->watches)
		zks_watch_add(c->srv->watches, path, c, kind);
}

int zks_op_set_watches(struct zks_req *r)
{
	struct tree *t = qcore_tree(r->conn->srv->core);
	const struct jute_strvec *data, *exist, *child, *pers = NULL, *rec = NULL;
	int64_t rel;

	if (r->type == ZOP_SETWATCHES2) {
		struct jute_set_watches2 *w = &r->jr.body.set_watches2;

		rel = w->relative_zxid;
		data = &w->data_watches;
		exist = &w->exist_watches;
		child = &w->child_watches;
		pers = &w->persistent_watches;
		rec = &w->persistent_recursive_watches;
	} else {
		struct jute_set_watches *w = &r->jr.body.set_watches;

		rel = w->relative_zxid;
		data = &w->data_watches;
		exist = &w->exist_watches;
		child = &w->child_watches;
	}
	for (int32_t i = 0; i < data->n; i++) {
		const struct znode *n = tree_lookup(t, data->v[i]);
		int32_t fire = !n		     ? ZKS_EV_DELETED
			       : n->stat.mzxid > rel ? ZKS_EV_DATA
						     : 0;

		zks_watch_or_fire(r, data->v[i], ZKS_W_DATA, fire);
	}
	for (int32_t i = 0; i < exist->n; i++) {
		const struct znode *n = tree_lookup(t, exist->v[i]);

		zks_watch_or_fire(r, exist->v[i], ZKS_W_DATA, n ? ZKS_EV_CREATED : 0);
	}
	for (int32_t i = 0; i < child->n; i++) {
		const struct znode *n = tree_lookup(t, child->v[i]);
		int32_t fire = !n		     ? ZKS_EV_DELETED
			       : n->stat.pzxid > rel ? ZKS_EV_CHILDREN
						     : 0;

		zks_watch_or_fire(r, child->v[i], ZKS_W_CHILD, fire);
	}
	for (int32_t i = 0; pers && i < pers->n; i++)
		zks_watch_or_fire(r, pers->v[i], ZKS_W_PERSIST, 0);
	for (int32_t i = 0; rec && i < rec->n; i++)
		zks_watch_or_fire(r, rec->v[i], ZKS_W_RECURSIVE, 0);
	r->err = ZOK;
	return ZKS_DONE;
}

int zks_op_add_watch(struct zks_req *r)
{
	const struct jute_add_watch_request *q = &r->jr.body.add_watch_request;
	struct zks_conn *c = r->conn;
	unsigned kind;

	if (!q->path)
		return -EPROTO;
	if (q->mode == JUTE_ADD_WATCH_PERSISTENT)
		kind = ZKS_W_PERSIST;
	else if (q->mode == JUTE_ADD_WATCH_PERSISTENT_RECURSIVE)
		kind = ZKS_W_RECURSIVE;
	else
		return -EPROTO; /* AddWatchMode.fromMode throws: no reply */
	if (c->srv->watches)
		zks_watch_add(c->srv->watches, q->path, c, kind);
	r->err = ZOK;
	buf_put_u32(&r->body, 0);
	return ZKS_DONE;
}

int zks_op_remove_watches(struct zks_req *r)
{
	struct zks_conn *c = r->conn;
	const char *path;
	int32_t type;

	/* CheckWatchesRequest and RemoveWatchesRequest have the same fields. */
	if (r->type == ZOP_CHECKWATCHES) {
		path = r->jr.body.check_watches_request.path;
		type = r->jr.body.check_watches_request.type;
	} else {
		path = r->jr.body.remove_watches_request.path;
		type = r->jr.body.remove_watches_request.type;
	}
	if (!path)
		return -EPROTO;
	if (type < ZKS_WT_CHILDREN || type > ZKS_WT_PERSISTENT_RECURSIVE) {
		r->err = ZBADARGUMENTS;
		return ZKS_DONE;
	}
	r->err = c->srv->watches ? zks_watch_remove(c->srv->watches, path, c, type,
						    r->type == ZOP_CHECKWATCHES)
				 : ZNOWATCHER;
	return ZKS_DONE;
}
