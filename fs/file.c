/*
 * file.c - open files: reads from one consistent value, writes buffered per
 * handle and committed as one setData.
 *
 * A handle opened for writing collects the whole new content in its buffer,
 * starting from the value at open; O_TRUNC (a setattr on the new handle,
 * see attr.c) empties it and commits nothing by itself. flush (every close)
 * commits a buffer written since the last commit, and the close returns
 * the commit's error; fsync and release commit whatever is pending (a
 * buffer only truncated, ": > f"). The kernel never caches what a writer
 * wrote (direct_io on write handles), so no reader on this host sees bytes
 * before their commit. A handle that started from the old value commits
 * with that value's version (ESTALE if someone changed it meanwhile); one
 * truncated commits unconditionally, as a local file's last writer wins.
 * A close commits only for the process that wrote last: a child closing
 * the copy of the descriptor it inherited commits nothing (qfs_flush).
 * The writer sees the size its buffer has, others the committed one
 * until the commit (attr.c, writer_view).
 *
 * Read handles keep the page cache (keep_cache) while the file is quiet:
 * every change invalidates it (replay.c), so an unchanged file is served by
 * the kernel alone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_int.h"
#include "zerr.h"

struct qfs_handle *qfs_handle_new(struct qfs_mount *m, uint64_t ino, const char *zpath)
{
	struct qfs_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->zpath = strdup(zpath);
	if (!h->zpath) {
		free(h);
		return NULL;
	}
	h->m = m;
	h->ino = ino;
	h->base_version = -1;
	h->next = m->handles;
	if (m->handles)
		m->handles->prev = h;
	m->handles = h;
	return h;
}

/* Frees at once, or when its commit completes (the buffer is in use). */
void qfs_handle_free(struct qfs_handle *h)
{
	struct qfs_inode *in;
	size_t i;

	if (!h)
		return;
	if (h->committing) {
		h->released = 1;
		return;
	}
	if (h->counted && !h->m->dead && (in = qfs_inode_get(h->m, h->ino)) != NULL)
		in->writers--;
	if (h->prev)
		h->prev->next = h->next;
	else
		h->m->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	for (i = 0; i < h->nents; i++)
		free(h->ents[i].name);
	free(h->ents);
	free(h->buf);
	free(h->snap);
	free(h->zpath);
	zauth_free(&h->who);
	free(h);
}

