/*
 * inode.c - the inode table: inode number <-> file path, lookup counts.
 *
 * Inode numbers come from the znode itself: (czxid << 2) | shape, where
 * shape bit 0 marks a directory and bit 1 a directory's .data file. zxids
 * are never reused, so a number names one znode incarnation, on every run
 * and every host: a znode deleted and made again has a new czxid and so a
 * new number, and one that became a directory (the shape never flips back)
 * gets a new one too. The generation is therefore always 1. The few nodes
 * a fresh tree starts with (czxid 0: /zookeeper and below) and ghosts (see
 * qfs_inode_ghost) get numbers below 2^32 from counters; real zxids are
 * above (epoch >= 1).
 *
 * The table holds what the kernel holds (nlookup > 0), plus the czxid-0
 * nodes, whose counter-given numbers must stay put; an entry is freed when
 * the kernel forgets it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"

#define QFS_INITIAL_BUCKETS 1024

static size_t hash_ino(uint64_t ino, size_t nb)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 20) & (nb - 1);
}

static size_t hash_path(const char *p, size_t nb)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (size_t)h & (nb - 1);
}

static void link_ino(struct qfs_mount *m, struct qfs_inode *in)
{
	size_t b = hash_ino(in->ino, m->nbuckets);

	in->ino_next = m->by_ino[b];
	m->by_ino[b] = in;
}

static void link_path(struct qfs_mount *m, struct qfs_inode *in)
{
	size_t b = hash_path(in->path, m->nbuckets);

	in->path_next = m->by_path[b];
	m->by_path[b] = in;
	in->hashed = 1;
}

static void unlink_path(struct qfs_mount *m, struct qfs_inode *in)
{
	struct qfs_inode **pp = &m->by_path[hash_path(in->path, m->nbuckets)];

	for (; *pp; pp = &(*pp)->path_next) {
		if (*pp == in) {
			*pp = in->path_next;
			break;
		}
	}
	in->path_next = NULL;
	in->hashed = 0;
}

static void unlink_ino(struct qfs_mount *m, struct qfs_inode *in)
{
	struct qfs_inode **pp = &m->by_ino[hash_ino(in->ino, m->nbuckets)];

	for (; *pp; pp = &(*pp)->ino_next) {
		if (*pp == in) {
			*pp = in->ino_next;
			return;
		}
	}
}

/* Double the buckets when the table is full; on ENOMEM keep the old ones
 * (longer chains, still correct). */
static void maybe_grow(struct qfs_mount *m)
{
	size_t nb = m->nbuckets * 2, i;
	struct qfs_inode **bi, **bp, *in, *next;

	if (m->ninodes < m->nbuckets)
		return;
	bi = calloc(nb, sizeof(*bi));
	bp = calloc(nb, sizeof(*bp));
	if (!bi || !bp) {
		free(bi);
		free(bp);
		return;
	}
	for (i = 0; i < m->nbuckets; i++) {
		for (in = m->by_ino[i]; in; in = next) {
			size_t b = hash_ino(in->ino, nb);

			next = in->ino_next;
			in->ino_next = bi[b];
			bi[b] = in;
		}
		for (in = m->by_path[i]; in; in = next) {
			size_t b = hash_path(in->path, nb);

			next = in->path_next;
			in->path_next = bp[b];
			bp[b] = in;
		}
	}
	free(m->by_ino);
	free(m->by_path);
	m->by_ino = bi;
	m->by_path = bp;
	m->nbuckets = nb;
}

static void inode_free(struct qfs_inode *in)
{
	free(in->path);
	free(in->zpath);
	free(in);
}

/* The znode a file path shows: itself, or for ".data" its directory. */
static char *zpath_of(const char *path, int is_data)
{
	char *zp = strdup(path);
	size_t n;

	if (zp && is_data) {
		/* strip "/.data"; the root's is "/.data" -> "/" */
		n = strlen(zp) - strlen(QFS_DATA_NAME) - 1;
		zp[n ? n : 1] = '\0';
	}
	return zp;
}

