/*
 * txn.h - requests, transactions, and the two steps between them.
 *
 * A write request (struct zreq: what a client asked) is *prepared* against
 * the tree as it will be once every transaction prepared before it has been
 * applied (ZooKeeper's PrepRequestProcessor with its outstanding-change
 * records): checks (existence, versions, ACLs, names, ephemeral parents) run
 * there, sequential names and times are fixed there, and the outcome is a
 * transaction (struct ztxn) carrying everything tree_apply() needs, or a
 * ZooKeeper error. Transactions are what is logged and replicated; applying
 * one is deterministic and cannot fail except for a corrupt log.
 *
 * Opcodes are ZooKeeper's (ZooDefs.OpCode); QOP_* are quorumfs's own and never
 * appear on the client wire.
 */
#ifndef QFS_TXN_H
#define QFS_TXN_H

#include <stdint.h>

#include "acl.h"
#include "buf.h"
#include "tree.h"
#include "zxid.h"

enum zop {
	ZOP_NOTIFICATION = 0,
	ZOP_CREATE = 1,
	ZOP_DELETE = 2,
	ZOP_EXISTS = 3,
	ZOP_GETDATA = 4,
	ZOP_SETDATA = 5,
	ZOP_GETACL = 6,
	ZOP_SETACL = 7,
	ZOP_GETCHILDREN = 8,
	ZOP_SYNC = 9,
	ZOP_PING = 11,
	ZOP_GETCHILDREN2 = 12,
	ZOP_CHECK = 13,
	ZOP_MULTI = 14,
	ZOP_CREATE2 = 15,
	ZOP_RECONFIG = 16,
	ZOP_CHECKWATCHES = 17,
	ZOP_REMOVEWATCHES = 18,
	ZOP_CREATECONTAINER = 19,
	ZOP_DELETECONTAINER = 20,
	ZOP_CREATETTL = 21,
	ZOP_MULTIREAD = 22,
	ZOP_AUTH = 100,
	ZOP_SETWATCHES = 101,
	ZOP_SASL = 102,
	ZOP_GETEPHEMERALS = 103,
	ZOP_GETALLCHILDRENNUMBER = 104,
	ZOP_SETWATCHES2 = 105,
	ZOP_ADDWATCH = 106,
	ZOP_WHOAMI = 107,
	ZOP_CREATESESSION = -10,
	ZOP_CLOSESESSION = -11,
	ZOP_ERROR = -1,
	/* Set a node's child_kind and/or directory mark (user.quorumfs.*). */
	QOP_SETMETA = 1001,
	/* quorumfs's own client request: an online backup, streamed in
	 * chunks (src/zks/zks_backup.c; quorumctl backup). */
	QOP_BACKUP = 1002,
};

/* ZooKeeper's CreateMode, as sent in create requests. */
enum zcreate_mode {
	ZCM_PERSISTENT = 0,
	ZCM_EPHEMERAL = 1,
	ZCM_PERSISTENT_SEQUENTIAL = 2,
	ZCM_EPHEMERAL_SEQUENTIAL = 3,
	ZCM_CONTAINER = 4,
	ZCM_PERSISTENT_WITH_TTL = 5,
	ZCM_PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
};

/*
 * A write request. All pointers are borrowed from the caller for the
 * duration of txn_prepare() only.
 *   create/create2/createContainer/createTTL: path, data, acl, mode, ttl, dir
 *   delete, check: path, version (-1: any)
 *   setData: path, data, version
 *   setACL: path, acl, version (of the ACL: aversion)
 *   multi: ops[n_ops] (create, delete, setData, check only; nesting refused)
 *   createSession: timeout_ms, owner;  closeSession: session_id in txn_prepare
 *   QOP_SETMETA: path, child_kind/child_ttl_ms (child_kind -1: unchanged), dir
 */
struct zreq {
	int32_t op;
	const char *path;
	const void *data;
	int32_t data_len;
	const struct acl_list *acl;
	int32_t mode; /* enum zcreate_mode */
	int64_t ttl_ms;
	int32_t version;
	int dir; /* create: mark as a directory; SETMETA: set the mark */
	int32_t child_kind;
	int64_t child_ttl_ms;
	const struct zreq *ops;
	int32_t n_ops;
	int32_t timeout_ms;
	const char *owner;
};

/* The result of one applied (or failed) operation. */
struct zop_result {
	int32_t op;
	int32_t err; /* ZOK or a ZooKeeper error */
	char *path;  /* create: the name actually made (sequential suffix) */
	struct zstat stat;
};

/*
 * What a write returns: err is ZOK or the first error; for a multi, ops holds
 * one entry per op (on failure the failing op has its error and the others
 * ZOK before it / ZRUNTIMEINCONSISTENCY after it, as ZooKeeper reports).
 */
struct zresult {
	int32_t err;
	zxid_t zxid;
	char *path;
	struct zstat stat;
	int64_t session_id; /* createSession: the new id */
	struct zop_result *ops;
	int32_t n_ops;
};
void zresult_free(struct zresult *r);

