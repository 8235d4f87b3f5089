/* test_codec.c - the peer message codec: round trips, bounds, hostile frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "tap.h"

static void roundtrip(const struct cons_msg *in, struct cons_msg *out, struct buf *b)
{
	size_t flen;

	buf_init(b);
	TAP_EQ(cons_encode(b, in), 0);
	TAP_EQ(cons_frame_len(b->data, b->len, &flen), 0);
	TAP_EQ(flen, b->len);
	TAP_EQ(cons_decode(b->data, b->len, out), 0);
	TAP_EQ(out->type, in->type);
	TAP_EQ(out->from, in->from);
	TAP_EQ(out->epoch, in->epoch);
}

static void test_vote(void)
{
	struct cons_msg m = {.type = CONS_MSG_VOTE_REQ, .from = 3, .epoch = 7}, o;
	struct buf b;

	m.vote_req.last_zxid = zxid_make(6, 99);
	roundtrip(&m, &o, &b);
	TAP_EQ(o.vote_req.last_zxid, zxid_make(6, 99));
	cons_msg_release(&o);
	buf_free(&b);
	m.type = CONS_MSG_VOTE_RESP;
	m.vote_resp.granted = 1;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.vote_resp.granted, 1);
	cons_msg_release(&o);
	buf_free(&b);
	/* Pre-vote messages share the vote bodies. */
	m.type = CONS_MSG_PREVOTE_REQ;
	m.vote_req.last_zxid = zxid_make(7, 3);
	roundtrip(&m, &o, &b);
	TAP_EQ(o.vote_req.last_zxid, zxid_make(7, 3));
	cons_msg_release(&o);
	buf_free(&b);
	m.type = CONS_MSG_PREVOTE_RESP;
	m.vote_resp.granted = 1;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.vote_resp.granted, 1);
	cons_msg_release(&o);
	buf_free(&b);
}

static void test_append(void)
{
	struct cons_entry e[3] = {
	    {zxid_make(2, 0), CONS_ENTRY_EPOCH, 0, NULL},
	    {zxid_make(2, 1), CONS_ENTRY_TXN, 5, (const uint8_t *)"hello"},
	    {zxid_make(2, 2), CONS_ENTRY_TXN, 1, (const uint8_t *)"x"},
	};
	struct cons_msg m = {.type = CONS_MSG_APPEND, .from = 1, .epoch = 2}, o;
	struct buf b;

	m.append.prev_zxid = zxid_make(1, 40);
	m.append.commit_zxid = zxid_make(1, 39);
	m.append.read_seq = 0x123456789aull;
	m.append.stable_zxid = zxid_make(1, 41);
	m.append.notice = 1;
	m.append.entries = e;
	m.append.n = 3;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.append.n, 3);
	TAP_EQ(o.append.prev_zxid, zxid_make(1, 40));
	TAP_EQ(o.append.commit_zxid, zxid_make(1, 39));
	TAP_EQ(o.append.read_seq, 0x123456789aull);
	TAP_EQ(o.append.stable_zxid, zxid_make(1, 41));
	TAP_EQ(o.append.notice, 1);
	TAP_EQ(o.append.entries[0].len, 0);
	TAP_EQ(o.append.entries[0].type, CONS_ENTRY_EPOCH);
	TAP_EQ(o.append.entries[1].len, 5);
	TAP_ASSERT(memcmp(o.append.entries[1].data, "hello", 5) == 0);
	TAP_EQ(o.append.entries[2].zxid, zxid_make(2, 2));
	cons_msg_release(&o);
	buf_free(&b);
}

static void test_resp_snap_forward(void)
{
	struct cons_payload p[2] = {{(const uint8_t *)"ab", 2}, {NULL, 0}};
	struct cons_msg m = {.type = CONS_MSG_APPEND_RESP, .from = 2, .epoch = 9}, o;
	struct buf b;

	m.append_resp.ok = 1;
	m.append_resp.match_zxid = 5;
	m.append_resp.last_zxid = 6;
	m.append_resp.read_seq = 41;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.append_resp.read_seq, 41);
	TAP_EQ(o.append_resp.ok, 1);
	TAP_EQ(o.append_resp.match_zxid, 5);
	TAP_EQ(o.append_resp.last_zxid, 6);
	buf_free(&b);
	memset(&m, 0, sizeof(m));
	m.type = CONS_MSG_SNAP;
	m.from = 1;
	m.snap.zxid = 77;
	m.snap.offset = 1ull << 33; /* no size cap: offsets past 4 GiB */
	m.snap.total = (1ull << 33) + 8;
	m.snap.blob = (const uint8_t *)"snapshot";
	m.snap.len = 8;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.snap.offset, 1ull << 33);
	TAP_EQ(o.snap.total, (1ull << 33) + 8);
	TAP_EQ(o.snap.len, 8);
	TAP_ASSERT(memcmp(o.snap.blob, "snapshot", 8) == 0);
	buf_free(&b);
	memset(&m, 0, sizeof(m));
	m.type = CONS_MSG_SNAP_ACK;
	m.from = 2;
	m.snap_ack.zxid = 78;
	m.snap_ack.next = 5ull << 32;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.snap_ack.zxid, 78);
	TAP_EQ(o.snap_ack.next, 5ull << 32);
	buf_free(&b);
	memset(&m, 0, sizeof(m));
	m.type = CONS_MSG_FORWARD;
	m.from = 4;
	m.forward.payloads = p;
	m.forward.n = 2;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.forward.n, 2);
	TAP_EQ(o.forward.payloads[0].len, 2);
	TAP_EQ(o.forward.payloads[1].len, 0);
	cons_msg_release(&o);
	buf_free(&b);
}

