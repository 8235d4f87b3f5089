/*
 * quorumctl.h - what the quorumctl(8) command files share: one connection,
 * a way to run one request to completion, and the exit codes.
 */
#ifndef QFS_QUORUMCTL_H
#define QFS_QUORUMCTL_H

#include <stdint.h>

#include "acl.h"
#include "zkc.h"

/* Exit codes (quorumctl(8) EXIT STATUS). */
#define CTL_EXIT_OK	   0
#define CTL_EXIT_ZK	   1 /* the server answered with a ZooKeeper error */
#define CTL_EXIT_USAGE	   2
#define CTL_EXIT_CONNECT   3 /* no server reachable, session lost */
#define CTL_EXIT_FILE	   4 /* a local file could not be written */

struct ctl {
	const char *hosts;
	const char *hosts_given; /* -s as given (members' find_leader narrows hosts) */
	const char *auth; /* --auth SCHEME:CREDENTIALS, or NULL */
	struct event_base *base;
	struct zkc *zk;
	int connected;
	int lost;
	int interrupted;
	struct event *sig_ev[2]; /* ctl_signals_on: SIGINT, SIGTERM */
	/* watch: events seen; the watch command's callback when set */
	void (*on_watch)(struct ctl *x, const struct jute_watcher_event *ev);
	long events;
};

/* A reply handler run inside the request's callback (the reply is borrowed). */
typedef void (*ctl_print_fn)(struct ctl *x, const struct zkc_reply *r, void *arg);

/* Connect and wait for the session. Returns 0 or an exit code (message
 * printed). */
int ctl_connect(struct ctl *x);
/* Run one request to completion; print (may be NULL) sees the reply.
 * Returns the ZooKeeper error (ZOK, ...) or ZCONNECTIONLOSS. */
int ctl_call(struct ctl *x, int32_t op, const void *body, ctl_print_fn print, void *arg);
/* Print "quorumctl: WHAT: NAME" for a ZooKeeper error and return the exit
 * code for it. */
int ctl_zk_fail(struct ctl *x, const char *what, int err);
/* From now on SIGINT and SIGTERM set x->interrupted (a loop round waiting
 * ends). Returns 0, or an exit code (message printed). */
int ctl_signals_on(struct ctl *x);
void ctl_signals_off(struct ctl *x);
/* Send a four-letter word to host:port ([v6]:port too) and read the answer,
 * at most max bytes, into a malloc'd string *out (the caller frees it).
 * Returns 0, or a negative errno with *out NULL. */
int ctl_four_letter(const char *hostport, const char *word, int timeout_s, size_t max,
		    char **out);
/* Parse a decimal int option value into *out; prints and returns -1 when bad. */
int ctl_parse_int(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out);


int ctl_cmd_get(struct ctl *x, int argc, char **argv);
int ctl_cmd_set(struct ctl *x, int argc, char **argv);
int ctl_cmd_create(struct ctl *x, int argc, char **argv);
int ctl_cmd_delete(struct ctl *x, int argc, char **argv);
int ctl_cmd_ls(struct ctl *x, int argc, char **argv);
int ctl_cmd_stat(struct ctl *x, int argc, char **argv);
int ctl_cmd_getacl(struct ctl *x, int argc, char **argv);
int ctl_cmd_setacl(struct ctl *x, int argc, char **argv);
int ctl_cmd_watch(struct ctl *x, int argc, char **argv);
int ctl_cmd_multi(struct ctl *x, int argc, char **argv);
int ctl_cmd_status(struct ctl *x, int argc, char **argv);
int ctl_cmd_members(struct ctl *x, int argc, char **argv);
int ctl_cmd_leader(struct ctl *x, int argc, char **argv);
int ctl_cmd_backup(struct ctl *x, int argc, char **argv);
int ctl_cmd_mirror(struct ctl *x, int argc, char **argv);

#endif
