/*
 * jsonstr.h - a string's bytes as the inside of a JSON string literal.
 *
 * For output that other programs parse (the daemon's JSON log lines): the
 * bytes come from anywhere (znode paths a client chose, peers' host names,
 * strerror), so the result must be valid JSON and valid UTF-8 whatever they
 * are. Quotes, backslashes and control characters are escaped; a byte that
 * does not start a well-formed UTF-8 sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF) becomes U+FFFD, one per bad
 * byte, so nothing is dropped without a trace.
 */
#ifndef QFS_JSONSTR_H
#define QFS_JSONSTR_H

#include <stddef.h>

/*
 * Writes src, escaped, to dst (cap bytes, cap >= 1), without the quotes,
 * and NUL-terminates it. Output that does not fit is cut before the first
 * character or escape that would not fit whole, so the result is always
 * valid. Returns the bytes written, not counting the NUL.
 */
size_t json_escape(char *dst, size_t cap, const char *src);

#endif
