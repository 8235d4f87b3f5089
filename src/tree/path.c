/*
 * path.c - znode path rules, as ZooKeeper's PathUtils.validatePath.
 *
 * ZooKeeper checks UTF-16 chars; we get UTF-8 bytes. A code point is refused
 * when ZooKeeper refuses its UTF-16 form: U+0001..U+001F, U+007F..U+009F,
 * U+D800..U+F8FF, U+FFF0..U+FFFF, and everything above U+FFFF (it becomes a
 * surrogate pair, which falls in the refused D800 range). Malformed UTF-8 is
 * refused too: the server's decoder would turn it into U+FFFD, refused.
 */
#include <stddef.h>
#include <stdint.h>

#include "txn.h"
#include "zerr.h"

/* Decode one UTF-8 sequence at s; returns its length, or 0 if malformed. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

static int cp_refused(uint32_t c)
{
	return (c >= 0x01 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) ||
	       (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0;
}

int path_validate(const char *path)
{
	const unsigned char *s = (const unsigned char *)path;
	size_t i, n;
	uint32_t cp;

	if (!path || s[0] == '\0' || s[0] != '/')
		return ZBADARGUMENTS;
	if (s[1] == '\0')
		return ZOK; /* the root */
	for (i = 1; s[i]; i += n) {
		n = utf8_decode(s + i, &cp);
		if (n == 0 || cp_refused(cp))
			return ZBADARGUMENTS;
		if (s[i] == '/' && s[i - 1] == '/')
			return ZBADARGUMENTS; /* empty component */
		if (s[i] == '.' && s[i - 1] == '/' &&
		    (s[i + 1] == '/' || s[i + 1] == '\0'))
			return ZBADARGUMENTS; /* "." */
		if (s[i] == '.' && s[i - 1] == '.' && i >= 2 && s[i - 2] == '/' &&
		    (s[i + 1] == '/' || s[i + 1] == '\0'))
			return ZBADARGUMENTS; /* ".." */
	}
	if (s[i - 1] == '/')
		return ZBADARGUMENTS; /* trailing slash */
	return ZOK;
}
