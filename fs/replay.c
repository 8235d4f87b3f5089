/*
 * replay.c - inotify by replay (DESIGN.md section 3).
 *
 * FUSE does not turn cache invalidations into inotify events; a real VFS
 * operation on the mount does. So every change this mount did not make
 * itself (TTL expiry, container cleanup, expired sessions, and later the
 * ZooKeeper protocol and other hosts) is, when the kernel holds the inodes
 * it touches, re-done on the mount by a thread of the daemon: open O_TRUNC
 * + write + close for data, mkdir, creat (or mknod when empty) for creation, unlink or
 * rmdir for deletion, setxattr for the ACL and child_kind. The thread has those
 * operations done by a helper process (replay_proc.c says why a process),
 * waiting for each in turn. The FUSE handlers know the helper by the
 * caller's pid (qfs_from_replay) and answer from the tree, which already has
 * the change, committing nothing.
 *
 * A replay looks names up, and the kernel would then keep them: every later
 * change to such a node would replay too, and so would every change below
 * a directory kept so, with nobody watching. That was a third of a
 * leader's CPU under a stream of writes, and it grew over a long run as
 * more names were kept. So a name that a replay made the kernel hold for
 * the first time is dropped again once the replay is done (RP_RELEASE,
 * queued by the entry reply; its entry expires at once meanwhile), and the
 * kernel then forgets the inode (FUSE keeps no unused inodes) unless
 * something took it meanwhile: an inotify watch holds the inode, so the
 * changes a watcher must see are still replayed. A lookup by anyone else
 * before the release runs cancels it, so a name a process has just reached
 * (its working directory, say) is not dropped under it.
 *
 * Own changes (made by this mount's FUSE requests: the kernel already saw
 * them and raised the events) only have the kernel's caches invalidated.
 * A change is own when it was applied under the mount's session while one of
 * the mount's writes was outstanding and the session is not being closed
 * (the deletions of a session close are foreign: watchers must see them).
 *
 * Cache invalidations are sent from the thread too, never from the loop: a
 * notification blocks in the kernel on locks that a process may hold while
 * it waits for the loop to answer its request.
 *
 * The loop hands items over through a mutex-protected queue and a condition
 * variable (it never waits for the thread); the thread tells the loop it has
 * drained the queue through a pipe.
 *
 * A close of this mount is answered behind the invalidations its change
 * queued, so it waits for everything queued before them. Each replay costs
 * a few FUSE round trips through the loop, about a millisecond under load,
 * and other hosts can commit changes to a directory this kernel holds
 * faster than that: at ~3000 creates and deletes a second from elsewhere,
 * this mount's closes took 1 to 2 s, 1500 replays behind
 * (tests/bench/bench_replay.sh). So once the queue is long (RP_BACKLOG),
 * the mount's own items, its invalidations and the answers behind them,
 * go ahead of the foreign replays, in their own order, until the queue
 * drains (not the answer to a failed create, which must follow the
 * replayed deletion of its name: qfs_replay_reply's after_all). The caches
 * stay right for the writer: its own invalidation still runs before its
 * answer, and a foreign change already applied is what the daemon answers
 * from (a cluster mount caches no attributes, and a read handle keeps pages
 * only of a file unchanged since). What a backlog costs is the order of
 * inotify events across the two: a watcher may see this host's write
 * before a change from elsewhere committed just before it, rather than the
 * write waiting seconds for that event.
 *
 * The queue is bounded (mountReplayLimit, rp_limit). Other hosts can commit
 * changes to a watched directory faster than replays run, for as long as
 * they like, and each queued replay holds memory and delays every later
 * event. Once that many items are queued, changes from elsewhere are not
 * replayed, and nothing of them is queued, until the queue has drained:
 * watchers here miss those events, as inotify's own queue drops events
 * past max_queued_events. Reads stay right without them: what the kernel
 * caches of a node outlives a change made elsewhere by at most the entry
 * and attribute timeouts (QFS_ENTRY_TIMEOUT; no attributes at all on a
 * cluster mount), the bound that already holds while a replay waits in the
 * queue. A warning says when this starts and, when it ends, how many
 * changes went unreplayed (qfs_replay_drained).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs_int.h"
#include "log.h"

struct replay_item {
	struct replay_item *next;
	enum replay_kind kind;
	char *path; /* file path the operation is done on */
	int is_dir;
	void *data;	   /* RP_XATTR: its text */
	size_t len;	   /* RP_DATA, RP_CREATE: the value's length; RP_XATTR: data's */
	const char *xname; /* RP_XATTR */
	uint64_t ino;  /* RP_DELETE: inode held for the node; RP_INVAL: to invalidate */
	int ino_data;  /* RP_INVAL: drop ino's cached data too */
	uint64_t ino2; /* RP_INVAL: a second inode (attrs only) */
	uint64_t parent_ino; /* the directory whose attributes change */
	char *name;	     /* RP_INVAL_ENTRY, RP_CREATE: name in parent_ino */
	int own;	     /* queued by enqueue_own */
	fuse_req_t req;	     /* RP_REPLY */
	int err;	     /* RP_REPLY */
};