static int buf_fit(struct qfs_handle *h, size_t need)
{
	size_t cap = h->cap ? h->cap : 4096;
	char *p;

	if (need > ZNODE_MAX_DATA)
		return EFBIG;
	if (need <= h->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(h->buf, cap);
	if (!p)
		return ENOMEM;
	h->buf = p;
	h->cap = cap;
	return 0;
}

/* Start the buffer from the current value (and remember its version). */
static int handle_load(struct qfs_handle *h)
{
	const struct znode *n;
	int err;

	if (h->loaded)
		return 0;
	n = tree_lookup(qcore_tree(h->m->core), h->zpath);
	if (!n)
		return ENOENT;
	err = buf_fit(h, (size_t)n->stat.data_length);
	if (err)
		return err;
	if (n->stat.data_length)
		memcpy(h->buf, n->data, (size_t)n->stat.data_length);
	h->len = (size_t)n->stat.data_length;
	h->append_from = h->len;
	h->base_version = n->stat.version;
	h->loaded = 1;
	return 0;
}

int qfs_handle_truncate(struct qfs_handle *h, off_t size)
{
	int err;

	if (size < 0)
		return EINVAL;
	if (h->replay)
		return 0;
	if (!h->writable)
		return EBADF;
	if (size == 0) {
		/* open(O_TRUNC) arrives here: the old value no longer
		 * matters, so the commit is unconditional */
		h->loaded = 1;
		h->len = 0;
		h->dirty = 1;
		h->base_version = -1;
		return 0;
	}
	err = handle_load(h);
	if (!err)
		err = buf_fit(h, (size_t)size);
	if (err)
		return err;
	if ((size_t)size > h->len)
		memset(h->buf + h->len, 0, (size_t)size - h->len);
	h->len = (size_t)size;
	h->dirty = 1;
	return 0;
}

struct qfs_handle *qfs_handle_sized_by(struct qfs_mount *m, uint64_t ino, pid_t pid)
{
	struct qfs_handle *h;

	for (h = m->handles; h; h = h->next)
		if (h->ino == ino && h->writable && !h->replay && h->dirty &&
		    h->size_pid == pid)
			return h;
	return NULL;
}

int64_t qfs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Readers use the page cache only for a file that is quiet: no writer has
 * it open and it has not changed for QFS_HOT_MS. While a file changes, the
 * kernel updates its cached size and pages independently, and a reader
 * racing a change could see the new size over old pages; a direct_io
 * reader is served from its handle's snapshot, one whole value.
 */
static void set_open_flags(struct qfs_handle *h, struct qfs_inode *in,
			   struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;

	h->writable = acc == O_WRONLY || acc == O_RDWR;
	h->append = !!(fi->flags & O_APPEND);
	if (h->writable || h->replay) {
		fi->direct_io = 1;
		if (h->writable && !h->replay && in) {
			in->writers++;
			h->counted = 1;
		}
	} else if (in && (in->writers || qfs_now_ms() < in->hot_until)) {
		fi->direct_io = 1;
		fi->noflush = 1;
	} else {
		/* a reader's close has nothing to commit: no FLUSH round trip */
		fi->keep_cache = 1;
		fi->noflush = 1;
	}
}

/*
 * A reader whose path walk found the name just before the file was
 * replaced (renamed over, or deleted and created again in one multi) holds
 * the old inode, whose znode is gone. On a local disk it would still open
 * the old file; here that value is gone, so it opens the value now at the
 * same name: one whole value either way, where ENOENT would break "mv tmp
 * conf" being atomic for readers. Writers still get ENOENT: their commit
 * would land on a file they never opened.
 */
static const struct znode *replacement(struct qfs_mount *m, const struct qfs_inode *in,
				       int flags)
{
	const struct znode *n;

	if ((flags & O_ACCMODE) != O_RDONLY || in->is_dir || in->is_data || !in->zpath)
		return NULL;
	n = tree_lookup(qcore_tree(m->core), in->zpath);
	return n && !qfs_node_is_dir(n) ? n : NULL;
}

void qfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in = qfs_inode_get(m, ino);
	const struct znode *n;
	struct qfs_handle *h;
	int replay, replaced = 0, err;

	m->st.opens++;
	if (!in) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	n = qfs_inode_node(m, in);
	replay = qfs_from_replay(req);
	if (!n && !replay) {
		n = replacement(m, in, fi->flags);
		replaced = n != NULL;
	}
	/* a replay opens a node deleted since too (attr.c, replay_lookup):
	 * its handle writes nothing, and only the events are wanted */
	if (!n && !replay) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (in->is_dir) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	/* READ for reading (the kernel's page cache serves only descriptors
	 * opened here); a writer the ACL will refuse at close is refused now,
	 * where shells look: "echo x > f" then fails visibly */
	if (!replay && (((fi->flags & O_ACCMODE) != O_WRONLY &&
			 acl_check(&n->acl, qfs_req_who(req), ZPERM_READ) != ZOK) ||
			((fi->flags & O_ACCMODE) != O_RDONLY &&
			 acl_check(&n->acl, qfs_req_who(req), ZPERM_WRITE) != ZOK))) {
		fuse_reply_err(req, EACCES);
		return;
	}
	h = qfs_handle_new(m, ino, in->zpath);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->replay = replay;
	h->open_pid = fuse_req_ctx(req)->pid;
	set_open_flags(h, in, fi);
	if (replaced) {
		/* The kernel's size and pages are the old inode's: read
		 * around them, from this handle's snapshot. */
		fi->keep_cache = 0;
		fi->direct_io = 1;
	}
	/* the commit at close is the opener's, whoever closes */
	if (h->writable && !h->replay && qfs_auth_copy(&h->who, qfs_req_who(req)) < 0) {
		qfs_handle_free(h);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Start from the current value; an O_TRUNC follows as a setattr on
	 * this handle (attr.c), which empties the buffer, commits nothing and
	 * makes the commit unconditional. */
	if (h->writable && !h->replay && (err = handle_load(h)) != 0) {
		qfs_handle_free(h);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) != 0)
		qfs_handle_free(h);
}

