/*
 * tree.h - the replicated state: the znode tree and its sessions, as
 * ZooKeeper's DataTree.
 *
 * The tree changes only through tree_apply() of a transaction (txn.h), in
 * zxid order, which is deterministic: every replica that applies the same
 * transactions holds the same tree. Everything here runs on the loop thread;
 * nothing locks.
 *
 * Readers (the FUSE side, the wire protocol) look nodes up directly and must
 * treat them as read-only; a node pointer is valid until the next
 * tree_apply().
 */
#ifndef QFS_TREE_H
#define QFS_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "zxid.h"

/*
 * The largest value, in the mount and on the wire alike: the largest that
 * every default ZooKeeper client can write and read back. Apache
 * ZooKeeper's Java client (ClientCnxnSocket) refuses a reply frame longer
 * than its jute.maxbuffer, default 0xfffff = 1,048,575 bytes, and a getData
 * reply frame is ReplyHeader (xid 4 + zxid 8 + err 4) + the data's length
 * word 4 + the data + Stat 68: data + 88 bytes. So 1,048,575 - 88 =
 * 1,048,487 bytes (measured: zkCli reads 1,048,487 and not 1,048,488; the
 * C client and kazoo read more). quorumfs(8), quorumfs.conf(5).
 */
#define ZNODE_MAX_DATA 1048487
/* The largest value a log record or snapshot may hold: what quorumfs
 * accepted before ZNODE_MAX_DATA was lowered to the above, so a data
 * directory written then still loads (its larger values stay readable). */
#define ZNODE_MAX_DATA_STORED (1024 * 1024)

/* ZooKeeper's Stat, fields in the order of zookeeper.jute's data.Stat. */
struct zstat {
	int64_t czxid;
	int64_t mzxid;
	int64_t ctime; /* ms since the epoch, from the creating txn's time */
	int64_t mtime;
	int32_t version;
	int32_t cversion;
	int32_t aversion;
	/* Session id of an ephemeral; 0 for a persistent node. As ZooKeeper's
	 * EphemeralType: INT64_MIN for a container, 0xff00000000000000 | ttl
	 * for a TTL node (use znode.kind rather than decoding this). */
	int64_t ephemeral_owner;
	int32_t data_length;
	int32_t num_children;
	int64_t pzxid;
};

/*
 * The Stat a client is shown, as ZooKeeper's DataNode.copyStat shows it,
 * on the wire and in the mount's xattrs alike. Stored, cversion counts the
 * children created (ZooKeeper's StatPersisted: the sequential counter);
 * shown, it counts child changes, 2 x creates - children (each child gone
 * was one create and one delete). The stored owner of a container
 * (INT64_MIN) or TTL node (0xff in the top byte) is a marker, shown as 0.
 */
static inline struct zstat zstat_shown(const struct zstat *s)
{
	struct zstat c = *s;
	const int64_t ttl_mask = (int64_t)0xff00000000000000ULL;

	c.cversion = 2 * s->cversion - s->num_children;
	if (s->ephemeral_owner == INT64_MIN ||
	    (s->ephemeral_owner & ttl_mask) == ttl_mask)
		c.ephemeral_owner = 0;
	return c;
}

enum znode_kind {
	ZNODE_PERSISTENT = 0,
	ZNODE_EPHEMERAL = 1,
	ZNODE_CONTAINER = 2,
	ZNODE_TTL = 3,
};

#define ZNODE_F_SEQUENTIAL 0x1 /* created with a sequential name */
#define ZNODE_F_DIR 0x2	       /* made by mkdir or has had a child: a directory forever */
/* The data is null, not empty: ZooKeeper keeps the difference (getData
 * answers a null buffer) although both have data_length 0. */
#define ZNODE_F_NULLDATA 0x4

struct znode {
	const char *path; /* "/" for the root */
	const char *name; /* last component (points into path); "" for the root */
	struct znode *parent;
	const void *data;
	struct zstat stat; /* stat.num_children and stat.data_length always current */
	struct acl_list acl;
	enum znode_kind kind;
	unsigned flags; /* ZNODE_F_* */
	int64_t ttl_ms; /* ZNODE_TTL only */
	/* What mkdir/creat make inside this node (user.quorumfs.child_kind). */
	enum znode_kind child_kind;
	int64_t child_ttl_ms;
	/* tree.c keeps its private fields after this point */
};

struct tree;

/* A change the tree made while applying a transaction, reported to the
 * listener in order. For ZNODE deletion `node` is NULL and `path` names it. */