/* Queued items past which the mount's own go first (see the top). */
#define RP_BACKLOG 64

/* First in the queue: what must follow the running item at once. */
static void enqueue_front(struct qfs_mount *m, struct replay_item *it)
{
	pthread_mutex_lock(&m->rp_lock);
	it->next = m->rp_head;
	m->rp_head = it;
	if (!m->rp_tail)
		m->rp_tail = it;
	m->rp_len++;
	pthread_mutex_unlock(&m->rp_lock);
	pthread_cond_signal(&m->rp_cond); /* unlocked: see enqueue() */
}

static void item_free(struct replay_item *it)
{
	free(it->path);
	free(it->data);
	free(it->name);
	free(it);
}

/* Under rp_lock: it goes after the own items ahead of the queue (or
 * first, if there are none) and becomes the last of them. */
static void put_ahead(struct qfs_mount *m, struct replay_item *it)
{
	struct replay_item **at = m->rp_own_tail ? &m->rp_own_tail->next : &m->rp_head;

	it->next = *at;
	*at = it;
	if (!it->next)
		m->rp_tail = it;
	m->rp_own_tail = it;
}

/* Under rp_lock: the queue has grown long; the own items already in it go
 * ahead, in their order, and so will the next ones (enqueue_own). */
static void start_backlog(struct qfs_mount *m)
{
	struct replay_item **pp = &m->rp_head, *it, *prev = NULL;
	struct replay_item *own = NULL, **own_end = &own;

	m->rp_backlog = 1;
	while ((it = *pp) != NULL) {
		if (!it->own) {
			prev = it;
			pp = &it->next;
			continue;
		}
		*pp = it->next; /* out of the queue, onto the own list */
		it->next = NULL;
		*own_end = it;
		own_end = &it->next;
		m->rp_own_tail = it;
	}
	m->rp_tail = prev;
	if (own) {
		*own_end = m->rp_head; /* the own list, then the rest */
		m->rp_head = own;
		if (!m->rp_tail)
			m->rp_tail = m->rp_own_tail;
	}
}

static void enqueue(struct qfs_mount *m, struct replay_item *it)
{
	pthread_mutex_lock(&m->rp_lock);
	if (m->rp_tail)
		m->rp_tail->next = it;
	else
		m->rp_head = it;
	m->rp_tail = it;
	if (++m->rp_len >= RP_BACKLOG && !m->rp_backlog)
		start_backlog(m);
	pthread_mutex_unlock(&m->rp_lock);
	/* Signalled with the lock released, so that the replay thread, woken
	 * at once on this CPU, does not block on the lock we still hold. It
	 * rereads the queue under the lock, so nothing is missed. */
	pthread_cond_signal(&m->rp_cond);
}

/* The mount's own invalidations and the answers behind them: at the tail,
 * or ahead of the foreign replays in a backlog (see the top). */
static void enqueue_own(struct qfs_mount *m, struct replay_item *it)
{
	it->own = 1;
	pthread_mutex_lock(&m->rp_lock);
	if (!m->rp_backlog) {
		pthread_mutex_unlock(&m->rp_lock);
		enqueue(m, it);
		return;
	}
	put_ahead(m, it);
	m->rp_len++;
	pthread_mutex_unlock(&m->rp_lock);
	pthread_cond_signal(&m->rp_cond);
}

static struct replay_item *item_new(enum replay_kind kind, const char *path)
{
	struct replay_item *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	it->kind = kind;
	if (path) {
		it->path = strdup(path);
		if (!it->path) {
			free(it);
			return NULL;
		}
	}
	return it;
}

