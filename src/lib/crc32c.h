/*
 * crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the
 * checksum of log records and snapshot contents.
 *
 * CRC-32C rather than zlib's CRC-32 because it detects more error patterns
 * in the record sizes we write (RFC 3720 appendix B.4) and needs no extra
 * library; a table-driven software version is fast enough next to an fsync.
 */
#ifndef QFS_CRC32C_H
#define QFS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Start with crc = 0; feed pieces in order; the result is the running crc. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* The table version, whatever the CPU offers (tests compare the two). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

/* Feed an integer as 8 big-endian bytes, as it is stored in the log. */
uint32_t crc32c_u64(uint32_t crc, uint64_t v);

#endif
