/*
 * peer_wire.h - the peer transport's byte format: frames, the handshake
 * and authenticated messages. Pure functions over bytes (fuzzed by
 * tests/fuzz/fuzz_transport.c); the connection logic is in transport*.c.
 *
 * Every frame, integers big-endian:
 *
 *   u32 length    bytes after this field (version + type + body), >= 2,
 *                 at most 2 + PEER_HANDSHAKE_MAX before authentication and
 *                 2 + max message + PEER_MAC after it
 *   u8  version   PEER_VERSION; any other is refused
 *   u8  type      enum peer_type
 *   body
 *
 * Handshake (the connector dialled, the acceptor listened):
 *
 *   connector -> HELLO      u32 from (connector id), u32 to (the id it
 *                           meant to reach), u8[32] nonce_c, u8 n, n bytes
 *                           cluster name (1 <= n <= 255)
 *   acceptor  -> CHALLENGE  u32 from (acceptor id), u8[32] nonce_a,
 *                           u8[32] mac_a = HMAC(secret, "qfs-peer-v1 acceptor" || T)
 *   connector -> AUTH       u8[32] mac_c = HMAC(secret, "qfs-peer-v1 connector" || T)
 *
 *   T = u8 n || cluster || u32 connector id || u32 acceptor id || nonce_c
 *       || nonce_a: both ids and both fresh nonces, so a MAC answers one
 *       handshake only, and the two labels keep one side's answer from
 *       serving as the other's (no reflection). Each side proves it knows
 *       the cluster secret before the other accepts a message from it.
 *
 * Afterwards each direction has its own key, k_c2a / k_a2c =
 * HMAC(secret, "qfs-peer-v1 key c2a" / "... a2c" || T), and every
 *
 *   MSG  payload || u8[32] HMAC(k_dir, u64 seq || version || type || payload)
 *
 * where seq counts the direction's MSG frames from 0, so a frame altered,
 * replayed, reordered or spliced from another connection fails its MAC.
 * The labels are ASCII without a terminating NUL.
 */
#ifndef QFS_PEER_WIRE_H
#define QFS_PEER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hmac.h"

#define PEER_VERSION	    1
#define PEER_HDR	    6 /* u32 length, u8 version, u8 type */
#define PEER_NONCE	    32
#define PEER_MAC	    HMAC_SHA256_LEN
#define PEER_CLUSTER_MAX    255
#define PEER_HANDSHAKE_MAX  512
#define PEER_TRANSCRIPT_MAX (1 + PEER_CLUSTER_MAX + 4 + 4 + 2 * PEER_NONCE)

enum peer_type {
	PEER_HELLO = 1,
	PEER_CHALLENGE = 2,
	PEER_AUTH = 3,
	PEER_MSG = 4,
};

struct peer_hdr {
	uint8_t version;
	uint8_t type;
	size_t body_len; /* bytes after the header */
	size_t total;	 /* PEER_HDR + body_len */
};

/*
 * Checks a frame's first PEER_HDR bytes: a length of at least 2 and at
 * most 2 + max_body, the version, a known type. Returns 0 or -EBADMSG with
 * *why naming the fault (a static string).
 */
int peer_hdr_parse(const uint8_t *p, size_t max_body, struct peer_hdr *h,
		   const char **why);

struct peer_hello {
	uint32_t from, to;
	uint8_t nonce[PEER_NONCE];
	uint8_t cluster_len;
	char cluster[PEER_CLUSTER_MAX + 1]; /* NUL-terminated copy */
};

struct peer_challenge {
	uint32_t from;
	uint8_t nonce[PEER_NONCE];
	uint8_t mac[PEER_MAC];
};

/* Body decoders: the body must be consumed exactly. 0 or -EBADMSG. A
 * cluster name with a NUL in it is refused. */
int peer_hello_decode(const uint8_t *body, size_t n, struct peer_hello *h);
int peer_challenge_decode(const uint8_t *body, size_t n, struct peer_challenge *c);
int peer_auth_decode(const uint8_t *body, size_t n, uint8_t mac[PEER_MAC]);

/* Frame encoders, appending whole frames to b (check buf_failed). */
void peer_hello_encode(struct buf *b, const struct peer_hello *h);
void peer_challenge_encode(struct buf *b, const struct peer_challenge *c);
void peer_auth_encode(struct buf *b, const uint8_t mac[PEER_MAC]);

/* T for a handshake (see above) into out; returns its length. */
size_t peer_transcript(const struct peer_hello *h, uint32_t acceptor_id,
		       const uint8_t nonce_a[PEER_NONCE],
		       uint8_t out[PEER_TRANSCRIPT_MAX]);

enum peer_label {
	PEER_LABEL_ACCEPTOR,
	PEER_LABEL_CONNECTOR,
	PEER_LABEL_KEY_C2A,
	PEER_LABEL_KEY_A2C,
};

/* HMAC(secret, label || T). Returns 0 or -EIO. */
int peer_derive(const struct hmac_key *secret, enum peer_label label, const uint8_t *t,
		size_t t_len, uint8_t out[PEER_MAC]);

/* The header and MAC of a MSG frame carrying len bytes under seq, for a
 * writer that sends the payload from where it lies. 0 or -EIO. */
int peer_msg_seal(const struct hmac_key *k, uint64_t seq, const void *msg, size_t len,
		  uint8_t hdr[PEER_HDR], uint8_t mac[PEER_MAC]);

/* Appends one MSG frame carrying len bytes, MAC'd with k under seq.
 * Returns 0, or -EIO when the MAC fails (b may hold a partial frame). */
int peer_msg_encode(struct buf *b, const struct hmac_key *k, uint64_t seq,
		    const void *msg, size_t len);

/*
 * Checks a MSG frame's body (after the header h) against k and seq. On
 * success *msg and *len point into body (borrowed). Returns 0 or -EBADMSG
 * (too short for a MAC, or a MAC mismatch).
 */
int peer_msg_open(const struct hmac_key *k, uint64_t seq, const struct peer_hdr *h,
		  const uint8_t *body, const uint8_t **msg, size_t *len);

#endif
