/*
 * fs.h - the tree mounted with FUSE (low-level API), driven from the daemon's
 * libevent loop, with the inotify replay thread of DESIGN.md section 3.
 */
#ifndef QFS_FS_H
#define QFS_FS_H

#include <stdint.h>

#include "acl.h"

struct event_base;
struct qcore;
struct qfs_mount;
struct qfs_user_map;

struct qfs_mount_opts {
	const char *mountpoint;
	/* FUSE mount options (allow_other, ro, fsname=..., ...), comma-joined;
	 * may be NULL. */
	const char *fuse_opts;
	/* Identity the mount's requests carry for ACL checks (mountAuth=). */
	const struct zauth *auth;
	/* Identities of the local users on a shared mount (mountUserMap),
	 * borrowed for the mount's life. */
	const struct qfs_user_map *user_map;
	size_t n_user_map;
	int32_t session_timeout_ms; /* the mount session's timeout */
	/* Changes from elsewhere queued for replay past which they only
	 * invalidate the caches, raising no inotify event, until the queue
	 * drains (fs/replay.c); 0: no limit. */
	size_t replay_limit;
	const char *owner;	    /* the session owner, "hostname/mount" */
	int debug;		    /* FUSE debug output (-d) */
	/* Called on the loop when the mount goes away by itself
	 * (fusermount3 -u): the daemon then shuts down. */
	void (*on_unmounted)(void *arg);
	void *arg;
	/* Tests only (tests/chaos/quorumfs_mutant, QUORUMFS_TEST_STUCK): a
	 * lookup of this name is never answered. NULL in the daemon. */
	const char *test_unanswered;
	int test_no_watchdog; /* tests only, as above: no watchdog process */
	/* Tests only, as above (QUORUMFS_TEST_REPLAY_DELAY_MS): each foreign
	 * replay waits this long first, so a backlog builds (replay.c). */
	int test_replay_delay_ms;
};

/*
 * Mount and serve requests from base (no FUSE threads; one replay thread,
 * see fs/replay.c). Opens the mount's session (owner opts->owner) and
 * serves once it is open; about a second later closes any session a
 * previous run with the same owner left (crash recovery: its ephemerals
 * go, and watchers on the new mount see them go). opts->auth is borrowed
 * for the mount's life; the strings are copied. Returns 0 or a negative
 * errno with a message in errbuf.
 */
int qfs_mount_start(struct qcore *core, struct event_base *base,
		    const struct qfs_mount_opts *opts, struct qfs_mount **out,
		    char *errbuf, size_t errlen);
/*
 * Clean shutdown, step one: close the mount's session (its ephemerals go,
 * with their events), then call done on the loop.
 */
void qfs_mount_close_session(struct qfs_mount *m, void (*done)(void *arg), void *arg);
/* Unmount and free (writes still in the core complete into nothing).
 * Call on the loop; after qfs_mount_close_session for a clean stop. */
void qfs_mount_stop(struct qfs_mount *m);

#endif
