/*
 * logstore.c - the log store's request queue, writer thread and completion
 * delivery; the SQL lives in logstore_sql.c. See logstore.h for the API.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "logstore_int.h"

/* Bounds a group commit so one transaction does not hold a huge batch. */
#define GROUP_MAX_REQS 1024

static void deliver(struct logstore *ls, struct logstore_req *req)
{
	ls->inflight--;
	req->cb(req, req->status);
}

/*
 * On the writer thread, with mu held, between transactions: while the loop
 * wants to fork (logstore_quiesce), stay here, outside SQLite, so that the
 * child never finds one of SQLite's process-wide mutexes held by a thread
 * it does not have (the hang a forked snapshot child once showed: stuck in
 * sqlite3Malloc on the memory-statistics mutex).
 */
static void park(struct logstore *ls)
{
	if (!ls->fork_wanted)
		return;
	ls->parked = 1;
	pthread_cond_broadcast(&ls->cv);
	while (ls->fork_wanted)
		pthread_cond_wait(&ls->cv, &ls->mu);
	ls->parked = 0;
}

/*
 * Runs queued requests: consecutive appends share one transaction. On the
 * writer thread (threaded) it parks between transactions when asked to.
 */
static void run_list(struct logstore *ls, struct logstore_req *list, uint64_t *commits,
		     uint64_t *entries, int threaded)
{
	struct logstore_req *group[GROUP_MAX_REQS];

	while (list) {
		size_t n = 0;

		if (threaded) {
			pthread_mutex_lock(&ls->mu);
			park(ls);
			pthread_mutex_unlock(&ls->mu);
		}

		group[n++] = list;
		list = list->next;
		if (group[0]->op == LOGSTORE_APPEND)
			/* A truncating append starts a group of its own, so
			 * that it is never failed for an earlier one's sake. */
			while (list && list->op == LOGSTORE_APPEND && !list->truncate &&
			       n < GROUP_MAX_REQS) {
				group[n++] = list;
				list = list->next;
			}
		*entries += logstore_sql_run(ls, group, n);
		if (group[0]->op != LOGSTORE_READ && group[0]->op != LOGSTORE_BARRIER &&
		    group[0]->status == 0 && !(n == 1 && logstore_is_mark(group[0])))
			(*commits)++;
	}
}

/*
 * The writer thread. It exists because a commit with synchronous=FULL
 * waits for fsync, which takes milliseconds (or seconds on a busy disk);
 * on the loop thread that would stall every client, peer and FUSE request
 * of the daemon. It owns the SQLite connection after open; the loop only
 * queues requests and collects completions.
 */
