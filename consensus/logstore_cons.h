/*
 * logstore_cons.h - the SQLite log store (logstore.h) as the consensus
 * core's struct cons_store (cons.h).
 *
 * Mapping: cons_meta.epoch is stored as both accepted and current epoch,
 * cons_meta.vote as the vote; load's snap_zxid and commit_zxid are the
 * metadata's snapshot_zxid and commit_zxid. append is
 * logstore_append_commit (entries, optional truncation and the commit
 * watermark in one transaction); compact(zxid) is logstore_compact(zxid +
 * 1); reset is logstore_reset (which sets the watermark to its zxid). The core's entries
 * are copied before append returns, as cons.h requires. Completions run on the store's
 * event loop (or inside the call for a synchronous store), each request's cb once, in
 * order.
 */
#ifndef QFS_LOGSTORE_CONS_H
#define QFS_LOGSTORE_CONS_H

#include "cons.h"
#include "logstore.h"

/*
 * Wraps ls. The returned vtable owns ls from then on: its close() closes
 * the store and frees the wrapper. Returns 0 or -ENOMEM.
 */
int logstore_cons_new(struct logstore *ls, struct cons_store **out);

#endif