static void test_read(void)
{
	struct cons_msg m = {.type = CONS_MSG_READ_REQ, .from = 2, .epoch = 3}, o;
	struct buf b;

	m.read_req.id = 0xfedcba9876543210ull;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.read_req.id, 0xfedcba9876543210ull);
	TAP_EQ(b.len, 4 + 1 + 1 + 4 + 4 + 8);
	cons_msg_release(&o);
	buf_free(&b);
	memset(&m, 0, sizeof(m));
	m.type = CONS_MSG_READ_RESP;
	m.from = 1;
	m.epoch = 3;
	m.read_resp.id = 9;
	m.read_resp.ok = 1;
	m.read_resp.read_zxid = zxid_make(3, 17);
	roundtrip(&m, &o, &b);
	TAP_EQ(o.read_resp.id, 9);
	TAP_EQ(o.read_resp.ok, 1);
	TAP_EQ(o.read_resp.read_zxid, zxid_make(3, 17));
	/* A truncated answer is refused. */
	b.data[3]--;
	TAP_EQ(cons_decode(b.data, b.len - 1, &o), -EBADMSG);
	buf_free(&b);
}

static void test_hostile(void)
{
	struct cons_entry e = {zxid_make(1, 1), CONS_ENTRY_TXN, 3,
			       (const uint8_t *)"abc"};
	struct cons_msg m = {.type = CONS_MSG_APPEND, .from = 1, .epoch = 1}, o;
	struct buf b;
	size_t i, flen;
	uint8_t *copy;

	m.append.entries = &e;
	m.append.n = 1;
	buf_init(&b);
	TAP_EQ(cons_encode(&b, &m), 0);
	/* Every truncation is refused. */
	for (i = 0; i < b.len; i++) {
		copy = malloc(b.len);
		TAP_ASSERT(copy);
		memcpy(copy, b.data, b.len);
		TAP_ASSERT(cons_decode(copy, i, &o) != 0);
		free(copy);
	}
	/* A wrong version. */
	b.data[4] = CONS_CODEC_VERSION - 1;
	TAP_EQ(cons_decode(b.data, b.len, &o), -EBADMSG);
	b.data[4] = CONS_CODEC_VERSION;
	/* A notice flag that is neither 0 nor 1. */
	b.data[4 + 1 + 1 + 4 + 4 + 32] = 2;
	TAP_EQ(cons_decode(b.data, b.len, &o), -EBADMSG);
	b.data[4 + 1 + 1 + 4 + 4 + 32] = 0;
	/* A count far beyond the bytes. */
	b.data[4 + 1 + 1 + 4 + 4 + 33] = 0x7f;
	TAP_EQ(cons_decode(b.data, b.len, &o), -EBADMSG);
	buf_free(&b);
	/* Lengths out of bounds. */
	{
		uint8_t big[4] = {0xff, 0xff, 0xff, 0xff}, tiny[4] = {0, 0, 0, 1};

		TAP_EQ(cons_frame_len(big, 4, &flen), -EBADMSG);
		TAP_EQ(cons_frame_len(tiny, 4, &flen), -EBADMSG);
		TAP_EQ(cons_frame_len(tiny, 3, &flen), -EAGAIN);
	}
	/* Trailing bytes and unknown types. */
	{
		struct cons_msg v = {.type = CONS_MSG_VOTE_RESP, .from = 1};

		buf_init(&b);
		TAP_EQ(cons_encode(&b, &v), 0);
		buf_put_u8(&b, 0);
		b.data[3]++;
		TAP_EQ(cons_decode(b.data, b.len, &o), -EBADMSG);
		b.len--;
		b.data[3]--;
		b.data[5] = 99;
		TAP_EQ(cons_decode(b.data, b.len, &o), -EBADMSG);
		buf_free(&b);
	}
}

/* Memberships (CONFIG entries, snapshots, boot) and the config a snapshot
 * chunk carries. */
