/*
 * test_core_util.h - helpers for the core's tests: a scratch dataDir, a
 * core on its own event base, writes that wait for their completion, and a
 * digest of the whole tree to compare states across restarts.
 */
#ifndef QFS_TEST_CORE_UTIL_H
#define QFS_TEST_CORE_UTIL_H

#include <stdint.h>

#include "core.h"

struct tc {
	struct event_base *base;
	struct qcore *c;
	struct qcore_opts o;
	char dir[256];
	char err[1024];
};

/* A fresh dataDir under $TMPDIR (or /tmp) and an event base. */
void tc_init(struct tc *t);
/* Close the core (if open), remove the dir, free the base. */
void tc_done(struct tc *t);
/* qcore_open with t->o; returns its result (message in t->err). */
int tc_open(struct tc *t);
void tc_close(struct tc *t);

/* Run the loop until *flag becomes non-zero or ms pass; returns *flag. */
int tc_wait(struct tc *t, const int *flag, int ms);
/* Run the loop until *count >= target or ms pass; returns *count >= target. */
int tc_wait_count(struct tc *t, const int *count, int target, int ms);
/* Run the loop for ms. */
void tc_run_for(struct tc *t, int ms);

/* Submit and wait; returns the ZooKeeper error (or -1000 on timeout). */
int tc_create(struct tc *t, const char *path, const char *data, int mode);
int tc_create_s(struct tc *t, int64_t session, const char *path, const char *data,
		int mode);
int tc_set(struct tc *t, const char *path, const char *data);
int tc_delete(struct tc *t, const char *path);
/* Submit without waiting; *done counts completions, *errs failures. */
int tc_create_async(struct tc *t, const char *path, const void *data, int len, int *done,
		    int *errs);
int64_t tc_session_open(struct tc *t, int timeout_ms, const char *owner);

/* CRC over every node (path, data, stat, kind) and session. */
uint32_t tc_digest(struct tc *t);
/* Data of a node as a string (static buffer), or NULL. */
const char *tc_data(struct tc *t, const char *path);

/* "rm -rf" a directory tree. */
void tc_rmrf(const char *dir);

#endif
