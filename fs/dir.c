/*
 * dir.c - directories: mkdir, rmdir, unlink, listing.
 *
 * mkdir makes a znode marked as a directory, of the kind the parent's
 * child_kind says; rmdir and unlink delete (ZooKeeper refuses a node with
 * children: ENOTEMPTY). A listing shows ".", "..", ".data" (the directory's
 * own data) and the children, as they were when the directory was opened.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"
#include "zerr.h"

void qfs_create_req(const struct znode *parent, struct zreq *zr)
{
	zr->acl = acl_open_unsafe();
	switch (parent->child_kind) {
	case ZNODE_EPHEMERAL:
		zr->op = ZOP_CREATE2;
		zr->mode = ZCM_EPHEMERAL;
		break;
	case ZNODE_CONTAINER:
		zr->op = ZOP_CREATECONTAINER;
		zr->mode = ZCM_CONTAINER;
		break;
	case ZNODE_TTL:
		zr->op = ZOP_CREATETTL;
		zr->mode = ZCM_PERSISTENT_WITH_TTL;
		zr->ttl_ms = parent->child_ttl_ms;
		break;
	default:
		zr->op = ZOP_CREATE2;
		zr->mode = ZCM_PERSISTENT;
		break;
	}
}

/* A new child's path under the directory inode `parent`, checked: the
 * reserved name and ZooKeeper's path rules. Returns 0 or an errno. */
void qfs_replay_entry(fuse_req_t req, struct qfs_mount *m, const char *path, int is_dir,
		      struct fuse_file_info *fi)
{
	const struct znode *n = tree_lookup(qcore_tree(m->core), path);
	struct qfs_inode *in;
	struct qfs_handle *h = NULL;
	struct fuse_entry_param e;
	int fresh;

	/* Made already (that is what is being replayed); if it went again
	 * since, a ghost keeps the kernel's view in step until the deletion
	 * is replayed in turn. */
	in = n ? qfs_inode_for(m, path, n, 0) : qfs_inode_ghost(m, path, is_dir);
	if (!in)
		goto err_nomem;
	if (!fi) {
		qfs_reply_entry(req, in, n);
		return;
	}
	h = qfs_handle_new(m, in->ino, path);
	if (!h)
		goto err_nomem;
	h->replay = 1;
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	memset(&e, 0, sizeof(e));
	e.ino = in->ino;
	e.generation = 1; /* numbers are never reused */
	if (n) {
		qfs_fill_stat(m, qfs_req_who(req), n, 0, in->ino, &e.attr);
		in->last = e.attr;
		e.attr_timeout = m->attr_timeout;
		/* entry_timeout 0, and released after: qfs_reply_entry */
	} else {
		e.attr = in->last;
	}
	fresh = in->nlookup == 0;
	if (fuse_reply_create(req, &e, fi) == 0) {
		in->nlookup++;
		if (n && fresh)
			qfs_replay_release(m, in);
	} else {
		qfs_handle_free(h);
	}
	return;
err_nomem:
	fuse_reply_err(req, ENOMEM);
}

struct mkdir_ctx {
	fuse_req_t req;
	char *path;
};

static void mkdir_done(void *arg, int err, const struct zresult *res)
{
	struct mkdir_ctx *c = arg;
	struct qfs_mount *m;
	const struct znode *n;
	struct qfs_inode *in;

	if (err < 0)
		goto out;
	if (err) {
		fuse_reply_err(c->req, err);
		goto out;
	}
	m = qfs_req_mount(c->req);
	n = tree_lookup(qcore_tree(m->core), c->path);
	if (!n) {
		/* made and gone again before the reply (a TTL of 0?) */
		fuse_reply_err(c->req, ENOENT);
		goto out;
	}
	in = qfs_inode_for(m, c->path, n, 0);
	if (!in)
		fuse_reply_err(c->req, ENOMEM);
	else
		qfs_reply_entry(c->req, in, n);
out:
	free(c->path);
	free(c);
}