/* A new inode for path, in the number table only. NULL on ENOMEM. */
static struct qfs_inode *inode_new(struct qfs_mount *m, uint64_t ino, const char *path,
				   int is_data, int is_dir)
{
	struct qfs_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->ino = ino;
	in->path = strdup(path);
	if (!in->path)
		goto err_after_alloc;
	in->zpath = zpath_of(path, is_data);
	if (!in->zpath)
		goto err_after_path;
	in->is_data = is_data;
	in->is_dir = is_dir;
	maybe_grow(m);
	link_ino(m, in);
	m->ninodes++;
	return in;

err_after_path:
	free(in->path);
err_after_alloc:
	free(in);
	return NULL;
}

int qfs_inodes_init(struct qfs_mount *m)
{
	struct qfs_inode *root;

	m->nbuckets = QFS_INITIAL_BUCKETS;
	m->by_ino = calloc(m->nbuckets, sizeof(*m->by_ino));
	m->by_path = calloc(m->nbuckets, sizeof(*m->by_path));
	if (!m->by_ino || !m->by_path)
		return -ENOMEM;
	m->next_ino = QFS_INO_FIXED_FIRST;
	m->next_ghost = QFS_INO_GHOST_FIRST;
	root = inode_new(m, FUSE_ROOT_ID, "/", 0, 1);
	if (!root)
		return -ENOMEM;
	/* The kernel holds the root for the life of the mount. */
	root->nlookup = 1;
	root->pinned = 1;
	link_path(m, root);
	return 0;
}

void qfs_inodes_free(struct qfs_mount *m)
{
	size_t i;
	struct qfs_inode *in, *next;

	if (!m->by_ino)
		goto out;
	for (i = 0; i < m->nbuckets; i++) {
		for (in = m->by_ino[i]; in; in = next) {
			next = in->ino_next;
			inode_free(in);
		}
	}
out:
	free(m->by_ino);
	free(m->by_path);
	m->by_ino = m->by_path = NULL;
}

struct qfs_inode *qfs_inode_get(struct qfs_mount *m, uint64_t ino)
{
	struct qfs_inode *in = m->by_ino[hash_ino(ino, m->nbuckets)];

	while (in && in->ino != ino)
		in = in->ino_next;
	return in;
}

struct qfs_inode *qfs_inode_by_path(struct qfs_mount *m, const char *path)
{
	struct qfs_inode *in = m->by_path[hash_path(path, m->nbuckets)];

	while (in && strcmp(in->path, path) != 0)
		in = in->path_next;
	return in;
}

/* Free an inode the kernel no longer holds. */
static void maybe_free(struct qfs_mount *m, struct qfs_inode *in)
{
	if (in->nlookup || in->pinned)
		return;
	if (in->hashed)
		unlink_path(m, in);
	unlink_ino(m, in);
	m->ninodes--;
	inode_free(in);
}

void qfs_inode_unhash(struct qfs_mount *m, struct qfs_inode *in)
{
	if (!in->hashed || in->ino == FUSE_ROOT_ID)
		return;
	unlink_path(m, in);
	maybe_free(m, in);
}

static int same_znode(const struct qfs_inode *in, const struct znode *n, int is_data)
{
	int dir = qfs_node_is_dir(n) && !is_data;

	return in->czxid == n->stat.czxid && in->is_dir == dir;
}

/* The number of the file that shows n (its .data file if is_data); 0 for
 * a czxid-0 node, whose number comes from the table. */
static uint64_t ino_of(const struct znode *n, int is_data)
{
	if (!n->parent)
		return is_data ? QFS_INO_ROOT_DATA : FUSE_ROOT_ID;
	if (n->stat.czxid <= 0)
		return 0;
	return ((uint64_t)n->stat.czxid << 2) | (is_data ? 2 : 0) |
	       (qfs_node_is_dir(n) && !is_data ? 1 : 0);
}

uint64_t qfs_ino_number(struct qfs_mount *m, const char *path, const struct znode *n,
			int is_data)
{
	uint64_t ino = ino_of(n, is_data);
	struct qfs_inode *in;

	if (ino)
		return ino;
	/* A czxid-0 node's number comes from a counter: give it one now
	 * (its entry is pinned, so the number stays for the mount's life),
	 * or a listing would carry 0 and glibc would hide the name. */
	in = qfs_inode_by_path(m, path);
	if (!in || !same_znode(in, n, is_data))
		in = qfs_inode_for(m, path, n, is_data);
	return in ? in->ino : 0;
}

