/*
 * storage.h - the transaction log: one SQLite database, dataDir/log.db, in
 * WAL mode, appended to by one writer thread that commits everything queued
 * while its previous commit was syncing as ONE SQLite transaction (group
 * commit: many writers share each fsync).
 *
 * Schema:
 *   log(zxid INTEGER PRIMARY KEY, crc INTEGER NOT NULL, rec BLOB NOT NULL)
 * rec is a txn_encode() record; crc is CRC-32C over the zxid as 8 big-endian
 * bytes followed by rec. Recovery checks every crc it reads, that zxids
 * follow each other without a gap (counter + 1, or counter 1 of a later
 * epoch), and runs PRAGMA quick_check over the file first, so a torn or
 * corrupt file is refused rather than half read.
 *
 * Threads: storage_open/storage_replay/storage_close run on the loop thread;
 * between storage_start and storage_stop the writer thread owns the SQLite
 * connection and the loop only queues items and collects them back.
 *
 * Errors are negative errnos: -ENOSPC for a full disk, the system errno for
 * an I/O error, -EBADMSG for a corrupt file.
 */
#ifndef QFS_STORAGE_H
#define QFS_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "zxid.h"

/*
 * One record to append. Caller-owned: the caller fills zxid, rec, len, gen
 * and keeps the item and the bytes alive until storage_take_done returns it;
 * the writer sets err (0 once durable, else a negative errno).
 */
struct storage_item {
	struct storage_item *next; /* storage's link while queued */
	zxid_t zxid;
	const void *rec;
	size_t len;
	uint64_t gen; /* the caller's failure generation, see storage_submit */
	int err;
};

struct storage_opts {
	int sync_full; /* synchronous=FULL (fsync each commit) else NORMAL */
	int repair;    /* cut a corrupt tail instead of refusing to start */
};

struct storage_stats {
	uint64_t commits; /* group commits, one fsync of the WAL each */
	uint64_t records; /* records made durable */
	uint64_t bytes;	  /* record bytes made durable */
	int64_t max_commit_us;
	uint64_t failed; /* records that failed */
};

struct storage;

/*
 * Open (creating if absent) dir/log.db and check it. Returns 0, or a
 * negative errno with errbuf naming the file and, for corruption, the repair
 * option. With o->repair a file SQLite cannot read is moved aside to
 * log.db.corrupt-<time> and its readable prefix copied into a new log.db,
 * loudly.
 */
int storage_open(const char *dir, const struct storage_opts *o, struct storage **out,
		 char *errbuf, size_t errlen);

/* Called for each record in order; rec is borrowed. Non-zero stops replay
 * and is returned by storage_replay. */
typedef int (*storage_replay_fn)(void *arg, zxid_t zxid, const void *rec, size_t len);

/*
 * Replay the records after zxid `after`, before storage_start. A bad crc or
 * a gap fails with -EBADMSG and a message (naming the file and the repair
 * option); with repair the log is cut from the bad record on, loudly, and
 * replay ends there successfully.
 */
int storage_replay(struct storage *s, zxid_t after, storage_replay_fn fn, void *arg,
		   char *errbuf, size_t errlen);

/* The highest and lowest zxid in the log (0 if empty). */
int storage_bounds(struct storage *s, zxid_t *lo, zxid_t *hi);

/*
 * Start the writer thread. After each commit it writes an 8-byte count to
 * notify_fd (an eventfd the loop watches) so the loop collects results.
 * Returns 0 or a negative errno.
 */
int storage_start(struct storage *s, int notify_fd);

/*
 * Queue an item (ownership stays with the caller, see struct storage_item).
 * Items come back from storage_take_done in the order they were queued.
 * After a failed commit, every later item whose gen is not above the failed
 * batch's gen fails too without being written: those were prepared on top
 * of the lost transactions. The caller moves to a new gen once it has seen
 * the failure.
 */
void storage_submit(struct storage *s, struct storage_item *it);

/* Detach the list of finished items (oldest first); NULL if none. */
struct storage_item *storage_take_done(struct storage *s);

/* Delete records with zxid <= upto (no snapshot needs them any more); done
 * by the writer between batches. */
void storage_purge(struct storage *s, zxid_t upto);

/*
 * Hold off the writer between batches, so that fork() does not copy a
 * SQLite mutex held mid-call into the child. Blocks for at most the commit
 * in progress.
 */
void storage_fork_lock(struct storage *s);
void storage_fork_unlock(struct storage *s);

void storage_stats(struct storage *s, struct storage_stats *out);
/* The errno of the last failed commit (positive; 0 if none). */
int storage_last_errno(struct storage *s);

/* Make the writer finish what is queued and exit; its results remain for
 * storage_take_done. Idempotent. */
void storage_stop(struct storage *s);
/* Stop, and free everything. Items not yet taken are dropped (not freed:
 * they are the caller's). */
void storage_close(struct storage *s);

#endif
