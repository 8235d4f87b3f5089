/* zklog.c - reading a ZooKeeper transaction log into a zkdb (zkfile.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "zkfile.h"

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

int zk_log_replay(struct zkdb *db, const void *p, size_t n, struct zk_log_result *res,
		  char *errbuf, size_t errlen)
{
	const uint8_t *b = p;
	struct zk_txnhdr h;
	struct rd r;
	char why[256];
	size_t off = 16, at;
	uint64_t crc;
	int32_t len;
	uint8_t eor;
	int rc;

	memset(res, 0, sizeof(res[0]));
	rd_init(&r, p, n);
	if (n < 16 || rd_u32(&r) != ZK_LOG_MAGIC) {
		snprintf(errbuf, errlen,
			 "not a ZooKeeper transaction log (no ZKLG header)");
		return -EBADMSG;
	}
	if (rd_u32(&r) != 2) {
		snprintf(errbuf, errlen, "log format version is not 2");
		return -EBADMSG;
	}
	for (;;) {
		at = off;
		if (n - off < 12)
			break; /* end of file (or a few bytes of a torn record) */
		rd_init(&r, b + off, n - off);
		crc = rd_u64(&r);
		len = (int32_t)rd_u32(&r);
		if (len == 0)
			break; /* the preallocated zeros: end of the log */
		if (len < 0 || (size_t)len + 1 > r.left) {
			res->torn = 1;
			res->torn_offset = at;
			return 0;
		}
		/* ZooKeeper checks the end mark first: without it the record is
		 * partial (Util.readTxnBytes) and the log ends there. */
		eor = b[off + 12 + (size_t)len];
		if (eor != 'B') {
			res->torn = 1;
			res->torn_offset = at;
			return 0;
		}
		if (zk_adler32(1, b + off + 12, (size_t)len) != (uint32_t)crc ||
		    crc >> 32) {
			if (all_zero(b + off + 13 + len, n - off - 13 - (size_t)len)) {
				/* The last record, its bytes not all written. */
				res->torn = 1;
				res->torn_offset = at;
				return 0;
			}
			snprintf(errbuf, errlen,
				 "checksum mismatch in the record at byte %zu (records "
				 "follow it: the log is damaged, not torn)",
				 at);
			return -EBADMSG;
		}
		rd_init(&r, b + off + 12, (size_t)len);
		h.client_id = (int64_t)rd_u64(&r);
		h.cxid = (int32_t)rd_u32(&r);
		h.zxid = (int64_t)rd_u64(&r);
		h.time = (int64_t)rd_u64(&r);
		h.type = (int32_t)rd_u32(&r);
		if (!rd_ok(&r)) {
			snprintf(errbuf, errlen,
				 "byte %zu: record too short for its header", at);
			return -EBADMSG;
		}
		if (res->records && (zxid_t)h.zxid <= res->last) {
			snprintf(errbuf, errlen,
				 "byte %zu: zxid 0x%llx does not follow 0x%llx", at,
				 (unsigned long long)h.zxid,
				 (unsigned long long)res->last);
			return -EBADMSG;
		}
		if (!res->records)
			res->first = (zxid_t)h.zxid;
		res->last = (zxid_t)h.zxid;
		res->records++;
		if ((zxid_t)h.zxid > db->zxid) {
			/* Consecutive, or the first of a newer epoch: anything else
			 * means transactions are missing (a log file lost). */
			if (db->zxid && (zxid_t)h.zxid != db->zxid + 1 &&
			    zxid_epoch((zxid_t)h.zxid) <= zxid_epoch(db->zxid)) {
				snprintf(errbuf, errlen,
					 "byte %zu: zxid 0x%llx follows 0x%llx: the "
					 "transactions between are missing",
					 at, (unsigned long long)h.zxid,
					 (unsigned long long)db->zxid);
				return -ENODATA;
			}
			rc = zkdb_apply(db, &h, r.p, r.left, why, sizeof(why));
			if (rc) {
				if (rc == -EBADMSG)
					snprintf(errbuf, errlen,
						 "byte %zu (zxid 0x%llx): %s", at,
						 (unsigned long long)h.zxid, why);
				return rc;
			}
			res->applied++;
		}
		off += 12 + (size_t)len + 1;
	}
	return 0;
}
