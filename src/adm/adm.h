/*
 * adm.h - the pieces of quorumadm (offline work on data directories) that
 * its commands share.
 *
 * A quorumfs data directory, as src/core/core_recover.c reads it (format 2):
 *   VERSION                 "quorumfs-data 2"
 *   snapshot.<zxid>.db      the tree (src/core/snapshot.h)
 *   txnlog.db               the consensus log after the newest snapshot
 *   CLUSTER                 written by quorumadm only (see adm_datadir_write):
 *                           the cluster identity the data belongs to
 */
#ifndef QFS_ADM_H
#define QFS_ADM_H

#include <stddef.h>
#include <stdint.h>

#include "core_format.h"
#include "tree.h"
#include "zkdb.h"
#include "zxid.h"

/* The data format core_recover.c writes and reads. */
#define ADM_DATA_FORMAT CORE_DATA_FORMAT

/*
 * Make dir a data directory from which quorumfs starts with exactly t (at
 * zxid): everything is written into a temporary sibling directory, fsync'd,
 * and renamed into place, so dir is either untouched or complete. dir must
 * be absent or empty unless force (then the old one is moved aside to
 * dir.replaced-<time>, named in *aside if aside is not NULL), and no daemon
 * may be running on it (adm_datadir_lock; -EBUSY). A symbolic link is
 * followed: the directory it points to is the one replaced. The log is
 * empty, compacted to zxid, with the epochs of zxid so that new writes get
 * higher zxids. cluster_name (NULL: "quorumfs") and a new random identity go
 * to dir/CLUSTER. Returns 0 or a negative errno with errbuf set.
 */
int adm_datadir_write(const struct tree *t, zxid_t zxid, const char *dir,
		      const char *cluster_name, int force, const char *origin,
		      char *aside, size_t aside_len, char *errbuf, size_t errlen);

/*
 * A running daemon holds an exclusive flock on dir/lock. Takes it (without
 * waiting) into *fd, for the caller to hold while it works on dir and then
 * close; *fd is -1 where no daemon ever ran (no lock file). Returns 0, or
 * -EBUSY with errbuf set while a daemon runs there.
 */
int adm_datadir_lock(const char *dir, int *fd, char *errbuf, size_t errlen);

/* The newest snapshot of a data directory, loaded (t fresh from tree_new),
 * and the log after it replayed: to its end, as a standalone server replays
 * it on start (its log is all committed), or with committed_only up to the
 * commit watermark (an ensemble member's tail past it may never have been
 * committed). *past gets the number of log entries past the watermark
 * (replayed or not). */
int adm_datadir_load(const char *dir, struct tree *t, zxid_t *zxid, int committed_only,
		     uint64_t *past, char *errbuf, size_t errlen);

/* zkdb -> quorumfs tree (t from tree_new). Returns 0 or -EBADMSG/-ENOMEM. */
int adm_zkdb_to_tree(const struct zkdb *db, struct tree *t, char *errbuf, size_t errlen);

/* What import-zk found and did (for the summary line). */
struct zk_import_stats {
	char snapshot[4400];
	zxid_t snap_zxid;
	unsigned logs;
	uint64_t records, applied;
	int torn;
	char torn_file[4400];
	size_t torn_offset;
	unsigned skipped_snapshots;
	char log_dir[4096]; /* where the logs were looked for */
};

/*
 * Read a ZooKeeper data directory (zk_dir, or zk_dir/version-2; logs in
 * log_dir if given, else the same place) into db: the newest snapshot that
 * decodes (older ones are tried after printing why the newer failed), then
 * every log record after it. Returns 0 or a negative errno with errbuf
 * naming the file and the problem.
 */
int zk_import_dir(const char *zk_dir, const char *log_dir, struct zkdb *db,
		  struct zk_import_stats *st, char *errbuf, size_t errlen);

/* Map a whole file read-only. Returns 0 (munmap with adm_unmap) or -errno. */
int adm_map(const char *path, const void **p, size_t *n);
void adm_unmap(const void *p, size_t n);

#endif