/* Does the kernel hold it for someone? A name only a replay looked up
 * (its release pending, nobody else has looked it up since) does not
 * count: otherwise each replay would make the next one look needed. */
static int held(const struct qfs_inode *in)
{
	return in && in->nlookup > 0 && !in->release_queued;
}

static void queue_inval(struct qfs_mount *m, struct qfs_inode *a, int data,
			struct qfs_inode *b, struct qfs_inode *parent)
{
	struct replay_item *it;

	if (!held(a) && !held(b) && !held(parent))
		return;
	it = item_new(RP_INVAL, NULL);
	if (!it)
		goto err_nomem;
	it->ino = held(a) ? a->ino : 0;
	it->ino_data = data;
	it->ino2 = held(b) ? b->ino : 0;
	it->parent_ino = held(parent) ? parent->ino : 0;
	enqueue_own(m, it);
	return;
err_nomem:
	log_warnx("fs: out of memory: kernel cache of %s not invalidated",
		  a ? a->path : "?");
}

/*
 * Past the limit (see the top): 1 while changes from elsewhere are not
 * replayed, counting the change asked about as one. The loop decides; the
 * replay thread ends it when the queue drains. Asked only of a change a
 * replay is owed for.
 */
static int replay_over(struct qfs_mount *m)
{
	int over, start = 0;
	size_t len;

	pthread_mutex_lock(&m->rp_lock);
	if (!m->rp_over && m->rp_limit && m->rp_len >= m->rp_limit) {
		m->rp_over = start = 1;
		m->rp_skipped = 0;
	}
	over = m->rp_over;
	if (over) {
		m->rp_skipped++;
		m->st.replays_skipped++;
	}
	len = m->rp_len;
	pthread_mutex_unlock(&m->rp_lock);
	if (start)
		log_warnx("fs: %zu changes queued for inotify replay "
			  "(mountReplayLimit=%zu): changes from elsewhere are not "
			  "replayed, and watchers here miss their events, until the "
			  "queue drains",
			  len, m->rp_limit);
	return over;
}

struct qfs_expect {
	struct qfs_expect *next;
	char path[];
};

int qfs_replay_expect_delete(struct qfs_mount *m, const char *path)
{
	size_t len = strlen(path) + 1;
	struct qfs_expect *e = malloc(sizeof(*e) + len);

	if (!e)
		return -ENOMEM;
	memcpy(e->path, path, len);
	e->next = m->expected;
	m->expected = e;
	return 0;
}

/* Take path off the list; 1 if it was there. */
static int take_expected(struct qfs_mount *m, const char *path)
{
	struct qfs_expect **pp, *e;

	for (pp = &m->expected; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->path, path) == 0) {
			*pp = e->next;
			free(e);
			return 1;
		}
	}
	return 0;
}

void qfs_replay_unexpect_delete(struct qfs_mount *m, const char *path)
{
	take_expected(m, path);
}

void qfs_replay_expect_free(struct qfs_mount *m)
{
	while (m->expected)
		take_expected(m, m->expected->path);
}

static char *format_meta(const struct znode *n)
{
	char v[64];

	if (n->child_kind == ZNODE_TTL)
		snprintf(v, sizeof(v), "ttl:%" PRId64, n->child_ttl_ms);
	else
		snprintf(v, sizeof(v), "%s",
			 n->child_kind == ZNODE_EPHEMERAL   ? "ephemeral"
			 : n->child_kind == ZNODE_CONTAINER ? "container"
							    : "persistent");
	return strdup(v);
}

