/*
 * tree_int.h - the tree's private layout, shared by tree.c (storage and
 * queries), tree_apply.c (transactions) and prep.c (reads during prepare).
 * Nothing outside libqtree includes this.
 *
 * Memory per znode: one allocation holding struct tnode and the path, plus
 * one for the data (none when empty). ACL lists are interned and
 * reference-counted (most nodes share a handful of lists, as ZooKeeper's
 * ReferenceCountedACLCache). Children are a treap per parent keyed by name
 * (priority: the path hash), so add/remove are O(log k) and a sorted listing
 * is an in-order walk.
 */
#ifndef QFS_TREE_INT_H
#define QFS_TREE_INT_H

#include "tree.h"

/* ZooKeeper's EphemeralType encodings of ephemeralOwner. */
#define ZK_CONTAINER_OWNER INT64_MIN
#define ZK_TTL_OWNER_MASK  ((int64_t)0xff00000000000000ULL)
#define ZK_TTL_MAX	   0xffffffffffLL /* EphemeralType.TTL.maxValue() */

struct acl_ent {
	struct acl_list acl; /* owned */
	uint32_t hash;
	uint32_t refs;
	struct acl_ent *next;
};

struct tnode {
	struct znode z; /* first: a znode pointer is a tnode pointer */
	uint32_t hash;
	int listed;		    /* on a session's ephemeral list or the reap list */
	struct tnode *hnext;	    /* hash chain */
	struct tnode *left, *right; /* treap among the siblings */
	struct tnode *kids;	    /* treap root of the children */
	struct acl_ent *aclent;
	/* Ephemerals: the owner session's list. Containers and TTL nodes: the
	 * reap list while they have no children. Kinds exclude each other. */
	struct tnode *lprev, *lnext;
	char pathbuf[];
};

struct tsession {
	struct tree_session s;
	int open;	   /* 0: only holds ephemerals loaded before it */
	struct tnode *eph; /* list head */
	size_t n_eph;
	struct tsession *next;
	char *owner;
};

struct tree {
	struct tnode **buckets;
	size_t nbuckets, count;
	struct acl_ent **abuckets;
	size_t nabuckets, nacl;
	struct tsession **sbuckets;
	size_t nsbuckets, nsess;
	struct tnode *reap; /* list head */
	struct tnode *root;
	zxid_t last_zxid;
	tree_listener_fn fn;
	void *fn_arg;
};

static inline struct tnode *tnode_of(const struct znode *z)
{
	return (struct tnode *)z;
}

uint32_t tree_hash(const char *s, size_t n);
/* Lookup by (path, len): lets callers find a parent without copying. "" is
 * the root, as in ZooKeeper's node map. */
struct tnode *tree_find(const struct tree *t, const char *path, size_t len);

/*
 * Insert a node below its existing parent; copies data and interns acl.
 * Updates the parent's child count and directory mark, the session and reap
 * lists; the parent's cversion/pzxid are the caller's. Returns 0, -EEXIST,
 * -ENOENT or -ENOMEM.
 */
int tree_insert(struct tree *t, const char *path, const void *data, int32_t len,
		const struct acl_list *acl, const struct zstat *st, enum znode_kind kind,
		unsigned flags, int64_t ttl_ms, enum znode_kind child_kind,
		int64_t child_ttl_ms, struct tnode **out);
/* Unlink and free a leaf node; the parent's pzxid is the caller's. */
void tree_remove(struct tree *t, struct tnode *n);
/* Replace data (copied); 0 or -ENOMEM (node unchanged then). */
int tree_node_set_data(struct tree *t, struct tnode *n, const void *data, int32_t len);
/* Replace the ACL (interned); 0 or -ENOMEM (node unchanged then). */
int tree_node_set_acl(struct tree *t, struct tnode *n, const struct acl_list *acl);
/* Re-file a container/TTL node in the reap list after its children changed. */
void tree_reap_update(struct tree *t, struct tnode *n);

struct tsession *tree_session_find(const struct tree *t, int64_t id);
/* Open (or re-open) a session; 0 or -ENOMEM. */
int tree_session_open(struct tree *t, int64_t id, int32_t timeout_ms, const char *owner);
/* Forget a closed session once it holds no ephemerals. */
void tree_session_drop(struct tree *t, struct tsession *s);

void tree_emit(struct tree *t, enum tree_event_type type, const char *path,
	       const struct znode *node, int was_dir, zxid_t zxid, int64_t session_id);

/* Collect a session's ephemerals sorted by path (borrowed nodes; caller
 * frees the array). 0 or -ENOMEM. */
int tree_session_nodes(const struct tree *t, int64_t id, struct tnode ***out, size_t *n);

#endif
