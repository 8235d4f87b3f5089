/*
 * logstore.h - the replication engine's durable log: a SQLite database of
 * proposals plus the few numbers Zab must never forget.
 *
 * What is stored (one SQLite file, WAL mode, synchronous=FULL):
 *
 *   log(zxid INTEGER PRIMARY KEY, epoch INTEGER, type INTEGER, data BLOB,
 *       crc INTEGER)
 *       one row per entry; zxids strictly increase. crc is CRC-32C over
 *       zxid (8 bytes big-endian) || epoch (4 bytes big-endian) || type (1
 *       byte) || data, so a flipped byte in any field is caught when the row
 *       is read back.
 *   meta(id = 1, accepted_epoch, current_epoch, vote, snapshot_zxid,
 *        commit_zxid, crc)
 *       Zab's acceptedEpoch and currentEpoch (ZooKeeper persists them in the
 *       files acceptedEpoch/currentEpoch before acting on them), the vote of
 *       the current election round, the zxid of the last snapshot the log
 *       was compacted against, and the commit watermark: the newest zxid
 *       this member knew committed when it wrote (logstore_append_commit
 *       raises it in the append's own transaction, so it costs no fsync;
 *       a reset sets it to the snapshot's zxid); crc over the five values
 *       as 4+4+8+8+8 bytes big-endian.
 *   PRAGMA application_id = 'QFSL', user_version = format version (2; a
 *   log of another version, such as 1 without commit_zxid, is refused),
 *   auto_vacuum = INCREMENTAL (a reset returns the freed pages to the file
 *   system in its transaction, and so does a compaction that leaves more
 *   of the file free than in use; a smaller one leaves them to the next
 *   appends, which costs no page moves).
 *
 * Every operation is a caller-owned struct logstore_req handed to the store
 * with a completion callback (STYLE.md rule 2). The callback runs exactly
 * once, on the thread that owns the event base given to logstore_open, and
 * only after the change is committed and fsync'd (STYLE.md rule 5: persist
 * before acknowledging). Requests complete in submission order.
 *
 * An append of n entries is one SQLite transaction; consecutive appends
 * waiting in the queue are committed together (group commit), so many
 * concurrent proposers share one fsync.
 *
 * Where the writes run (logstore_set_inline): by default a writer thread
 * does them, so that the loop thread never waits for a flush. A store set
 * inline runs them on the loop thread instead, from an event that fires
 * after the callback that queued them (and after the sends that callback
 * queued), so the loop waits for the flush but no thread hand-off lies on
 * the write's path: two wake-ups, each tens of microseconds on a busy
 * machine. It does so only while writes come one at a time (the last
 * flush wrote one entry); once batches grow, the writer thread takes them
 * again, and the loop stays free for the traffic that grows them.
 *
 * Synchronous mode (base == NULL in logstore_open) runs each operation on
 * the caller's thread and calls the callback before the submit function
 * returns; meant for tests and tools.
 *
 * After a failed append, truncate or reset the store fails every append
 * queued behind it, since they would build on entries that are not there,
 * until a write that truncates (logstore_append_after,
 * logstore_truncate, logstore_reset) re-establishes a known end of log.
 * A failed write changes nothing: its transaction is rolled back.
 *
 * Errors are negative errno values (STYLE.md rule 8): -EIO for SQLite
 * failures, -EILSEQ for a checksum mismatch or a malformed database, -EINVAL
 * for a request that breaks the log's order. The message in req->errmsg
 * (or the errmsg buffer of logstore_open) names the file and what is wrong.
 */
#ifndef QFS_LOGSTORE_H
#define QFS_LOGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "zxid.h"

struct event_base;
struct logstore;

#define LOGSTORE_ERRMSG 256
/* Largest payload of one entry; bigger appends are refused with -EINVAL. */
#define LOGSTORE_MAX_ENTRY (64u << 20)

struct logstore_entry {
	zxid_t zxid;
	uint32_t epoch;	  /* the epoch of the leader that proposed it */
	uint8_t type;	  /* opaque to the store (the core's entry kind) */
	const void *data; /* borrowed on append; owned by the request on read */
	size_t len;
};

