/*
 * logstore_int.h - what logstore.c (queue, writer thread, completions) and
 * logstore_sql.c (the SQLite statements) share. Not for other modules.
 */
#ifndef QFS_LOGSTORE_INT_H
#define QFS_LOGSTORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "logstore.h"

struct event;

struct logstore {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *st_begin, *st_commit, *st_rollback;
	sqlite3_stmt *st_insert, *st_truncate, *st_compact, *st_meta, *st_read;
	sqlite3_stmt *st_reset, *st_vacuum;

	/* Loop-thread state. */
	struct event_base *base;
	zxid_t last_submitted; /* zxid order is checked at submit time */
	struct logstore_meta meta_submitted;
	size_t inflight; /* submitted, callback not yet run */

	/* Shared with the writer thread, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int thread_started;
	int stopping;
	int fork_wanted; /* the loop is in logstore_quiesce..logstore_resume */
	int parked;	 /* the writer is waiting in park(), outside SQLite */
	struct logstore_req *q_head, *q_tail; /* waiting for the writer */
	struct logstore_req *d_head, *d_tail; /* done, waiting for the loop */
	int wake_fd;			      /* eventfd: the writer wakes the loop */
	struct event *wake_ev;

	/* Loop-thread state of the inline mode (logstore_set_inline). */
	int run_inline;
	size_t at_writer; /* handed to the writer, not yet collected */
	struct logstore_req *l_head, *l_tail; /* waiting to run inline */
	struct event *kick_ev;		      /* runs them, after the callback */
	int kick_pending;
	uint64_t batch;	  /* entries of the last run that wrote any */
	uint64_t w_batch; /* the writer's, under mu, for collect() */
	uint64_t inline_runs;
	uint64_t commits, entries;

	/* Writer-thread state: after a failed write the store's contents are
	 * uncertain, so every later request fails too. */
	int failed;
	char failmsg[LOGSTORE_ERRMSG];
	struct logstore_meta meta; /* as on disk */
};

/* Opens and verifies the database; fills *state. */
int logstore_sql_open(struct logstore *ls, struct logstore_state *state, char *errmsg,
		      size_t errmsg_len);
void logstore_sql_close(struct logstore *ls);
/* Runs one read on the caller's thread; sets req->status. */
void logstore_sql_read(struct logstore *ls, struct logstore_req *req);
/*
 * Runs n requests, which are all appends when n > 1, in one transaction
 * and sets each one's status and errmsg. Returns the number of entries
 * appended.
 */
size_t logstore_sql_run(struct logstore *ls, struct logstore_req **reqs, size_t n);

/* The name of the VFS the log store opens its database with (logstore_vfs.c:
 * the WAL's frames of a commit written in one call), registered on first
 * use; NULL if it could not be, and SQLite's default is used. */
const char *logstore_vfs(void);

/* An append of no entries that only raises the commit watermark
 * (logstore_mark_commit): committed without an fsync of its own. */
static inline int logstore_is_mark(const struct logstore_req *req)
{
	return req->op == LOGSTORE_APPEND && !req->truncate && req->n_in == 0;
}

#endif