/* mkdir (dir = 1) and mknod of a regular file (dir = 0). */
static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name, int dir)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *pin;
	const struct znode *pn;
	struct mkdir_ctx *c;
	struct zreq zr;
	char *path;
	int err;

	err = qfs_child_path(m, parent, name, qfs_from_replay(req), &pin, &pn, &path);
	if (err)
		goto err_reply;
	if (qfs_from_replay(req)) {
		qfs_replay_entry(req, m, path, dir, NULL);
		free(path);
		return;
	}
	err = qfs_new_name_check(name, path);
	if (err)
		goto err_after_path;
	c = malloc(sizeof(*c));
	if (!c) {
		err = ENOMEM;
		goto err_after_path;
	}
	c->req = req;
	c->path = path;
	memset(&zr, 0, sizeof(zr));
	qfs_create_req(pn, &zr);
	zr.path = path;
	zr.data = "";
	zr.data_len = 0;
	zr.dir = dir;
	err = qfs_submit(m, qfs_req_who(req), &zr, mkdir_done, c);
	if (err)
		goto err_after_ctx;
	return;

err_after_ctx:
	free(c);
err_after_path:
	free(path);
err_reply:
	fuse_reply_err(req, err);
}

void qfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, 1);
}

void qfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       dev_t rdev)
{
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM); /* no devices, fifos or sockets */
		return;
	}
	make_node(req, parent, name, 0);
}

struct unlink_ctx {
	fuse_req_t req;
	char *path;
};

static void unlink_done(void *arg, int err, const struct zresult *res)
{
	struct unlink_ctx *c = arg;
	struct qfs_mount *m;
	struct qfs_inode *in;

	if (err < 0)
		goto out;
	if (!err) {
		m = qfs_req_mount(c->req);
		in = qfs_inode_by_path(m, c->path);
		if (in)
			qfs_inode_unhash(m, in);
	}
	fuse_reply_err(c->req, err);
out:
	free(c->path);
	free(c);
}

static void remove_node(fuse_req_t req, fuse_ino_t parent, const char *name, int dir)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *pin, *in;
	const struct znode *pn, *n;
	struct unlink_ctx *c;
	struct zreq zr;
	char *path;
	int err;

	err = qfs_child_path(m, parent, name, qfs_from_replay(req), &pin, &pn, &path);
	if (err)
		goto err_reply;
	if (qfs_from_replay(req)) {
		/* already gone from the tree: the kernel only drops its name */
		in = qfs_inode_by_path(m, path);
		if (in && !tree_lookup(qcore_tree(m->core), path))
			qfs_inode_unhash(m, in);
		free(path);
		fuse_reply_err(req, 0);
		return;
	}
	/* Not EINVAL, which rm -rf takes for "already gone" and exits 0
	 * after removing what it could: nothing under /zookeeper goes. */
	if (qfs_path_system(strcmp(name, QFS_DATA_NAME) == 0 ? pn->path : path)) {
		err = EPERM;
		goto err_after_path;
	}
	memset(&zr, 0, sizeof(zr));
	if (strcmp(name, QFS_DATA_NAME) == 0) {
		if (dir) {
			err = ENOTDIR;
			goto err_after_path;
		}
		/* "rm -r" removes .data before the directory: empty the data
		 * (nothing to do when already empty); the name stays. */
		if (pn->stat.data_length == 0) {
			free(path);
			fuse_reply_err(req, 0);
			return;
		}
		zr.op = ZOP_SETDATA;
		zr.path = pn->path;
		zr.data = "";
		zr.version = -1;
	} else {
		n = tree_lookup(qcore_tree(m->core), path);
		if (!n) {
			err = ENOENT;
			goto err_after_path;
		}
		if (dir && !qfs_node_is_dir(n)) {
			err = ENOTDIR;
			goto err_after_path;
		}
		if (!dir && qfs_node_is_dir(n)) {
			err = EISDIR;
			goto err_after_path;
		}
		zr.op = ZOP_DELETE;
		zr.path = path;
		zr.version = -1;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		err = ENOMEM;
		goto err_after_path;
	}
	c->req = req;
	c->path = path;
	err = qfs_submit(m, qfs_req_who(req), &zr, unlink_done, c);
	if (err)
		goto err_after_ctx;
	return;

err_after_ctx:
	free(c);
err_after_path:
	free(path);
err_reply:
	fuse_reply_err(req, err);
}

void qfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_node(req, parent, name, 0);
}

void qfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_node(req, parent, name, 1);
}

