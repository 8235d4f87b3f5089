/*
 * mount.c - the mount's life: FUSE session on the daemon's libevent loop,
 * the mount's ZooKeeper session, and shutdown.
 *
 * No FUSE worker threads: /dev/fuse is non-blocking and read from a
 * libevent read event; each request is handled on the loop, and one that
 * writes keeps its fuse_req_t and is answered from the core's completion.
 * Requests are read only once the mount's session is open, so every write
 * has a session to belong to (the kernel queues them until then).
 *
 * Sessions: the mount opens its own session, owned by opts->owner. A
 * previous run's session with the same owner (the daemon crashed) is closed
 * shortly after the new mount serves, so its ephemerals go and watchers set
 * up on the fresh mount see them go (replay.c). The session is touched on a
 * timer; if it expired anyway (the loop was stalled beyond the timeout), a
 * new one is opened and the loss is logged.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fs_int.h"
#include "log.h"
#include "zerr.h"

/* How long after the mount serves the previous run's session is closed. */
#define QFS_OLD_SESSION_DELAY_MS 1000
/* How long a mount waits for its session before it serves anyway: reads
 * need none, and writes fail with EROFS until it opens. */
#define QFS_OPEN_GRACE_MS 2000
/* A clean close waits at most this long for its deletions to be replayed. */
#define QFS_CLOSE_WAIT_MS 5000

static void on_tree_change(void *arg, const struct tree_event *ev)
{
	qfs_on_change(arg, ev);
}

static void qfs_init(void *userdata, struct fuse_conn_info *conn)
{
	/*
	 * No atomic O_TRUNC: with it the kernel sets its own file size to 0
	 * when the writer opens, and a reader here racing the writer can keep
	 * that size and read an empty file. Without it, open(O_TRUNC) is an
	 * OPEN followed by a truncating SETATTR from the same thread, which
	 * attr.c applies to that new handle's buffer only and answers with
	 * the committed size: the kernel never shows the cut value.
	 */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void qfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	fuse_reply_err(req, EINVAL); /* there are no symlinks */
}

static void qfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			const char *name)
{
	/* a name no call may make is refused as such first, as mkdir's */
	fuse_reply_err(req, qfs_name_check(name) ? ENAMETOOLONG : EPERM);
}

static void qfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		     const char *newname)
{
	fuse_reply_err(req, qfs_name_check(newname) ? ENAMETOOLONG : EPERM);
}

/*
 * flock(2) and fcntl(2) locks are refused. Left to the kernel they would
 * work, but on this host only: two hosts running `flock /coord/x cmd`
 * would each believe they held the lock. Cluster locks are mkdir and
 * ephemerals (quorumfs(8)). Having these handlers makes libfuse ask the
 * kernel to send the locks here (FUSE_CAP_POSIX_LOCKS, _FLOCK_LOCKS).
 */
static void qfs_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		      struct flock *lock)
{
	fuse_reply_err(req, ENOLCK);
}

static void qfs_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		      struct flock *lock, int sleep)
{
	/* (an unlock has nothing to undo: no lock was ever granted) */
	fuse_reply_err(req, lock->l_type == F_UNLCK ? 0 : ENOLCK);
}

static void qfs_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	fuse_reply_err(req, (op & LOCK_UN) ? 0 : ENOLCK);
}

static const struct fuse_lowlevel_ops qfs_ops = {
    .init = qfs_init,
    .lookup = qfs_lookup,
    .forget = qfs_forget,
    .forget_multi = qfs_forget_multi,
    .getattr = qfs_getattr,
    .setattr = qfs_setattr,
    .readlink = qfs_readlink,
    .mknod = qfs_mknod,
    .mkdir = qfs_mkdir,
    .unlink = qfs_unlink,
    .rmdir = qfs_rmdir,
    .symlink = qfs_symlink,
    .rename = qfs_rename,
    .link = qfs_link,
    .open = qfs_open,
    .read = qfs_read,
    .write = qfs_write,
    .flush = qfs_flush,
    .release = qfs_release,
    .fsync = qfs_fsync,
    .opendir = qfs_opendir,
    .readdir = qfs_readdir,
    .releasedir = qfs_releasedir,
    .fsyncdir = qfs_fsyncdir,
    .statfs = qfs_statfs,
    .access = qfs_access,
    .setxattr = qfs_setxattr,
    .getxattr = qfs_getxattr,
    .listxattr = qfs_listxattr,
    .removexattr = qfs_removexattr,
    .create = qfs_create,
    .getlk = qfs_getlk,
    .setlk = qfs_setlk,
    .flock = qfs_flock,
};

