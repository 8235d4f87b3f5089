/*
 * fs_int.h - what the files of fs/ share: the mount, its inode table, open
 * file handles, the write helper, and the replay thread's interface.
 *
 * Threads: everything here runs on the daemon's libevent loop, except the
 * replay thread (replay.c), which touches only its queue (under rp_lock) and
 * the replay_cur item the FUSE handlers read to answer its syscalls.
 */
#ifndef QFS_FS_INT_H
#define QFS_FS_INT_H

#define FUSE_USE_VERSION 35

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "acl.h"
#include "config.h"
#include "core.h"
#include "fs.h"
#include "tree.h"
#include "txn.h"

/* How long the kernel may trust a name or attributes without asking. Every
 * change invalidates what the kernel holds (own changes right away, foreign
 * ones by replay), so this only bounds the damage of a missed invalidation. */
#define QFS_ENTRY_TIMEOUT 2.0
#define QFS_ATTR_TIMEOUT  2.0

/* Inode numbers (inode.c): fixed ones below 2^32, znode ones above. */
#define QFS_INO_ROOT_DATA   2
#define QFS_INO_FIXED_FIRST 16
#define QFS_INO_GHOST_FIRST (1ull << 31)

/* The longest name statfs reports, and the longest the mount makes:
 * NAME_MAX, what every tool expects of a filesystem (struct dirent). */
#define QFS_NAME_MAX 255

/* The reserved name of a directory's own data file. */
#define QFS_DATA_NAME ".data"

/*
 * One inode the kernel knows (or may come to know through readdir). Its
 * identity is the znode it was made for: path, creation zxid and shape. A
 * znode deleted and recreated, or turned from a file into a directory, is a
 * different inode with a new number; the old one stays until forgotten.
 */
struct qfs_inode {
	uint64_t ino;
	char *path;  /* file path: the znode path, or znode path + "/.data" */
	char *zpath; /* the znode it shows (path without "/.data") */
	int is_data; /* the .data file of the directory zpath */
	int is_dir;
	int64_t czxid;	  /* the znode's creation zxid: its identity */
	uint64_t nlookup; /* references the kernel holds (lookup minus forget) */
	int hashed;	  /* reachable by path; 0 once its znode went */
	int pinned;
	int writers; /* write handles open on it */
	/* A replay looked it up first and asked for the kernel to let go of
	 * it again (replay.c, RP_RELEASE); a lookup from anyone else cancels */
	int release_queued;
	int64_t hot_until;
	/* CLOCK_MONOTONIC ms: changed recently, do not cache */ /* kept when
								    forgotten: the
								    root, czxid-0
								    nodes */
	struct stat last; /* attributes last reported, for a vanished znode */
	struct qfs_inode *ino_next;
	struct qfs_inode *path_next;
};

struct qfs_handle;
struct replay_item;

struct qfs_stats {
	uint64_t requests;
	uint64_t lookups;
	uint64_t getattrs;
	uint64_t opens;
	uint64_t reads;
	uint64_t writes;
	uint64_t flushes;
	uint64_t commits;
	/* replays and invals are counted by the replay thread (atomically) */
	uint64_t replays;     /* VFS operations replayed */
	uint64_t replay_reqs; /* FUSE requests that came from the replay thread */
	uint64_t invals;      /* kernel cache invalidations sent */
	uint64_t forgets;     /* inodes the kernel let go of (nlookup to 0) */
	uint64_t replays_skipped; /* changes past mountReplayLimit (loop thread) */
};

struct qfs_mount {
	struct qcore *core;
	struct event_base *base;
	struct fuse_session *se;
	struct event *fuse_ev;
	struct event *touch_ev;
	struct event *old_sessions_ev;
	struct event *grace_ev; /* serve without a session after a while */
	struct event *drained_ev;
	struct event *close_timeout_ev;
	struct fuse_buf fbuf;
	char *mountpoint; /* absolute */
	char *owner;
	const struct zauth *auth; /* borrowed from the daemon */
	struct zauth noauth;
	/* who is asking (ident.c) */
	const struct qfs_user_map *user_map; /* borrowed from the daemon */
	size_t n_user_map;
	int map_has_groups;
	struct zauth who;    /* the current request's identities (scratch) */
	struct zid *who_v;   /* its storage */
	int shared;	     /* allow_other or allow_root: callers differ */
	double attr_timeout; /* 0 on a shared mount: mode bits are per caller */
	int64_t birth_ms;    /* attr.c: the tree's oldest ctime, once known */
	int64_t mounted_ms;  /* attr.c: wall time, for a tree without one */
	int32_t session_timeout_ms;
	int64_t session_id; /* 0 until open, and after close */
	int32_t cxid;
	uid_t uid;
	gid_t gid;
	int closing;	     /* the session is being closed: its deletions are foreign */
	int mounted;	     /* FUSE requests are served */
	int first_open_done; /* the first session open has answered */
	int old_scheduled;   /* the previous run's sessions are being closed */
	int unmounted;	     /* the kernel's side went away: served no more */
	struct qfs_deferred *deferred; /* writes waiting for the first open (defer.c) */
	int opening;	   /* a session open is in flight (the touch timer retries) */
	int open_failed;   /* the last open failed: said once, until one succeeds */
	int dead;	   /* stopped; freed when the last write completes */
	uint64_t inflight; /* writes submitted for FUSE requests, not done */
	void (*on_unmounted)(void *arg);
	void *arg;
	void (*close_done)(void *arg);
	void *close_arg;

