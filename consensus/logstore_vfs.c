/*
 * logstore_vfs.c - an SQLite VFS shim that gathers the log store's WAL
 * writes into one pwrite per commit.
 *
 * Why: SQLite writes a WAL frame as two write calls, the 24-byte frame
 * header and the page, so a group commit of n pages costs 2n system calls
 * before its fsync. On the virtual machines quorumfs runs on, a system call
 * costs microseconds, and under load the log store's writer thread spent
 * more time entering the kernel than in SQLite. The frames of one commit
 * are contiguous and appended in order, so they are kept in memory and
 * written as one block when SQLite syncs.
 *
 * What keeps this safe (the rules SQLite relies on):
 *   - Nothing buffered is ever missing from the file when SQLite or
 *     another connection can look at it. The buffer is written out before
 *     a sync of the WAL (so a synced commit is on disk, as before), before
 *     any read, size query, truncation, memory mapping or close of the WAL,
 *     and before a write that does not extend the buffer.
 *   - Other connections (the archiver's reader, quorumadm) learn of new
 *     frames only from the wal-index header in shared memory. SQLite
 *     publishes a header by writing its second copy, calling xShmBarrier,
 *     then writing the first; a reader takes a header only when both
 *     copies agree. The barrier of the database file writes out its WAL's
 *     buffer first, so a published header never names a frame that is not
 *     in the file, also for commits that are not synced (synchronous =
 *     NORMAL, used for watermark-only groups).
 *   - A write error surfaces at the call that wrote the buffer out (the
 *     sync of the commit, usually), which fails the transaction as the
 *     write itself would have.
 *
 * Only files SQLite opens as a WAL are buffered; every other file and
 * every other method passes straight through to the default VFS, looked up
 * when the file is opened (tests install their own default first). The
 * log store runs on one thread at a time, so a file needs no lock; the
 * list that pairs a database with its WAL is shared and has one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "logstore_int.h"

#define VFS_NAME "qfs-logstore"
#define BUF_MAX	 (4u << 20) /* past this the buffer is written out early */

struct vfile {
	sqlite3_file base;
	sqlite3_file *real;
	int is_wal;
	char *name;	    /* the database's name, for pairing (not the WAL) */
	struct vfile *wal;  /* the database's WAL, while both are open */
	struct vfile *db;   /* the WAL's database */
	struct vfile *next; /* open databases */

	/* WAL only: bytes at [off, off + len) not yet written; those before
	 * pub were announced to readers by a barrier (0: none). */
	unsigned char *buf;
	size_t len, cap;
	sqlite3_int64 off, pub;
};

static pthread_mutex_t dbs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vfile *dbs;

static sqlite3_vfs shim;

static sqlite3_vfs *real_vfs(void)
{
	sqlite3_vfs *v = sqlite3_vfs_find(NULL);

	return v == &shim ? sqlite3_vfs_find("unix") : v;
}

/* SQLite's unix VFS takes at most 128 KiB - 1 per write (it masks the
 * length to 17 bits: a longer write is cut, one of exactly 128 KiB writes
 * nothing and reports a full disk). */
#define WRITE_MAX 126976 /* 31 pages of 4 KiB */

/*
 * Writes the buffer out. On failure the bytes not written are dropped, as
 * if SQLite's own write had failed, which the caller reports to it: they
 * must not reach the file later, behind SQLite's back (a failed commit's
 * frames written after all, or a buffer too big for a full disk retried
 * for ever). Except the bytes a barrier announced (before pub): SQLite
 * believes them written, so they stay, and every later flush retries them.
 */
static int flush(struct vfile *f)
{
	size_t done = 0, keep;
	int rc = SQLITE_OK;

	while (done < f->len) {
		size_t n = f->len - done < WRITE_MAX ? f->len - done : WRITE_MAX;

		rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
					       f->off + (sqlite3_int64)done);
		if (rc != SQLITE_OK)
			break;
		done += n;
	}
	f->off += (sqlite3_int64)done;
	f->len -= done;
	keep = f->pub > f->off ? (size_t)(f->pub - f->off) : 0;
	if (keep > f->len)
		keep = f->len;
	if (keep && done)
		memmove(f->buf, f->buf + done, keep);
	f->len = keep;
	if (!keep)
		f->pub = 0;
	return rc;
}