static void gone(struct qfs_mount *m)
{
	if (!m->mounted)
		return;
	m->mounted = 0;
	m->unmounted = 1;
	event_del(m->fuse_ev);
	log_info("fs: %s was unmounted", m->mountpoint);
	if (m->on_unmounted)
		m->on_unmounted(m->arg);
}

static void on_fuse_readable(evutil_socket_t fd, short what, void *arg)
{
	struct qfs_mount *m = arg;
	int i, res;

	/* a bounded batch, so the network and timers get their turn */
	for (i = 0; i < 64; i++) {
		res = fuse_session_receive_buf(m->se, &m->fbuf);
		if (res == -EINTR)
			continue;
		if (res == -EAGAIN)
			return;
		if (res <= 0 || fuse_session_exited(m->se)) {
			gone(m);
			return;
		}
		m->st.requests++;
		fuse_session_process_buf(m->se, &m->fbuf);
		if (m->dead || fuse_session_exited(m->se)) {
			gone(m);
			return;
		}
	}
}

static void add_ms(struct timeval *tv, int64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

static void session_opened(void *arg, const struct zresult *res);
static void start_serving(struct qfs_mount *m);

static int touch_period_ms(const struct qfs_mount *m)
{
	return m->session_timeout_ms / 3 > 0 ? (int)(m->session_timeout_ms / 3) : 1000;
}

static int open_session(struct qfs_mount *m)
{
	int rc = qcore_session_open(m->core, m->session_timeout_ms, m->owner,
				    session_opened, m);

	if (rc < 0)
		log_warnx("fs: cannot open the mount's session: %s", strerror(-rc));
	else
		m->opening = 1;
	return rc;
}

static void on_touch(evutil_socket_t fd, short what, void *arg)
{
	struct qfs_mount *m = arg;

	if (m->closing || m->opening)
		return;
	if (!m->session_id) {
		/* The last open failed (no quorum, a leader change): try again
		 * each touch period, so the mount becomes writable by itself
		 * once the ensemble can create sessions. */
		open_session(m);
		return;
	}
	if (qcore_session_touch(m->core, m->session_id) == ZSESSIONEXPIRED) {
		log_warnx(
		    "fs: the mount's session 0x%llx expired; its ephemerals are gone; "
		    "opening a new one",
		    (unsigned long long)m->session_id);
		m->session_id = 0;
		open_session(m);
	}
}

struct old_sessions {
	struct qfs_mount *m;
	int64_t ids[64];
	int n;
};

static int collect_old(void *arg, const struct tree_session *s)
{
	struct old_sessions *o = arg;

	if (s->id != o->m->session_id && s->owner && strcmp(s->owner, o->m->owner) == 0 &&
	    o->n < (int)(sizeof(o->ids) / sizeof(o->ids[0])))
		o->ids[o->n++] = s->id;
	return 0;
}

static void old_closed(void *arg, const struct zresult *res)
{
}

static void on_close_old_sessions(evutil_socket_t fd, short what, void *arg)
{
	struct qfs_mount *m = arg;
	struct old_sessions o;
	int i;

	o.m = m;
	o.n = 0;
	tree_session_foreach(qcore_tree(m->core), collect_old, &o);
	for (i = 0; i < o.n; i++) {
		log_info("fs: closing session 0x%llx of a previous run of %s",
			 (unsigned long long)o.ids[i], m->owner);
		if (qcore_session_close(m->core, o.ids[i], old_closed, NULL) < 0)
			log_warnx("fs: cannot close session 0x%llx: out of memory",
				  (unsigned long long)o.ids[i]);
	}
}

static void session_opened(void *arg, const struct zresult *res)
{
	struct qfs_mount *m = arg;
	struct timeval tv;

	m->opening = 0;
	if (m->dead)
		return;
	if (res->err != ZOK) {
		if (!m->open_failed)
			log_warnx("fs: cannot open the mount's session: %s; the mount "
				  "is read-only until it can (retried every %d ms)",
				  zerr_str(res->err), touch_period_ms(m));
		m->open_failed = 1;
	} else {
		m->session_id = res->session_id;
		if (m->open_failed)
			log_info("fs: the mount's session 0x%llx is open: writable again",
				 (unsigned long long)m->session_id);
		else
			log_debug("fs: mount session 0x%llx",
				  (unsigned long long)m->session_id);
		m->open_failed = 0;
	}
	if (m->session_id && !m->old_scheduled) {
		/* The previous run's sessions are closed under a quorum, once:
		 * after an open that failed the close would fail too, and they
		 * would be left to expire by timeout. */
		m->old_scheduled = 1;
		add_ms(&tv, QFS_OLD_SESSION_DELAY_MS);
		evtimer_add(m->old_sessions_ev, &tv);
	}
	if (!m->first_open_done) {
		m->first_open_done = 1;
		/* Writes made while it was in flight go now, in order (or
		 * fail with EROFS if it failed). */
		qfs_defer_release(m);
	}
	start_serving(m);
}

/*
 * The mount answers FUSE requests from its first session open's answer,
 * so that a write right after start finds the session there, or from
 * QFS_OPEN_GRACE_MS on, whichever comes first. A member without a quorum
 * holds a session open for up to a minute (while an ensemble forms); its
 * mount served nothing, not even a read, for all that time.
 */
static void start_serving(struct qfs_mount *m)
{
	struct timeval tv;

	evtimer_del(m->grace_ev);
	if (m->mounted || m->unmounted || m->dead)
		return;
	m->mounted = 1;
	event_add(m->fuse_ev, NULL);
	add_ms(&tv, touch_period_ms(m));
	event_add(m->touch_ev, &tv);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct qfs_mount *m = arg;

	if (m->mounted || m->dead)
		return;
	log_info("fs: no session yet (waiting for a quorum): %s serves reads; "
		 "writes wait for the session",
		 m->mountpoint);
	start_serving(m);
}

static void check_close_done(struct qfs_mount *m, int force)
{
	void (*done)(void *arg);

	if (!m->close_done || m->session_id)
		return;
	if (!force && !qfs_replay_idle(m))
		return;
	done = m->close_done;
	m->close_done = NULL;
	evtimer_del(m->close_timeout_ev);
	done(m->close_arg);
}

static void on_drained(evutil_socket_t fd, short what, void *arg)
{
	struct qfs_mount *m = arg;
	char b[64];

	while (read(fd, b, sizeof(b)) > 0)
		;
	qfs_replay_drained(m);
	check_close_done(m, 0);
}

static void on_close_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct qfs_mount *m = arg;

	log_warnx("fs: the session's deletions were not all replayed in time");
	check_close_done(m, 1);
}

