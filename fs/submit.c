/*
 * submit.c - writes made on behalf of FUSE requests.
 *
 * Every write of the mount goes to the core under the mount's session, so
 * its ephemerals belong to the mount, and is counted in m->inflight while it
 * is outstanding: a change applied under the mount's session while one of
 * its writes is outstanding is the mount's own (the kernel already raised
 * the inotify events for it), which is how replay.c tells own from foreign.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "fs_int.h"
#include "log.h"
#include "zerr.h"

struct submit_ctx {
	struct qfs_mount *m;
	qfs_done_fn done;
	void *arg;
};

static void mount_free_if_dead(struct qfs_mount *m);

int qfs_errno(struct qfs_mount *m, int zerr)
{
	int e;

	switch (zerr) {
	case ZOK:
		return 0;
	case ZSYSTEMERROR:
		/* the log write failed: the disk's own errno (ENOSPC, EIO) */
		e = qcore_last_io_errno(m->core);
		return e > 0 ? e : EIO;
	case ZSESSIONEXPIRED:
	case ZCLOSING:
		return EROFS;
	default:
		return zerr_to_errno(zerr);
	}
}

static void submit_done(void *arg, const struct zresult *res)
{
	struct submit_ctx *c = arg;
	struct qfs_mount *m = c->m;

	m->inflight--;
	if (!m->dead)
		c->done(c->arg, qfs_errno(m, res->err), res);
	else
		c->done(c->arg, -1, res); /* -1: the mount is gone, reply nothing */
	free(c);
	mount_free_if_dead(m);
}

int qfs_submit(struct qfs_mount *m, const struct zauth *who, const struct zreq *zr,
	       qfs_done_fn done, void *arg)
{
	struct submit_ctx *c;
	int rc;

	if (m->session_id == 0 && m->opening && !m->first_open_done && !m->closing)
		return qfs_defer(m, who, zr, done, arg); /* served before it opened */
	if (m->session_id == 0 || m->closing)
		return EROFS; /* shutting down: no session to write under */
	c = malloc(sizeof(*c));
	if (!c)
		return ENOMEM;
	c->m = m;
	c->done = done;
	c->arg = arg;
	m->inflight++;
	rc = qcore_submit(m->core, m->session_id, ++m->cxid, zr, who, submit_done, c);
	if (rc < 0) {
		m->inflight--;
		free(c);
		return -rc;
	}
	m->st.commits++;
	/* A write is heard from the session, as ZooKeeper counts every
	 * request: without this only the touch timer (a third of the
	 * timeout) kept it alive, and a mkdir lock could expire up to that
	 * much sooner after its holder's last acknowledged write than the
	 * session timeout promises (chaos: a lock taken elsewhere 3.2 s after
	 * the holder's last write, with a 4 s timeout). An expiry it reports
	 * is handled by the timer's next touch. */
	(void)qcore_session_touch(m->core, m->session_id);
	return 0;
}

int qfs_from_replay(fuse_req_t req)
{
	struct qfs_mount *m = qfs_req_mount(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	if (!m->rp_tid || ctx->pid != m->rp_tid)
		return 0;
	m->st.replay_reqs++;
	return 1;
}

static void mount_free_if_dead(struct qfs_mount *m)
{
	if (m->dead && m->inflight == 0)
		qfs_mount_release_dead(m);
}
