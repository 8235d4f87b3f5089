/*
 * rename.c - rename of a file as one multi-op transaction.
 *
 * ZooKeeper has no rename. A file moves as one multi: create the new name
 * with the old one's data, ACL and kind, delete the old name (at the version
 * read, so a concurrent change makes the rename fail with ESTALE rather
 * than lose it), and, if the new name exists, delete it first in the same
 * multi. Everyone sees the old state or the new one, so "sed -i" and
 * "mv tmp conf" replace a file atomically. Renaming onto a directory's
 * ".data" sets that directory's data instead of creating; renaming a
 * ".data" away empties it instead of deleting. A directory would
 * have to move with its whole subtree: EXDEV, so mv(1) falls back to copy
 * and remove.
 *
 * A file renamed while open for writing ("write tmp, rename over conf,
 * close", the atomic-replace idiom): its bytes are still in a handle's
 * buffer, not in the znode, so the rename carries that buffer as the new
 * name's data (as if committed just before, conditionally on the version
 * it started from), and the file's open handles follow it to the new name,
 * as a local file's descriptors do: later writes commit there.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"
#include "zerr.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

struct rename_ctx {
	fuse_req_t req;
	uint64_t src_ino;
	char *dst;
	int dst_is_data;
	int follow;	     /* its handles move too (handles_follow) */
	char *src_zpath;     /* the znode moved: its handles' zpath */
	int32_t src_version; /* its version, deleted (or emptied) at */
	int carry;	     /* the op that makes the new name's value */
	/* The handle whose buffer the rename carries, or NULL: compared by
	 * address only (it may be closed meanwhile), with a copy of what was
	 * carried (malloc'd), to tell whether it wrote more since. */
	const struct qfs_handle *fold;
	char *fold_buf;
	size_t fold_len;
};

/* The handles open on the file being renamed (inode ino, znode zpath);
 * the replay's write nothing and stay. */
static int handle_of(const struct qfs_handle *h, uint64_t ino, const char *zpath)
{
	return !h->replay && h->ino == ino && strcmp(h->zpath, zpath) == 0;
}

/* The handle whose uncommitted bytes the rename must carry: the one opened
 * last (the list's head first) of those holding a buffer not yet committed.
 * Others with uncommitted bytes commit them at close, at the new name
 * (handles_follow says how their versions carry over). Borrowed. */
static struct qfs_handle *pending_handle(struct qfs_mount *m, uint64_t ino,
					 const char *zpath)
{
	struct qfs_handle *h;

	for (h = m->handles; h; h = h->next)
		if (handle_of(h, ino, zpath) && h->writable && h->dirty && !h->failed)
			return h;
	return NULL;
}

/*
 * The rename is done: the source's handles now show the new name (znode
 * zpath, whose value the rename made at `version`). A commit's version must
 * mean the same there: the carried handle is based on that version, and so
 * is one based on the value moved if nothing was carried; any other base
 * (a value the carried bytes replaced, or one changed since) belongs to no
 * version of the new name, and its commit fails ESTALE as it would have
 * at the old one. The carried handle has nothing left to commit, unless
 * it was written again meanwhile.
 */
static void handles_follow(struct qfs_mount *m, const struct rename_ctx *c,
			   const char *zpath, int32_t version)
{
	struct qfs_handle *h;
	char *p;

	for (h = m->handles; h; h = h->next) {
		if (!handle_of(h, c->src_ino, c->src_zpath))
			continue;
		p = strdup(zpath);
		if (!p) {
			/* it stays at the vanished name: its close fails */
			h->base_version = QFS_VERSION_GONE;
			continue;
		}
		free(h->zpath);
		h->zpath = p;
		h->created = 0; /* the node it made is gone: nothing to undo */
		if (h == c->fold && h->dirty && h->len == c->fold_len &&
		    (!h->len || memcmp(h->buf, c->fold_buf, h->len) == 0)) {
			h->dirty = 0;
			h->written = 0;
		}
		if (h->base_version == -1)
			continue;
		if (h == c->fold || (!c->fold && h->base_version == c->src_version))
			h->base_version = version;
		else
			h->base_version = QFS_VERSION_GONE;
	}
}