static void *writer_main(void *arg)
{
	struct logstore *ls = arg;

	pthread_mutex_lock(&ls->mu);
	for (;;) {
		struct logstore_req *list, *last;
		uint64_t commits = 0, entries = 0, one = 1;

		park(ls);
		while (!ls->q_head && !ls->stopping && !ls->fork_wanted)
			pthread_cond_wait(&ls->cv, &ls->mu);
		if (ls->fork_wanted)
			continue;
		if (!ls->q_head)
			break;
		list = ls->q_head;
		ls->q_head = ls->q_tail = NULL;
		pthread_mutex_unlock(&ls->mu);

		run_list(ls, list, &commits, &entries, 1);
		for (last = list; last->next; last = last->next)
			;

		pthread_mutex_lock(&ls->mu);
		ls->commits += commits;
		ls->entries += entries;
		if (entries)
			ls->w_batch = entries;
		if (ls->d_tail)
			ls->d_tail->next = list;
		else
			ls->d_head = list;
		ls->d_tail = last;
		pthread_cond_broadcast(&ls->cv);
		/* Wake the loop with the mutex released: woken while we held
		 * it, the loop thread could run at once on this CPU, block in
		 * collect() on the mutex and wait for this thread to be
		 * scheduled again (0.4 ms, seen in a perf trace of 1x1 writes
		 * on a 2-CPU machine). collect() takes the list under the
		 * mutex, so a wake-up that finds it already taken is
		 * harmless. */
		pthread_mutex_unlock(&ls->mu);
		if (write(ls->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("log store %s: waking the loop", ls->path);
		pthread_mutex_lock(&ls->mu);
	}
	pthread_mutex_unlock(&ls->mu);
	return NULL;
}

static void kick_soon(struct logstore *ls);

/* On the loop thread: run the callbacks of a finished list, in order. */
static void deliver_list(struct logstore *ls, struct logstore_req *list)
{
	while (list) {
		struct logstore_req *next = list->next;
		list->next = NULL;
		deliver(ls, list);
		list = next;
	}
}

/* On the loop thread: collect what the writer finished. */
static void collect(struct logstore *ls)
{
	struct logstore_req *list;
	uint64_t v;

	if (read(ls->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("log store %s: reading its eventfd", ls->path);
	pthread_mutex_lock(&ls->mu);
	list = ls->d_head;
	ls->d_head = ls->d_tail = NULL;
	if (ls->w_batch) {
		ls->batch = ls->w_batch;
		ls->w_batch = 0;
	}
	pthread_mutex_unlock(&ls->mu);
	for (struct logstore_req *r = list; r; r = r->next)
		ls->at_writer--;
	deliver_list(ls, list);
	if (ls->l_head)
		kick_soon(ls);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	collect(arg);
}

/*
 * On the loop thread: run what was queued inline, once the writer has
 * nothing (its last use of the connection happened before collect() took
 * the mutex). A callback may queue more, inline or for the writer; the
 * latter stops the loop here, and collect() resumes it.
 */
static void run_inline(struct logstore *ls)
{
	while (ls->l_head && ls->at_writer == 0) {
		struct logstore_req *list = ls->l_head;
		uint64_t commits = 0, entries = 0;

		ls->l_head = ls->l_tail = NULL;
		run_list(ls, list, &commits, &entries, 0);
		ls->inline_runs++;
		if (entries)
			ls->batch = entries;
		pthread_mutex_lock(&ls->mu);
		ls->commits += commits;
		ls->entries += entries;
		pthread_mutex_unlock(&ls->mu);
		deliver_list(ls, list);
	}
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct logstore *ls = arg;

	(void)fd;
	(void)what;
	/* Once more to the back of the active events (events activated in
	 * this pass still run in it): messages queued after the write, by
	 * the same callback (an engine step lists PERSIST_LOG before the
	 * SENDs it makes) or by a later one of this pass (a client's request
	 * forwarded to the leader), have their transport flush event behind
	 * ours. Measured with leaders inline, which need it: 1x1 writes
	 * fell by a fifth without it (the appends waited for the flush). */
	if (ls->kick_pending == 1) {
		ls->kick_pending = 2;
		event_active(ls->kick_ev, EV_TIMEOUT, 1);
		return;
	}
	ls->kick_pending = 0;
	run_inline(ls);
}

/* An event, not a call, and one that runs last in its pass (on_kick):
 * the sends queued in that pass go out before the loop blocks in the
 * flush. */
static void kick_soon(struct logstore *ls)
{
	if (ls->kick_pending || ls->at_writer)
		return;
	ls->kick_pending = 1;
	event_active(ls->kick_ev, EV_TIMEOUT, 1);
}

void logstore_set_inline(struct logstore *ls, int on)
{
	ls->run_inline = on && ls->kick_ev;
}

/* Frees what logstore_open made, once no writer thread runs: the events,
 * the eventfd, the SQLite connection and the store. */
static void release(struct logstore *ls)
{
	if (ls->kick_ev)
		event_free(ls->kick_ev);
	if (ls->wake_ev)
		event_free(ls->wake_ev);
	if (ls->wake_fd >= 0)
		close(ls->wake_fd);
	logstore_sql_close(ls);
	pthread_mutex_destroy(&ls->mu);
	pthread_cond_destroy(&ls->cv);
	free(ls->path);
	free(ls);
}

int logstore_open(const char *path, struct event_base *base, struct logstore **out,
		  struct logstore_state *state, char *errmsg, size_t errmsg_len)
{
	struct logstore *ls;
	int rc;

	*out = NULL;
	ls = calloc(1, sizeof(*ls));
	if (!ls || !(ls->path = strdup(path))) {
		snprintf(errmsg, errmsg_len, "log store %s: out of memory", path);
		free(ls);
		return -ENOMEM;
	}
	ls->base = base;
	ls->wake_fd = -1;
	pthread_mutex_init(&ls->mu, NULL);
	pthread_cond_init(&ls->cv, NULL);
	if ((rc = logstore_sql_open(ls, state, errmsg, errmsg_len)) < 0)
		goto err_after_alloc;
	ls->last_submitted = state->last_zxid;
	if (ls->last_submitted < state->meta.snapshot_zxid)
		ls->last_submitted = state->meta.snapshot_zxid;
	ls->meta_submitted = state->meta;
	if (!base)
		goto out;
	ls->kick_ev = event_new(base, -1, 0, on_kick, ls);
	if (!ls->kick_ev) {
		rc = -ENOMEM;
		snprintf(errmsg, errmsg_len, "log store %s: cannot add the kick event", path);
		goto err_after_alloc;
	}
	ls->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ls->wake_fd < 0) {
		rc = -errno;
		snprintf(errmsg, errmsg_len, "log store %s: eventfd: %s", path,
			 strerror(errno));
		goto err_after_alloc;
	}
	ls->wake_ev = event_new(base, ls->wake_fd, EV_READ | EV_PERSIST, on_wake, ls);
	if (!ls->wake_ev || event_add(ls->wake_ev, NULL) < 0) {
		rc = -ENOMEM;
		snprintf(errmsg, errmsg_len, "log store %s: cannot add the wake event",
			 path);
		goto err_after_alloc;
	}
	if ((rc = pthread_create(&ls->thread, NULL, writer_main, ls)) != 0) {
		snprintf(errmsg, errmsg_len, "log store %s: writer thread: %s", path,
			 strerror(rc));
		rc = -rc;
		goto err_after_alloc;
	}
	pthread_setname_np(ls->thread, "qfs-log");
	ls->thread_started = 1;
out:
	*out = ls;
	return 0;

err_after_alloc:
	release(ls);
	return rc;
}

void logstore_close(struct logstore *ls)
{
	if (!ls)
		return;
	if (ls->thread_started) {
		/* The writer leaves only once its queue is empty, so after the
		 * join every request sits in the done list. */
		pthread_mutex_lock(&ls->mu);
		ls->stopping = 1;
		pthread_cond_broadcast(&ls->cv);
		pthread_mutex_unlock(&ls->mu);
		pthread_join(ls->thread, NULL);
		collect(ls);
	}
	run_inline(ls);
	release(ls);
}

int logstore_quiesce(struct logstore *ls, int timeout_ms)
{
	struct timespec until;
	int rc = 0;

	if (!ls->thread_started)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ls->mu);
	ls->fork_wanted = 1;
	pthread_cond_broadcast(&ls->cv);
	while (!ls->parked && rc == 0)
		rc = pthread_cond_timedwait(&ls->cv, &ls->mu, &until);
	if (!ls->parked) {
		ls->fork_wanted = 0;
		pthread_cond_broadcast(&ls->cv);
		pthread_mutex_unlock(&ls->mu);
		return -ETIMEDOUT;
	}
	pthread_mutex_unlock(&ls->mu);
	return 0;
}

void logstore_resume(struct logstore *ls)
{
	if (!ls->thread_started)
		return;
	pthread_mutex_lock(&ls->mu);
	ls->fork_wanted = 0;
	pthread_cond_broadcast(&ls->cv);
	pthread_mutex_unlock(&ls->mu);
}

static void submit(struct logstore *ls, struct logstore_req *req, enum logstore_op op,
		   logstore_cb cb)
{
	int wake;

	req->op = op;
	req->cb = cb;
	req->status = 0;
	req->errmsg[0] = '\0';
	req->entries = NULL;
	req->n_entries = 0;
	req->next = NULL;
	ls->inflight++;
	if (!ls->thread_started) {
		uint64_t commits = 0, entries = 0;
		run_list(ls, req, &commits, &entries, 0);
		ls->commits += commits;
		ls->entries += entries;
		deliver(ls, req);
		return;
	}
	/* Inline only while writes come one at a time: the last flush wrote
	 * a single entry, so nothing arrived while it ran and blocking the
	 * loop in it cost no one anything. Under a stream of writes the loop
	 * must not spend its time blocked in flushes (measured: a third less
	 * throughput at 32 sessions x 8 outstanding on a disk); there the
	 * batches grow and the writer takes over. A rule on timing (idle at
	 * least half a flush) failed on a slow disk: with 750 us flushes a
	 * 1x1 load's gaps were shorter, and every write paid the hand-off. */
	if (ls->l_head || (ls->run_inline && ls->at_writer == 0 && ls->batch <= 1)) {
		if (ls->l_tail)
			ls->l_tail->next = req;
		else
			ls->l_head = req;
		ls->l_tail = req;
		kick_soon(ls);
		return;
	}
	ls->at_writer++;
	pthread_mutex_lock(&ls->mu);
	if (ls->q_tail) {
		ls->q_tail->next = req;
		wake = 0; /* the writer has yet to take the queue: it will */
	} else {
		ls->q_head = req;
		wake = 1;
	}
	ls->q_tail = req;
	pthread_mutex_unlock(&ls->mu);
	/* Outside the mutex: a writer woken while we held it would block on
	 * it at once (a futex wait and a second wake-up per commit). It
	 * rereads the queue under the mutex, so nothing is missed. */
	if (wake)
		pthread_cond_signal(&ls->cv);
}

static int check_entries(zxid_t prev, const struct logstore_entry *entries, size_t n,
			 zxid_t *last)
{
	for (size_t i = 0; i < n; i++) {
		/* SQLite integers are signed: zxids stay below 2^63, as
		 * zxid.h's epochs below 2^31 guarantee. */
		if (entries[i].zxid <= prev || entries[i].zxid > (zxid_t)INT64_MAX ||
		    entries[i].len > LOGSTORE_MAX_ENTRY ||
		    (entries[i].len && !entries[i].data))
			return -EINVAL;
		prev = entries[i].zxid;
	}
	*last = prev;
	return 0;
}

int logstore_append_commit(struct logstore *ls, struct logstore_req *req, int truncate,
			   zxid_t after, const struct logstore_entry *entries, size_t n,
			   zxid_t commit_zxid, logstore_cb cb)
{
	zxid_t last = truncate ? after : ls->last_submitted;

	if ((!truncate && n == 0 && commit_zxid == 0) ||
	    check_entries(last, entries, n, &last) < 0)
		return -EINVAL;
	req->in = entries;
	req->n_in = n;
	req->truncate = truncate != 0;
	req->arg = truncate ? after : 0;
	req->commit = commit_zxid;
	ls->last_submitted = last;
	if (commit_zxid > ls->meta_submitted.commit_zxid)
		ls->meta_submitted.commit_zxid = commit_zxid;
	submit(ls, req, LOGSTORE_APPEND, cb);
	return 0;
}

int logstore_mark_commit(struct logstore *ls, struct logstore_req *req,
			 zxid_t commit_zxid, logstore_cb cb)
{
	if (commit_zxid == 0 || commit_zxid > ls->last_submitted)
		return -EINVAL;
	return logstore_append_commit(ls, req, 0, 0, NULL, 0, commit_zxid, cb);
}

int logstore_append(struct logstore *ls, struct logstore_req *req,
		    const struct logstore_entry *entries, size_t n, logstore_cb cb)
{
	return logstore_append_commit(ls, req, 0, 0, entries, n, 0, cb);
}

int logstore_append_after(struct logstore *ls, struct logstore_req *req, zxid_t after,
			  const struct logstore_entry *entries, size_t n, logstore_cb cb)
{
	return logstore_append_commit(ls, req, 1, after, entries, n, 0, cb);
}

int logstore_truncate(struct logstore *ls, struct logstore_req *req, zxid_t after,
		      logstore_cb cb)
{
	req->arg = after;
	ls->last_submitted = after;
	submit(ls, req, LOGSTORE_TRUNCATE, cb);
	return 0;
}

int logstore_compact(struct logstore *ls, struct logstore_req *req, zxid_t before,
		     logstore_cb cb)
{
	req->arg = before;
	if (before > 0 && before - 1 > ls->meta_submitted.snapshot_zxid)
		ls->meta_submitted.snapshot_zxid = before - 1;
	submit(ls, req, LOGSTORE_COMPACT, cb);
	return 0;
}

int logstore_reset(struct logstore *ls, struct logstore_req *req, zxid_t snap_zxid,
		   logstore_cb cb)
{
	req->arg = snap_zxid;
	ls->meta_submitted.snapshot_zxid = snap_zxid;
	ls->meta_submitted.commit_zxid = snap_zxid;
	ls->last_submitted = snap_zxid;
	submit(ls, req, LOGSTORE_RESET, cb);
	return 0;
}

int logstore_set_meta(struct logstore *ls, struct logstore_req *req,
		      const struct logstore_meta *meta, logstore_cb cb)
{
	req->meta = *meta;
	ls->meta_submitted = *meta;
	submit(ls, req, LOGSTORE_SET_META, cb);
	return 0;
}

const struct logstore_meta *logstore_meta(const struct logstore *ls)
{
	return &ls->meta_submitted;
}

int logstore_read_sync(struct logstore *ls, struct logstore_req *req, zxid_t from,
		       zxid_t to, size_t max)
{
	if (from > to || max == 0)
		return -EINVAL;
	if (ls->inflight)
		return -EBUSY;
	memset(req, 0, sizeof(*req));
	req->op = LOGSTORE_READ;
	req->arg = from;
	req->arg2 = to;
	req->max = max;
	/* The writer is idle with nothing queued: the mutex orders its last
	 * use of the connection before ours. */
	pthread_mutex_lock(&ls->mu);
	logstore_sql_read(ls, req);
	pthread_mutex_unlock(&ls->mu);
	return req->status;
}

int logstore_read(struct logstore *ls, struct logstore_req *req, zxid_t from, zxid_t to,
		  size_t max, logstore_cb cb)
{
	if (from > to || max == 0)
		return -EINVAL;
	req->arg = from;
	req->arg2 = to;
	req->max = max;
	submit(ls, req, LOGSTORE_READ, cb);
	return 0;
}

int logstore_barrier(struct logstore *ls, struct logstore_req *req, logstore_cb cb)
{
	submit(ls, req, LOGSTORE_BARRIER, cb);
	return 0;
}

void logstore_req_release(struct logstore_req *req)
{
	for (size_t i = 0; i < req->n_entries; i++)
		free((void *)req->entries[i].data);
	free(req->entries);
	req->entries = NULL;
	req->n_entries = 0;
}

void logstore_stats(struct logstore *ls, uint64_t *commits, uint64_t *entries)
{
	pthread_mutex_lock(&ls->mu);
	*commits = ls->commits;
	*entries = ls->entries;
	pthread_mutex_unlock(&ls->mu);
}

uint64_t logstore_inline_runs(const struct logstore *ls)
{
	return ls->inline_runs;
}

const char *logstore_path(const struct logstore *ls)
{
	return ls->path;
}
