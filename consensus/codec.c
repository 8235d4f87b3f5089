/*
 * codec.c - encode and decode the peer messages; the byte format is in
 * codec.h. Decoding checks every count and length against the bytes left
 * before it allocates or reads, and refuses trailing bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* The smallest encodings, to bound counts before allocating. */
#define ENTRY_MIN   (8 + 1 + 4)
#define PAYLOAD_MIN 4
#define BODY_HDR    (1 + 1 + 4 + 4)

/* A length-prefixed blob; an empty one is length 0, never jute's NULL. */
static void put_blob(struct buf *b, const uint8_t *p, uint32_t len)
{
	buf_put_u32(b, len);
	if (len)
		buf_put(b, p, len);
}

int cons_encode(struct buf *b, const struct cons_msg *m)
{
	size_t start = b->len, len;
	uint32_t i;

	buf_put_u32(b, 0); /* patched below */
	buf_put_u8(b, CONS_CODEC_VERSION);
	buf_put_u8(b, m->type);
	buf_put_u32(b, m->from);
	buf_put_u32(b, m->epoch);
	switch (m->type) {
	case CONS_MSG_VOTE_REQ:
	case CONS_MSG_PREVOTE_REQ:
		buf_put_u64(b, m->vote_req.last_zxid);
		if (m->vote_req.transfer)
			buf_put_u8(b, 1);
		break;
	case CONS_MSG_TIMEOUT_NOW:
		break;
	case CONS_MSG_VOTE_RESP:
	case CONS_MSG_PREVOTE_RESP:
		buf_put_u8(b, m->vote_resp.granted);
		break;
	case CONS_MSG_APPEND:
		buf_put_u64(b, m->append.prev_zxid);
		buf_put_u64(b, m->append.commit_zxid);
		buf_put_u64(b, m->append.read_seq);
		buf_put_u64(b, m->append.stable_zxid);
		buf_put_u8(b, m->append.notice);
		buf_put_u32(b, m->append.n);
		for (i = 0; i < m->append.n; i++) {
			const struct cons_entry *e = &m->append.entries[i];

			buf_put_u64(b, e->zxid);
			buf_put_u8(b, e->type);
			put_blob(b, e->data, e->len);
		}
		break;
	case CONS_MSG_APPEND_RESP:
		buf_put_u8(b, m->append_resp.ok);
		buf_put_u64(b, m->append_resp.match_zxid);
		buf_put_u64(b, m->append_resp.last_zxid);
		buf_put_u64(b, m->append_resp.read_seq);
		break;
	case CONS_MSG_SNAP:
		buf_put_u64(b, m->snap.zxid);
		buf_put_u64(b, m->snap.offset);
		buf_put_u64(b, m->snap.total);
		put_blob(b, m->snap.blob, m->snap.len);
		if (m->snap.conf_len)
			put_blob(b, m->snap.conf, m->snap.conf_len);
		break;
	case CONS_MSG_SNAP_ACK:
		buf_put_u64(b, m->snap_ack.zxid);
		buf_put_u64(b, m->snap_ack.next);
		break;
	case CONS_MSG_FORWARD:
		buf_put_u32(b, m->forward.n);
		for (i = 0; i < m->forward.n; i++)
			put_blob(b, m->forward.payloads[i].data,
				 m->forward.payloads[i].len);
		break;
	case CONS_MSG_READ_REQ:
		buf_put_u64(b, m->read_req.id);
		break;
	case CONS_MSG_READ_RESP:
		buf_put_u64(b, m->read_resp.id);
		buf_put_u8(b, m->read_resp.ok);
		buf_put_u64(b, m->read_resp.read_zxid);
		break;
	default:
		b->len = start;
		return -EINVAL;
	}
	if (buf_failed(b))
		return -ENOMEM;
	len = b->len - start - CONS_FRAME_HDR;
	if (len > CONS_FRAME_MAX) {
		b->len = start;
		return -EMSGSIZE;
	}
	b->data[start] = (uint8_t)(len >> 24);
	b->data[start + 1] = (uint8_t)(len >> 16);
	b->data[start + 2] = (uint8_t)(len >> 8);
	b->data[start + 3] = (uint8_t)len;
	return 0;
}