static void session_closed(void *arg, const struct zresult *res)
{
	struct qfs_mount *m = arg;

	if (res->err != ZOK)
		log_warnx("fs: closing the mount's session: %s", zerr_str(res->err));
	m->session_id = 0;
	/* its deletions were queued for replay when applied: wait for them */
	check_close_done(m, 0);
}

static void close_now(evutil_socket_t fd, short what, void *arg)
{
	struct qfs_mount *m = arg;

	check_close_done(m, 0);
}

void qfs_mount_close_session(struct qfs_mount *m, void (*done)(void *arg), void *arg)
{
	struct timeval tv;
	int64_t id = m->session_id;

	m->close_done = done;
	m->close_arg = arg;
	m->closing = 1;
	add_ms(&tv, QFS_CLOSE_WAIT_MS);
	evtimer_add(m->close_timeout_ev, &tv);
	if (id && qcore_session_close(m->core, id, session_closed, m) == 0)
		return;
	m->session_id = 0;
	/* nothing to close: done on the next turn of the loop, not from here */
	event_base_once(m->base, -1, EV_TIMEOUT, close_now, m, NULL);
}

static int build_args(const struct qfs_mount_opts *opts, struct fuse_args *args)
{
	char *o;
	size_t n;
	int rc;

	n = strlen("fsname=quorumfs,subtype=quorumfs,") +
	    (opts->fuse_opts ? strlen(opts->fuse_opts) : 0) + 1;
	o = malloc(n);
	if (!o)
		return -ENOMEM;
	snprintf(o, n, "fsname=quorumfs,subtype=quorumfs%s%s",
		 opts->fuse_opts && *opts->fuse_opts ? "," : "",
		 opts->fuse_opts ? opts->fuse_opts : "");
	rc = fuse_opt_add_arg(args, "quorumfs") || fuse_opt_add_arg(args, "-o") ||
	     fuse_opt_add_arg(args, o) || (opts->debug && fuse_opt_add_arg(args, "-d"));
	free(o);
	return rc ? -ENOMEM : 0;
}

