/*
 * attr.c - names and attributes: lookup, forget, getattr, setattr, statfs.
 *
 * How a znode shows as a file (quorumfs(8), FILES):
 *   - a directory if it was made by mkdir or has had a child; its data is
 *     the regular file ".data" inside it; otherwise a regular file;
 *   - st_size is the data length (0 for a directory), st_mtime, st_ctime and
 *     st_atime are the znode's mtime (ZooKeeper's ctime, the creation time,
 *     is user.quorumfs.ctime), or the tree's birth for the nodes whose stat
 *     times are 0 (tree_birth_ms);
 *   - mode bits show what the mount's identity may do under the ACL, the
 *     same for user, group and other: r = READ, w = WRITE (files) or CREATE
 *     (directories), x on every directory (ZooKeeper has no search right);
 *   - st_nlink is 1: directories do not count subdirectories (find(1) and
 *     fts(3) take 1 to mean exactly that);
 *   - owner and group are the daemon's.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"
#include "log.h"
#include "zerr.h"

static void ms_to_ts(int64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

static int oldest_ctime(void *arg, const struct znode *n)
{
	int64_t *min = arg;

	if (n->stat.ctime > 0 && (*min == 0 || n->stat.ctime < *min))
		*min = n->stat.ctime;
	return 0;
}

/*
 * The time shown for nodes whose stat times are 0: the root and the system
 * nodes a fresh tree starts with (as in ZooKeeper). The tree's birth: the
 * creation time of its oldest node, the same on every host; a tree that has
 * no node of its own yet (only then is the walk repeated, over a handful of
 * nodes) shows the time it was mounted.
 */