int cons_frame_len(const uint8_t *p, size_t n, size_t *frame_len)
{
	uint32_t len;

	if (n < CONS_FRAME_HDR)
		return -EAGAIN;
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (len < BODY_HDR || len > CONS_FRAME_MAX)
		return -EBADMSG;
	*frame_len = CONS_FRAME_HDR + (size_t)len;
	return 0;
}

/* A jute buffer that must not be NULL (-1). */
static const uint8_t *get_bytes(struct rd *r, uint32_t *len, uint32_t max)
{
	int32_t n;
	const uint8_t *p = rd_bytes(r, &n, (int32_t)max);

	if (!rd_ok(r) || n < 0) {
		r->bad = 1;
		return NULL;
	}
	*len = (uint32_t)n;
	return p;
}

int cons_decode(const uint8_t *p, size_t n, struct cons_msg *m)
{
	struct cons_entry *ents = NULL;
	struct cons_payload *pl = NULL;
	size_t flen;
	struct rd r;
	uint32_t i, cnt;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = cons_frame_len(p, n, &flen);
	if (rc)
		return -EBADMSG;
	if (flen != n)
		return -EBADMSG;
	rd_init(&r, p + CONS_FRAME_HDR, n - CONS_FRAME_HDR);
	if (rd_u8(&r) != CONS_CODEC_VERSION)
		return -EBADMSG;
	m->type = rd_u8(&r);
	m->from = rd_u32(&r);
	m->epoch = rd_u32(&r);
	switch (m->type) {
	case CONS_MSG_VOTE_REQ:
	case CONS_MSG_PREVOTE_REQ:
		m->vote_req.last_zxid = rd_u64(&r);
		if (rd_ok(&r) && r.left) {
			m->vote_req.transfer = rd_u8(&r);
			if (m->vote_req.transfer != 1)
				r.bad = 1; /* absent is encoded as nothing */
		}
		break;
	case CONS_MSG_TIMEOUT_NOW:
		break;
	case CONS_MSG_VOTE_RESP:
	case CONS_MSG_PREVOTE_RESP:
		m->vote_resp.granted = rd_u8(&r);
		break;
	case CONS_MSG_APPEND:
		m->append.prev_zxid = rd_u64(&r);
		m->append.commit_zxid = rd_u64(&r);
		m->append.read_seq = rd_u64(&r);
		m->append.stable_zxid = rd_u64(&r);
		m->append.notice = rd_u8(&r);
		if (m->append.notice > 1)
			r.bad = 1;
		cnt = rd_u32(&r);
		if (!rd_ok(&r) || cnt > r.left / ENTRY_MIN)
			return -EBADMSG;
		if (cnt) {
			ents = calloc(cnt, sizeof(*ents));
			if (!ents)
				return -ENOMEM;
		}
		for (i = 0; i < cnt; i++) {
			ents[i].zxid = rd_u64(&r);
			ents[i].type = rd_u8(&r);
			ents[i].data = get_bytes(&r, &ents[i].len, CONS_MAX_PAYLOAD);
		}
		m->append.entries = ents;
		m->append.n = cnt;
		break;
	case CONS_MSG_APPEND_RESP:
		m->append_resp.ok = rd_u8(&r);
		m->append_resp.match_zxid = rd_u64(&r);
		m->append_resp.last_zxid = rd_u64(&r);
		m->append_resp.read_seq = rd_u64(&r);
		break;
	case CONS_MSG_SNAP:
		m->snap.zxid = rd_u64(&r);
		m->snap.offset = rd_u64(&r);
		m->snap.total = rd_u64(&r);
		m->snap.blob = get_bytes(&r, &m->snap.len, CONS_FRAME_MAX);
		if (rd_ok(&r) && r.left) {
			m->snap.conf =
			    get_bytes(&r, &m->snap.conf_len, CONS_MEMBERSHIP_MAX);
			if (rd_ok(&r) && m->snap.conf_len == 0)
				r.bad = 1; /* absent is encoded as nothing */
		}
		break;
	case CONS_MSG_SNAP_ACK:
		m->snap_ack.zxid = rd_u64(&r);
		m->snap_ack.next = rd_u64(&r);
		break;
	case CONS_MSG_FORWARD:
		cnt = rd_u32(&r);
		if (!rd_ok(&r) || cnt > r.left / PAYLOAD_MIN)
			return -EBADMSG;
		if (cnt) {
			pl = calloc(cnt, sizeof(*pl));
			if (!pl)
				return -ENOMEM;
		}
		for (i = 0; i < cnt; i++)
			pl[i].data = get_bytes(&r, &pl[i].len, CONS_MAX_PAYLOAD);
		m->forward.payloads = pl;
		m->forward.n = cnt;
		break;
	case CONS_MSG_READ_REQ:
		m->read_req.id = rd_u64(&r);
		break;
	case CONS_MSG_READ_RESP:
		m->read_resp.id = rd_u64(&r);
		m->read_resp.ok = rd_u8(&r);
		m->read_resp.read_zxid = rd_u64(&r);
		break;
	default:
		return -EBADMSG;
	}
	if (!rd_ok(&r) || r.left) {
		free(ents);
		free(pl);
		memset(m, 0, sizeof(*m));
		return -EBADMSG;
	}
	return 0;
}

