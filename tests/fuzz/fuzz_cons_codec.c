/*
 * fuzz_cons_codec.c - libFuzzer target for the peer message codec: any
 * bytes must decode or be refused without a crash, and whatever decodes
 * must encode back to the same frame. Seeded from tests/fuzz/corpus/cons_codec/:
 * one real frame of every message type of codec version 2 (votes and
 * pre-votes, appends and answers with read rounds, snapshot chunks and
 * their acks, forwards, read index requests and answers), plus an append
 * holding CONFIG entries (joint and not) and a snapshot chunk carrying a
 * configuration, TIMEOUT_NOW and a vote request with the transfer flag.
 * Configuration payloads (cons_membership_decode) are
 * fuzzed too: what decodes must encode back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void membership(const uint8_t *p, size_t n)
{
	struct cons_membership m;
	uint8_t enc[CONS_MEMBERSHIP_MAX];

	if (cons_membership_decode(p, n, &m))
		return;
	if (cons_membership_encode(&m, enc) != n || memcmp(enc, p, n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t i;
	struct cons_msg m;
	struct buf b;
	size_t flen;

	if (cons_frame_len(data, size, &flen) == 0 && flen <= size)
		size = flen;
	/* The raw bytes as a membership as well. */
	membership(data, size);
	if (cons_decode(data, size, &m))
		return 0;
	if (m.type == CONS_MSG_APPEND)
		for (i = 0; i < m.append.n; i++)
			if (m.append.entries[i].type == CONS_ENTRY_CONFIG)
				membership(m.append.entries[i].data,
					   m.append.entries[i].len);
	if (m.type == CONS_MSG_SNAP && m.snap.conf_len)
		membership(m.snap.conf, m.snap.conf_len);
	buf_init(&b);
	if (cons_encode(&b, &m) == 0 &&
	    (b.len != size || memcmp(b.data, data, size) != 0))
		abort();
	buf_free(&b);
	cons_msg_release(&m);
	return 0;
}