struct logstore_meta {
	uint32_t accepted_epoch;
	uint32_t current_epoch;
	uint64_t vote; /* opaque to the store; 0 means none */
	zxid_t snapshot_zxid;
	zxid_t commit_zxid; /* the commit watermark; never above the log's end
			       when written, but check (a reset may follow) */
};

/* What logstore_open found. first/last are 0 when the log is empty. */
struct logstore_state {
	struct logstore_meta meta;
	zxid_t first_zxid;
	zxid_t last_zxid;
	uint64_t count;
};

enum logstore_op {
	LOGSTORE_APPEND = 1,
	LOGSTORE_TRUNCATE, /* delete every entry with zxid > arg */
	LOGSTORE_COMPACT,  /* delete every entry with zxid < arg */
	LOGSTORE_SET_META,
	LOGSTORE_READ,	  /* entries with from <= zxid <= to, at most max */
	LOGSTORE_BARRIER, /* completes once everything before it has */
	LOGSTORE_RESET,	  /* delete everything; the log starts after arg */
};

struct logstore_req;
typedef void (*logstore_cb)(struct logstore_req *req, int status);

/*
 * One operation. The caller owns the struct and keeps it alive, untouched,
 * until its callback has run; the store only reads the input fields and
 * writes status, errmsg and the read results.
 */
struct logstore_req {
	void *data; /* for the caller */
	int status;
	char errmsg[LOGSTORE_ERRMSG];

	/* Results of LOGSTORE_READ, owned by the request; release them with
	 * logstore_req_release (also safe on any other request). */
	struct logstore_entry *entries;
	size_t n_entries;

	/* Private to the store. */
	enum logstore_op op;
	logstore_cb cb;
	const struct logstore_entry *in;
	size_t n_in;
	zxid_t arg, arg2;
	size_t max;
	int truncate;  /* APPEND: truncate after arg first, same transaction */
	zxid_t commit; /* APPEND: raise meta.commit_zxid to this, same transaction */
	struct logstore_meta meta;
	struct logstore_req *next;
};

/*
 * Opens (creating if needed) the log at path, verifies it (SQLite's
 * quick_check, every record's CRC, the metadata CRC) and reports what it
 * holds in *state. With base != NULL a writer thread is started and
 * completions are delivered on base's loop; with base == NULL the store is
 * synchronous. On failure returns a negative errno and writes a message
 * naming path into errmsg (errmsg_len bytes). The path is copied.
 */
int logstore_open(const char *path, struct event_base *base, struct logstore **out,
		  struct logstore_state *state, char *errmsg, size_t errmsg_len);

/*
 * Waits for every submitted request to finish (their callbacks run from
 * inside this call when asynchronous, and must not submit more), stops the
 * writer thread, closes the
 * database and frees the store. Must not be called from a callback.
 */
void logstore_close(struct logstore *ls);

/*
 * Appends n entries (n >= 1) as one transaction. zxids must strictly
 * increase and follow the last zxid submitted (or the store's last zxid);
 * otherwise returns -EINVAL at once and the callback is never called. The
 * entry array and payloads are borrowed until the callback runs.
 * Returns 0 when the request was accepted.
 */
int logstore_append(struct logstore *ls, struct logstore_req *req,
		    const struct logstore_entry *entries, size_t n, logstore_cb cb);

/*
 * Removes every entry with zxid > after, then appends n entries (n may be
 * 0), in one transaction: a follower replacing a divergent suffix never
 * leaves a log with the suffix gone and the new entries missing. The first
 * entry must be above after. Borrowing as for logstore_append.
 */
int logstore_append_after(struct logstore *ls, struct logstore_req *req, zxid_t after,
			  const struct logstore_entry *entries, size_t n, logstore_cb cb);

/*
 * logstore_append (truncate == 0; n >= 1) or logstore_append_after
 * (truncate != 0) that also raises the metadata's commit_zxid to
 * commit_zxid in the same transaction, so the watermark is durable exactly
 * when the entries are, at no extra fsync. A commit_zxid at or below the
 * stored one changes nothing. logstore_meta() shows the raised value at
 * once (so a later set_meta built from it keeps it).
 */
int logstore_append_commit(struct logstore *ls, struct logstore_req *req, int truncate,
			   zxid_t after, const struct logstore_entry *entries, size_t n,
			   zxid_t commit_zxid, logstore_cb cb);

