/*
 * archive_seg.h - the files of a continuous archive (archiveDir=, see
 * core_archive.c, which writes them, and quorumadm restore --archive,
 * which reads them). Declared once here so writer and reader agree.
 *
 * An archive directory holds two kinds of files, both written under a
 * temporary name (a leading '.', suffix .tmp), fsync'd, renamed into
 * place, the directory fsync'd; never changed afterwards. So it can be
 * copied or rsync'd at any time, and whatever has its final name is
 * complete.
 *
 *   snapshot.<zxid, 16 hex digits>.db   a byte copy of a dataDir snapshot
 *                                       (snapshot.h; self-checksummed)
 *   log.<first>-<last>.qfa              committed log entries first..last
 *                                       (zxids, 16 hex digits each)
 *
 * A log segment, all integers big-endian:
 *
 *   header (48 bytes)
 *     "QFSA"   magic
 *     u32      version (1)
 *     u64      first zxid      u64 last zxid     u64 count of entries
 *     i64      tmin            i64 tmax
 *              the smallest and largest transaction time (ms since the
 *              epoch, fixed by the leader at prepare: txn_time) of the
 *              entries that are transactions; 0 and 0 when none is
 *   count entries, in strictly increasing zxid order
 *     u64 zxid  u32 epoch  u8 type (consensus/cons.h)  u32 len  len bytes
 *              the log row exactly as logstore.h stores it; the payload
 *              starts with core_format.h's header
 *   trailer
 *     u32      CRC-32C of every byte before it
 *
 * The entries of one segment follow each other without a gap (see
 * archive_follows); consecutive segments normally too. A gap between
 * segments is where the log was compacted (or replaced by a snapshot from
 * the leader) before the archiver saw it: restores refuse to replay across
 * it.
 */
#ifndef QFS_ARCHIVE_SEG_H
#define QFS_ARCHIVE_SEG_H

#include <stddef.h>
#include <stdint.h>

#include "zxid.h"

#define ARCHIVE_SEG_MAGIC   "QFSA"
#define ARCHIVE_SEG_VERSION 1
#define ARCHIVE_SEG_HDR	    48

struct archive_rec {
	zxid_t zxid;
	uint32_t epoch;
	uint8_t type;
	const uint8_t *data; /* points into the segment's buffer */
	uint32_t len;
};

/* A segment read into memory (archive_seg_load). */
struct archive_seg {
	zxid_t first, last;
	int64_t tmin, tmax;
	uint64_t count;
	struct archive_rec *recs; /* count of them; owned */
	uint8_t *buf;		  /* the file; owned */
	size_t len;
};

/* A segment file's name in an archive listing. */
struct archive_file {
	zxid_t first, last;
	char name[48];
};

/* Does entry z continue the log after prev? Within an epoch the counter
 * goes up by one; a new epoch starts with its EPOCH entry (counter 0) or,
 * where that entry is not in the log, at counter 1. */
int archive_follows(zxid_t prev, zxid_t z);

/*
 * The log segments in dir, sorted by first zxid: *files (malloc'd, caller
 * frees) gets *n. Temporary files are skipped. 0 or a negative errno.
 */
int archive_list(const char *dir, struct archive_file **files, size_t *n);

/*
 * Read and verify dir/name completely (magic, version, lengths, CRC, the
 * name against the header, the count and order of the entries). Returns
 * 0, or -EBADMSG with errbuf naming the file and what is wrong (a truncated
 * or damaged file), or another negative errno. seg is set only on success;
 * free it with archive_seg_free.
 */
int archive_seg_load(const char *dir, const char *name, struct archive_seg *seg,
		     char *errbuf, size_t errlen);
void archive_seg_free(struct archive_seg *seg);

/*
 * Only the header of dir/name (first, last, count, tmin, tmax into seg;
 * recs and buf stay NULL): for finding which segment holds a time without
 * reading them all. Not verified beyond magic, version and name: load the
 * segment before using its entries. 0, -EBADMSG or a negative errno, with
 * errbuf set.
 */
int archive_seg_header(const char *dir, const char *name, struct archive_seg *seg,
		       char *errbuf, size_t errlen);

/*
 * Encode n records as a segment into a malloc'd buffer (*out, *out_len;
 * caller frees). tmin/tmax as in the header. 0 or -ENOMEM / -EINVAL (n 0).
 */
int archive_seg_encode(const struct archive_rec *recs, size_t n, int64_t tmin,
		       int64_t tmax, uint8_t **out, size_t *out_len);

/* The file name of a segment from first to last (at least 48 bytes). */
void archive_seg_name(char *buf, size_t len, zxid_t first, zxid_t last);

/*
 * Write len bytes to dir/name durably: a temporary file, fsync, rename,
 * fsync of dir. 0 or a negative errno with errbuf set.
 */
int archive_write_file(const char *dir, const char *name, const void *p, size_t len,
		       char *errbuf, size_t errlen);

/*
 * Copy the file src to dir/name durably, as archive_write_file, in chunks
 * (a snapshot may be large). 0 or a negative errno with errbuf set.
 */
int archive_copy_file(const char *src, const char *dir, const char *name, char *errbuf,
		      size_t errlen);

#endif