void qfs_on_change(struct qfs_mount *m, const struct tree_event *ev)
{
	const struct znode *n = ev->node;
	struct qfs_inode *in, *din, *pin, *gin;
	struct replay_item *it = NULL;
	char *ppath = NULL, *dpath = NULL, *gpath = NULL;
	int own, root = strcmp(ev->path, "/") == 0;

	if (m->dead)
		return;
	own = m->session_id && ev->session_id == m->session_id && m->inflight > 0 &&
	      !m->closing;
	ppath = root ? NULL : qfs_path_parent(ev->path);
	dpath = qfs_path_join(ev->path, QFS_DATA_NAME);
	if ((!root && !ppath) || !dpath)
		goto err_nomem;
	in = qfs_inode_by_path(m, ev->path);
	din = qfs_inode_by_path(m, dpath);
	pin = ppath ? qfs_inode_by_path(m, ppath) : NULL;

	switch (ev->type) {
	case TREE_DELETED:
		if (m->expected && take_expected(m, ev->path))
			own = 0;
		if (!own && held(pin) && !replay_over(m)) {
			it = item_new(RP_DELETE, ev->path);
			if (!it)
				goto err_nomem;
			it->is_dir = ev->was_dir;
			it->ino = in ? in->ino : 0;
			it->parent_ino = pin->ino;
		}
		if (in)
			qfs_inode_unhash(m, in);
		if (din)
			qfs_inode_unhash(m, din);
		if (own)
			queue_inval(m, NULL, 0, NULL, pin);
		break;
	case TREE_CREATED:
		if (in)
			qfs_inode_unhash(m, in); /* an older incarnation */
		if (pin && !pin->is_dir && !pin->is_data && held(pin)) {
			/* its parent was a file to the kernel and is now a
			 * directory: make the kernel look the name up again */
			gpath = qfs_path_parent(ppath);
			gin = gpath ? qfs_inode_by_path(m, gpath) : NULL;
			if (held(gin)) {
				it = item_new(RP_INVAL_ENTRY, NULL);
				if (!it)
					goto err_nomem;
				it->parent_ino = gin->ino;
				it->name = strdup(qfs_path_base(ppath));
				if (!it->name)
					goto err_nomem;
				enqueue(m, it);
				it = NULL;
			}
			break;
		}
		if (own) {
			queue_inval(m, NULL, 0, NULL, pin);
		} else if (held(pin) && !replay_over(m)) {
			it = item_new(RP_CREATE, ev->path);
			if (!it)
				goto err_nomem;
			it->is_dir = n && qfs_node_is_dir(n);
			it->parent_ino = pin->ino;
			it->name = strdup(qfs_path_base(ev->path));
			if (!it->name)
				goto err_nomem;
			if (n && !it->is_dir && n->stat.data_length)
				it->len = (size_t)n->stat.data_length; /* see RP_DATA */
		}
		break;
	case TREE_DATA:
		if (!n)
			break;
		if (qfs_node_is_dir(n) ? din : in)
			(qfs_node_is_dir(n) ? din : in)->hot_until =
			    qfs_now_ms() + QFS_HOT_MS;
		if (own) {
			queue_inval(m, qfs_node_is_dir(n) ? din : in, 1, NULL, NULL);
		} else if ((qfs_node_is_dir(n) ? (held(din) || held(in))
					       : (held(in) || held(pin))) &&
			   !replay_over(m)) {
			/* a watch on the directory reports its files' changes,
			 * so a held parent is reason enough */
			it = item_new(RP_DATA, qfs_node_is_dir(n) ? dpath : ev->path);
			if (!it)
				goto err_nomem;
			/* The length alone: the helper writes that many zeros
			 * (RPROC_DATA), which raise the same events, and our
			 * handlers ignore a replay's bytes (they answer from the
			 * tree, and its write handles bypass the page cache). A
			 * backlog of changes to large values held a copy of
			 * each, up to 1 MiB a change, until replayed. */
			it->len = (size_t)n->stat.data_length;
			it->ino = qfs_node_is_dir(n) ? (din ? din->ino : 0)
						     : (in ? in->ino : 0);
		}
		break;
	case TREE_ACL:
	case TREE_META:
		if (!n)
			break;
		if (in && in->is_dir != (qfs_node_is_dir(n) != 0) && held(pin)) {
			/* the directory mark changed the shape */
			it = item_new(RP_INVAL_ENTRY, NULL);
			if (!it)
				goto err_nomem;
			it->parent_ino = pin->ino;
			it->name = strdup(qfs_path_base(ev->path));
			if (!it->name)
				goto err_nomem;
			break;
		}
		if (own) {
			queue_inval(m, in, 0, din, NULL);
		} else if ((held(in) || held(pin)) && !replay_over(m)) {
			it = item_new(RP_XATTR, ev->path);
			if (!it)
				goto err_nomem;
			if (ev->type == TREE_ACL) {
				it->xname = "user.quorumfs.acl";
				it->data = acl_format(&n->acl);
			} else {
				it->xname = "user.quorumfs.child_kind";
				it->data = format_meta(n);
			}
			if (!it->data)
				goto err_nomem;
			it->len = strlen(it->data);
			it->ino = in ? in->ino : 0;
			it->ino2 = din ? din->ino : 0;
			it->is_dir = qfs_node_is_dir(n) != 0; /* if it is gone by then */
		}
		break;
	}
	if (it)
		enqueue(m, it);
	goto out;

err_nomem:
	log_warnx("fs: out of memory: change to %s not replayed", ev->path);
	if (it)
		item_free(it);
out:
	free(ppath);
	free(dpath);
	free(gpath);
}