	/* inode table (inode.c) */
	struct qfs_inode **by_ino;
	struct qfs_inode **by_path;
	size_t nbuckets;
	size_t ninodes;
	uint64_t next_ino;   /* for czxid-0 nodes */
	uint64_t next_ghost; /* for ghosts */

	struct qfs_handle *handles; /* every open handle, freed at stop */
	/* deletions no syscall made (replay.c: qfs_replay_expect_delete) */
	struct qfs_expect *expected;

	/* replay (replay.c) */
	pthread_t rp_thread;
	int rp_started;
	pthread_mutex_t rp_lock;
	pthread_cond_t rp_cond;
	struct replay_item *rp_head, *rp_tail;
	size_t rp_len;			 /* items queued */
	int rp_backlog;			 /* own items go ahead (replay.c, enqueue_own) */
	size_t rp_limit;		 /* queued items past which changes from
					    elsewhere are not replayed; 0: none */
	int rp_over;			 /* past it: not replaying, until drained */
	uint64_t rp_skipped;		 /* changes not replayed while rp_over */
	uint64_t rp_skipped_done;	 /* of an ended rp_over, not yet logged */
	struct replay_item *rp_own_tail; /* the last of those, while queued */
	struct replay_item *rp_cur;	 /* being replayed; handlers read it */
	char *rp_gone_path;		 /* qfs_replay_deleted_ino's last answer */
	uint64_t rp_gone_ino;
	int rp_busy;
	int rp_stop;
	pid_t rp_tid;	      /* whose requests are replays: the helper's pid */
	pid_t rp_pid;	      /* the replay helper process (replay_proc.c) */
	int rp_sock;	      /* to it; -1 once it is gone */
	int rp_pipe[2];	      /* thread -> loop: "queue drained" */
	int rp_test_delay_ms; /* tests: before each foreign replay (fs.h) */

	pid_t wd_pid;		     /* the watchdog process (watchdog.c); 0 if none */
	const char *test_unanswered; /* opts->test_unanswered (static) */

	struct qfs_stats st;
};

/* An open file or directory (fi->fh). */
struct qfs_handle {
	struct qfs_mount *m;
	struct qfs_handle *prev, *next;
	uint64_t ino;
	char *zpath;
	int replay; /* opened by the replay thread: commits nothing */
	int writable;
	int counted; /* in its inode's writers */
	int append;
	/* O_APPEND: the length of the value the buffered appends follow (set
	 * at load and at each commit); a commit that meets a newer value is
	 * made again on top of it (file.c, append_rebase), rebases times. */
	size_t append_from;
	int rebases;
	pid_t open_pid; /* the thread that opened it (O_TRUNC's setattr follows) */
	int trunc_seen;
	/* write buffer: the whole content to commit */
	int loaded;
	int dirty;
	int written; /* written since the last commit: flush commits */
	/* The FUSE lock owner (the caller's file table) of the last write; 0
	 * if none is known. A flush from another table is a process that
	 * inherited the descriptor (fork) closing its copy, at exec or exit:
	 * it commits nothing of the writer's buffer (qfs_flush). */
	uint64_t write_owner;
	/* The thread that last changed the buffer's size (write, ftruncate):
	 * its stat shows that size until the commit (attr.c, writer_view) */
	pid_t size_pid;
	int32_t base_version; /* setData version; -1 = unconditional */
	char *buf;
	size_t len, cap;
	/* read snapshot: one consistent value for the whole read */
	char *snap;
	size_t snap_len;
	int64_t snap_mzxid;
	int snapped;
	/* commit in flight */
	int committing;
	int failed;	  /* a write failed (EFBIG): the buffer is not a value */
	struct zauth who; /* writable: the opener's identities, for commits */
	/* made by this handle's create and nothing committed since: a failed
	 * write undoes the create (file.c: handle_undo_create) */
	int created;
	int64_t created_czxid;
	int32_t created_version;
	int released;
	int last_err;
	/* directory listing (dir.c) */
	struct qfs_dirent *ents;
	size_t nents;
};

