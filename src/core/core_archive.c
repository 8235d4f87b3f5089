/*
 * core_archive.c - the continuous archive (archiveDir=): every committed
 * log entry and every snapshot of this member is also copied to the
 * archive directory, for point-in-time recovery (quorumadm restore
 * --archive). The files and their format: archive_seg.h.
 *
 * THE THREAD. Copying is done by one thread of its own, so that neither
 * the loop nor the log store's writer ever waits for the archive (a slow
 * or hung network mount stalls only this thread). It wakes every
 * archiveInterval (and when a snapshot finishes, and once more at
 * shutdown), and then:
 *   1. copies the newest snapshot of the dataDir if the archive does not
 *      have it yet;
 *   2. reads, through its own read-only SQLite connection to txnlog.db,
 *      the entries after the last archived one up to the loop's applied
 *      zxid (committed: applied entries never go away), and writes them as
 *      one or more segments.
 * The loop only publishes its applied zxid (an atomic store per batch).
 *
 * NO GAP. The log is compacted after snapshots; core_purge asks
 * core_archive_keep first, which holds compaction back to the last
 * archived entry, so an archive that cannot keep up (or is unreachable)
 * keeps the log growing rather than losing entries. After a restart the
 * thread resumes after the newest segment in the archive. A gap can still
 * happen where the log never held the entries: archiveDir= set on a data
 * directory whose log was compacted already, or a follower that received
 * a snapshot from its leader in place of entries. It is logged loudly
 * with its bounds; restores refuse to replay across it.
 *
 * FORK. The snapshot and backup children are fork()ed while other threads
 * run; a child must not find a SQLite mutex held by a thread it does not
 * have. The thread holds sql_mu whenever it is inside SQLite, and
 * core_fork takes it (core_archive_hold) around the fork.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "archive_seg.h"
#include "buf.h"
#include "cons.h"
#include "core_int.h"
#include "log.h"
#include "snapshot.h"
#include "txn.h"
#include "zerr.h"

/* Entries per segment at most, and per SQLite read (the time sql_mu is
 * held, hence the most a fork waits for it). */
#define ARCH_SEG_MAX	   20000
#define ARCH_WARN_EVERY_MS (60 * 1000)
/* How long a shutdown waits for the archiver's last pass. */
#define ARCH_CLOSE_MS (30 * 1000)

struct core_archive {
	char *dir;	/* the archive */
	char *data_dir; /* a copy: the thread may outlive the core (close) */
	char log_path[4200];
	int64_t interval_ms;

	pthread_t th;
	int started;
	pthread_mutex_t mu; /* stop, kicked */
	pthread_cond_t cv;
	int stop, kicked;
	pthread_mutex_t sql_mu; /* held inside SQLite (see FORK above) */

	_Atomic zxid_t committed; /* the loop's applied zxid */
	_Atomic zxid_t done;	  /* the last entry archived */
	zxid_t snap_done;	  /* the newest snapshot archived */