static int v_close(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	int rc = f->is_wal ? flush(f) : SQLITE_OK;
	int rc2 = f->real->pMethods->xClose(f->real);

	pthread_mutex_lock(&dbs_mu);
	if (f->is_wal && f->db)
		f->db->wal = NULL;
	if (!f->is_wal) {
		for (struct vfile **p = &dbs; *p; p = &(*p)->next)
			if (*p == f) {
				*p = f->next;
				break;
			}
		if (f->wal)
			f->wal->db = NULL;
	}
	pthread_mutex_unlock(&dbs_mu);
	free(f->buf);
	free(f->name);
	sqlite3_free(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int overlaps(const struct vfile *f, sqlite3_int64 off, int n)
{
	return f->len && off < f->off + (sqlite3_int64)f->len && off + n > f->off;
}

static int v_read(sqlite3_file *file, void *p, int n, sqlite3_int64 off)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	if (overlaps(f, off, n) && (rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xRead(f->real, p, n, off);
}

/* Appends to the buffer when the write continues it (or starts it), copies
 * over buffered bytes when it lies inside; anything else goes through. */
static int v_write(sqlite3_file *file, const void *p, int n, sqlite3_int64 off)
{
	struct vfile *f = (struct vfile *)file;
	size_t need;
	int rc;

	if (!f->is_wal || n <= 0)
		return f->real->pMethods->xWrite(f->real, p, n, off);
	if (f->len && off >= f->off && off + n <= f->off + (sqlite3_int64)f->len) {
		memcpy(f->buf + (off - f->off), p, (size_t)n);
		return SQLITE_OK;
	}
	if (f->len && off != f->off + (sqlite3_int64)f->len) {
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
	}
	if (f->len == 0)
		f->off = off;
	need = f->len + (size_t)n;
	if (need > BUF_MAX) {
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
		return f->real->pMethods->xWrite(f->real, p, n, off);
	}
	if (need > f->cap) {
		size_t cap = f->cap ? f->cap : 65536;
		unsigned char *b;

		while (cap < need)
			cap *= 2;
		if (!(b = realloc(f->buf, cap))) {
			/* No memory for the buffer: write what is there
			 * and this directly, as without the shim. */
			if ((rc = flush(f)) != SQLITE_OK)
				return rc;
			return f->real->pMethods->xWrite(f->real, p, n, off);
		}
		f->buf = b;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, (size_t)n);
	f->len = need;
	return SQLITE_OK;
}

static int v_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	if (f->is_wal && (rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xTruncate(f->real, size);
}

static int v_sync(sqlite3_file *file, int flags)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	if (f->is_wal && (rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xSync(f->real, flags);
}

static int v_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	if (f->is_wal && (rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFileSize(f->real, size);
}

static int v_lock(sqlite3_file *file, int lock)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xLock(f->real, lock);
}

static int v_unlock(sqlite3_file *file, int lock)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xUnlock(f->real, lock);
}

static int v_check_reserved(sqlite3_file *file, int *out)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int v_file_control(sqlite3_file *file, int op, void *arg)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	/* A control may look at or change the file (size hints, persist_wal,
	 * the VFS name): let it see the file as SQLite believes it is. */
	if (f->is_wal && (rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int v_sector_size(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xSectorSize(f->real);
}

static int v_device_chars(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int v_shm_map(sqlite3_file *file, int pg, int pgsz, int extend,
		     void volatile **pp)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}

static int v_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

/* The point where SQLite publishes a wal-index header: the frames it names
 * must be in the file first. xShmBarrier returns nothing, so frames that
 * fail to write stay buffered: the next write, sync, read or close of the
 * WAL retries them and reports the error (a read of them retries first,
 * so this connection never reads them missing; another connection could
 * until the retry succeeds, the one window this shim adds, on a failing
 * disk, for a commit SQLite did not sync). */
static void v_shm_barrier(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;

	if (f->wal && f->wal->len) {
		f->wal->pub = f->wal->off + (sqlite3_int64)f->wal->len;
		(void)flush(f->wal);
	}
	f->real->pMethods->xShmBarrier(f->real);
}

static int v_shm_unmap(sqlite3_file *file, int del)
{
	struct vfile *f = (struct vfile *)file;

	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int v_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **pp)
{
	struct vfile *f = (struct vfile *)file;
	int rc;

	*pp = NULL;
	if (f->real->pMethods->iVersion < 3)
		return SQLITE_OK; /* no mapping: SQLite reads instead */
	if (f->is_wal && (rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFetch(f->real, off, n, pp);
}

static int v_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct vfile *f = (struct vfile *)file;

	if (f->real->pMethods->iVersion < 3)
		return SQLITE_OK;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods methods = {
    .iVersion = 3,
    .xClose = v_close,
    .xRead = v_read,
    .xWrite = v_write,
    .xTruncate = v_truncate,
    .xSync = v_sync,
    .xFileSize = v_file_size,
    .xLock = v_lock,
    .xUnlock = v_unlock,
    .xCheckReservedLock = v_check_reserved,
    .xFileControl = v_file_control,
    .xSectorSize = v_sector_size,
    .xDeviceCharacteristics = v_device_chars,
    .xShmMap = v_shm_map,
    .xShmLock = v_shm_lock,
    .xShmBarrier = v_shm_barrier,
    .xShmUnmap = v_shm_unmap,
    .xFetch = v_fetch,
    .xUnfetch = v_unfetch,
};

/* Pairs a WAL with its open database: SQLite names it "<db>-wal". */
static void pair(struct vfile *f, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	pthread_mutex_lock(&dbs_mu);
	if (f->is_wal) {
		for (struct vfile *d = dbs; d && n > 4; d = d->next)
			if (!d->wal && strlen(d->name) == n - 4 &&
			    memcmp(d->name, name, n - 4) == 0) {
				d->wal = f;
				f->db = d;
				break;
			}
	} else if (f->name) {
		f->next = dbs;
		dbs = f;
	}
	pthread_mutex_unlock(&dbs_mu);
}

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		  int *out_flags)
{
	sqlite3_vfs *real = real_vfs();
	struct vfile *f = (struct vfile *)file;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	if (!(f->real = sqlite3_malloc(real->szOsFile)))
		return SQLITE_NOMEM;
	memset(f->real, 0, (size_t)real->szOsFile);
	rc = real->xOpen(real, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK || !f->real->pMethods ||
	    f->real->pMethods->iVersion < 2) {
		if (rc == SQLITE_OK) { /* no shared memory: WAL cannot work */
			if (f->real->pMethods)
				f->real->pMethods->xClose(f->real);
			rc = SQLITE_CANTOPEN;
		}
		sqlite3_free(f->real);
		f->real = NULL;
		return rc;
	}
	f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	if ((flags & SQLITE_OPEN_MAIN_DB) && name && !(f->name = strdup(name))) {
		f->real->pMethods->xClose(f->real);
		sqlite3_free(f->real);
		f->real = NULL;
		return SQLITE_NOMEM;
	}
	pair(f, name);
	f->base.pMethods = &methods;
	return SQLITE_OK;
}

/* The VFS-level methods touch no open file: the default VFS does them. */
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xDelete(r, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xAccess(r, name, flags, out);
}

static int v_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xFullPathname(r, name, n, out);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xRandomness(r, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xSleep(r, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *t)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xCurrentTime(r, t);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xGetLastError ? r->xGetLastError(r, n, out) : 0;
}

static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xCurrentTimeInt64(r, t);
}

static void *v_dl_open(sqlite3_vfs *vfs, const char *name)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xDlOpen(r, name);
}

static void v_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	r->xDlError(r, n, out);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	return r->xDlSym(r, h, sym);
}

static void v_dl_close(sqlite3_vfs *vfs, void *h)
{
	sqlite3_vfs *r = real_vfs();

	(void)vfs;
	r->xDlClose(r, h);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int registered = SQLITE_ERROR;

static void do_register(void)
{
	sqlite3_vfs *r = sqlite3_vfs_find("unix");

	if (!r)
		return;
	shim.iVersion = 2;
	shim.szOsFile = (int)sizeof(struct vfile);
	shim.mxPathname = r->mxPathname;
	shim.zName = VFS_NAME;
	shim.xOpen = v_open;
	shim.xDelete = v_delete;
	shim.xAccess = v_access;
	shim.xFullPathname = v_full_path;
	shim.xDlOpen = v_dl_open;
	shim.xDlError = v_dl_error;
	shim.xDlSym = v_dl_sym;
	shim.xDlClose = v_dl_close;
	shim.xRandomness = v_randomness;
	shim.xSleep = v_sleep;
	shim.xCurrentTime = v_current_time;
	shim.xGetLastError = v_last_error;
	shim.xCurrentTimeInt64 = v_current_time64;
	registered = sqlite3_vfs_register(&shim, 0);
}

const char *logstore_vfs(void)
{
	pthread_once(&once, do_register);
	return registered == SQLITE_OK ? VFS_NAME : NULL;
}