/* A base_version no znode has: the value the handle started from belongs
 * to a name renamed away (rename.c), so its commit fails ESTALE, as it
 * would have at the old name. */
#define QFS_VERSION_GONE INT32_MIN

struct qfs_dirent {
	char *name;
	mode_t mode;
	uint64_t ino;
};

/* A directory: marked so, or the root, or holding children (a znode the
 * wire protocol gave a child before it was ever marked). */
static inline int qfs_node_is_dir(const struct znode *n)
{
	return (n->flags & ZNODE_F_DIR) || !n->parent || n->stat.num_children > 0;
}

/*
 * How long the kernel may keep in's attributes. Not at all while it is
 * open for writing: the kernel holds one size per inode, and a writer's
 * lseek(SEEK_END) must ask for its own (attr.c, writer_view) rather than
 * reuse a size someone else's stat cached.
 */
static inline double qfs_attr_timeout(const struct qfs_mount *m,
				      const struct qfs_inode *in)
{
	return in->writers ? 0 : m->attr_timeout;
}

static inline struct qfs_mount *qfs_req_mount(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* inode.c */
int qfs_inodes_init(struct qfs_mount *m);
void qfs_inodes_free(struct qfs_mount *m);
struct qfs_inode *qfs_inode_get(struct qfs_mount *m, uint64_t ino);
struct qfs_inode *qfs_inode_by_path(struct qfs_mount *m, const char *path);
/* The inode for a live znode at path (file path; is_data for ".data"),
 * made if missing or if the one hashed there was for another znode. */
struct qfs_inode *qfs_inode_for(struct qfs_mount *m, const char *path,
				const struct znode *n, int is_data);
/* The number n's file has or would have (for readdir): never 0, except on
 * ENOMEM. A czxid-0 node gets its (pinned) entry here. */
uint64_t qfs_ino_number(struct qfs_mount *m, const char *path, const struct znode *n,
			int is_data);
/* An inode for a znode that is already gone (replay of a deletion). */
struct qfs_inode *qfs_inode_ghost(struct qfs_mount *m, const char *path, int is_dir);
void qfs_inode_unhash(struct qfs_mount *m, struct qfs_inode *in);
/* Rekey after a rename made `in` the inode of the new znode. */
int qfs_inode_move(struct qfs_mount *m, struct qfs_inode *in, const char *path,
		   const struct znode *n, int is_data);
void qfs_inode_forget(struct qfs_mount *m, uint64_t ino, uint64_t n);
/* The live znode an inode shows, or NULL (gone or replaced). */
const struct znode *qfs_inode_node(struct qfs_mount *m, struct qfs_inode *in);

/* paths.c */
/* A name the mount may create: 0 or ENAMETOOLONG (over QFS_NAME_MAX). */
int qfs_name_check(const char *name);
/* Is this znode path /zookeeper or below it? The mount makes and removes
 * no names there (EPERM): ZooKeeper's system subtree. */
int qfs_path_system(const char *zpath);
char *qfs_path_join(const char *dir, const char *name);
/*
 * For mkdir, mknod, create, unlink and rmdir of name in directory inode
 * parent: the parent's inode and znode (borrowed) and the child's path
 * (malloc'd, the caller's). 0, or ESTALE, ENOTDIR, ENOENT, ENOMEM. For a
 * replay (qfs_from_replay) the parent may be a directory deleted since
 * (attr.c, replay_lookup): *pn_out is then NULL.
 */
int qfs_child_path(struct qfs_mount *m, fuse_ino_t parent, const char *name, int replay,
		   struct qfs_inode **pin_out, const struct znode **pn_out,
		   char **path_out);
/* May the mount make a node called name at path? 0, ENAMETOOLONG, EPERM
 * (under /zookeeper), EINVAL (the data file's name, or not a path
 * ZooKeeper takes). */
int qfs_new_name_check(const char *name, const char *path);
/* The parent znode path (malloc'd); "/" for top-level nodes. */
char *qfs_path_parent(const char *path);
const char *qfs_path_base(const char *path);

/* ident.c: who is asking (the map is borrowed for the mount's life) */
/* From opts: the user map (borrowed for the mount's life) and whether the
 * mount is shared (allow_other, allow_root). 0 or -ENOMEM. */
int qfs_ident_init(struct qfs_mount *m, const struct qfs_mount_opts *opts);
void qfs_ident_free(struct qfs_mount *m);
/* The caller's identities; borrowed, valid until the next call. */
const struct zauth *qfs_req_who(fuse_req_t req);
/* The ZPERM_* bits who holds on n. */
int32_t qfs_perms(const struct zauth *who, const struct znode *n);
/* Does the caller hold perm on n? (The replay thread holds everything.) */
int qfs_allowed(fuse_req_t req, const struct znode *n, int32_t perm);
/* Deep copy into dst (overwritten); 0 or -ENOMEM. Free with zauth_free. */
int qfs_auth_copy(struct zauth *dst, const struct zauth *src);

/* attr.c */
/* The attributes n shows to who (mode bits: who's rights). */
void qfs_fill_stat(struct qfs_mount *m, const struct zauth *who, const struct znode *n,
		   int is_data, uint64_t ino, struct stat *st);
/* Reply with an entry for in (nlookup++); n NULL for a ghost. */
void qfs_reply_entry(fuse_req_t req, struct qfs_inode *in, const struct znode *n);
void qfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void qfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void qfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void qfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void qfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		 struct fuse_file_info *fi);
void qfs_statfs(fuse_req_t req, fuse_ino_t ino);
void qfs_access(fuse_req_t req, fuse_ino_t ino, int mask);

