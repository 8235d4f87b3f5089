/*
 * test_storage_fault.c - disk errors other than a full disk, injected with a
 * SQLite VFS that wraps the default one and fails writes or fsyncs of the
 * log on demand. After a failed fsync the log must refuse every later
 * write (the page cache can no longer be trusted), the tree must hold only
 * what was committed before, and a restart must find exactly that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "tap.h"
#include "test_core_util.h"
#include "zerr.h"

static int fail_sync; /* read by the log writer thread: use atomics */
static int fail_write;

struct ffile {
	sqlite3_file base;
	int is_log;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static sqlite3_io_methods fault_io;

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	if (((struct ffile *)f)->is_log && __atomic_load_n(&fail_write, __ATOMIC_SEQ_CST))
		return SQLITE_IOERR_WRITE;
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
	if (((struct ffile *)f)->is_log && __atomic_load_n(&fail_sync, __ATOMIC_SEQ_CST))
		return SQLITE_IOERR_FSYNC;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_dev(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
		  int *out_flags)
{
	struct ffile *ff = (struct ffile *)f;
	int rc;

	ff->real = (sqlite3_file *)(ff + 1);
	ff->is_log = name && strstr(name, "/log.db") != NULL;
	rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
	/* Only a real file gets our methods; a failed open has none. */
	f->pMethods = ff->real->pMethods ? &fault_io : NULL;
	return rc;
}

static void fault_install(void)
{
	if (real_vfs)
		return;
	real_vfs = sqlite3_vfs_find(NULL);
	fault_vfs = *real_vfs;
	fault_vfs.zName = "qcore-fault";
	fault_vfs.szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile;
	fault_vfs.xOpen = f_open;
	fault_io = (sqlite3_io_methods){
	    3,	       f_close,	  f_read,     f_write,	     f_truncate,  f_sync,
	    f_size,    f_lock,	  f_unlock,   f_reserved,    f_control,	  f_sector,
	    f_dev,     f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,
	    f_unfetch,
	};
	sqlite3_vfs_register(&fault_vfs, 1);
}

static void fault_case(int *flag, const char *what)
{
	struct tc t;
	char path[32];
	int done = 0, errs = 0, i;
	zxid_t good;

	fault_install();
	tc_init(&t);
	TAP_EQ(tc_open(&t), 0);
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/ok%d", i);
		TAP_EQ(tc_create(&t, path, "v", ZCM_PERSISTENT), ZOK);
	}
	good = tree_last_zxid(qcore_tree(t.c));
	__atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/bad%d", i);
		TAP_EQ(tc_create_async(&t, path, "v", 1, &done, &errs), 0);
	}
	TAP_ASSERT(tc_wait_count(&t, &done, 10, 10000));
	TAP_EQ(errs, 10);
	TAP_EQ(qcore_last_io_errno(t.c), EIO);
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), good);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/bad0") == NULL);
	/* The disk "works" again, but the log stays shut until restart. */
	__atomic_store_n(flag, 0, __ATOMIC_SEQ_CST);
	TAP_EQ(tc_create(&t, "/later", "v", ZCM_PERSISTENT), ZSYSTEMERROR);
	printf("# %s: 10 writes failed with EIO, later ones refused\n", what);
	tc_close(&t);
	TAP_EQ(tc_open(&t), 0);
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), good);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/ok9") != NULL);
	TAP_ASSERT(tree_lookup(qcore_tree(t.c), "/bad0") == NULL);
	TAP_EQ(tc_create(&t, "/later", "v", ZCM_PERSISTENT), ZOK);
	TAP_EQ(tree_last_zxid(qcore_tree(t.c)), good + 1);
	tc_done(&t);
}

static void test_fsync_eio(void)
{
	fault_case(&fail_sync, "fsync");
}

static void test_write_eio(void)
{
	fault_case(&fail_write, "write");
}

static const struct tap_case cases[] = {
    {"fsync_eio", test_fsync_eio},
    {"write_eio", test_write_eio},
};

TAP_MAIN(cases)