void qfs_replay_drained(struct qfs_mount *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->rp_lock);
	n = m->rp_skipped_done;
	m->rp_skipped_done = 0;
	pthread_mutex_unlock(&m->rp_lock);
	if (n)
		log_warnx("fs: inotify replay caught up: %llu changes from elsewhere "
			  "were not replayed, and watchers here missed their events",
			  (unsigned long long)n);
}

void qfs_replay_reply(struct qfs_mount *m, fuse_req_t req, int err, int after_all)
{
	struct replay_item *it = item_new(RP_REPLY, NULL);

	if (!it) {
		fuse_reply_err(req, err); /* at once rather than never */
		return;
	}
	it->req = req;
	it->err = err;
	if (after_all)
		enqueue(m, it);
	else
		enqueue_own(m, it);
}

void qfs_replay_inval(struct qfs_mount *m, uint64_t ino)
{
	struct replay_item *it = item_new(RP_INVAL, NULL);

	if (!it)
		return; /* the next change invalidates it again */
	it->ino = ino;
	it->ino_data = 1;
	enqueue(m, it);
}

void qfs_replay_release(struct qfs_mount *m, struct qfs_inode *in)
{
	struct qfs_inode *pin;
	struct replay_item *it;
	char *ppath;

	if (in->ino == FUSE_ROOT_ID || in->release_queued)
		return;
	ppath = qfs_path_parent(in->path);
	pin = ppath ? qfs_inode_by_path(m, ppath) : NULL;
	free(ppath);
	if (!pin || !pin->nlookup)
		return;
	it = item_new(RP_RELEASE, NULL);
	if (!it)
		return; /* kept: later changes replay, nothing is lost */
	it->parent_ino = pin->ino;
	it->ino = in->ino;
	it->name = strdup(qfs_path_base(in->path));
	if (!it->name) {
		item_free(it);
		return;
	}
	in->release_queued = 1;
	/* Right after the replay that looked it up, not behind the changes
	 * queued meanwhile: until the kernel forgets it, every change below
	 * it is queued for replay too. */
	enqueue_front(m, it);
}

void qfs_replay_claim(struct qfs_mount *m, struct qfs_inode *in)
{
	struct replay_item *it;

	if (!in->release_queued)
		return;
	in->release_queued = 0;
	pthread_mutex_lock(&m->rp_lock);
	for (it = m->rp_head; it; it = it->next)
		if (it->kind == RP_RELEASE && it->ino == in->ino)
			it->parent_ino = 0; /* run as a no-op */
	pthread_mutex_unlock(&m->rp_lock);
}

/*
 * A scan of the queue, so the last answer is kept: every replay below a
 * directory deleted with its children asks about that directory, and a
 * queue of n such replays would otherwise cost n scans of up to n items.
 * An answer stays right while the path is gone: its deletion was queued,
 * or not, when the tree lost it. (If it is made and deleted again
 * meanwhile, a stale answer names the older inode or none: that replay's
 * events may then go to a ghost.)
 */
uint64_t qfs_replay_deleted_ino(struct qfs_mount *m, const char *path)
{
	struct replay_item *it;
	uint64_t ino = 0;
	char *p;

	if (m->rp_gone_path && strcmp(m->rp_gone_path, path) == 0)
		return m->rp_gone_ino;
	pthread_mutex_lock(&m->rp_lock);
	for (it = m->rp_head; it && !ino; it = it->next)
		if (it->kind == RP_DELETE && strcmp(it->path, path) == 0)
			ino = it->ino;
	pthread_mutex_unlock(&m->rp_lock);
	if ((p = strdup(path)) != NULL) {
		free(m->rp_gone_path);
		m->rp_gone_path = p;
		m->rp_gone_ino = ino;
	}
	return ino;
}