/* dir.c */
void qfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void qfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       dev_t rdev);
void qfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void qfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void qfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void qfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi);
void qfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void qfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi);
/* The create request for a new child of parent zpath, per its child_kind. */
void qfs_create_req(const struct znode *parent, struct zreq *zr);
/* Answer a create-like request of the replay thread (node already made). */
void qfs_replay_entry(fuse_req_t req, struct qfs_mount *m, const char *path, int is_dir,
		      struct fuse_file_info *fi);

/* file.c */
void qfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		struct fuse_file_info *fi);
void qfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void qfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	      struct fuse_file_info *fi);
void qfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi);
void qfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void qfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void qfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
struct qfs_handle *qfs_handle_new(struct qfs_mount *m, uint64_t ino, const char *zpath);
int64_t qfs_now_ms(void);
/* How long after a change readers bypass the page cache. */
#define QFS_HOT_MS 2000
void qfs_handle_free(struct qfs_handle *h);
/* Truncate an open handle's buffer (ftruncate). Returns 0 or an errno. */
int qfs_handle_truncate(struct qfs_handle *h, off_t size);
/* The write handle on ino whose uncommitted size the thread pid made
 * (qfs_handle.size_pid), or NULL; borrowed. */
struct qfs_handle *qfs_handle_sized_by(struct qfs_mount *m, uint64_t ino, pid_t pid);

/* xattr.c */
void qfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		  size_t size, int flags);
void qfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void qfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void qfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* rename.c */
void qfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		const char *newname, unsigned int flags);

/* submit.c: writes made for FUSE requests, under the mount's session. */
typedef void (*qfs_done_fn)(void *arg, int err, const struct zresult *res);
/* Submit with who's identities (read before this returns); done gets 0 or
 * a positive errno (ZooKeeper errors mapped as the man page's table says).
 * Returns 0 or a positive errno (done not called). */
int qfs_submit(struct qfs_mount *m, const struct zauth *who, const struct zreq *zr,
	       qfs_done_fn done, void *arg);
/* defer.c: a write that waits for the mount's first session open (copied;
 * 0 or ENOMEM); the open answered: submit them in order; the mount stops:
 * complete them with -1. */
struct qfs_deferred;
int qfs_defer(struct qfs_mount *m, const struct zauth *who, const struct zreq *zr,
	      qfs_done_fn done, void *arg);
void qfs_defer_release(struct qfs_mount *m);
void qfs_defer_drop(struct qfs_mount *m);
int qfs_errno(struct qfs_mount *m, int zerr);
/* Is this request a syscall of the replay thread? */
int qfs_from_replay(fuse_req_t req);
/* Requests the replay thread is not expected to make. */

/* mount.c: free a stopped mount once its last write completed */
void qfs_mount_release_dead(struct qfs_mount *m);