	/* The thread's own. */
	struct archive_rec *recs; /* ARCH_SEG_MAX of them */
	sqlite3 *db;
	sqlite3_stmt *rd;
	char last_err[512];
	int64_t last_err_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An error, logged when it is new or once a minute while it lasts. */
static void arch_err(struct core_archive *a, const char *msg)
{
	int64_t now = mono_ms();

	if (strcmp(msg, a->last_err) == 0 && now - a->last_err_ms < ARCH_WARN_EVERY_MS)
		return;
	snprintf(a->last_err, sizeof(a->last_err), "%s", msg);
	a->last_err_ms = now;
	log_warnx("archive %s: %s (the log is kept until it is archived; retrying)",
		  a->dir, msg);
}

static void arch_ok(struct core_archive *a)
{
	if (a->last_err[0])
		log_info("archive %s: archiving again", a->dir);
	a->last_err[0] = '\0';
}

/* Copy dataDir/snapshot.<z>.db to the archive. 0 or a negative errno. */
static int copy_snapshot(struct core_archive *a, zxid_t z, char *err, size_t errlen)
{
	char src[4400], name[64];
	int rc;

	snapshot_path(src, sizeof(src), a->data_dir, z);
	snprintf(name, sizeof(name), "snapshot.%016llx.db", (unsigned long long)z);
	rc = archive_copy_file(src, a->dir, name, err, errlen);
	if (!rc)
		log_info("archive %s: snapshot 0x%llx archived", a->dir,
			 (unsigned long long)z);
	return rc;
}

static void arch_snapshots(struct core_archive *a)
{
	zxid_t *zxids = NULL;
	size_t n = 0;
	char err[4600];
	int rc;

	rc = snapshot_list(a->data_dir, &zxids, &n);
	if (rc || n == 0 || zxids[0] <= a->snap_done) {
		free(zxids);
		return;
	}
	rc = copy_snapshot(a, zxids[0], err, sizeof(err));
	if (rc == -ENOENT) {
		/* Purged meanwhile: a newer one is there now. */
		free(zxids);
		return;
	}
	if (rc)
		arch_err(a, err);
	else
		a->snap_done = zxids[0];
	free(zxids);
}

static int arch_db_open(struct core_archive *a, char *err, size_t errlen)
{
	int rc;

	if (a->db)
		return 0;
	rc = sqlite3_open_v2(a->log_path, &a->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(a->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(a->db, 1000);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    a->db,
		    "SELECT zxid, epoch, type, data FROM log WHERE zxid > ?1 "
		    "AND zxid <= ?2 ORDER BY zxid LIMIT ?3",
		    -1, &a->rd, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", a->log_path,
			 a->db ? sqlite3_errmsg(a->db) : "cannot open");
		sqlite3_finalize(a->rd);
		sqlite3_close(a->db);
		a->rd = NULL;
		a->db = NULL;
		return -EIO;
	}
	return 0;
}

/*
 * The entries in (after, upto], at most ARCH_SEG_MAX, copied into *b (the
 * records' data pointers are offsets into it until fixed up). Holds
 * sql_mu only while in SQLite.
 */
static int read_rows(struct core_archive *a, zxid_t after, zxid_t upto,
		     struct archive_rec *recs, size_t *n, struct buf *b, char *err,
		     size_t errlen)
{
	int rc;

	*n = 0;
	pthread_mutex_lock(&a->sql_mu);
	rc = arch_db_open(a, err, errlen);
	if (rc)
		goto out;
	sqlite3_bind_int64(a->rd, 1, (sqlite3_int64)after);
	sqlite3_bind_int64(a->rd, 2, (sqlite3_int64)upto);
	sqlite3_bind_int64(a->rd, 3, ARCH_SEG_MAX);
	while ((rc = sqlite3_step(a->rd)) == SQLITE_ROW) {
		struct archive_rec *e = &recs[*n];
		int len = sqlite3_column_bytes(a->rd, 3);

		e->zxid = (zxid_t)sqlite3_column_int64(a->rd, 0);
		e->epoch = (uint32_t)sqlite3_column_int64(a->rd, 1);
		e->type = (uint8_t)sqlite3_column_int(a->rd, 2);
		e->len = (uint32_t)len;
		e->data = (const uint8_t *)(uintptr_t)b->len;
		buf_put(b, sqlite3_column_blob(a->rd, 3), (size_t)len);
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "reading %s: %s", a->log_path,
			 sqlite3_errmsg(a->db));
		rc = -EIO;
	} else {
		rc = buf_failed(b) ? -ENOMEM : 0;
		if (rc)
			snprintf(err, errlen, "out of memory");
	}
	sqlite3_reset(a->rd);
out:
	pthread_mutex_unlock(&a->sql_mu);
	return rc;
}

/* The transaction times of n entries: tmin/tmax (0 when none is a txn). */
static void txn_times(const struct archive_rec *recs, size_t n, int64_t *tmin,
		      int64_t *tmax)
{
	struct ztxn *txn;

	*tmin = *tmax = 0;
	for (size_t i = 0; i < n; i++) {
		const struct archive_rec *e = &recs[i];
		int64_t t;

		if (!core_entry_is_txn(e->type, e->data, e->len))
			continue;
		if (txn_decode(e->data + CORE_ENTRY_HDR, e->len - CORE_ENTRY_HDR, &txn) !=
		    ZOK)
			continue;
		t = txn_time(txn);
		txn_free(txn);
		if (!*tmin || t < *tmin)
			*tmin = t;
		if (t > *tmax)
			*tmax = t;
	}
}