static void mount_free(struct qfs_mount *m)
{
	qfs_ident_free(m);
	qfs_replay_expect_free(m);
	free(m->fbuf.mem);
	free(m->mountpoint);
	free(m->owner);
	free(m);
}

void qfs_mount_release_dead(struct qfs_mount *m)
{
	mount_free(m);
}

int qfs_mount_start(struct qcore *core, struct event_base *base,
		    const struct qfs_mount_opts *opts, struct qfs_mount **out,
		    char *errbuf, size_t errlen)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct qfs_mount *m;
	char real[PATH_MAX];
	int rc = 0, fd;

	*out = NULL;
	if (!realpath(opts->mountpoint, real)) {
		rc = -errno;
		snprintf(errbuf, errlen, "mountpoint %s: %s", opts->mountpoint,
			 strerror(-rc));
		return rc;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto err_nomem;
	m->core = core;
	m->base = base;
	m->mountpoint = strdup(real);
	m->rp_test_delay_ms = opts->test_replay_delay_ms;
	m->rp_limit = opts->replay_limit;
	m->owner = strdup(opts->owner ? opts->owner : "quorumfs");
	if (!m->mountpoint || !m->owner)
		goto err_after_alloc;
	m->auth = opts->auth ? opts->auth : &m->noauth;
	m->session_timeout_ms =
	    opts->session_timeout_ms > 0 ? opts->session_timeout_ms : 10000;
	m->uid = getuid();
	m->gid = getgid();
	m->on_unmounted = opts->on_unmounted;
	m->arg = opts->arg;
	m->test_unanswered = opts->test_unanswered;
	m->rp_pipe[0] = m->rp_pipe[1] = -1;
	m->rp_sock = -1;
	if (qfs_ident_init(m, opts) < 0)
		goto err_after_alloc;
	if (qfs_inodes_init(m) < 0)
		goto err_after_inodes;

	if (build_args(opts, &args) < 0)
		goto err_after_inodes;
	m->se = fuse_session_new(&args, &qfs_ops, sizeof(qfs_ops), m);
	fuse_opt_free_args(&args);
	if (!m->se) {
		snprintf(errbuf, errlen, "bad FUSE options: %s",
			 opts->fuse_opts ? opts->fuse_opts : "");
		rc = -EINVAL;
		goto err_after_inodes;
	}
	if (fuse_session_mount(m->se, m->mountpoint) != 0) {
		snprintf(errbuf, errlen, "cannot mount %s (see the message above)",
			 m->mountpoint);
		rc = -EIO;
		goto err_after_session;
	}
	fd = fuse_session_fd(m->se);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    pipe2(m->rp_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s", strerror(errno));
		goto err_after_mount;
	}
	m->fuse_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_fuse_readable, m);
	m->touch_ev = event_new(base, -1, EV_PERSIST, on_touch, m);
	m->old_sessions_ev = evtimer_new(base, on_close_old_sessions, m);
	m->grace_ev = evtimer_new(base, on_grace, m);
	m->close_timeout_ev = evtimer_new(base, on_close_timeout, m);
	m->drained_ev =
	    event_new(base, m->rp_pipe[0], EV_READ | EV_PERSIST, on_drained, m);
	if (!m->fuse_ev || !m->touch_ev || !m->old_sessions_ev || !m->grace_ev ||
	    !m->close_timeout_ev ||
	    !m->drained_ev || event_add(m->drained_ev, NULL) < 0) {
		rc = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto err_after_events;
	}
	rc = opts->test_no_watchdog ? 0 : qfs_watchdog_start(m);
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot start the watchdog process: %s",
			 strerror(-rc));
		goto err_after_events;
	}
	rc = qfs_replay_start(m);
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot start the replay thread: %s",
			 strerror(-rc));
		goto err_after_events;
	}
	rc = qcore_subscribe(core, on_tree_change, m);
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot subscribe to changes: %s",
			 strerror(-rc));
		goto err_after_thread;
	}
	rc = qcore_session_open(core, m->session_timeout_ms, m->owner, session_opened, m);
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot open the mount's session: %s",
			 strerror(-rc));
		goto err_after_thread;
	}
	m->opening = 1;
	{
		struct timeval tv;

		add_ms(&tv, QFS_OPEN_GRACE_MS);
		evtimer_add(m->grace_ev, &tv);
	}
	log_info("fs: %s mounted", m->mountpoint);
	*out = m;
	return 0;

