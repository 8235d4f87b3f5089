/* jsonstr.c - JSON string escaping; see jsonstr.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jsonstr.h"

/*
 * The length of the well-formed UTF-8 sequence at s (1 to 4), or 0 when
 * the byte at s does not start one. The table is RFC 3629's: the second
 * byte's range depends on the first, which rules out overlong forms,
 * UTF-16 surrogates (ED A0..BF) and code points past U+10FFFF (F4 90..).
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, C0, C1 or F5..FF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0; /* also the NUL that ends a cut sequence */
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

size_t json_escape(char *dst, size_t cap, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0;

	while (*s) {
		char esc[8];
		const char *piece = esc;
		size_t len, used;

		len = utf8_len(s);
		used = len ? len : 1;
		if (!len) {
			piece = "\xef\xbf\xbd"; /* U+FFFD */
			len = 3;
		} else if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			len = 2;
		} else if (*s == '\n' || *s == '\t' || *s == '\r') {
			esc[0] = '\\';
			esc[1] = *s == '\n' ? 'n' : *s == '\t' ? 't' : 'r';
			len = 2;
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			len = 6;
		} else {
			piece = (const char *)s;
		}
		if (out + len >= cap)
			break;
		memcpy(dst + out, piece, len);
		out += len;
		s += used;
	}
	dst[out] = 0;
	return out;
}
