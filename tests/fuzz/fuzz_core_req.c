/*
 * fuzz_core_req.c - libFuzzer target for the decoder of requests members
 * forward to the leader (core_req_decode): a peer's bytes, authenticated
 * but not trusted to be well formed.
 *
 * Properties: decoding never crashes or leaks; a request it accepts
 * encodes again, the encoding decodes, and encoding that gives the same
 * bytes (the encoding of a decoded request is a fixed point), with the
 * epoch stamp (core_req_set_epoch) read back as written. Seeds:
 * tests/fuzz/corpus/core_req/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "core_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int encode(const struct core_req *q, struct buf *b)
{
	if (q->kind == CR_WRITE) {
		if (core_req_encode(b, q->origin, q->reqid, q->session, q->cxid, &q->req,
				    q->has_auth ? &q->auth : NULL))
			return -1;
		core_req_set_epoch(b, q->epoch);
		return 0;
	}
	if (q->kind == CR_RECONFIG)
		return core_req_encode_reconfig(b, q->origin, q->reqid,
						q->has_auth ? &q->auth : NULL, q->joining,
						q->leaving, q->members, q->from_version);
	return 1; /* SYNC and TOUCH: the body is the caller's */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct core_req q, q2;
	struct buf b1, b2;
	int rc;

	if (core_req_decode(data, size, &q))
		return 0;
	buf_init(&b1);
	buf_init(&b2);
	rc = encode(&q, &b1);
	if (rc < 0)
		abort(); /* out of memory on inputs this small: a bug */
	if (rc == 0) {
		if (core_req_decode(b1.data, b1.len, &q2))
			abort();
		if (q2.kind != q.kind || q2.origin != q.origin || q2.reqid != q.reqid ||
		    q2.epoch != q.epoch || q2.session != q.session || q2.cxid != q.cxid)
			abort();
		if (encode(&q2, &b2) || b2.len != b1.len || memcmp(b1.data, b2.data, b1.len))
			abort();
		core_req_free(&q2);
	}
	buf_free(&b1);
	buf_free(&b2);
	core_req_free(&q);
	return 0;
}