/* A transaction: opaque outside txn*.c; encoded for the log with txn_encode. */
struct ztxn;

zxid_t txn_zxid(const struct ztxn *t);
int32_t txn_type(const struct ztxn *t);
/* The node of a one-op transaction (NULL for a multi or a session's). */
const char *txn_path(const struct ztxn *t);
int64_t txn_session(const struct ztxn *t);
int64_t txn_time(const struct ztxn *t); /* ms since the epoch, fixed at prepare */
void txn_free(struct ztxn *t);

/* Prepared-state tracking over one tree (the outstanding changes). */
struct prep;
struct prep *prep_new(struct tree *t);
void prep_free(struct prep *p);

/*
 * Prepare req as session `session_id` (cxid: the client's xid, kept in the
 * txn header) with identity auth, to become transaction zxid at time now_ms.
 * Returns ZOK and a new transaction in *out (caller owns it; it must later be
 * applied or discarded with prep_abort in order), or a ZooKeeper error with
 * *out NULL and, for a multi, the per-op results in *res (caller frees).
 * *res is always initialised (zresult_free is safe on it).
 *
 * zxids must grow from one successful prepare to the next; a failed prepare
 * consumes none (the next request may reuse its zxid). Beyond ZooKeeper's
 * own checks (in its order: PrepRequestProcessor.pRequest2Txn):
 *   - session_id 0 is the server itself (the reaper): always allowed, owns
 *     no ephemerals. Any other session must be open (a createSession applied
 *     or prepared) and not closing, else ZSESSIONEXPIRED (checkSession).
 *   - createSession: session_id is the new id, chosen by the caller;
 *     ZBADARGUMENTS if 0 or already open. closeSession: ZBADARGUMENTS for 0,
 *     ZSESSIONEXPIRED if unknown or already closing.
 *   - data longer than ZNODE_MAX_DATA: ZBADARGUMENTS (ZooKeeper drops the
 *     connection instead; map it to EFBIG before submitting).
 *   - a read opcode: ZUNIMPLEMENTED; a multi op other than create*, delete,
 *     setData, check: ZBADARGUMENTS.
 *   - ZooKeeper's rules for its own nodes: "/", "/zookeeper",
 *     "/zookeeper/quota", "/zookeeper/config" cannot be deleted
 *     (ZBADARGUMENTS); /zookeeper/config is world:anyone:r, so only the
 *     superuser writes it; anything else below /zookeeper obeys its ACL only.
 *   - deleting a child moves the parent's pzxid but not its cversion
 *     (DataTree.deleteNode), so sequential numbers are never reused.
 *   - deleteContainer (the reaper) needs no ACL; ZNOTEMPTY if the node has
 *     children, ZBADVERSION for an ephemeral.
 *   - QOP_SETMETA needs ADMIN; child_kind on a node that is not a directory
 *     (and not being marked one by the same request) is ZBADARGUMENTS.
 */
int txn_prepare(struct prep *p, const struct zreq *req, const struct zauth *auth,
		int64_t session_id, int32_t cxid, zxid_t zxid, int64_t now_ms,
		struct ztxn **out, struct zresult *res);

/* Forget the outstanding changes of transactions above zxid (they will never
 * be applied: a lost leadership or a failed disk write). */
void prep_abort(struct prep *p, zxid_t above);

/*
 * Apply a transaction to the tree (and tell the prep layer it is applied; p
 * may be NULL when nothing is prepared, e.g. replaying a log). Fills *res
 * (caller frees with zresult_free). Returns ZOK, or ZDATAINCONSISTENCY if
 * the transaction does not fit the tree (tree_txn_fits: a tree that differs
 * from the one it was prepared against, or a zxid not above
 * tree_last_zxid()), and then nothing changed and no event was raised, or
 * ZSYSTEMERROR when out of memory (a multi may then have been applied in
 * part). On error tree_last_zxid() does not move; p forgets what was
 * prepared for the transaction either way.
 */
int tree_apply(struct tree *t, struct prep *p, const struct ztxn *txn, struct zresult *res);

/* Would tree_apply apply the whole transaction? 1 yes, 0 no (the first op
 * that fails, after the ops before it in a multi, finds a node missing or
 * present, a parent that cannot have it, children left, an unknown
 * session), -1 out of memory. Reads only the tree and the transaction. */
int tree_txn_fits(const struct tree *t, const struct ztxn *txn);

/* The log record of a transaction: appended to out. */
int txn_encode(const struct ztxn *t, struct buf *out);
/* Decode a log record (borrowed bytes); every length checked. Returns ZOK and
 * a new transaction, or ZMARSHALLINGERROR. */
int txn_decode(const void *p, size_t n, struct ztxn **out);

/* Path rules (ZooKeeper's PathUtils.validatePath): ZOK or ZBADARGUMENTS. */
int path_validate(const char *path);

#endif