enum tree_event_type {
	TREE_CREATED,  /* node created; parent's children changed */
	TREE_DELETED,  /* node deleted; parent's children changed */
	TREE_DATA,     /* data (and version) changed */
	TREE_ACL,      /* ACL changed */
	TREE_META,     /* child_kind or the directory mark changed */
};

struct tree_event {
	enum tree_event_type type;
	const char *path;	   /* borrowed, valid during the callback */
	const struct znode *node;  /* NULL for TREE_DELETED */
	int was_dir;		   /* TREE_DELETED: the node was a directory */
	zxid_t zxid;
	int64_t session_id; /* the session whose txn made the change (0: the server) */
};

typedef void (*tree_listener_fn)(void *arg, const struct tree_event *ev);

/* A new tree holding "/" and "/zookeeper" (and "/zookeeper/quota",
 * "/zookeeper/config"), as a fresh ZooKeeper has. NULL on ENOMEM. */
struct tree *tree_new(void);
void tree_free(struct tree *t);
void tree_set_listener(struct tree *t, tree_listener_fn fn, void *arg);

/* The node at an absolute path, or NULL. */
const struct znode *tree_lookup(const struct tree *t, const char *path);
/* Data bytes: stat.data_length of them at node->data. */

/*
 * The child names of a node, sorted bytewise, as a NULL-terminated array of
 * malloc'd strings (caller frees with tree_names_free). Returns 0 or -ENOMEM.
 */
int tree_children(const struct tree *t, const struct znode *n, char ***names,
		  size_t *count);
void tree_names_free(char **names);

/* The number of nodes below path, as getAllChildrenNumber. */
int64_t tree_descendants(const struct tree *t, const struct znode *n);

zxid_t tree_last_zxid(const struct tree *t);
size_t tree_node_count(const struct tree *t);

/* Sessions are replicated state too (created and closed by transactions). */
struct tree_session {
	int64_t id;
	int32_t timeout_ms;
	const char *owner; /* who opened it: "host/mount" or "ip:port"; borrowed */
};
/* NULL if the session is not open. */
const struct tree_session *tree_session_get(const struct tree *t, int64_t id);
/* Calls fn for each open session; stops and returns fn's value if non-zero. */
int tree_session_foreach(const struct tree *t,
			 int (*fn)(void *arg, const struct tree_session *s), void *arg);
/* Ephemeral paths of a session, sorted, NULL-terminated (free with
 * tree_names_free). Returns 0 or -ENOMEM. */
int tree_session_ephemerals(const struct tree *t, int64_t id, char ***paths,
			    size_t *count);

/*
 * Visit every node, parents before children, for snapshots. Stops and
 * returns fn's value if non-zero.
 */
int tree_walk(const struct tree *t, int (*fn)(void *arg, const struct znode *n),
	      void *arg);

/*
 * Restore from a snapshot: insert one node exactly as given (parent first),
 * with stat.data_length bytes at data (copied) and n->acl (copied).
 * stat.num_children is recomputed from the children loaded. The four nodes
 * tree_new() makes are overwritten in place instead. An ephemeral may come
 * before its session (tree_load_session); one whose session never comes can
 * still be released with a closeSession. Only for loading; bypasses
 * transactions and the listener. Returns 0, -EEXIST, -ENOENT (no parent),
 * -EINVAL (a path ZooKeeper would refuse, a bad kind, data_length > 0 with
 * no data) or -ENOMEM.
 */
int tree_load_node(struct tree *t, const struct znode *n, const void *data);
int tree_load_session(struct tree *t, int64_t id, int32_t timeout_ms, const char *owner);
void tree_set_last_zxid(struct tree *t, zxid_t z);

/*
 * What the reaper should delete (with ZOP_DELETECONTAINER, as ZooKeeper's
 * ContainerManager): containers without children that have had one
 * (cversion > 0), and TTL nodes without children whose mtime + ttl < now_ms.
 * fn gets each (borrowed, valid during the call); stops and returns fn's value
 * if non-zero. The tree keeps childless containers and TTL nodes on a list,
 * so the cost is that list's length, never the whole tree.
 */
int tree_reap_candidates(const struct tree *t, int64_t now_ms,
			 int (*fn)(void *arg, const struct znode *n), void *arg);

/* "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config": ZooKeeper's
 * DataTree.isSpecialPath; they can never be deleted. */
int tree_is_special_path(const char *path);

#endif