void qfs_replay_current(struct qfs_mount *m, struct replay_view *v)
{
	pthread_mutex_lock(&m->rp_lock);
	v->active = m->rp_cur != NULL;
	if (v->active) {
		v->kind = m->rp_cur->kind;
		snprintf(v->path, sizeof(v->path), "%s",
			 m->rp_cur->path ? m->rp_cur->path : "");
		v->is_dir = m->rp_cur->is_dir;
		v->ino = m->rp_cur->ino;
	}
	pthread_mutex_unlock(&m->rp_lock);
}

size_t qfs_replay_queued(struct qfs_mount *m)
{
	size_t n;

	pthread_mutex_lock(&m->rp_lock);
	n = m->rp_len + (m->rp_busy != 0);
	pthread_mutex_unlock(&m->rp_lock);
	return n;
}

int qfs_replay_idle(struct qfs_mount *m)
{
	int idle;

	pthread_mutex_lock(&m->rp_lock);
	idle = !m->rp_head && !m->rp_busy;
	pthread_mutex_unlock(&m->rp_lock);
	return idle;
}

/* --- the thread --- */

static void inval_inode(struct qfs_mount *m, uint64_t ino, int data)
{
	if (!ino)
		return;
	/* offset -1: attributes only */
	fuse_lowlevel_notify_inval_inode(m->se, ino, data ? 0 : -1, 0);
	__atomic_add_fetch(&m->st.invals, 1, __ATOMIC_RELAXED);
}

static void run_item(struct qfs_mount *m, struct replay_item *it)
{
	char *full = NULL;
	int err;

	if (it->path) {
		full = malloc(strlen(m->mountpoint) + strlen(it->path) + 1);
		if (!full)
			return;
		strcpy(full, m->mountpoint);
		strcat(full, it->path);
	}
	switch (it->kind) {
	case RP_DATA:
		err = qfs_replay_proc_do(m, RPROC_DATA, full, NULL, it->data, it->len);
		if (err)
			log_debug("fs: replay write %s: %s", it->path, strerror(err));
		__atomic_add_fetch(&m->st.replays, 1, __ATOMIC_RELAXED);
		inval_inode(m, it->ino, 1);
		break;
	case RP_CREATE:
		/* a name a reader looked up after the change would make the
		 * VFS refuse the create without asking us */
		fuse_lowlevel_notify_inval_entry(m->se, it->parent_ino, it->name,
						 strlen(it->name));
		if (it->is_dir) {
			err = qfs_replay_proc_do(m, RPROC_MKDIR, full, NULL, NULL, 0);
		} else if (!it->len) {
			/*
			 * Made empty: as a mount makes every file ("echo x >
			 * f" commits the create at creat and the value at
			 * close, as two changes). Its value, if one follows,
			 * replays as open+write+close; so the create alone
			 * must raise only IN_CREATE for the two to add up to
			 * the writer's own CREATE OPEN MODIFY CLOSE_WRITE.
			 */
			err = qfs_replay_proc_do(m, RPROC_MKNOD, full, NULL, NULL, 0);
		} else {
			err = qfs_replay_proc_do(m, RPROC_CREATE, full, NULL, it->data,
						 it->len);
		}
		if (err && err != EEXIST)
			log_debug("fs: replay create %s: %s", it->path, strerror(err));
		__atomic_add_fetch(&m->st.replays, 1, __ATOMIC_RELAXED);
		inval_inode(m, it->parent_ino, 0);
		break;
	case RP_DELETE:
		err = qfs_replay_proc_do(m, it->is_dir ? RPROC_RMDIR : RPROC_UNLINK, full,
					 NULL, NULL, 0);
		if (err)
			log_debug("fs: replay delete %s: %s", it->path, strerror(err));
		__atomic_add_fetch(&m->st.replays, 1, __ATOMIC_RELAXED);
		inval_inode(m, it->parent_ino, 0);
		break;
	case RP_XATTR:
		err = qfs_replay_proc_do(m, RPROC_SETXATTR, full, it->xname, it->data,
					 it->len);
		if (err)
			log_debug("fs: replay setxattr %s: %s", it->path, strerror(err));
		__atomic_add_fetch(&m->st.replays, 1, __ATOMIC_RELAXED);
		inval_inode(m, it->ino, 0);
		inval_inode(m, it->ino2, 0);
		break;
	case RP_INVAL:
		inval_inode(m, it->ino, it->ino_data);
		inval_inode(m, it->ino2, 0);
		inval_inode(m, it->parent_ino, 0);
		break;
	case RP_INVAL_ENTRY:
		fuse_lowlevel_notify_inval_entry(m->se, it->parent_ino, it->name,
						 strlen(it->name));
		__atomic_add_fetch(&m->st.invals, 1, __ATOMIC_RELAXED);
		break;
	case RP_RELEASE:
		if (!it->parent_ino)
			break; /* claimed */
		fuse_lowlevel_notify_inval_entry(m->se, it->parent_ino, it->name,
						 strlen(it->name));
		__atomic_add_fetch(&m->st.invals, 1, __ATOMIC_RELAXED);
		break;
	case RP_REPLY:
		/* libfuse replies are safe from any thread */
		fuse_reply_err(it->req, it->err);
		break;
	}
	free(full);
}

