/*
 * fuzz_transport.c - libFuzzer target for the peer transport's decoders
 * (peer_wire.h): the input is read as a byte stream of frames, the way a
 * connection reads it, walking the handshake states; each frame header is
 * checked, then its body goes to the decoder its type selects (HELLO,
 * CHALLENGE, AUTH, or MSG with its MAC). The first input byte picks the
 * state to start in, so every decoder is reached without a valid MAC.
 * A well-formed frame must re-encode to the same bytes.
 *
 *   ./configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_transport
 *   ./tests/fuzz/fuzz_transport -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "peer_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hmac_key *key;

static void check_roundtrip_hello(const uint8_t *frame, size_t n,
				  const struct peer_hello *h)
{
	struct buf b;

	buf_init(&b);
	peer_hello_encode(&b, h);
	if (buf_failed(&b) || b.len != n || memcmp(b.data, frame, n) != 0)
		abort();
	buf_free(&b);
}

static void check_roundtrip_challenge(const uint8_t *frame, size_t n,
				      const struct peer_challenge *c)
{
	struct buf b;

	buf_init(&b);
	peer_challenge_encode(&b, c);
	if (buf_failed(&b) || b.len != n || memcmp(b.data, frame, n) != 0)
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t tr[PEER_TRANSCRIPT_MAX], mac[PEER_MAC];
	struct peer_hello hello;
	struct peer_challenge ch;
	uint64_t seq = 0;
	int state;

	if (!key && !(key = hmac_key_new("fuzz-key-0123456789", 19)))
		abort();
	if (size < 1)
		return 0;
	state = data[0] % 4 + 1; /* the frame type expected first */
	data++;
	size--;
	while (size >= PEER_HDR) {
		struct peer_hdr h;
		const char *why;
		const uint8_t *body, *msg;
		size_t len;
		size_t max = state == PEER_MSG ? 1 << 16 : PEER_HANDSHAKE_MAX;

		if (peer_hdr_parse(data, max, &h, &why) < 0)
			return 0;
		if (h.total > size)
			return 0;
		body = data + PEER_HDR;
		if (h.type != state)
			return 0;
		switch (h.type) {
		case PEER_HELLO:
			if (peer_hello_decode(body, h.body_len, &hello) < 0)
				return 0;
			check_roundtrip_hello(data, h.total, &hello);
			memset(tr, 0, sizeof(tr));
			if (peer_transcript(&hello, 1, hello.nonce, tr) > sizeof(tr))
				abort();
			state = PEER_CHALLENGE;
			break;
		case PEER_CHALLENGE:
			if (peer_challenge_decode(body, h.body_len, &ch) < 0)
				return 0;
			check_roundtrip_challenge(data, h.total, &ch);
			state = PEER_AUTH;
			break;
		case PEER_AUTH:
			if (peer_auth_decode(body, h.body_len, mac) < 0)
				return 0;
			state = PEER_MSG;
			break;
		case PEER_MSG:
			/* Almost never a valid MAC; the length arithmetic is
			 * what is exercised. */
			if (peer_msg_open(key, seq, &h, body, &msg, &len) == 0) {
				if (msg != body || len + PEER_MAC != h.body_len)
					abort();
				seq++;
			}
			break;
		}
		data += h.total;
		size -= h.total;
	}
	return 0;
}