static int64_t tree_birth_ms(struct qfs_mount *m)
{
	struct timespec ts;
	int64_t min = 0;

	if (m->birth_ms)
		return m->birth_ms;
	tree_walk(qcore_tree(m->core), oldest_ctime, &min);
	if (min) {
		m->birth_ms = min;
		return min;
	}
	if (!m->mounted_ms) {
		clock_gettime(CLOCK_REALTIME, &ts);
		m->mounted_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	return m->mounted_ms;
}

void qfs_fill_stat(struct qfs_mount *m, const struct zauth *who, const struct znode *n,
		   int is_data, uint64_t ino, struct stat *st)
{
	int32_t p = qfs_perms(who, n);
	int dir = qfs_node_is_dir(n) && !is_data;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (dir) {
		st->st_mode = S_IFDIR | 0111;
		if (p & ZPERM_READ)
			st->st_mode |= 0444;
		if (p & ZPERM_CREATE)
			st->st_mode |= 0222;
		st->st_size = 0;
	} else {
		st->st_mode = S_IFREG;
		if (p & ZPERM_READ)
			st->st_mode |= 0444;
		if (p & ZPERM_WRITE)
			st->st_mode |= 0222;
		st->st_size = n->stat.data_length;
	}
	st->st_nlink = 1;
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	ms_to_ts(n->stat.mtime ? n->stat.mtime : tree_birth_ms(m), &st->st_mtim);
	/* Below the millisecond, the change's zxid: two changes in one
	 * millisecond still differ in mtime, which is what makes the kernel
	 * drop cached pages of a value replaced by one of the same size. */
	st->st_mtim.tv_nsec += (long)(zxid_counter((zxid_t)n->stat.mzxid) % 1000000);
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

/*
 * The write handle whose size the caller is shown instead of the committed
 * one, or NULL. A write or ftruncate changes the size only in its handle's
 * buffer until the commit; the writer itself must see it, as on a local
 * disk, or its lseek(SEEK_END) and fstat(2) use the old size, and a write
 * after a cut lands past a gap of zeros. The kernel names the handle for
 * lseek (FUSE_GETATTR_FH); fstat(2) and stat(2) come without one and are
 * matched by the thread that made the size. Everyone else sees the
 * committed size, as they see the committed bytes.
 */
static struct qfs_handle *writer_view(fuse_req_t req, struct qfs_inode *in,
				      const struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_handle *h;

	if (!in->writers)
		return NULL;
	if (fi && fi->fh) {
		h = (struct qfs_handle *)(uintptr_t)fi->fh;
		return h->writable && !h->replay && h->dirty ? h : NULL;
	}
	return qfs_handle_sized_by(m, in->ino, fuse_req_ctx(req)->pid);
}

static void show_size(struct stat *st, const struct qfs_handle *h)
{
	st->st_size = (off_t)h->len;
	st->st_blocks = (st->st_size + 511) / 512;
}

void qfs_reply_entry(fuse_req_t req, struct qfs_inode *in, const struct znode *n)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct fuse_entry_param e;
	int replay = qfs_from_replay(req), fresh = in->nlookup == 0;

	memset(&e, 0, sizeof(e));
	e.ino = in->ino;
	e.generation = 1; /* numbers are never reused */
	if (n) {
		qfs_fill_stat(m, qfs_req_who(req), n, in->is_data, in->ino, &e.attr);
		in->last = e.attr;
	} else {
		e.attr = in->last;
	}
	e.attr_timeout = n ? qfs_attr_timeout(m, in) : 0;
	/* A replay's entry expires at once, so that anyone else who reaches
	 * the name looks it up and claims it (replay.c, RP_RELEASE). */
	e.entry_timeout = n && !replay ? QFS_ENTRY_TIMEOUT : 0;
	if (fuse_reply_entry(req, &e) != 0)
		return;
	in->nlookup++;
	if (n && replay && fresh)
		qfs_replay_release(m, in);
	else if (!replay)
		qfs_replay_claim(m, in);
}

/*
 * A lookup by the replay thread, which re-does a change the tree already
 * has: it is shown the name as it was at that change. A create's name is
 * not there yet. A node deleted since (the change being that deletion, or
 * a write, ACL change or create below it that the deletion came after
 * before its replay ran) is still there, and so are the directories above
 * the change's path: the inode the kernel holds for it (the one a watch
 * holds, if any), or else a ghost, so that the unlink, the write, the
 * setxattr or the create goes through and raises its event where a watcher
 * looks. The handlers then answer a replay without a node (file.c, attr.c,
 * xattr.c, and qfs_child_path for a parent). Returns 1 when it answered.
 */
static int replay_lookup(fuse_req_t req, struct qfs_mount *m, const struct replay_view *rv,
			 const char *path)
{
	size_t len = strlen(path);
	int exact = strcmp(rv->path, path) == 0;
	int above = !exact && strncmp(rv->path, path, len) == 0 && rv->path[len] == '/';
	struct qfs_inode *in = NULL;
	uint64_t ino;

	if (rv->kind == RP_CREATE && exact) {
		fuse_reply_err(req, ENOENT);
		return 1;
	}
	if (!above && !(exact && (rv->kind == RP_DELETE || rv->kind == RP_DATA ||
				  rv->kind == RP_XATTR)))
		return 0;
	if (tree_lookup(qcore_tree(m->core), path))
		return 0; /* there (made again, even): answered as usual */
	if (exact && rv->ino)
		in = qfs_inode_get(m, rv->ino);
	/* a deletion's own replay is the one queued (rv->ino) */
	if (!in && !(exact && rv->kind == RP_DELETE) &&
	    (ino = qfs_replay_deleted_ino(m, path)) != 0)
		in = qfs_inode_get(m, ino); /* the one a watch may hold */
	if (!in)
		in = qfs_inode_ghost(m, path, above || rv->is_dir);
	if (!in) {
		fuse_reply_err(req, ENOMEM);
		return 1;
	}
	qfs_reply_entry(req, in, NULL);
	return 1;
}

void qfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *pin = qfs_inode_get(m, parent), *in;
	const struct znode *pn, *n;
	struct replay_view rv;
	struct fuse_entry_param neg;
	char *path;
	int is_data = 0;

	m->st.lookups++;
	if (m->test_unanswered && strcmp(name, m->test_unanswered) == 0) {
		/* A test build's stuck request (tests/fs/killed.sh). */
		log_warnx("fs: a lookup of %s is left unanswered (QUORUMFS_TEST_STUCK)",
			  name);
		return;
	}
	if (!pin)
		goto err_stale;
	if (pin->is_data || !pin->is_dir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	path = qfs_path_join(pin->path, name);
	if (!path) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (qfs_from_replay(req)) {
		qfs_replay_current(m, &rv);
		if (rv.active && replay_lookup(req, m, &rv, path))
			goto out;
	}
	pn = qfs_inode_node(m, pin);
	if (!pn) {
		fuse_reply_err(req, ENOENT);
		goto out;
	}
	if (strcmp(name, QFS_DATA_NAME) == 0) {
		n = pn;
		is_data = 1;
	} else {
		n = tree_lookup(qcore_tree(m->core), path);
	}
	if (!n && qfs_name_check(name)) {
		/* a name the mount would not make: the error every creating
		 * call then returns (the kernel looks a new name up first);
		 * a longer one made through the wire protocol still opens */
		fuse_reply_err(req, ENAMETOOLONG);
		goto out;
	}
	if (!n) {
		/* A negative entry: the kernel may cache the absence; a create
		 * from elsewhere is replayed (mkdir/creat), which replaces it.
		 * Not while replays are owed, though: one may be the deletion
		 * of this very name (queued when the tree lost it, before this
		 * lookup could see it gone), and the helper's unlink would then
		 * meet the cached absence and fail without IN_DELETE. Seen
		 * once in tests/fs/inotify.sh: an ephemeral's deletion raised
		 * no event because the test's own polling looked it up. */
		memset(&neg, 0, sizeof(neg));
		neg.entry_timeout = qfs_replay_idle(m) ? QFS_ENTRY_TIMEOUT : 0;
		fuse_reply_entry(req, &neg);
		goto out;
	}
	in = qfs_inode_for(m, path, n, is_data);
	if (!in) {
		fuse_reply_err(req, ENOMEM);
		goto out;
	}
	qfs_reply_entry(req, in, n);
out:
	free(path);
	return;
err_stale:
	fuse_reply_err(req, ESTALE);
}

void qfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	qfs_inode_forget(qfs_req_mount(req), ino, nlookup);
	fuse_reply_none(req);
}

void qfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct qfs_mount *m = qfs_req_mount(req);
	size_t i;

	for (i = 0; i < count; i++)
		qfs_inode_forget(m, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

void qfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in = qfs_inode_get(m, ino);
	struct qfs_handle *h;
	const struct znode *n;
	struct stat st;

	m->st.getattrs++;
	if (!in) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	n = qfs_inode_node(m, in);
	if (!n) {
		/* gone (an open file whose znode was deleted): what we last said */
		fuse_reply_attr(req, &in->last, 0);
		return;
	}
	qfs_fill_stat(m, qfs_req_who(req), n, in->is_data, in->ino, &st);
	in->last = st;
	h = writer_view(req, in, fi);
	if (h)
		show_size(&st, h);
	fuse_reply_attr(req, &st, qfs_attr_timeout(m, in));
}

struct trunc_ctx {
	fuse_req_t req;
	uint64_t ino;
};

static void trunc_done(void *arg, int err, const struct zresult *res)
{
	struct trunc_ctx *c = arg;
	struct qfs_mount *m;
	struct qfs_inode *in;
	const struct znode *n;
	struct stat st;

	if (err < 0)
		goto out;
	if (err) {
		fuse_reply_err(c->req, err);
		goto out;
	}
	m = qfs_req_mount(c->req);
	in = qfs_inode_get(m, c->ino);
	n = in ? qfs_inode_node(m, in) : NULL;
	if (!n) {
		fuse_reply_err(c->req, ENOENT);
		goto out;
	}
	qfs_fill_stat(m, qfs_req_who(c->req), n, in->is_data, in->ino, &st);
	in->last = st;
	fuse_reply_attr(c->req, &st, qfs_attr_timeout(m, in));
out:
	free(c);
}

/* truncate(2) by path: one setData of the cut (or zero-extended) value. */
static int truncate_path(fuse_req_t req, struct qfs_inode *in, const struct znode *n,
			 off_t size)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct trunc_ctx *c;
	struct zreq zr;
	char *data;
	size_t keep;
	int err;

	if (size > ZNODE_MAX_DATA)
		return EFBIG;
	data = calloc(1, size ? (size_t)size : 1);
	if (!data)
		return ENOMEM;
	keep = (size_t)n->stat.data_length < (size_t)size ? (size_t)n->stat.data_length
							  : (size_t)size;
	if (keep)
		memcpy(data, n->data, keep);
	c = malloc(sizeof(*c));
	if (!c) {
		free(data);
		return ENOMEM;
	}
	c->req = req;
	c->ino = in->ino;
	memset(&zr, 0, sizeof(zr));
	zr.op = ZOP_SETDATA;
	zr.path = in->zpath;
	zr.data = data;
	zr.data_len = (int32_t)size;
	zr.version = -1;
	err = qfs_submit(m, qfs_req_who(req), &zr, trunc_done, c);
	free(data);
	if (err)
		free(c);
	return err;
}

/*
 * open(O_TRUNC) without atomic O_TRUNC (mount.c) arrives as OPEN and then a
 * SETATTR to size 0 without a file handle, from the same thread. The
 * handle that thread just opened for writing, not yet written or
 * truncated, is the one meant. (A truncate(2) of a file the same thread
 * has open for writing and has not written is folded into that handle's
 * commit the same way.)
 */
