/* storage_crc.c - CRC-32C, slicing-by-one; see storage_crc.h. */
#include <pthread.h>

#include "storage_crc.h"

static uint32_t crc_table[256];
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
}

uint32_t storage_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	/* The table is built once, by whichever thread gets here first (the
	 * log writer and the loop both checksum). */
	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t storage_crc32c_u64(uint32_t crc, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
	return storage_crc32c(crc, b, sizeof(b));
}
