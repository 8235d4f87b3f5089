/*
 * txn_int.h - the layout of a transaction, shared by prep.c (which builds
 * them), tree_apply.c (which applies them) and txn_codec.c (the log form).
 * Private to libqtree.
 */
#ifndef QFS_TXN_INT_H
#define QFS_TXN_INT_H

#include "txn.h"

/* One operation of a transaction; every pointer is owned by it. */
struct txn_op {
	int32_t type; /* ZOP_* / QOP_* */
	char *path;
	void *data;
	int32_t data_len;
	struct acl_list acl;
	/* setData/setACL: the version the node gets; check: the expected one */
	int32_t version;
	/* create */
	int32_t parent_cversion;
	int64_t ephemeral_owner;
	int32_t kind; /* enum znode_kind */
	uint32_t flags;
	int64_t ttl_ms;
	/* QOP_SETMETA */
	int32_t child_kind; /* -1: unchanged */
	int64_t child_ttl_ms;
	int32_t dir;
	/* createSession */
	int32_t timeout_ms;
	char *owner;
};

struct ztxn {
	zxid_t zxid;
	int64_t time_ms;
	int64_t session;
	int32_t cxid;
	int32_t type;
	struct txn_op op;   /* everything but a multi */
	struct txn_op *ops; /* multi */
	int32_t n_ops;
};

void txn_op_clear(struct txn_op *op);
int txn_is_create(int32_t type);

/* prep.c: drop the outstanding changes of transactions up to zxid, which
 * the tree now holds. */
void prep_applied(struct prep *p, zxid_t zxid);

/* Bounds of the log record (txn_codec.c). */
#define TXN_FORMAT   1
#define TXN_MAX_PATH (64 * 1024)
#define TXN_MAX_ACL  1024
#define TXN_MAX_OPS  (1 << 16)

#endif
