/*
 * zkdb.h - an offline copy of Apache ZooKeeper's DataTree, for moving data
 * in and out of ZooKeeper's files (zksnap.c, zklog.c): nodes by path with
 * ZooKeeper's own stat fields, the ACL table, the sessions, and the
 * transaction apply of DataTree.processTxn / FileTxnSnapLog, which replays
 * a log over a fuzzy snapshot (a txn already reflected in the snapshot is
 * re-applied harmlessly: NODEEXISTS/NONODE are ignored as ZooKeeper does).
 *
 * Ownership: the zkdb owns every node, its path, data and ACL. Nothing here
 * does I/O; errors are negative errno with a message in the caller's buffer.
 */
#ifndef QFS_ZKDB_H
#define QFS_ZKDB_H

#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "tree.h"
#include "zxid.h"

/* EphemeralType: the special owners of containers and TTL nodes. */
#define ZK_OWNER_CONTAINER ((int64_t)INT64_MIN)
#define ZK_OWNER_EXT_MASK  0xff00000000000000ull
#define ZK_TTL_MASK	   0x000000ffffffffffull

struct zk_session;

struct zk_node {
	char *path;
	uint8_t *data;
	int32_t len;
	int null_data;
	int32_t acl;	 /* index into zkdb.acls */
	struct zstat st; /* num_children, data_length kept current */
	struct zk_node *hnext;
	/* An ephemeral is on its owner's list, so that closing a session
	 * costs its ephemerals, not the tree. */
	struct zk_session *owner;
	struct zk_node *eph_prev, *eph_next;
};

/* A session, or (live == 0) only the owner of ephemerals whose session the
 * file does not hold. */
struct zk_session {
	int64_t id;
	int32_t timeout_ms;
	int live;
	struct zk_node *eph;
	struct zk_session *hnext;
};

struct zkdb {
	struct zk_node **hash;
	size_t nhash, count;
	struct acl_list *acls; /* distinct ACLs; nodes refer by index */
	size_t nacls, capacls;
	struct zk_session **shash;
	size_t nshash, nsess, nsrec; /* buckets, live sessions, records */
	zxid_t zxid;		     /* last applied */
	uint64_t txns;		     /* transactions applied (statistics) */
	/* Called now and then while loading (may be NULL): nodes so far. */
	void (*progress)(void *arg, uint64_t nodes);
	void *progress_arg;
};

int zkdb_init(struct zkdb *db);
void zkdb_free(struct zkdb *db);

struct zk_node *zkdb_get(const struct zkdb *db, const char *path);
/* The index of acl in the table (added, deep-copied, if new); <0 on ENOMEM. */
int32_t zkdb_acl_index(struct zkdb *db, const struct acl_list *acl);
/* Insert a node as loaded from a snapshot (parent must exist, except for
 * "/"); data copied. -EEXIST, -ENOENT (no parent) or -ENOMEM. num_children
 * of the parent is counted up. */
int zkdb_insert(struct zkdb *db, const char *path, const void *data, int32_t len,
		int32_t acl, const struct zstat *st);
int zkdb_session_put(struct zkdb *db, int64_t id, int32_t timeout_ms);
void zkdb_session_del(struct zkdb *db, int64_t id);
int zkdb_session_has(const struct zkdb *db, int64_t id);
/* Calls fn for each live session; stops and returns fn's value if not 0. */
int zkdb_session_foreach(const struct zkdb *db,
			 int (*fn)(void *arg, const struct zk_session *s), void *arg);

/* ZooKeeper's TxnHeader. */
struct zk_txnhdr {
	int64_t client_id;
	int32_t cxid;
	int64_t zxid;
	int64_t time;
	int32_t type;
};

/*
 * Apply one transaction body (the bytes after the TxnHeader; trailing bytes,
 * such as 3.6's TxnDigest, are ignored) as DataTree.processTxn does.
 * Returns 0; -EBADMSG if the body does not decode (errbuf says why); -ENOMEM.
 * Outcomes ZooKeeper records as a txn error (node exists, no node) change
 * nothing and are not errors.
 */
int zkdb_apply(struct zkdb *db, const struct zk_txnhdr *h, const void *body, size_t n,
	       char *errbuf, size_t errlen);

/* Every node, sorted so that parents come before children (malloc'd array,
 * caller frees the array only). NULL on ENOMEM. */
struct zk_node **zkdb_sorted(const struct zkdb *db);

/* A ZooKeeper ephemeralOwner as a quorumfs kind and TTL. */
enum znode_kind zk_owner_kind(int64_t owner, int64_t *ttl_ms);

#endif
