/*
 * fuzz_jute.c - libFuzzer target for the ZooKeeper wire decoders.
 *
 * Input: one selector byte, then the bytes to decode.
 *   selector < JUTE_REC_COUNT: decode that record alone;
 *   otherwise, by selector % 4: a whole request (header + body, as the server
 *   decodes each frame), a ConnectRequest (a server's first frame), a multi
 *   response body, or a reply (header + the body for an opcode taken from the
 *   next byte, as the client library decodes).
 * Whatever decodes must re-encode, and the re-encoding must decode to the
 * same bytes again (the codec is its own oracle); everything else must fail
 * cleanly. A small max (4 KiB) makes the limit paths reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jute.h"
#include "zerr.h"

#define FUZZ_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_stable(int rec, const union jute_any *v)
{
	struct buf b1, b2;
	union jute_any d;
	struct rd r;

	buf_init(&b1);
	buf_init(&b2);
	if (jute_put_any(&b1, rec, v) != 0)
		abort();
	rd_init(&r, b1.data, b1.len);
	if (jute_get_any(&r, rec, &d, FUZZ_MAX) != ZOK || r.left != 0)
		abort();
	if (jute_put_any(&b2, rec, &d) != 0 || b1.len != b2.len ||
	    memcmp(b1.data, b2.data, b1.len) != 0)
		abort();
	jute_free_any(rec, &d);
	buf_free(&b1);
	buf_free(&b2);
}

static void fuzz_request(const uint8_t *p, size_t n)
{
	struct jute_request q, d;
	struct buf b;

	if (jute_request_decode(p, n, FUZZ_MAX, &q) != ZOK) {
		jute_request_free(&q);
		return;
	}
	buf_init(&b);
	if (jute_request_encode(&b, &q) != 0)
		abort();
	/* Bools decode leniently (any non-zero), so compare re-encodings. */
	if (jute_request_decode(b.data, b.len, FUZZ_MAX, &d) != ZOK)
		abort();
	jute_request_free(&d);
	jute_request_free(&q);
	buf_free(&b);
}

/* Opcodes whose replies carry a body or not, to pick a reply decoder. */
static const int32_t reply_ops[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 18,
				    19, 20, 21, 22, 100, 101, 102, 103, 104, 105, 106, 107};

static void fuzz_reply(const uint8_t *p, size_t n)
{
	struct jute_reply_header h;
	union jute_any body;
	struct jute_multi m;
	struct rd r;
	int rec;

	if (n < 1)
		return;
	rd_init(&r, p + 1, n - 1);
	if (jute_get_reply_header(&r, &h, FUZZ_MAX) != ZOK)
		return;
	if (h.xid == JUTE_XID_WATCH) {
		if (jute_get_watcher_event(&r, &body.watcher_event, FUZZ_MAX) == ZOK)
			jute_free_watcher_event(&body.watcher_event);
		return;
	}
	if (p[0] % 2) {
		if (jute_get_multi(&r, &m, 1, FUZZ_MAX) == ZOK)
			jute_free_multi(&m);
		return;
	}
	rec = jute_response_rec(reply_ops[(p[0] / 2) % (sizeof(reply_ops) / sizeof(reply_ops[0]))]);
	if (rec >= 0 && jute_get_any(&r, rec, &body, FUZZ_MAX) == ZOK) {
		check_stable(rec, &body);
		jute_free_any(rec, &body);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union jute_any v;
	struct jute_multi m;
	struct rd r;
	int sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	if (sel < JUTE_REC_COUNT) {
		rd_init(&r, data, size);
		if (jute_get_any(&r, sel, &v, FUZZ_MAX) == ZOK) {
			check_stable(sel, &v);
			jute_free_any(sel, &v);
		}
		return 0;
	}
	switch (sel % 4) {
	case 0:
		fuzz_request(data, size);
		break;
	case 1:
		rd_init(&r, data, size);
		if (jute_get_connect_request(&r, &v.connect_request, FUZZ_MAX) == ZOK) {
			check_stable(JUTE_REC_connect_request, &v);
			jute_free_connect_request(&v.connect_request);
		}
		break;
	case 2:
		rd_init(&r, data, size);
		if (jute_get_multi(&r, &m, 1, FUZZ_MAX) == ZOK)
			jute_free_multi(&m);
		break;
	case 3:
		fuzz_reply(data, size);
		break;
	}
	return 0;
}
