/*
 * crc32c.c - CRC-32C; see crc32c.h. On x86-64 with SSE4.2 the
 * crc32 instruction computes exactly this polynomial (that is why
 * CRC-32C was picked), eight bytes per instruction; elsewhere a table.
 * Both give the same values: only the speed differs, which matters when
 * a restart checksums a snapshot of a million znodes.
 */
#include <pthread.h>
#include <string.h>

#include "crc32c.h"

static uint32_t crc_table[256];
static int crc_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_sw(uint32_t crc, const uint8_t *b, size_t n)
{
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc,
							    const uint8_t *b, size_t n)
{
	uint64_t c = crc, w;

	while (n >= 8) {
		memcpy(&w, b, 8); /* unaligned, little-endian: as the instruction wants */
		c = __builtin_ia32_crc32di(c, w);
		b += 8;
		n -= 8;
	}
	while (n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	return (uint32_t)c;
}
#endif

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
	/* Set up once, by whichever thread gets here first (the log writer
	 * and the loop both checksum). */
	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (crc_hw)
		return ~crc_sse42(~crc, p, n);
#endif
	return ~crc_sw(~crc, p, n);
}

uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	return ~crc_sw(~crc, p, n);
}

uint32_t crc32c_u64(uint32_t crc, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	return crc32c(crc, b, sizeof(b));
}
