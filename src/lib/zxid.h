/*
 * zxid.h - ZooKeeper transaction ids.
 *
 * A zxid is epoch << 32 | counter (ZooKeeper's ZxidUtils): the epoch counts
 * leaderships, the counter the transactions within one. Clients compare zxids
 * as signed 64-bit numbers, so the epoch stays below 2^31.
 */
#ifndef QFS_ZXID_H
#define QFS_ZXID_H

#include <stdint.h>

typedef uint64_t zxid_t;

static inline zxid_t zxid_make(uint32_t epoch, uint32_t counter)
{
	return ((zxid_t)epoch << 32) | counter;
}

static inline uint32_t zxid_epoch(zxid_t z)
{
	return (uint32_t)(z >> 32);
}

static inline uint32_t zxid_counter(zxid_t z)
{
	return (uint32_t)(z & 0xffffffffu);
}

#endif