static void arch_entries(struct core_archive *a)
{
	struct archive_rec *recs = a->recs;
	zxid_t upto = atomic_load(&a->committed), done = atomic_load(&a->done);
	char err[4600], name[64];
	int64_t tmin, tmax;
	uint8_t *seg;
	size_t n, len;
	struct buf b;
	int rc;

	buf_init(&b);
	while (done < upto) {
		buf_reset(&b);
		rc = read_rows(a, done, upto, recs, &n, &b, err, sizeof(err));
		if (rc) {
			arch_err(a, err);
			break;
		}
		if (n == 0)
			break; /* the log holds none yet (a reset) */
		for (size_t i = 0; i < n; i++)
			recs[i].data = b.data + (uintptr_t)recs[i].data;
		if (done && !archive_follows(done, recs[0].zxid))
			log_warnx(
			    "archive %s: GAP: the entries after 0x%llx up to 0x%llx "
			    "left the log before they were archived (compacted, or "
			    "replaced by a snapshot from the leader); point-in-time "
			    "restores cannot reach a point between them, only points "
			    "from the next archived snapshot on",
			    a->dir, (unsigned long long)done,
			    (unsigned long long)recs[0].zxid);
		txn_times(recs, n, &tmin, &tmax);
		rc = archive_seg_encode(recs, n, tmin, tmax, &seg, &len);
		if (rc) {
			arch_err(a, "out of memory");
			break;
		}
		archive_seg_name(name, sizeof(name), recs[0].zxid, recs[n - 1].zxid);
		rc = archive_write_file(a->dir, name, seg, len, err, sizeof(err));
		free(seg);
		if (rc) {
			arch_err(a, err);
			break;
		}
		arch_ok(a);
		done = recs[n - 1].zxid;
		atomic_store(&a->done, done);
		log_debug("archive %s: %s (%zu entries)", a->dir, name, n);
	}
	buf_free(&b);
}

/* Why a thread: see the header comment (the archive may be slow). */
static void *arch_main(void *arg)
{
	struct core_archive *a = arg;
	struct timespec until;
	int stop;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		stop = a->stop;
		a->kicked = 0;
		pthread_mutex_unlock(&a->mu);
		arch_snapshots(a);
		arch_entries(a);
		pthread_mutex_lock(&a->mu);
		if (stop)
			break;
		if (a->stop || a->kicked)
			continue;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += a->interval_ms / 1000;
		until.tv_nsec += (a->interval_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!a->stop && !a->kicked &&
		       pthread_cond_timedwait(&a->cv, &a->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&a->mu);
	pthread_mutex_lock(&a->sql_mu);
	sqlite3_finalize(a->rd);
	sqlite3_close(a->db);
	a->rd = NULL;
	a->db = NULL;
	pthread_mutex_unlock(&a->sql_mu);
	return NULL;
}

static void arch_free(struct core_archive *a)
{
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->sql_mu);
	pthread_cond_destroy(&a->cv);
	free(a->recs);
	free(a->data_dir);
	free(a->dir);
	free(a);
}