static int add_ent(struct qfs_handle *h, size_t *cap, const char *name, mode_t mode,
		   uint64_t ino)
{
	struct qfs_dirent *v;

	if (h->nents == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		v = realloc(h->ents, *cap * sizeof(*v));
		if (!v)
			return ENOMEM;
		h->ents = v;
	}
	h->ents[h->nents].name = strdup(name);
	if (!h->ents[h->nents].name)
		return ENOMEM;
	h->ents[h->nents].mode = mode;
	h->ents[h->nents].ino = ino;
	h->nents++;
	return 0;
}

void qfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in = qfs_inode_get(m, ino);
	const struct znode *n, *cn;
	uint64_t dino;
	struct qfs_handle *h;
	char **names = NULL, *cpath;
	size_t count = 0, cap = 0, i;
	int err;

	if (!in)
		goto err_stale;
	n = qfs_inode_node(m, in);
	if (!n) {
		err = ENOENT;
		goto err_reply;
	}
	/* listing is getChildren: READ, as the wire protocol asks */
	if (!qfs_allowed(req, n, ZPERM_READ)) {
		err = EACCES;
		goto err_reply;
	}
	h = qfs_handle_new(m, ino, in->zpath);
	if (!h) {
		err = ENOMEM;
		goto err_reply;
	}
	err = tree_children(qcore_tree(m->core), n, &names, &count) ? ENOMEM : 0;
	if (err)
		goto err_after_handle;
	err = add_ent(h, &cap, ".", S_IFDIR, ino);
	/* "..": the parent's number; the root's parent is outside the mount,
	 * the root itself stands for it (as on any filesystem's root) */
	if (n->parent) {
		cpath = qfs_path_parent(in->zpath);
		dino = cpath ? qfs_ino_number(m, cpath, n->parent, 0) : 0;
		free(cpath);
	} else {
		dino = FUSE_ROOT_ID;
	}
	err = err ? err : add_ent(h, &cap, "..", S_IFDIR, dino);
	cpath = qfs_path_join(in->path, QFS_DATA_NAME);
	dino = cpath ? qfs_ino_number(m, cpath, n, 1) : 0;
	free(cpath);
	err = err ? err : add_ent(h, &cap, QFS_DATA_NAME, S_IFREG, dino);
	for (i = 0; !err && i < count; i++) {
		/* A child a ZooKeeper client named .data: the name is the
		 * directory's own data here (a lookup finds that), so listing
		 * it too would show the name twice. */
		if (!strcmp(names[i], QFS_DATA_NAME))
			continue;
		cpath = qfs_path_join(in->path, names[i]);
		if (!cpath) {
			err = ENOMEM;
			break;
		}
		cn = tree_lookup(qcore_tree(m->core), cpath);
		/* the number a lookup will give, so ls -i and stat agree */
		dino = cn ? qfs_ino_number(m, cpath, cn, 0) : 0;
		free(cpath);
		if (!cn)
			continue;
		err = add_ent(h, &cap, names[i], qfs_node_is_dir(cn) ? S_IFDIR : S_IFREG,
			      dino);
	}
	tree_names_free(names);
	if (err)
		goto err_after_handle;
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) != 0)
		qfs_handle_free(h);
	return;

err_after_handle:
	qfs_handle_free(h);
err_reply:
	fuse_reply_err(req, err);
	return;
err_stale:
	fuse_reply_err(req, ESTALE);
}

void qfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi)
{
	struct qfs_handle *h = (struct qfs_handle *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t used = 0, n;
	struct stat st;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (; off >= 0 && (size_t)off < h->nents; off++) {
		memset(&st, 0, sizeof(st));
		st.st_ino = h->ents[off].ino;
		st.st_mode = h->ents[off].mode;
		n = fuse_add_direntry(req, buf + used, size - used, h->ents[off].name,
				      &st, off + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

void qfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	qfs_handle_free((struct qfs_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* A failed sync fails the fsync (see fsync_synced in file.c). */
static void sync_done(void *arg, const struct zresult *res)
{
	fuse_req_t req = arg;

	fuse_reply_err(req, qfs_errno(qfs_req_mount(req), res->err));
}

/* fsync of a directory: wait until everything submitted before is applied
 * (ZooKeeper's sync: this host is as up to date as the cluster). */
void qfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);

	if (qcore_sync(m->core, sync_done, req) < 0)
		fuse_reply_err(req, ENOMEM);
}
