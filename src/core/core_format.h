/*
 * core_format.h - the on-disk formats the core writes that tools outside
 * it (quorumadm, src/adm) also read: the data directory's format number
 * and the header of every consensus log entry's payload. Declared once
 * here so that the two cannot part ways.
 *
 * dataDir/VERSION holds "quorumfs-data N\n" with N = CORE_DATA_FORMAT
 * (core_recover.c checks it; src/adm/adm.h describes the directory).
 *
 * A log entry of type CONS_ENTRY_NORMAL (consensus/cons.h) carries a
 * payload that starts with CORE_ENTRY_HDR bytes, big-endian:
 *
 *   u8  kind    enum core_entry_kind
 *   u32 origin  the member the request came from
 *   u64 reqid   that member's request id (its reply is matched by it)
 *
 * followed by, for CE_TXN, one txn_encode() record (src/tree/txn.h).
 * Entries of type CONS_ENTRY_EPOCH carry nothing and change no state.
 */
#ifndef QFS_CORE_FORMAT_H
#define QFS_CORE_FORMAT_H

#include <stdint.h>

#include "cons.h"

#define CORE_DATA_FORMAT 2

enum core_entry_kind {
	CE_TXN = 1, /* header, then a txn_encode() record */
	CE_NOP = 2, /* header only: a sync's mark, or a void slot (a write the
		       log lost, see core_store.c) */
	CE_ERR = 3, /* header, i32 err, i32 n, n x (i32 op, i32 err): a request
		       forwarded by another member failed its prepare */
};
#define CORE_ENTRY_HDR 13 /* u8 kind, u32 origin, u64 reqid (big-endian) */

/*
 * Whether a log entry (its engine type, payload and length) carries a tree
 * transaction, at data + CORE_ENTRY_HDR. Only a TXN entry's payload has the
 * header above: a CONFIG entry's is the engine's membership encoding, whose
 * first byte may well read as CE_TXN, so the type is checked first.
 */
static inline int core_entry_is_txn(uint8_t type, const uint8_t *data, uint32_t len)
{
	return type == CONS_ENTRY_TXN && len >= CORE_ENTRY_HDR && data[0] == CE_TXN;
}

#endif