struct qfs_inode *qfs_inode_for(struct qfs_mount *m, const char *path,
				const struct znode *n, int is_data)
{
	struct qfs_inode *in = qfs_inode_by_path(m, path);
	uint64_t ino = ino_of(n, is_data);
	int dir = qfs_node_is_dir(n) && !is_data;
	char *p, *zp;

	/* An inode a rename moved here shows the new znode under its old
	 * number while the kernel holds it: the kernel knows it by that. */
	if (in && same_znode(in, n, is_data))
		return in;
	if (in)
		qfs_inode_unhash(m, in); /* an older incarnation */
	in = ino ? qfs_inode_get(m, ino) : NULL;
	if (in && !in->hashed && same_znode(in, n, is_data)) {
		/* held by the kernel, its znode known here again */
		p = strdup(path);
		zp = zpath_of(path, is_data);
		if (!p || !zp) {
			free(p);
			free(zp);
			return NULL;
		}
		free(in->path);
		free(in->zpath);
		in->path = p;
		in->zpath = zp;
		link_path(m, in);
		return in;
	}
	if (in)
		ino = 0; /* its number went elsewhere with a rename: a counter's */
	in = inode_new(m,
		       ino		    ? ino
		       : n->stat.czxid <= 0 ? m->next_ino++
					    : m->next_ghost++,
		       path, is_data, dir);
	if (!in)
		return NULL;
	in->czxid = n->stat.czxid;
	/* a czxid-0 node's number must not change */
	in->pinned = n->stat.czxid <= 0 && n->parent;
	link_path(m, in);
	return in;
}

struct qfs_inode *qfs_inode_ghost(struct qfs_mount *m, const char *path, int is_dir)
{
	struct qfs_inode *in = inode_new(m, m->next_ghost++, path, 0, is_dir);

	if (!in)
		return NULL;
	in->czxid = -1;
	in->last.st_mode = is_dir ? (S_IFDIR | 0755) : (S_IFREG | 0644);
	in->last.st_nlink = 1;
	in->last.st_ino = in->ino;
	in->last.st_uid = m->uid;
	in->last.st_gid = m->gid;
	return in;
}

int qfs_inode_move(struct qfs_mount *m, struct qfs_inode *in, const char *path,
		   const struct znode *n, int is_data)
{
	struct qfs_inode *old = qfs_inode_by_path(m, path);
	char *p = strdup(path), *zp = zpath_of(path, is_data);

	if (!p || !zp) {
		free(p);
		free(zp);
		return -ENOMEM;
	}
	if (old && old != in)
		qfs_inode_unhash(m, old);
	if (in->hashed)
		unlink_path(m, in);
	free(in->path);
	free(in->zpath);
	in->path = p;
	in->zpath = zp;
	in->is_data = is_data;
	in->czxid = n->stat.czxid;
	link_path(m, in);
	return 0;
}

void qfs_inode_forget(struct qfs_mount *m, uint64_t ino, uint64_t n)
{
	struct qfs_inode *in = qfs_inode_get(m, ino);

	if (!in)
		return;
	if (in->nlookup && n >= in->nlookup) {
		m->st.forgets++;
		in->release_queued = 0; /* done, or moot */
	}
	in->nlookup = n > in->nlookup ? 0 : in->nlookup - n;
	maybe_free(m, in);
}

const struct znode *qfs_inode_node(struct qfs_mount *m, struct qfs_inode *in)
{
	const struct znode *n;

	if (in->ino == FUSE_ROOT_ID)
		return tree_lookup(qcore_tree(m->core), "/");
	if (!in->hashed)
		return NULL;
	n = tree_lookup(qcore_tree(m->core), in->zpath);
	if (!n || !same_znode(in, n, in->is_data))
		return NULL;
	if (in->is_data && !qfs_node_is_dir(n))
		return NULL;
	return n;
}