static void *replay_main(void *arg)
{
	struct qfs_mount *m = arg;
	struct replay_item *it;
	char one = 1;

	pthread_mutex_lock(&m->rp_lock);
	for (;;) {
		while (!m->rp_head && !m->rp_stop)
			pthread_cond_wait(&m->rp_cond, &m->rp_lock);
		if (m->rp_stop)
			break;
		it = m->rp_head;
		m->rp_head = it->next;
		m->rp_len--;
		if (m->rp_own_tail == it)
			m->rp_own_tail = NULL;
		if (!m->rp_head) {
			m->rp_tail = NULL;
			m->rp_backlog = 0;
			if (m->rp_over) {
				/* qfs_replay_drained says so, on the loop */
				m->rp_over = 0;
				m->rp_skipped_done += m->rp_skipped;
				m->rp_skipped = 0;
			}
		}
		m->rp_cur = it;
		m->rp_busy = 1;
		pthread_mutex_unlock(&m->rp_lock);

		if (m->rp_test_delay_ms > 0 && !it->own && it->kind != RP_RELEASE)
			usleep((useconds_t)m->rp_test_delay_ms * 1000);
		run_item(m, it);

		pthread_mutex_lock(&m->rp_lock);
		m->rp_cur = NULL;
		m->rp_busy = 0;
		item_free(it);
		if (!m->rp_head) {
			/* tell the loop (a close waiting for its deletions) */
			if (write(m->rp_pipe[1], &one, 1) < 0) {
				/* full: the loop has a wakeup pending anyway */
			}
		}
	}
	pthread_mutex_unlock(&m->rp_lock);
	return NULL;
}

int qfs_replay_start(struct qfs_mount *m)
{
	sigset_t all, old;
	int rc;

	pthread_mutex_init(&m->rp_lock, NULL);
	pthread_cond_init(&m->rp_cond, NULL);
	/*
	 * The replay thread exists because its syscalls re-enter this daemon:
	 * each open/write/mkdir/unlink it makes on the mount becomes FUSE
	 * requests that the loop thread must answer, so the loop cannot make
	 * them itself. Signals stay with the main thread.
	 */
	rc = qfs_replay_proc_start(m);
	if (rc < 0)
		return rc;
	m->rp_tid = m->rp_pid;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&m->rp_thread, NULL, replay_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		qfs_replay_proc_stop(m);
		return -rc;
	}
	pthread_setname_np(m->rp_thread, "qfs-replay");
	m->rp_started = 1;
	return 0;
}

void qfs_replay_stop(struct qfs_mount *m)
{
	struct replay_item *it;

	if (!m->rp_started)
		return;
	pthread_mutex_lock(&m->rp_lock);
	m->rp_stop = 1;
	pthread_cond_broadcast(&m->rp_cond);
	pthread_mutex_unlock(&m->rp_lock);
	pthread_join(m->rp_thread, NULL);
	qfs_replay_proc_stop(m);
	m->rp_started = 0;
	while ((it = m->rp_head)) {
		m->rp_head = it->next;
		if (it->kind == RP_REPLY)
			fuse_reply_err(it->req, it->err);
		item_free(it);
	}
	m->rp_tail = NULL;
	m->rp_own_tail = NULL;
	m->rp_len = 0;
	m->rp_backlog = 0;
	free(m->rp_gone_path);
	m->rp_gone_path = NULL;
	pthread_cond_destroy(&m->rp_cond);
	pthread_mutex_destroy(&m->rp_lock);
}