/*
 * Raises the commit watermark to commit_zxid (at or below the last zxid
 * submitted) without appending anything, for a commit learned after the
 * last append. Ordered with the appends like one, but committed with
 * synchronous=NORMAL when nothing else shares its transaction: no fsync of
 * its own, so it survives a crash of the process, and a power loss may take
 * the watermark back to the previous fsync (which is safe: the watermark
 * only ever lags). -EINVAL for 0 or a zxid beyond the log.
 */
int logstore_mark_commit(struct logstore *ls, struct logstore_req *req,
			 zxid_t commit_zxid, logstore_cb cb);

/* Removes every entry with zxid > after (a follower that followed an old
 * leader discards its uncommitted suffix). */
int logstore_truncate(struct logstore *ls, struct logstore_req *req, zxid_t after,
		      logstore_cb cb);

/* Removes every entry with zxid < before (after a snapshot at before - 1 or
 * later has been made durable elsewhere) and raises the metadata's
 * snapshot_zxid to before - 1, in one transaction. */
int logstore_compact(struct logstore *ls, struct logstore_req *req, zxid_t before,
		     logstore_cb cb);

/* Removes every entry and sets snapshot_zxid and commit_zxid to snap_zxid
 * (a snapshot was installed), in one transaction; the next append must be
 * above it. */
int logstore_reset(struct logstore *ls, struct logstore_req *req, zxid_t snap_zxid,
		   logstore_cb cb);

/* Replaces the durable metadata (copied at submit time). The callback means
 * it is on disk: only then may the caller act on the new epoch or vote. */
int logstore_set_meta(struct logstore *ls, struct logstore_req *req,
		      const struct logstore_meta *meta, logstore_cb cb);

/*
 * Reads up to max entries with from <= zxid <= to, in order, into
 * req->entries (owned by req; free with logstore_req_release). Sees every
 * request submitted before it. A record whose CRC fails completes the
 * request with -EILSEQ.
 */
int logstore_read(struct logstore *ls, struct logstore_req *req, zxid_t from, zxid_t to,
		  size_t max, logstore_cb cb);

/* The metadata as it will be once every submitted request is done (the
 * loop's view; borrowed). Use it to change one field with set_meta. */
const struct logstore_meta *logstore_meta(const struct logstore *ls);

/*
 * logstore_read, run on the caller's thread and returning its status;
 * only while no request is in flight (else -EBUSY). For loading the log at
 * start-up, before the loop runs.
 */
int logstore_read_sync(struct logstore *ls, struct logstore_req *req, zxid_t from,
		       zxid_t to, size_t max);

/* Completes after every earlier request has. */
int logstore_barrier(struct logstore *ls, struct logstore_req *req, logstore_cb cb);

/* Frees the results of a read; the request can then be reused. */
void logstore_req_release(struct logstore_req *req);

/*
 * For a caller about to fork() a child that will use SQLite: waits, for at
 * most timeout_ms, until the writer thread is between transactions, and
 * keeps it there (it is outside SQLite, so none of SQLite's process-wide
 * mutexes is held by a thread the child will not have) until
 * logstore_resume. Returns 0, or -ETIMEDOUT when the writer stayed inside
 * one transaction (a slow fsync) for the whole time; then nothing is held.
 * The wait is the rest of the current group commit, so the loop thread
 * stalls for at most that long. Queued requests wait meanwhile; a
 * synchronous store returns 0 at once. Loop thread only.
 */
int logstore_quiesce(struct logstore *ls, int timeout_ms);
void logstore_resume(struct logstore *ls);

/* Statistics since open: transactions committed (one fsync each) and
 * entries appended. Read on the loop thread. */
void logstore_stats(struct logstore *ls, uint64_t *commits, uint64_t *entries);

/* How many of those flushes ran on the loop thread (logstore_set_inline).
 * Loop thread only. */
uint64_t logstore_inline_runs(const struct logstore *ls);

/*
 * on: run later requests on the loop thread (see "Where the writes run"
 * above); off: hand them to the writer thread. Either way they complete
 * in submission order: requests already with the writer finish before
 * any runs inline, and those queued inline run before the writer gets
 * more. No effect on a synchronous store. Loop thread only.
 */
void logstore_set_inline(struct logstore *ls, int on);

/* The path the store was opened with (borrowed). */
const char *logstore_path(const struct logstore *ls);

#endif
