/* zkdb_txn.c - ZooKeeper's transactions applied to the offline DataTree,
 * as DataTree.processTxn (zkdb.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "txn.h"
#include "zkdb.h"
#include "zkdb_int.h"

#define ZK_MAX_FIELD (64 << 20) /* no jute field in a sane file is bigger */

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
	parent = path[0] == '/' && path[1] ? zkdb_parent(db, path) : NULL;
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

static int apply_one(struct zkdb *db, const struct zk_txnhdr *h, int32_t type,
		     struct rd *r, int depth, char *errbuf, size_t errlen);

/* CloseSessionTxn's paths2Delete, read after the session is gone: every
 * path left is one the tree lost before the close was replayed. */
static int close_paths(struct zkdb *db, struct rd *r, int64_t zxid)
{
	int32_t n = (int32_t)rd_u32(r), i;
	char *path;

	if (!rd_ok(r) || n < -1 || (n > 0 && (size_t)n > r->left / 4))
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		path = rd_str(r, ZK_MAX_FIELD);
		if (!rd_ok(r) || !path) {
			free(path);
			return -EBADMSG;
		}
		zkdb_deleted_before(db, path, zxid);
		free(path);
	}
	return 0;
}

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
		if (!rd_ok(r) || !path) {
			rc = -EBADMSG;
			break;
		}
		zkdb_delete(db, path, h->zxid);
		break;
	case ZOP_SETDATA:
	case ZOP_RECONFIG:
		path = rd_str(r, ZK_MAX_FIELD);
		data = rd_bytes(r, &len, ZK_MAX_FIELD);
		v = (int32_t)rd_u32(r);
		if (!rd_ok(r) || !path) {
			rc = -EBADMSG; /* path, read before the error, is freed below */
			break;
		}
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
		/* The session's ephemerals are what is deleted. 3.6+ also lists
		 * their paths (CloseSessionTxn): one missing from the tree went
		 * while a fuzzy snapshot was written, and its parent's pzxid
		 * must still move (ZooKeeper's own reload misses this; the live
		 * tree has it). */
		rc = zkdb_kill_session(db, h->client_id, h->zxid);
		if (!rc && r->left >= 4)
			rc = close_paths(db, r, h->zxid);
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