static void ctx_free(struct rename_ctx *c)
{
	free(c->dst);
	free(c->src_zpath);
	free(c->fold_buf);
	free(c);
}

static void rename_done(void *arg, int err, const struct zresult *res)
{
	struct rename_ctx *c = arg;
	struct qfs_mount *m;
	struct qfs_inode *in;
	const struct znode *n;
	int32_t version;
	char *zp;

	if (err < 0)
		goto out;
	if (!err) {
		/* The kernel moved its inode to the new name: so do we, and it
		 * now shows the znode made there. */
		m = qfs_req_mount(c->req);
		in = c->src_ino ? qfs_inode_get(m, c->src_ino) : NULL;
		zp = c->dst_is_data ? qfs_path_parent(c->dst) : strdup(c->dst);
		n = zp ? tree_lookup(qcore_tree(m->core), zp) : NULL;
		if (in && n)
			qfs_inode_move(m, in, c->dst, n, c->dst_is_data);
		if (c->carry < res->n_ops)
			version = res->ops[c->carry].stat.version;
		else
			version = n ? n->stat.version : QFS_VERSION_GONE;
		if (in && zp && c->follow)
			handles_follow(m, c, zp, version);
		free(zp);
	}
	fuse_reply_err(c->req, err);
out:
	ctx_free(c);
}

static void create_op(struct zreq *op, const char *path, const struct znode *src)
{
	op->op = ZOP_CREATE;
	op->path = path;
	op->data = src->data ? src->data : "";
	op->data_len = src->stat.data_length;
	op->acl = &src->acl;
	switch (src->kind) {
	case ZNODE_EPHEMERAL:
		op->mode = ZCM_EPHEMERAL;
		break;
	case ZNODE_CONTAINER:
		op->mode = ZCM_CONTAINER;
		break;
	case ZNODE_TTL:
		op->mode = ZCM_PERSISTENT_WITH_TTL;
		op->ttl_ms = src->ttl_ms;
		break;
	default:
		op->mode = ZCM_PERSISTENT;
		break;
	}
}

void qfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *pin = qfs_inode_get(m, parent),
			 *npin = qfs_inode_get(m, newparent);
	struct qfs_inode *sin;
	struct qfs_handle *fold = NULL;
	const struct znode *src, *dst, *ndir;
	struct rename_ctx *c = NULL;
	struct zreq ops[3], zr;
	char *spath = NULL, *dpath = NULL;
	int n_ops = 0, carry = 0, own, err, to_data, from_data;

	if (!pin || !npin) {
		err = ESTALE;
		goto err_reply;
	}
	if (flags & ~RENAME_NOREPLACE) {
		err = EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT */
		goto err_reply;
	}
	if (qfs_from_replay(req)) {
		err = 0;
		goto err_reply;
	}
	spath = qfs_path_join(pin->path, name);
	dpath = qfs_path_join(npin->path, newname);
	if (!spath || !dpath) {
		err = ENOMEM;
		goto err_after_paths;
	}
	/* Moving a directory's .data away takes its data and leaves it empty
	 * (mv of a directory, copying, moves each file this way). */
	from_data = strcmp(name, QFS_DATA_NAME) == 0;
	src =
	    from_data ? qfs_inode_node(m, pin) : tree_lookup(qcore_tree(m->core), spath);
	ndir = qfs_inode_node(m, npin);
	if (!src || !ndir) {
		err = ENOENT;
		goto err_after_paths;
	}
	if (!from_data && qfs_node_is_dir(src)) {
		err = EXDEV;
		goto err_after_paths;
	}
	/* a rename makes and removes names: none under /zookeeper */
	if (qfs_path_system(src->path) || qfs_path_system(dpath)) {
		err = EPERM;
		goto err_after_paths;
	}
	if (strcmp(spath, dpath) == 0) {
		err = 0;
		goto err_after_paths;
	}
	/* Bytes written and not yet committed are the file's value to the
	 * writer: they move with it. A buffer started from a version changed
	 * since could not have been committed (ESTALE): nor can it move. */
	sin = qfs_inode_by_path(m, spath);
	own = sin && qfs_inode_node(m, sin) == src; /* not an older file's */
	if (own)
		fold = pending_handle(m, sin->ino, src->path);
	if (fold && fold->base_version != -1 && fold->base_version != src->stat.version) {
		err = ESTALE;
		goto err_after_paths;
	}
	memset(ops, 0, sizeof(ops));
	to_data = strcmp(newname, QFS_DATA_NAME) == 0;
	if (to_data) {
		if (flags & RENAME_NOREPLACE) {
			err = EEXIST;
			goto err_after_paths;
		}
		carry = n_ops;
		ops[n_ops].op = ZOP_SETDATA;
		ops[n_ops].path = ndir->path;
		ops[n_ops].data = src->data ? src->data : "";
		ops[n_ops].data_len = src->stat.data_length;
		ops[n_ops].version = -1;
		n_ops++;
	} else {
		err = qfs_name_check(newname);
		if (err)
			goto err_after_paths;
		if (path_validate(dpath) != ZOK) {
			err = EINVAL;
			goto err_after_paths;
		}
		dst = tree_lookup(qcore_tree(m->core), dpath);
		if (dst && (flags & RENAME_NOREPLACE)) {
			err = EEXIST;
			goto err_after_paths;
		}
		if (dst && qfs_node_is_dir(dst)) {
			err = EISDIR;
			goto err_after_paths;
		}
		if (dst) {
			ops[n_ops].op = ZOP_DELETE;
			ops[n_ops].path = dpath;
			ops[n_ops].version = dst->stat.version;
			n_ops++;
		}
		carry = n_ops;
		create_op(&ops[n_ops], dpath, src);
		if (from_data) {
			/* a directory's kind is not its data's: a new file */
			qfs_create_req(ndir, &ops[n_ops]);
			ops[n_ops].op = ZOP_CREATE;
		}
		n_ops++;
	}
	if (fold) {
		ops[carry].data = fold->buf ? fold->buf : "";
		ops[carry].data_len = (int32_t)fold->len;
	}
	if (from_data) {
		ops[n_ops].op = ZOP_SETDATA;
		ops[n_ops].path = src->path;
		ops[n_ops].data = "";
	} else {
		ops[n_ops].op = ZOP_DELETE;
		ops[n_ops].path = spath;
	}
	ops[n_ops].version = src->stat.version;
	n_ops++;

	c = calloc(1, sizeof(*c));
	if (!c) {
		err = ENOMEM;
		goto err_after_paths;
	}
	c->req = req;
	c->src_ino = sin ? sin->ino : 0;
	c->follow = own;
	c->dst = dpath;
	c->dst_is_data = to_data;
	c->src_zpath = strdup(src->path);
	c->src_version = src->stat.version;
	c->carry = carry;
	c->fold = fold;
	if (fold) {
		c->fold_len = fold->len;
		c->fold_buf = malloc(fold->len ? fold->len : 1);
		if (c->fold_buf && fold->len)
			memcpy(c->fold_buf, fold->buf, fold->len);
	}
	if (!c->src_zpath || (fold && !c->fold_buf)) {
		err = ENOMEM;
		goto err_after_ctx;
	}
	memset(&zr, 0, sizeof(zr));
	zr.op = ZOP_MULTI;
	zr.ops = ops;
	zr.n_ops = n_ops;
	err = qfs_submit(m, qfs_req_who(req), &zr, rename_done, c);
	if (err)
		goto err_after_ctx;
	free(spath);
	return;

err_after_ctx:
	free(c->src_zpath);
	free(c->fold_buf);
	free(c);
err_after_paths:
	free(spath);
	free(dpath);
err_reply:
	fuse_reply_err(req, err);
}