/* replay_proc.c: the helper process that does the replay's VFS operations */
enum rproc_op {
	RPROC_DATA = 1, /* open O_TRUNC, write, close */
	RPROC_CREATE,	/* open O_CREAT|O_EXCL, write, close */
	RPROC_MKDIR,
	RPROC_UNLINK,
	RPROC_RMDIR,
	RPROC_SETXATTR,
	RPROC_MKNOD, /* mknod S_IFREG: IN_CREATE alone */
};
/* Fork the helper (from the loop thread, which lives as long as the
 * daemon). 0 or a negative errno. */
int qfs_replay_proc_start(struct qfs_mount *m);
/* From the replay thread: do op on path (absolute; borrowed, as are xname
 * and data) in the helper and wait for it. RPROC_DATA and RPROC_CREATE
 * take no data, only len: the helper writes that many zeros. Returns the
 * operation's errno, 0 when done. */
int qfs_replay_proc_do(struct qfs_mount *m, enum rproc_op op, const char *path,
		       const char *xname, const void *data, size_t len);
/* Close the helper's socket and reap it (bounded). */
void qfs_replay_proc_stop(struct qfs_mount *m);

/* watchdog.c: the process that aborts the mount's FUSE connection when
 * the daemon was killed and cannot finish dying. Fork it from the loop
 * thread (it wakes when the forking thread exits); 0 or a negative errno.
 * Stop it (kill and reap) before a clean unmount. */
int qfs_watchdog_start(struct qfs_mount *m);
void qfs_watchdog_stop(struct qfs_mount *m);

/* replay.c */
int qfs_replay_start(struct qfs_mount *m);
void qfs_replay_stop(struct qfs_mount *m);
/* The qcore subscriber: decides own/foreign and queues replays. */
void qfs_on_change(struct qfs_mount *m, const struct tree_event *ev);
/* What the replay thread is doing now, for its own syscalls' handlers. */
struct replay_view {
	int active;
	int kind; /* enum replay_kind */
	char path[4096];
	int is_dir;
	uint64_t ino; /* the inode the kernel held for the node, or 0 */
};
void qfs_replay_current(struct qfs_mount *m, struct replay_view *v);
/* The inode the kernel held for path when its deletion was queued for
 * replay, if that replay is still queued, else 0. Loop thread. */
uint64_t qfs_replay_deleted_ino(struct qfs_mount *m, const char *path);
int qfs_replay_idle(struct qfs_mount *m);
/* Items queued for the replay thread, the one running included. */
size_t qfs_replay_queued(struct qfs_mount *m);
/* Loop thread, when the replay queue has drained: logs how many changes
 * went unreplayed past mountReplayLimit, if any (replay.c). */
void qfs_replay_drained(struct qfs_mount *m);
/* Answer req with err from the replay thread, after every invalidation
 * queued before: a writer's close returns only once no reader on this host
 * can still see the old value from the kernel's caches. In a backlog the
 * answer goes ahead of the foreign replays with the mount's own items
 * (replay.c), unless after_all: then it waits for everything queued (a
 * failed create's answer must follow the replayed deletion of its name). */
void qfs_replay_reply(struct qfs_mount *m, fuse_req_t req, int err, int after_all);
/* Drop the kernel's cached data and attributes of ino (from the thread). */
void qfs_replay_inval(struct qfs_mount *m, uint64_t ino);
/* An entry reply to the replay helper made the kernel hold `in` for the
 * first time: have the thread drop its name once the replay is done
 * (replay.c says why). Loop thread. */
void qfs_replay_release(struct qfs_mount *m, struct qfs_inode *in);
/* Someone else looked `in` up: keep it (cancels a pending release). */
void qfs_replay_claim(struct qfs_mount *m, struct qfs_inode *in);
/* The next deletion of path is one no syscall made (a create undone):
 * replay it like a foreign one, so the kernel drops the name and watchers
 * see IN_DELETE. 0 or -ENOMEM. qfs_replay_unexpect_delete takes it back
 * (the deletion failed). */
int qfs_replay_expect_delete(struct qfs_mount *m, const char *path);
void qfs_replay_unexpect_delete(struct qfs_mount *m, const char *path);
void qfs_replay_expect_free(struct qfs_mount *m);

enum replay_kind {
	RP_DATA = 1,	/* open O_TRUNC + write + close */
	RP_CREATE,	/* mkdir, or creat + write + close */
	RP_DELETE,	/* unlink / rmdir */
	RP_XATTR,	/* setxattr */
	RP_INVAL,	/* invalidate only (own changes) */
	RP_INVAL_ENTRY, /* drop a name (a file that became a directory) */
	RP_REPLY,	/* answer a request once the invalidations before it are done */
	RP_RELEASE,	/* drop a name that only a replay looked up */
};

#endif
