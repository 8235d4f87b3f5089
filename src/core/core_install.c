/*
 * core_install.c - catch-up by snapshot: the leader streams its newest
 * snapshot file in chunks (the node's snap_open/snap_read), a follower
 * writes them to a temporary file (snap_begin/snap_write) and installs it
 * (snap_finish): load and check it, make it durable under its final name,
 * swap the tree, and tell the subscribers (the mount, the watches) the
 * difference between the old tree and the new one as ordinary changes, so
 * that inotify and ZooKeeper watches on this member see what happened while
 * it was away.
 *
 * The snapshot files are the SQLite files snapshot.c writes; a chunk is a
 * pread of one. Requests of this member waiting for entries the snapshot
 * covers cannot learn their results: they fail with connection loss when
 * the wait for a forwarded request ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_int.h"
#include "log.h"
#include "snapshot.h"
#include "storage_sql.h"
#include "tmpfile.h"
#include "zerr.h"

static void recv_path(const struct qcore *c, zxid_t zxid, char *buf, size_t len)
{
	char p[4096];

	snapshot_path(p, sizeof(p), c->dir, zxid);
	snprintf(buf, len, "%s.recv.tmp", p);
}

int core_snap_open(struct qcore *c, zxid_t *zxid, uint64_t *total)
{
	char path[4096];
	struct stat st;

	*zxid = c->snap_zxid;
	*total = 0;
	if (!c->node)
		return 0; /* at start the node only wants the zxid */
	snapshot_path(path, sizeof(path), c->dir, c->snap_zxid);
	if (stat(path, &st) < 0)
		return -errno;
	*total = (uint64_t)st.st_size;
	return 0;
}

int core_snap_read(struct qcore *c, zxid_t zxid, uint64_t offset, uint8_t *buf,
		   uint32_t len)
{
	char path[4096];
	ssize_t n;
	int fd;

	snapshot_path(path, sizeof(path), c->dir, zxid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)offset);
	close(fd);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

int core_snap_begin(struct qcore *c, zxid_t zxid, uint64_t total)
{
	char path[4200];

	if (c->recv_fd >= 0)
		close(c->recv_fd);
	recv_path(c, zxid, path, sizeof(path));
	c->recv_fd = tmpfile_create(path, 0600);
	if (c->recv_fd < 0)
		return c->recv_fd;
	c->recv_zxid = zxid;
	log_info("replica: receiving snapshot 0x%llx (%llu bytes) from the leader",
		 (unsigned long long)zxid, (unsigned long long)total);
	return 0;
}

