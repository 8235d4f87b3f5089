/*
 * peer_wire.c - encoders and checked decoders of the peer transport's
 * frames; the format is specified in peer_wire.h.
 */
#include <errno.h>
#include <string.h>

#include "peer_wire.h"

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int peer_hdr_parse(const uint8_t *p, size_t max_body, struct peer_hdr *h,
		   const char **why)
{
	uint32_t len = get_be32(p);

	h->version = p[4];
	h->type = p[5];
	if (len < 2) {
		*why = "frame length below the header";
		return -EBADMSG;
	}
	if ((size_t)len - 2 > max_body) {
		*why = "frame length over the limit";
		return -EBADMSG;
	}
	if (h->version != PEER_VERSION) {
		*why = "unsupported protocol version";
		return -EBADMSG;
	}
	if (h->type < PEER_HELLO || h->type > PEER_MSG) {
		*why = "unknown frame type";
		return -EBADMSG;
	}
	h->body_len = (size_t)len - 2;
	h->total = PEER_HDR + h->body_len;
	return 0;
}

int peer_hello_decode(const uint8_t *body, size_t n, struct peer_hello *h)
{
	size_t fixed = 4 + 4 + PEER_NONCE + 1;

	if (n < fixed)
		return -EBADMSG;
	h->from = get_be32(body);
	h->to = get_be32(body + 4);
	memcpy(h->nonce, body + 8, PEER_NONCE);
	h->cluster_len = body[8 + PEER_NONCE];
	if (h->cluster_len == 0 || n != fixed + h->cluster_len)
		return -EBADMSG;
	memcpy(h->cluster, body + fixed, h->cluster_len);
	h->cluster[h->cluster_len] = '\0';
	if (memchr(h->cluster, '\0', h->cluster_len))
		return -EBADMSG;
	return 0;
}

int peer_challenge_decode(const uint8_t *body, size_t n, struct peer_challenge *c)
{
	if (n != 4 + PEER_NONCE + PEER_MAC)
		return -EBADMSG;
	c->from = get_be32(body);
	memcpy(c->nonce, body + 4, PEER_NONCE);
	memcpy(c->mac, body + 4 + PEER_NONCE, PEER_MAC);
	return 0;
}

int peer_auth_decode(const uint8_t *body, size_t n, uint8_t mac[PEER_MAC])
{
	if (n != PEER_MAC)
		return -EBADMSG;
	memcpy(mac, body, PEER_MAC);
	return 0;
}

static void frame_hdr(struct buf *b, size_t body_len, uint8_t type)
{
	buf_put_u32(b, (uint32_t)(body_len + 2));
	buf_put_u8(b, PEER_VERSION);
	buf_put_u8(b, type);
}

void peer_hello_encode(struct buf *b, const struct peer_hello *h)
{
	frame_hdr(b, 4 + 4 + PEER_NONCE + 1 + h->cluster_len, PEER_HELLO);
	buf_put_u32(b, h->from);
	buf_put_u32(b, h->to);
	buf_put(b, h->nonce, PEER_NONCE);
	buf_put_u8(b, h->cluster_len);
	buf_put(b, h->cluster, h->cluster_len);
}

void peer_challenge_encode(struct buf *b, const struct peer_challenge *c)
{
	frame_hdr(b, 4 + PEER_NONCE + PEER_MAC, PEER_CHALLENGE);
	buf_put_u32(b, c->from);
	buf_put(b, c->nonce, PEER_NONCE);
	buf_put(b, c->mac, PEER_MAC);
}

void peer_auth_encode(struct buf *b, const uint8_t mac[PEER_MAC])
{
	frame_hdr(b, PEER_MAC, PEER_AUTH);
	buf_put(b, mac, PEER_MAC);
}

size_t peer_transcript(const struct peer_hello *h, uint32_t acceptor_id,
		       const uint8_t nonce_a[PEER_NONCE],
		       uint8_t out[PEER_TRANSCRIPT_MAX])
{
	uint8_t *p = out;

	*p++ = h->cluster_len;
	memcpy(p, h->cluster, h->cluster_len);
	p += h->cluster_len;
	put_be32(p, h->from);
	put_be32(p + 4, acceptor_id);
	p += 8;
	memcpy(p, h->nonce, PEER_NONCE);
	memcpy(p + PEER_NONCE, nonce_a, PEER_NONCE);
	p += 2 * PEER_NONCE;
	return (size_t)(p - out);
}

static const char *const labels[] = {
    [PEER_LABEL_ACCEPTOR] = "qfs-peer-v1 acceptor",
    [PEER_LABEL_CONNECTOR] = "qfs-peer-v1 connector",
    [PEER_LABEL_KEY_C2A] = "qfs-peer-v1 key c2a",
    [PEER_LABEL_KEY_A2C] = "qfs-peer-v1 key a2c",
};

int peer_derive(const struct hmac_key *secret, enum peer_label label, const uint8_t *t,
		size_t t_len, uint8_t out[PEER_MAC])
{
	struct hmac_part parts[2] = {{labels[label], strlen(labels[label])}, {t, t_len}};

	return hmac_sha256(secret, parts, 2, out);
}

static int msg_mac(const struct hmac_key *k, uint64_t seq, const void *msg, size_t len,
		   uint8_t out[PEER_MAC])
{
	uint8_t pre[10];
	struct hmac_part parts[2] = {{pre, sizeof(pre)}, {msg, len}};

	put_be32(pre, (uint32_t)(seq >> 32));
	put_be32(pre + 4, (uint32_t)seq);
	pre[8] = PEER_VERSION;
	pre[9] = PEER_MSG;
	return hmac_sha256(k, parts, 2, out);
}

int peer_msg_seal(const struct hmac_key *k, uint64_t seq, const void *msg, size_t len,
		  uint8_t hdr[PEER_HDR], uint8_t mac[PEER_MAC])
{
	if (len > UINT32_MAX - 2 - PEER_MAC || msg_mac(k, seq, msg, len, mac) < 0)
		return -EIO;
	put_be32(hdr, (uint32_t)(len + PEER_MAC + 2));
	hdr[4] = PEER_VERSION;
	hdr[5] = PEER_MSG;
	return 0;
}

int peer_msg_encode(struct buf *b, const struct hmac_key *k, uint64_t seq,
		    const void *msg, size_t len)
{
	uint8_t hdr[PEER_HDR], mac[PEER_MAC];

	if (peer_msg_seal(k, seq, msg, len, hdr, mac) < 0)
		return -EIO;
	buf_put(b, hdr, PEER_HDR);
	buf_put(b, msg, len);
	buf_put(b, mac, PEER_MAC);
	return 0;
}

int peer_msg_open(const struct hmac_key *k, uint64_t seq, const struct peer_hdr *h,
		  const uint8_t *body, const uint8_t **msg, size_t *len)
{
	uint8_t mac[PEER_MAC];
	size_t n;

	if (h->type != PEER_MSG || h->body_len < PEER_MAC)
		return -EBADMSG;
	n = h->body_len - PEER_MAC;
	if (msg_mac(k, seq, body, n, mac) < 0 || !hmac_equal(mac, body + n, PEER_MAC))
		return -EBADMSG;
	*msg = body;
	*len = n;
	return 0;
}