int core_archive_open(struct qcore *c, char *errbuf, size_t errlen)
{
	struct archive_file *files = NULL;
	struct core_archive *a;
	zxid_t *snaps = NULL;
	size_t nf = 0, ns = 0;
	int rc;

	if (!c->o.archive_dir || !*c->o.archive_dir)
		return 0;
	if (mkdir(c->o.archive_dir, 0750) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(errbuf, errlen, "archiveDir %s: %s", c->o.archive_dir,
			 strerror(errno));
		return rc;
	}
	rc = archive_list(c->o.archive_dir, &files, &nf);
	if (!rc)
		rc = snapshot_list(c->o.archive_dir, &snaps, &ns);
	if (rc) {
		free(files);
		snprintf(errbuf, errlen, "archiveDir %s: %s", c->o.archive_dir,
			 strerror(-rc));
		return rc;
	}
	a = calloc(1, sizeof(*a));
	if (a && !(a->recs = calloc(ARCH_SEG_MAX, sizeof(*a->recs))))
		a->dir = NULL;
	else if (a)
		a->dir = strdup(c->o.archive_dir);
	if (!a || !a->dir) {
		if (a)
			free(a->recs);
		free(a);
		free(files);
		free(snaps);
		snprintf(errbuf, errlen, "archive: out of memory");
		return -ENOMEM;
	}
	a->data_dir = strdup(c->dir);
	if (!a->data_dir) {
		free(a->recs);
		free(a->dir);
		free(a);
		free(files);
		free(snaps);
		snprintf(errbuf, errlen, "archive: out of memory");
		return -ENOMEM;
	}
	snprintf(a->log_path, sizeof(a->log_path), "%s/txnlog.db", c->dir);
	a->interval_ms = c->o.archive_interval_ms;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->sql_mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	/* Resume after the newest segment (segments never overlap). */
	for (size_t i = 0; i < nf; i++)
		if (files[i].last > a->done)
			a->done = files[i].last;
	a->snap_done = ns ? snaps[0] : 0;
	a->committed = c->applied;
	free(files);
	free(snaps);
	rc = pthread_create(&a->th, NULL, arch_main, a);
	if (rc) {
		snprintf(errbuf, errlen, "archive: cannot start its thread: %s",
			 strerror(rc));
		arch_free(a);
		return -rc;
	}
	pthread_setname_np(a->th, "qfs-archive");
	a->started = 1;
	c->arch = a;
	log_info(
	    "archive %s: resuming after 0x%llx (newest snapshot there 0x%llx), every "
	    "%lld ms",
	    a->dir, (unsigned long long)a->done, (unsigned long long)a->snap_done,
	    (long long)a->interval_ms);
	return 0;
}

void core_archive_applied(struct qcore *c)
{
	if (c->arch)
		atomic_store(&c->arch->committed, c->applied);
}

void core_archive_kick(struct qcore *c)
{
	struct core_archive *a = c->arch;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->kicked = 1;
	pthread_mutex_unlock(&a->mu);
	/* Unlocked, so that the woken thread does not block on a->mu. */
	pthread_cond_signal(&a->cv);
}

zxid_t core_archive_keep(struct qcore *c, zxid_t z)
{
	zxid_t done;

	if (!c->arch)
		return z;
	done = atomic_load(&c->arch->done);
	return done < z ? done : z;
}

int core_archive_hold(struct qcore *c, int timeout_ms)
{
	struct timespec until;
	int rc;

	if (!c->arch)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	rc = pthread_mutex_timedlock(&c->arch->sql_mu, &until);
	return rc == 0 ? 0 : -ETIMEDOUT;
}

void core_archive_release(struct qcore *c)
{
	if (c->arch)
		pthread_mutex_unlock(&c->arch->sql_mu);
}

void core_archive_close(struct qcore *c)
{
	struct core_archive *a = c->arch;
	struct timespec until;

	if (!a)
		return;
	core_archive_applied(c);
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	/* The thread makes one last pass: everything applied is archived
	 * before a clean shutdown ends (unless the archive is failing). An
	 * archive stuck in I/O (a hung network mount) must not hang the
	 * shutdown: after ARCH_CLOSE_MS the thread is left to the process
	 * exit, with its memory (it owns copies of all it uses); the next
	 * start resumes after what reached the archive. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ARCH_CLOSE_MS / 1000;
	if (pthread_timedjoin_np(a->th, NULL, &until) != 0) {
		log_warnx("archive %s: still busy after %d s (stuck in I/O?); not "
			  "waiting for it: archived up to 0x%llx, the rest is archived "
			  "at the next start",
			  a->dir, ARCH_CLOSE_MS / 1000,
			  (unsigned long long)atomic_load(&a->done));
		pthread_detach(a->th);
		c->arch = NULL;
		return;
	}
	log_info("archive %s: closed after 0x%llx", a->dir,
		 (unsigned long long)atomic_load(&a->done));
	arch_free(a);
	c->arch = NULL;
}