err_after_thread:
	qcore_unsubscribe(m->core, on_tree_change, m);
	qfs_replay_stop(m);
err_after_events:
	qfs_watchdog_stop(m);
	if (m->fuse_ev)
		event_free(m->fuse_ev);
	if (m->touch_ev)
		event_free(m->touch_ev);
	if (m->old_sessions_ev)
		event_free(m->old_sessions_ev);
	if (m->grace_ev)
		event_free(m->grace_ev);
	if (m->close_timeout_ev)
		event_free(m->close_timeout_ev);
	if (m->drained_ev)
		event_free(m->drained_ev);
	if (m->rp_pipe[0] >= 0) {
		close(m->rp_pipe[0]);
		close(m->rp_pipe[1]);
	}
err_after_mount:
	fuse_session_unmount(m->se);
err_after_session:
	fuse_session_destroy(m->se);
err_after_inodes:
	qfs_inodes_free(m);
	if (rc == 0) {
		rc = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
	}
	mount_free(m);
	return rc;
err_after_alloc:
	mount_free(m);
err_nomem:
	snprintf(errbuf, errlen, "out of memory");
	return -ENOMEM;
}

/*
 * Serve the mount synchronously for a moment while the replay thread
 * finishes its item: its syscalls wait for answers only the loop gives, and
 * the loop is here. Bounded; the unmount that follows aborts what is left.
 */
static void drain_replay(struct qfs_mount *m)
{
	struct pollfd p;
	int i, res;

	if (!m->mounted)
		return;
	p.fd = fuse_session_fd(m->se);
	p.events = POLLIN;
	for (i = 0; i < 40 && !qfs_replay_idle(m); i++) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		res = fuse_session_receive_buf(m->se, &m->fbuf);
		if (res > 0 && !fuse_session_exited(m->se))
			fuse_session_process_buf(m->se, &m->fbuf);
		else if (res != -EAGAIN && res != -EINTR)
			break;
	}
}

void qfs_mount_stop(struct qfs_mount *m)
{
	struct qfs_handle *h, *next;

	if (!m)
		return;
	/* Before the unmount: the connection's number may be reused. */
	qfs_watchdog_stop(m);
	drain_replay(m);
	qcore_unsubscribe(m->core, on_tree_change, m);
	if (qfs_replay_idle(m)) {
		qfs_replay_stop(m);
		fuse_session_unmount(m->se);
	} else {
		/* closing /dev/fuse fails the thread's pending syscalls */
		fuse_session_unmount(m->se);
		qfs_replay_stop(m);
	}
	event_free(m->fuse_ev);
	event_free(m->touch_ev);
	event_free(m->old_sessions_ev);
	event_free(m->grace_ev);
	event_free(m->close_timeout_ev);
	event_free(m->drained_ev);
	close(m->rp_pipe[0]);
	close(m->rp_pipe[1]);
	fuse_session_destroy(m->se);
	m->se = NULL;
	m->dead = 1;
	m->mounted = 0;
	for (h = m->handles; h; h = next) {
		next = h->next;
		qfs_handle_free(h); /* one in a commit goes when the commit ends */
	}
	qfs_defer_drop(m); /* (a commit among them ends here) */
	qfs_inodes_free(m);
	log_info("fs: %s unmounted", m->mountpoint);
	/* writes still in the core complete into a dead mount, freed by the last */
	if (m->inflight == 0)
		mount_free(m);
}
