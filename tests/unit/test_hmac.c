/* test_hmac.c - HMAC-SHA256: RFC 4231's test cases, messages in pieces, and
 * agreement with libcrypto's one-shot HMAC() over random keys and lengths. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac.h"
#include "tap.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void check(const void *key, size_t klen, const void *msg, size_t mlen, const char *want)
{
	struct hmac_key *k = hmac_key_new(key, klen);
	struct hmac_part part = {msg, mlen};
	uint8_t mac[HMAC_SHA256_LEN];
	char got[2 * HMAC_SHA256_LEN + 1];

	TAP_ASSERT(k);
	TAP_EQ(hmac_sha256(k, &part, 1, mac), 0);
	hex(mac, sizeof(mac), got);
	TAP_STREQ(got, want);
	/* The key is reusable: a second MAC of the same message agrees. */
	TAP_EQ(hmac_sha256(k, &part, 1, mac), 0);
	hex(mac, sizeof(mac), got);
	TAP_STREQ(got, want);
	hmac_key_free(k);
}

/* RFC 4231 section 4: test cases 1-4, 6 and 7 (5 truncates the output). */
static void test_rfc4231(void)
{
	uint8_t k[131], d[50];

	memset(k, 0x0b, 20);
	check(k, 20, "Hi There", 8,
	      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check("Jefe", 4, "what do ya want for nothing?", 28,
	      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k, 0xaa, 20);
	memset(d, 0xdd, 50);
	check(k, 20, d, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (int i = 0; i < 25; i++)
		k[i] = (uint8_t)(i + 1);
	memset(d, 0xcd, 50);
	check(k, 25, d, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	/* Keys longer than SHA-256's 64-byte block are hashed first. */
	memset(k, 0xaa, 131);
	check(k, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	check(k, 131,
	      "This is a test using a larger than block-size key and a larger than "
	      "block-size data. The key needs to be hashed before being used by the "
	      "HMAC algorithm.",
	      152, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* Pieces of every size, empty ones included, give the MAC of the whole;
 * keys of 0 to 200 bytes (around the block size) agree with HMAC(). */
static void test_pieces_and_keys(void)
{
	uint8_t key[200], msg[1000], want[EVP_MAX_MD_SIZE], mac[HMAC_SHA256_LEN];
	unsigned int wlen;
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(seed = seed * 1103515245u + 12345u) >> 16;
	for (size_t klen = 0; klen <= sizeof(key); klen += 7) {
		size_t mlen = (klen * 37) % sizeof(msg);
		struct hmac_part parts[4];
		struct hmac_key *k;

		for (size_t i = 0; i < klen; i++)
			key[i] = (uint8_t)(seed = seed * 1103515245u + 12345u) >> 16;
		TAP_ASSERT(HMAC(EVP_sha256(), key, (int)klen, msg, mlen, want, &wlen));
		TAP_EQ(wlen, HMAC_SHA256_LEN);
		TAP_ASSERT((k = hmac_key_new(key, klen)));
		parts[0] = (struct hmac_part){msg, mlen / 3};
		parts[1] = (struct hmac_part){msg + mlen / 3, 0};
		parts[2] = (struct hmac_part){msg + mlen / 3, mlen / 2 - mlen / 3};
		parts[3] = (struct hmac_part){msg + mlen / 2, mlen - mlen / 2};
		TAP_EQ(hmac_sha256(k, parts, 4, mac), 0);
		TAP_EQ(memcmp(mac, want, HMAC_SHA256_LEN), 0);
		hmac_key_free(k);
		if (!klen)
			continue;
		/* A key one bit away gives a different MAC. */
		key[klen - 1] ^= 1;
		TAP_ASSERT((k = hmac_key_new(key, klen)));
		TAP_EQ(hmac_sha256(k, parts, 4, mac), 0);
		TAP_ASSERT(memcmp(mac, want, HMAC_SHA256_LEN) != 0);
		hmac_key_free(k);
	}
}

static void test_equal(void)
{
	TAP_EQ(hmac_equal("abcd", "abcd", 4), 1);
	TAP_EQ(hmac_equal("abcd", "abce", 4), 0);
	TAP_EQ(hmac_equal("xbcd", "abcd", 4), 0);
}

static const struct tap_case cases[] = {
    {"hmac RFC 4231 test cases", test_rfc4231},
    {"hmac pieces and keys agree with libcrypto's HMAC()", test_pieces_and_keys},
    {"hmac_equal compares every byte", test_equal},
};

TAP_MAIN(cases)
