/*
 * zkdb_int.h - what zkdb.c (the tree) gives zkdb_txn.c (the transactions)
 * beyond zkdb.h.
 */
#ifndef QFS_ZKDB_INT_H
#define QFS_ZKDB_INT_H

#include "zkdb.h"

/* The parent node of path, or NULL. */
struct zk_node *zkdb_parent(const struct zkdb *db, const char *path);
/* DataTree.deleteNode: a node without children goes, its parent's pzxid
 * moves up to zxid (never down), its cversion stays. A node that is missing
 * or has children is left (ZooKeeper records NONODE/NOTEMPTY). */
void zkdb_delete(struct zkdb *db, const char *path, int64_t zxid);
/* A deletion at zxid of a node the tree does not hold: only a fuzzy
 * snapshot gives that (the node went while the snapshot was being written,
 * after its parent was), so the parent's pzxid still lacks it; it moves up
 * to zxid as the deletion would have moved it. A node that exists is left. */
void zkdb_deleted_before(struct zkdb *db, const char *path, int64_t zxid);
/* DataTree.killSession: the session and its ephemerals go. */
int zkdb_kill_session(struct zkdb *db, int64_t id, int64_t zxid);

#endif