void cons_msg_release(struct cons_msg *m)
{
	if (m->type == CONS_MSG_APPEND)
		free((void *)m->append.entries);
	else if (m->type == CONS_MSG_FORWARD)
		free((void *)m->forward.payloads);
	memset(m, 0, sizeof(*m));
}

/* ---- memberships (CONFIG entries, snapshots, cons_boot) ----
 *
 *   u8 format (1), u64 version, u8 quorum, u8 n, n x member,
 *   u8 joint, and when joint: u8 old_quorum, u8 n_old, n_old x member;
 *   member = u32 id, u8 observer, u32 group, u32 weight.
 */
static size_t put_be(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return (size_t)bytes;
}

static size_t put_members(uint8_t *p, const struct cons_member *m, unsigned n)
{
	size_t o = 0;
	unsigned i;

	o += put_be(p + o, n, 1);
	for (i = 0; i < n; i++) {
		o += put_be(p + o, m[i].id, 4);
		o += put_be(p + o, m[i].observer, 1);
		o += put_be(p + o, m[i].group, 4);
		o += put_be(p + o, m[i].weight, 4);
	}
	return o;
}

size_t cons_membership_encode(const struct cons_membership *m, uint8_t *buf)
{
	size_t o = 0;

	o += put_be(buf + o, 1, 1);
	o += put_be(buf + o, m->version, 8);
	o += put_be(buf + o, (uint64_t)m->quorum, 1);
	o += put_members(buf + o, m->m, m->n);
	o += put_be(buf + o, m->joint ? 1 : 0, 1);
	if (m->joint) {
		o += put_be(buf + o, (uint64_t)m->old_quorum, 1);
		o += put_members(buf + o, m->old, m->n_old);
	}
	return o;
}

static int get_members(struct rd *r, struct cons_member *m, unsigned *n)
{
	unsigned i, cnt = rd_u8(r);

	if (!rd_ok(r) || cnt == 0 || cnt > CONS_MAX_MEMBERS || cnt > r->left / 13)
		return -EINVAL;
	for (i = 0; i < cnt; i++) {
		m[i].id = rd_u32(r);
		m[i].observer = rd_u8(r);
		m[i].group = rd_u32(r);
		m[i].weight = rd_u32(r);
		if (m[i].observer > 1)
			return -EINVAL;
	}
	*n = cnt;
	return rd_ok(r) ? 0 : -EINVAL;
}

int cons_membership_decode(const uint8_t *p, size_t n, struct cons_membership *out)
{
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, p, n);
	if (rd_u8(&r) != 1)
		return -EINVAL;
	out->version = rd_u64(&r);
	out->quorum = (enum quorum_kind)rd_u8(&r);
	if (get_members(&r, out->m, &out->n))
		return -EINVAL;
	out->joint = rd_u8(&r);
	if (out->joint > 1)
		return -EINVAL;
	if (out->joint) {
		out->old_quorum = (enum quorum_kind)rd_u8(&r);
		if (get_members(&r, out->old, &out->n_old))
			return -EINVAL;
	}
	if (!rd_ok(&r) || r.left)
		return -EINVAL;
	return cons_membership_check(out);
}
