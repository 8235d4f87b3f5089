/*
 * fuzz_cons_codec.c - libFuzzer target for the peer message codec: any
 * bytes must decode or be refused without a crash, and whatever decodes
 * must encode back to the same frame. Seeded from tests/fuzz/corpus/cons_codec/:
 * one real frame of every message type of codec version 2 (votes and
 * pre-votes, appends and answers with read rounds, snapshot chunks and
 * their acks, forwards, read index requests and answers).
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cons_msg m;
	struct buf b;
	size_t flen;

	if (cons_frame_len(data, size, &flen) == 0 && flen <= size)
		size = flen;
	if (cons_decode(data, size, &m))
		return 0;
	buf_init(&b);
	if (cons_encode(&b, &m) == 0 &&
	    (b.len != size || memcmp(b.data, data, size) != 0))
		abort();
	buf_free(&b);
	cons_msg_release(&m);
	return 0;
}