static void test_membership(void)
{
	struct cons_membership m = {0}, o;
	struct cons_msg s = {.type = CONS_MSG_SNAP, .from = 1}, so;
	uint8_t enc[CONS_MEMBERSHIP_MAX];
	size_t len;
	struct buf b;
	unsigned i;

	m.version = 0x500000003ull;
	m.quorum = QUORUM_HIERARCHICAL;
	m.n = CONS_MAX_MEMBERS;
	for (i = 0; i < m.n; i++) {
		m.m[i].id = i + 1;
		m.m[i].observer = i % 5 == 4;
		m.m[i].group = i % 3 + 1;
		m.m[i].weight = i % 4;
	}
	len = cons_membership_encode(&m, enc);
	TAP_ASSERT(len <= CONS_MEMBERSHIP_MAX);
	TAP_EQ(cons_membership_decode(enc, len, &o), 0);
	TAP_EQ(o.version, m.version);
	TAP_EQ(o.n, m.n);
	TAP_ASSERT(memcmp(o.m, m.m, sizeof(m.m)) == 0);
	TAP_EQ(o.joint, 0);
	/* Joint: the old half too; the union may not exceed the maximum. */
	m.joint = 1;
	m.old_quorum = QUORUM_MAJORITY;
	m.n_old = 2;
	m.old[0].id = 1;
	m.old[1].id = 2;
	len = cons_membership_encode(&m, enc);
	TAP_ASSERT(len <= CONS_MEMBERSHIP_MAX);
	TAP_EQ(cons_membership_decode(enc, len, &o), 0);
	TAP_EQ(o.n_old, 2);
	TAP_EQ(o.old[1].id, 2);
	m.old[1].id = 1000; /* 65 members together */
	len = cons_membership_encode(&m, enc);
	TAP_EQ(cons_membership_decode(enc, len, &o), -EINVAL);
	/* Hostile: truncated, trailing, duplicate ids, no voter, bad format. */
	m.old[1].id = 2;
	len = cons_membership_encode(&m, enc);
	for (i = 0; i < len; i++)
		TAP_EQ(cons_membership_decode(enc, i, &o), -EINVAL);
	TAP_EQ(cons_membership_decode(enc, len + 1, &o), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.quorum = QUORUM_MAJORITY;
	m.n = 2;
	m.m[0].id = m.m[1].id = 3;
	len = cons_membership_encode(&m, enc);
	TAP_EQ(cons_membership_decode(enc, len, &o), -EINVAL);
	m.m[1].id = 4;
	m.m[0].observer = m.m[1].observer = 1;
	len = cons_membership_encode(&m, enc);
	TAP_EQ(cons_membership_decode(enc, len, &o), -EINVAL);
	m.m[0].observer = 0;
	len = cons_membership_encode(&m, enc);
	TAP_EQ(cons_membership_decode(enc, len, &o), 0);
	enc[0] = 2;
	TAP_EQ(cons_membership_decode(enc, len, &o), -EINVAL);
	enc[0] = 1;
	/* Chunk 0 of a snapshot carries the configuration as of its zxid. */
	s.snap.zxid = 9;
	s.snap.total = 3;
	s.snap.len = 3;
	s.snap.blob = (const uint8_t *)"abc";
	s.snap.conf = enc;
	s.snap.conf_len = (uint32_t)len;
	roundtrip(&s, &so, &b);
	TAP_EQ(so.snap.len, 3);
	TAP_EQ(so.snap.conf_len, len);
	TAP_ASSERT(memcmp(so.snap.conf, enc, len) == 0);
	/* An explicit empty config is not a valid encoding (absent is). */
	b.data[3] += 4;
	buf_put_u32(&b, 0);
	TAP_EQ(cons_decode(b.data, b.len, &so), -EBADMSG);
	buf_free(&b);
}

/* Leadership transfer: TIMEOUT_NOW, and the vote request's transfer flag
 * (absent when 0, so plain requests are byte-for-byte as before). */
static void test_transfer(void)
{
	struct cons_msg m = {.type = CONS_MSG_VOTE_REQ, .from = 3, .epoch = 7}, o;
	struct buf b;
	size_t plain;

	m.vote_req.last_zxid = 0x700000002ull;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.vote_req.transfer, 0);
	plain = b.len;
	buf_free(&b);
	m.vote_req.transfer = 1;
	roundtrip(&m, &o, &b);
	TAP_EQ(o.vote_req.transfer, 1);
	TAP_EQ(o.vote_req.last_zxid, 0x700000002ull);
	TAP_EQ(b.len, plain + 1);
	b.data[b.len - 1] = 2; /* only 1 is a flag */
	TAP_EQ(cons_decode(b.data, b.len, &o), -EBADMSG);
	buf_free(&b);
	memset(&m, 0, sizeof(m));
	m.type = CONS_MSG_TIMEOUT_NOW;
	m.from = 1;
	m.epoch = 7;
	roundtrip(&m, &o, &b);
	buf_put_u8(&b, 0); /* trailing bytes */
	b.data[3]++;
	TAP_EQ(cons_decode(b.data, b.len, &o), -EBADMSG);
	buf_free(&b);
}

static const struct tap_case cases[] = {
    {"codec leadership transfer: TIMEOUT_NOW and the vote's transfer flag",
     test_transfer},
    {"codec memberships and the config in a snapshot chunk", test_membership},
    {"codec vote and pre-vote requests and replies round trip", test_vote},
    {"codec append with entries round trips", test_append},
    {"codec append reply, snapshot chunk and ack, forward round trip",
     test_resp_snap_forward},
    {"codec read index request and answer round trip", test_read},
    {"codec refuses truncated, oversized, trailing and unknown frames", test_hostile},
};

TAP_MAIN(cases)