struct create_ctx {
	fuse_req_t req;
	char *path;
	struct fuse_file_info fi;
};

static void create_done(void *arg, int err, const struct zresult *res)
{
	struct create_ctx *c = arg;
	struct qfs_mount *m;
	const struct znode *n;
	struct qfs_inode *in;
	struct qfs_handle *h;
	struct fuse_entry_param e;

	if (err < 0)
		goto out;
	if (err) {
		fuse_reply_err(c->req, err);
		goto out;
	}
	m = qfs_req_mount(c->req);
	n = tree_lookup(qcore_tree(m->core), c->path);
	in = n ? qfs_inode_for(m, c->path, n, 0) : NULL;
	if (!in) {
		fuse_reply_err(c->req, n ? ENOMEM : ENOENT);
		goto out;
	}
	h = qfs_handle_new(m, in->ino, c->path);
	if (!h) {
		fuse_reply_err(c->req, ENOMEM);
		goto out;
	}
	set_open_flags(h, in, &c->fi);
	if (h->writable && qfs_auth_copy(&h->who, qfs_req_who(c->req)) < 0) {
		qfs_handle_free(h);
		fuse_reply_err(c->req, ENOMEM);
		goto out;
	}
	/* Empty and made just now: a write buffer that commits only if
	 * written, based on the version just created. */
	h->loaded = 1;
	h->base_version = n->stat.version;
	h->created = 1;
	h->created_czxid = n->stat.czxid;
	h->created_version = n->stat.version;
	memset(&e, 0, sizeof(e));
	e.ino = in->ino;
	e.generation = 1; /* numbers are never reused */
	qfs_fill_stat(m, qfs_req_who(c->req), n, 0, in->ino, &e.attr);
	in->last = e.attr;
	e.attr_timeout = qfs_attr_timeout(m, in);
	e.entry_timeout = QFS_ENTRY_TIMEOUT;
	c->fi.fh = (uintptr_t)h;
	if (fuse_reply_create(c->req, &e, &c->fi) == 0)
		in->nlookup++;
	else
		qfs_handle_free(h);
out:
	free(c->path);
	free(c);
}

void qfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *pin;
	const struct znode *pn;
	struct create_ctx *c;
	struct zreq zr;
	char *path;
	int err;

	err = qfs_child_path(m, parent, name, qfs_from_replay(req), &pin, &pn, &path);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	if (qfs_from_replay(req)) {
		qfs_replay_entry(req, m, path, 0, fi);
		free(path);
		return;
	}
	err = qfs_new_name_check(name, path);
	if (err)
		goto err_after_path;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = ENOMEM;
		goto err_after_path;
	}
	c->req = req;
	c->path = path;
	c->fi = *fi;
	memset(&zr, 0, sizeof(zr));
	qfs_create_req(pn, &zr);
	zr.path = path;
	zr.data = "";
	zr.data_len = 0;
	err = qfs_submit(m, qfs_req_who(req), &zr, create_done, c);
	if (err)
		goto err_after_ctx;
	return;

err_after_ctx:
	free(c);
err_after_path:
	free(path);
	fuse_reply_err(req, err);
}

void qfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_handle *h = (struct qfs_handle *)(uintptr_t)fi->fh;
	const struct znode *n;
	const char *p;
	size_t len;

	m->st.reads++;
	if (h->loaded) {
		/* read-your-writes within the handle */
		p = h->buf;
		len = h->len;
	} else {
		n = tree_lookup(qcore_tree(m->core), h->zpath);
		/*
		 * One value for a whole pass over the file, however many
		 * requests it takes: never a mix of two versions. A pass
		 * starts at offset 0; a handle kept open (less, tail) reads
		 * the newer value on its next pass.
		 */
		if (n && (!h->snapped || (off == 0 && n->stat.mzxid != h->snap_mzxid))) {
			free(h->snap);
			h->snapped = 0;
			h->snap_len = (size_t)n->stat.data_length;
			h->snap = malloc(h->snap_len ? h->snap_len : 1);
			if (!h->snap) {
				fuse_reply_err(req, ENOMEM);
				return;
			}
			if (h->snap_len)
				memcpy(h->snap, n->data, h->snap_len);
			h->snap_mzxid = n->stat.mzxid;
			h->snapped = 1;
		} else if (n && n->stat.mzxid != h->snap_mzxid) {
			/* the rest of an older pass: it lands in the page
			 * cache, which must not keep it */
			qfs_replay_inval(m, h->ino);
		}
		if (!h->snapped) {
			fuse_reply_err(req, ESTALE);
			return;
		}
		p = h->snap;
		len = h->snap_len;
	}
	if (off < 0 || (size_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	fuse_reply_buf(req, p + off, size);
}

void qfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_handle *h = (struct qfs_handle *)(uintptr_t)fi->fh;
	int err;

	m->st.writes++;
	if (h->replay) {
		fuse_reply_write(req, size); /* already in the tree */
		return;
	}
	if (!h->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	err = handle_load(h);
	if (err)
		goto err_reply;
	if (h->append)
		off = (off_t)h->len;
	if (off < 0 || (size_t)off + size > ZNODE_MAX_DATA) {
		/* what was buffered is only a part: commit nothing */
		h->failed = EFBIG;
		err = EFBIG;
		goto err_reply;
	}
	err = buf_fit(h, (size_t)off + size);
	if (err)
		goto err_reply;
	if ((size_t)off > h->len)
		memset(h->buf + h->len, 0, (size_t)off - h->len);
	memcpy(h->buf + off, buf, size);
	if ((size_t)off + size > h->len)
		h->len = (size_t)off + size;
	h->dirty = 1;
	h->written = 1;
	h->write_owner = fi->lock_owner;
	h->size_pid = fuse_req_ctx(req)->pid;
	fuse_reply_write(req, size);
	return;
err_reply:
	fuse_reply_err(req, err);
}

struct commit_ctx {
	fuse_req_t req;
	struct qfs_handle *h;
	int fsync;
	size_t len; /* the length committed */
};

/*
 * Appends are made again on top of a newer value, at most this many times
 * for one commit: each retry means another writer committed in between.
 */
#define APPEND_REBASES 16

static int append_rebase(struct commit_ctx *c);

static void commit_done(void *arg, int err, const struct zresult *res)
{
	struct commit_ctx *c = arg;
	struct qfs_handle *h = c->h;

	h->committing = 0;
	if (err < 0) {
		qfs_handle_free(h);
		free(c);
		return;
	}
	if (err == ESTALE && h->append && h->base_version >= 0 &&
	    h->rebases < APPEND_REBASES && append_rebase(c) == 0)
		return;
	h->rebases = 0;
	h->last_err = err;
	if (!err && h->base_version >= 0)
		h->base_version = res->stat.version;
	if (!err) {
		h->created = 0; /* a value committed: no longer ours to undo */
		h->append_from = c->len;
	}
	/*
	 * A close returns only once this host's kernel caches no longer hold
	 * the old value: the reply goes behind the invalidations queued on the
	 * replay thread. Not fsync's: the kernel holds the file's inode lock
	 * across FSYNC, which a replay queued before may be waiting for.
	 */
	if (c->req && !err && !c->fsync)
		qfs_replay_reply(h->m, c->req, 0, 0);
	else if (c->req)
		fuse_reply_err(c->req, err);
	if (h->released)
		qfs_handle_free(h);
	free(c);
}

/*
 * An O_APPEND writer's commit met a newer value (another appender, here or
 * on another host, committed first). On a local disk both appends land;
 * here the second close would fail with ESTALE, which a shell ignores for
 * "echo line >> log", losing the line. So the appended bytes are put on
 * top of the newer value and committed again, against its version. The
 * sync first: this host's replica may not hold that value yet. Returns 0
 * once the retry is under way (c is reused), or -1 to report the ESTALE.
 */
static void append_synced(void *arg, const struct zresult *res)
{
	struct commit_ctx *c = arg;
	struct qfs_handle *h = c->h;
	const struct znode *n = tree_lookup(qcore_tree(h->m->core), h->zpath);
	size_t add = h->len - h->append_from, cur;
	struct zresult none = {0};
	struct zreq zr;
	char *nb;
	int err = ENOENT;

	(void)res;
	h->committing = 0;
	if (!n || h->failed || h->m->dead)
		goto fail;
	cur = (size_t)n->stat.data_length;
	err = EFBIG;
	if (cur + add > ZNODE_MAX_DATA)
		goto fail;
	err = ENOMEM;
	nb = malloc(cur + add ? cur + add : 1);
	if (!nb)
		goto fail;
	if (cur)
		memcpy(nb, n->data, cur);
	if (add)
		memcpy(nb + cur, h->buf + h->append_from, add);
	free(h->buf);
	h->buf = nb;
	h->len = h->cap = cur + add;
	h->append_from = cur;
	h->base_version = n->stat.version;
	h->rebases++;
	memset(&zr, 0, sizeof(zr));
	zr.op = ZOP_SETDATA;
	zr.path = h->zpath;
	zr.data = h->buf;
	zr.data_len = (int32_t)h->len;
	zr.version = h->base_version;
	c->len = h->len;
	err = qfs_submit(h->m, &h->who, &zr, commit_done, c);
	if (err)
		goto fail;
	h->committing = 1;
	return;
fail:
	h->rebases = APPEND_REBASES; /* report this error, do not retry */
	commit_done(c, err, &none);
}

static int append_rebase(struct commit_ctx *c)
{
	struct qfs_handle *h = c->h;

	if (h->append_from > h->len || qcore_sync(h->m->core, append_synced, c) < 0)
		return -1;
	h->committing = 1;
	return 0;
}

static void waited_done(void *arg, const struct zresult *res)
{
	struct commit_ctx *c = arg;

	fuse_reply_err(c->req, c->h->last_err);
	free(c);
}

struct undo_ctx {
	fuse_req_t req;
	struct qfs_handle *h;
	int err;   /* the write's error, the answer either way */
	int fsync; /* answer at once (see commit_done) */
};

static void undo_done(void *arg, int err, const struct zresult *res)
{
	struct undo_ctx *c = arg;
	struct qfs_handle *h = c->h;

	h->committing = 0;
	if (err < 0) {
		qfs_handle_free(h);
		free(c);
		return;
	}
	if (err) /* someone else wrote or removed it: theirs now */
		qfs_replay_unexpect_delete(h->m, h->zpath);
	if (c->req && !c->fsync)
		qfs_replay_reply(h->m, c->req, c->err, 1); /* after the name is gone */
	else if (c->req)
		fuse_reply_err(c->req, c->err);
	if (h->released)
		qfs_handle_free(h);
	free(c);
}

/*
 * A write failed (EFBIG) on a file this handle created and never committed
 * a value to: "cp big /coord/x" must leave nothing, so the create is
 * undone, with a delete at the version made (a value someone else wrote
 * meanwhile stays). The kernel drops the name through the replay thread,
 * which also gives watchers the IN_DELETE that matches their IN_CREATE.
 * Returns 1 if the reply (if req) is pending, 0 if there was nothing to
 * undo, or an errno.
 */
static int handle_undo_create(struct qfs_handle *h, fuse_req_t req, int fsync)
{
	const struct znode *n;
	struct undo_ctx *c;
	struct zreq zr;
	int err;

	if (!h->created || h->committing)
		return 0;
	h->created = 0;
	n = tree_lookup(qcore_tree(h->m->core), h->zpath);
	if (!n || n->stat.czxid != h->created_czxid ||
	    n->stat.version != h->created_version)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->req = req;
	c->h = h;
	c->err = h->failed;
	c->fsync = fsync;
	if (qfs_replay_expect_delete(h->m, h->zpath) < 0) {
		free(c);
		return ENOMEM;
	}
	memset(&zr, 0, sizeof(zr));
	zr.op = ZOP_DELETE;
	zr.path = h->zpath;
	zr.version = h->created_version;
	err = qfs_submit(h->m, &h->who, &zr, undo_done, c);
	if (err) {
		qfs_replay_unexpect_delete(h->m, h->zpath);
		free(c);
		return err;
	}
	h->committing = 1;
	return 1;
}

/*
 * Commit the handle's buffer if it has something to commit; the reply (if
 * req) comes from the commit. Returns 1 if a reply is pending, 0 if there
 * was nothing to do, or an errno.
 *
 * flush (every close of every descriptor, dup'd ones too) commits only a
 * buffer written since the last commit: a shell's "echo x > f" opens with
 * O_TRUNC, dup2()s and closes the first descriptor before it writes, and
 * committing the truncation then would show everyone a transient empty
 * value. A buffer only truncated ": > f" is committed by fsync or release.
 */
static int handle_commit(struct qfs_handle *h, fuse_req_t req, int written_only,
			 int fsync)
{
	struct commit_ctx *c;
	struct zreq zr;
	int err;

	if (h->replay || !h->writable)
		return 0;
	if (h->failed) {
		err = handle_undo_create(h, req, fsync);
		return err ? err : h->failed;
	}
	if (h->dirty && written_only && !h->written)
		return 0;
	if (!h->dirty) {
		if (!h->committing || !req)
			return 0;
		/* a commit of this handle is in flight: answer after it */
		c = calloc(1, sizeof(*c));
		if (!c)
			return ENOMEM;
		c->req = req;
		c->h = h;
		if (qcore_sync(h->m->core, waited_done, c) < 0) {
			free(c);
			return ENOMEM;
		}
		return 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->req = req;
	c->h = h;
	c->fsync = fsync;
	c->len = h->len;
	memset(&zr, 0, sizeof(zr));
	zr.op = ZOP_SETDATA;
	zr.path = h->zpath;
	zr.data = h->buf ? h->buf : "";
	zr.data_len = (int32_t)h->len;
	zr.version = h->base_version;
	err = qfs_submit(h->m, &h->who, &zr, commit_done, c);
	if (err) {
		free(c);
		return err;
	}
	h->dirty = 0;
	h->written = 0;
	h->committing = 1;
	return 1;
}

/*
 * Is this flush the close of a process other than the last writer? FUSE
 * sends one for every descriptor closed, those a child inherited too: a
 * program that writes and then runs another (fork, then exec or close_fds
 * closing the child's copies) had its buffer committed by the child, half
 * written or before a change made elsewhere that its own close then
 * neither overwrote nor reported (ESTALE) as it must. The kernel names
 * the closer's file table (lock_owner), shared by its threads and dup'd
 * descriptors but not by a child's copy. A write that named none (0)
 * leaves every flush committing.
 */
static int flush_is_foreign(const struct qfs_handle *h, const struct fuse_file_info *fi)
{
	return h->write_owner && fi->lock_owner != h->write_owner;
}

void qfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qfs_handle *h = (struct qfs_handle *)(uintptr_t)fi->fh;
	int rc;

	h->m->st.flushes++;
	if (flush_is_foreign(h, fi)) {
		/* the writer's own close commits, and reports */
		fuse_reply_err(req, 0);
		return;
	}
	rc = handle_commit(h, req, 1, 0);
	if (rc != 1)
		fuse_reply_err(req, rc);
}

/* A sync that failed (no leader within its time) must fail the fsync: the
 * caller reads next and would take this host's stale replica for an
 * up-to-date one (chaos: a cut-off member's fsync succeeded after 2 s and
 * the cat after it returned values overwritten long before). */
static void fsync_synced(void *arg, const struct zresult *res)
{
	fuse_req_t req = arg;

	fuse_reply_err(req, qfs_errno(qfs_req_mount(req), res->err));
}

void qfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct qfs_handle *h = (struct qfs_handle *)(uintptr_t)fi->fh;
	int rc = handle_commit(h, req, 0, 1);

	if (rc == 1)
		return;
	if (rc) {
		fuse_reply_err(req, rc);
		return;
	}
	/* Nothing of ours to commit: sync(1) means "bring this host up to
	 * date", ZooKeeper's sync. */
	if (qcore_sync(h->m->core, fsync_synced, req) < 0)
		fuse_reply_err(req, ENOMEM);
}

void qfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct qfs_handle *h = (struct qfs_handle *)(uintptr_t)fi->fh;

	/* flush committed what was written; a buffer still dirty here was
	 * only truncated (": > f"), committed now with nobody to tell; a
	 * failed one undoes its create if flush did not */
	if (h->dirty || h->failed)
		handle_commit(h, NULL, 0, 0);
	qfs_handle_free(h);
	fuse_reply_err(req, 0);
}