int core_snap_write(struct qcore *c, zxid_t zxid, uint64_t offset, const uint8_t *data,
		    uint32_t len)
{
	ssize_t n;

	if (c->recv_fd < 0 || zxid != c->recv_zxid)
		return -EINVAL;
	n = pwrite(c->recv_fd, data, len, (off_t)offset);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* ---- the difference between two trees, as changes ---- */

static int same_data(const struct znode *a, const struct znode *b)
{
	return a->stat.mzxid == b->stat.mzxid && a->stat.version == b->stat.version &&
	       a->stat.data_length == b->stat.data_length &&
	       (!a->stat.data_length ||
		!memcmp(a->data, b->data, (size_t)a->stat.data_length));
}

static int is_dir(const struct znode *n)
{
	return (n->flags & ZNODE_F_DIR) || n->stat.num_children > 0;
}

static void emit(struct qcore *c, enum tree_event_type type, const char *path,
		 const struct znode *node, int was_dir, zxid_t zxid)
{
	struct tree_event ev = {
	    .type = type, .path = path, .node = node, .was_dir = was_dir, .zxid = zxid};

	core_emit(c, &ev);
}

/* Everything under and including n (old tree) is gone: children first. */
static void gone(struct qcore *c, const struct tree *old, const struct znode *n, zxid_t z)
{
	char **names = NULL;
	size_t cnt = 0;
	char path[8192];

	if (tree_children(old, n, &names, &cnt) == 0) {
		for (size_t i = 0; i < cnt; i++) {
			const struct znode *ch;

			snprintf(path, sizeof(path), "%s/%s",
				 strcmp(n->path, "/") ? n->path : "", names[i]);
			ch = tree_lookup(old, path);
			if (ch)
				gone(c, old, ch, z);
		}
		tree_names_free(names);
	}
	emit(c, TREE_DELETED, n->path, NULL, is_dir(n), z);
}

/* Everything under and including n (new tree) is new: parents first. */
static void born(struct qcore *c, const struct tree *nw, const struct znode *n)
{
	char **names = NULL;
	size_t cnt = 0;
	char path[8192];

	emit(c, TREE_CREATED, n->path, n, 0, n->stat.czxid);
	if (tree_children(nw, n, &names, &cnt))
		return;
	for (size_t i = 0; i < cnt; i++) {
		const struct znode *ch;

		snprintf(path, sizeof(path), "%s/%s", strcmp(n->path, "/") ? n->path : "",
			 names[i]);
		ch = tree_lookup(nw, path);
		if (ch)
			born(c, nw, ch);
	}
	tree_names_free(names);
}

/* a (old) and b (new) are the same path. */
static void diff(struct qcore *c, const struct tree *old, const struct znode *a,
		 const struct tree *nw, const struct znode *b)
{
	char **na = NULL, **nb = NULL;
	size_t ca = 0, cb = 0, i = 0, j = 0;
	char path[8192];

	if (a->stat.czxid != b->stat.czxid) {
		/* Deleted and made again meanwhile. */
		gone(c, old, a, b->stat.czxid);
		born(c, nw, b);
		return;
	}
	if (!same_data(a, b))
		emit(c, TREE_DATA, b->path, b, 0, b->stat.mzxid);
	if (a->stat.aversion != b->stat.aversion)
		emit(c, TREE_ACL, b->path, b, 0, b->stat.mzxid);
	if (a->child_kind != b->child_kind || a->flags != b->flags ||
	    a->child_ttl_ms != b->child_ttl_ms)
		emit(c, TREE_META, b->path, b, 0, b->stat.mzxid);
	if (tree_children(old, a, &na, &ca) || tree_children(nw, b, &nb, &cb)) {
		tree_names_free(na);
		tree_names_free(nb);
		return;
	}
	/* Both sorted bytewise: a merge. */
	while (i < ca || j < cb) {
		int cmp = i == ca ? 1 : j == cb ? -1 : strcmp(na[i], nb[j]);
		const char *name = cmp <= 0 ? na[i] : nb[j];
		const struct znode *x, *y;

		snprintf(path, sizeof(path), "%s/%s", strcmp(b->path, "/") ? b->path : "",
			 name);
		x = cmp <= 0 ? tree_lookup(old, path) : NULL;
		y = cmp >= 0 ? tree_lookup(nw, path) : NULL;
		if (x && y)
			diff(c, old, x, nw, y);
		else if (x)
			gone(c, old, x, tree_last_zxid(nw));
		else if (y)
			born(c, nw, y);
		if (cmp <= 0)
			i++;
		if (cmp >= 0)
			j++;
	}
	tree_names_free(na);
	tree_names_free(nb);
}

static int track(void *arg, const struct tree_session *s)
{
	struct qcore *c = arg;

	return sesstrack_add(c->sess, s->id, s->timeout_ms, core_mono_ms());
}

static int untrack(void *arg, const struct tree_session *s)
{
	struct qcore *c = arg;

	if (!tree_session_get(c->tree, s->id))
		sesstrack_remove(c->sess, s->id);
	return 0;
}

int core_snap_finish(struct qcore *c, zxid_t zxid)
{
	char tmp[4200], path[4096], why[1024];
	struct tree *nw;
	struct prep *np;
	zxid_t got;
	int rc;

	if (c->recv_fd < 0 || zxid != c->recv_zxid)
		return -EINVAL;
	rc = fsync(c->recv_fd) < 0 ? -errno : 0;
	close(c->recv_fd);
	c->recv_fd = -1;
	if (rc)
		return rc;
	recv_path(c, zxid, tmp, sizeof(tmp));
	nw = tree_new();
	if (!nw)
		return -ENOMEM;
	rc = snapshot_load(tmp, nw, &got, why, sizeof(why));
	if (!rc && got != zxid)
		rc = -EBADMSG;
	if (rc) {
		log_warnx("replica: the snapshot from the leader does not load: %s", why);
		tree_free(nw);
		unlink(tmp);
		return rc;
	}
	np = prep_new(nw);
	if (!np) {
		tree_free(nw);
		return -ENOMEM;
	}
	snapshot_path(path, sizeof(path), c->dir, zxid);
	if (rename(tmp, path) < 0 || storage_fsync_dir(c->dir) < 0) {
		rc = -errno;
		prep_free(np);
		tree_free(nw);
		return rc;
	}
	/* The new state. A request of this member whose entry the snapshot
	 * holds gets no answer from it: the forwarded timeout fails it (a
	 * later entry still answers as usual). What this member prepared
	 * itself (it led before) was failed when it stopped leading. */
	prep_free(c->prep);
	c->prep = np;
	c->applied = zxid;
	c->snap_zxid = zxid;
	c->since_snap = 0;
	log_info("replica: installed snapshot 0x%llx (%zu znodes); telling the "
		 "changes since 0x%llx",
		 (unsigned long long)zxid, tree_node_count(nw),
		 (unsigned long long)tree_last_zxid(c->tree));
	core_tree_swap(c, nw);
	return 0;
}

void core_tree_swap(struct qcore *c, struct tree *nw)
{
	struct tree *old = c->tree;

	c->tree = nw;
	c->view_diverged = 0;
	tree_set_listener(nw, core_tree_listener, c);
	tree_session_foreach(old, untrack, c);
	tree_session_foreach(nw, track, c);
	diff(c, old, tree_lookup(old, "/"), nw, tree_lookup(nw, "/"));
	tree_free(old);
	core_drain(c);
}
