/*
 * core_int.h - the core's private state, shared by core.c (open, close,
 * apply, subscribers), core_submit.c (the pipeline), core_recover.c,
 * core_snap.c (snapshots and purge), core_session.c and reaper.c. Nothing
 * outside libqcore includes this.
 *
 * The pipeline is one FIFO of items in submission order. A transaction item
 * goes to the log writer and comes back with its durability result; the
 * loop then drains the FIFO from its head: applies each durable transaction
 * (in zxid order, since zxids are assigned in FIFO order) and calls its done
 * callback, calls the done callback of failed prepares and sync markers as
 * they reach the head. A request thus completes after every request queued
 * before it: FIFO per session for free.
 */
#ifndef QFS_CORE_INT_H
#define QFS_CORE_INT_H

#include <sys/types.h>

#include "buf.h"
#include "core.h"
#include "storage.h"
#include "session.h"

#define CORE_MAX_SUBS 8

enum qitem_kind {
	QI_TXN,	   /* a prepared transaction, at the log writer until it returns */
	QI_RESULT, /* a result known at submit time (failed prepare, closing) */
	QI_MARKER, /* qcore_sync */
};

struct qitem {
	struct storage_item si; /* the log writer's view; see container_of below */
	struct qitem *next;
	enum qitem_kind kind;
	int back; /* QI_TXN: returned by the writer (si.err says how it went) */
	struct ztxn *txn;
	struct buf rec;
	struct zresult res;
	qcore_done_fn done;
	void *arg;
};

static inline struct qitem *qitem_of(struct storage_item *si)
{
	return (struct qitem *)((char *)si - offsetof(struct qitem, si));
}

struct qcore_sub {
	tree_listener_fn fn;
	void *arg;
};

struct qcore {
	struct qcore_opts o; /* defaults filled in; data_dir points at dir */
	char *dir;
	struct event_base *base;
	int lock_fd;

	struct tree *tree;
	struct prep *prep;
	struct storage *st;
	struct sesstrack *sess;

	/* The pipeline. */
	uint32_t epoch;	  /* replication will own it; standalone 1 */
	uint32_t counter; /* of the last zxid handed out */
	zxid_t applied;
	uint64_t gen; /* failure generation, see storage_submit */
	struct qitem *head, **tail;
	uint64_t outstanding; /* transactions submitted, not yet applied/failed */
	int draining;
	int closing;
	int io_errno;

	int efd; /* eventfd the writer signals */
	struct event *efd_ev;
	struct event *drain_ev;
	struct event *tick_ev;
	struct event *reap_ev;
	struct event *purge_ev;

	struct qcore_sub subs[CORE_MAX_SUBS];
	int nsubs;

	/* Snapshots. */
	uint64_t since_snap;
	uint64_t snapshots;
	zxid_t snap_zxid; /* of the newest snapshot on disk */
	pid_t snap_pid;	  /* the child writing one, or 0 */
	zxid_t snap_pending;
	int snap_fd;
	struct event *snap_ev;
	char snap_msg[512];
	size_t snap_msg_len;

	uint64_t txns;
	int reaping; /* reaper deletes in flight */
};

/* The auth of the server's own transactions (expiry, reaping): super. */
extern const struct zauth core_server_auth;

int64_t core_wall_ms(void);
int64_t core_mono_ms(void);

/* Queue a write (see qcore_submit), as server or session. 0 or -ENOMEM. */
int core_submit(struct qcore *c, int64_t session_id, int32_t cxid, const struct zreq *req,
		const struct zauth *auth, qcore_done_fn done, void *arg);
/* Run the drain from the loop soon (never from the caller's stack). */
void core_kick(struct qcore *c);
/* Complete what is at the FIFO head and ready. */
void core_drain(struct qcore *c);
/* The writer said some items are back (eventfd readable). */
void core_collect(struct qcore *c);
void qitem_free(struct qitem *it);

/* Recover the tree from dir: sets tree, prep, snap_zxid, applied, epoch,
 * counter and opens st. 0 or a negative errno with errbuf set. */
int core_recover(struct qcore *c, char *errbuf, size_t errlen);

/* Start a background snapshot if snap_count transactions went by. */
void core_snap_maybe(struct qcore *c);
/* Wait for / stop a running snapshot child (close). */
void core_snap_stop(struct qcore *c);
/* Keep snap_retain snapshots and the log they need; delete the rest. */
void core_purge(struct qcore *c);
/* With purge_interval_h, purge on that timer instead of after snapshots. */
int core_purge_timer_start(struct qcore *c);

/* Session side effects of an applied transaction. */
void core_session_applied(struct qcore *c, const struct ztxn *txn, struct zresult *res);
/* Arm the expiry timer and track the sessions found in the tree. */
int core_session_start(struct qcore *c);

/* Arm the reaper timer. */
int reaper_start(struct qcore *c);

#endif