static struct qfs_handle *otrunc_handle(struct qfs_mount *m, struct qfs_inode *in,
					pid_t pid, off_t size)
{
	struct qfs_handle *h;

	if (size != 0)
		return NULL;
	for (h = m->handles; h; h = h->next)
		if (h->ino == in->ino && h->open_pid == pid && h->writable &&
		    !h->replay && !h->written && !h->trunc_seen && !h->committing)
			return h;
	return NULL;
}

/*
 * Only what maps is accepted: a size (truncate), times set to "now" (touch:
 * a no-op, the znode's mtime moves only with its data), and chmod/chown to
 * the mode and owner already shown. Anything else is EPERM.
 */
void qfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in = qfs_inode_get(m, ino);
	struct qfs_handle *h;
	const struct znode *n;
	struct stat st;
	int err;

	if (!in) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	n = qfs_inode_node(m, in);
	if (!n && qfs_from_replay(req)) {
		/* a replayed write's O_TRUNC, the node deleted since
		 * (replay_lookup): what we last said */
		fuse_reply_attr(req, &in->last, 0);
		return;
	}
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	qfs_fill_stat(m, qfs_req_who(req), n, in->is_data, in->ino, &st);
	if ((to_set & FUSE_SET_ATTR_MODE) &&
	    (attr->st_mode & 07777) != (st.st_mode & 07777))
		goto err_perm;
	if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != st.st_uid)
		goto err_perm;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != st.st_gid)
		goto err_perm;
	if ((to_set & FUSE_SET_ATTR_ATIME) && !(to_set & FUSE_SET_ATTR_ATIME_NOW))
		goto err_perm;
	if ((to_set & FUSE_SET_ATTR_MTIME) && !(to_set & FUSE_SET_ATTR_MTIME_NOW))
		goto err_perm;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (!in->is_data && in->is_dir) {
			fuse_reply_err(req, EISDIR);
			return;
		}
		if (qfs_from_replay(req))
			goto reply;
		h = fi && fi->fh
			? (struct qfs_handle *)(uintptr_t)fi->fh
			: otrunc_handle(m, in, fuse_req_ctx(req)->pid, attr->st_size);
		if (h) {
			h->trunc_seen = 1;
			err = qfs_handle_truncate(h, attr->st_size);
			if (err) {
				fuse_reply_err(req, err);
				return;
			}
			in->last = st;
			/* ftruncate(2) is a write of its own, committed by the
			 * next close, and the writer sees the size it set
			 * (writer_view). O_TRUNC's cut waits for data (file.c)
			 * and shows the committed size: the kernel would
			 * otherwise show every reader here an empty value
			 * before the writer's close commits anything. */
			if (fi && fi->fh) {
				h->written = 1;
				h->size_pid = fuse_req_ctx(req)->pid;
				show_size(&st, h);
			}
			fuse_reply_attr(req, &st, 0);
			return;
		}
		if (attr->st_size == n->stat.data_length && attr->st_size == 0)
			goto reply;
		err = truncate_path(req, in, n, attr->st_size);
		if (err)
			fuse_reply_err(req, err);
		return;
	}
reply:
	in->last = st;
	fuse_reply_attr(req, &st, qfs_attr_timeout(m, in));
	return;
err_perm:
	fuse_reply_err(req, EPERM);
}

void qfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct statvfs sv;
	uint64_t nodes = tree_node_count(qcore_tree(m->core));

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	/* Sizes are not a disk's: report room for a million more full nodes,
	 * so df shows something and nothing refuses to write. */
	sv.f_blocks = (nodes + 1000000) * (ZNODE_MAX_DATA / 4096);
	sv.f_bfree = 1000000ull * (ZNODE_MAX_DATA / 4096);
	sv.f_bavail = sv.f_bfree;
	sv.f_files = nodes + 1000000;
	sv.f_ffree = 1000000;
	sv.f_favail = sv.f_ffree;
	sv.f_namemax = QFS_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

/* access(2) answers from the ACL, as the mode bits show it (test -w). */
void qfs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in = qfs_inode_get(m, ino);
	const struct znode *n;
	struct stat st;
	int err = 0;

	if (!in) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	n = qfs_inode_node(m, in);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	qfs_fill_stat(m, qfs_req_who(req), n, in->is_data, in->ino, &st);
	if (((mask & R_OK) && !(st.st_mode & 0444)) ||
	    ((mask & W_OK) && !(st.st_mode & 0222)) ||
	    ((mask & X_OK) && !(st.st_mode & 0111)))
		err = EACCES;
	fuse_reply_err(req, err);
}
