/* test_jsonstr.c - json_escape: every input gives a valid JSON string body. */
#include <string.h>

#include "jsonstr.h"
#include "tap.h"

static const char *esc(const char *in)
{
	static char out[256];

	json_escape(out, sizeof(out), in);
	return out;
}

static void test_plain_and_specials(void)
{
	TAP_STREQ(esc(""), "");
	TAP_STREQ(esc("/app/conf"), "/app/conf");
	TAP_STREQ(esc("a\"b\\c"), "a\\\"b\\\\c");
	TAP_STREQ(esc("l1\nl2\tx\r"), "l1\\nl2\\tx\\r");
	TAP_STREQ(esc("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f");
	/* '/' needs no escape, and a space none either */
	TAP_STREQ(esc("/ /"), "/ /");
}

static void test_utf8_kept(void)
{
	/* 2, 3 and 4-byte forms at their edges: U+0080, U+07FF, U+0800,
	 * U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF */
	const char *ok = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
			 "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";

	TAP_STREQ(esc(ok), ok);
	TAP_STREQ(esc("caf\xc3\xa9"), "caf\xc3\xa9");
}

#define FFFD "\xef\xbf\xbd"

static void test_utf8_bad_replaced(void)
{
	TAP_STREQ(esc("a\377b"), "a" FFFD "b");
	TAP_STREQ(esc("\x80"), FFFD);				 /* lone continuation */
	TAP_STREQ(esc("\xc0\x80"), FFFD FFFD);			 /* overlong NUL */
	TAP_STREQ(esc("\xe0\x80\x80"), FFFD FFFD FFFD);		 /* overlong */
	TAP_STREQ(esc("\xed\xa0\x80"), FFFD FFFD FFFD);		 /* surrogate */
	TAP_STREQ(esc("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD); /* > U+10FFFF */
	TAP_STREQ(esc("\xf5\x80"), FFFD FFFD);
	/* a sequence cut by the end of the string, or by ASCII */
	TAP_STREQ(esc("x\xe2\x82"), "x" FFFD FFFD);
	TAP_STREQ(esc("\xe2\x82\""), FFFD FFFD "\\\"");
}

static void test_cut_whole(void)
{
	char out[8];

	/* 7 bytes of room: "ab" then \" (2) then \" would need 2 more: cut */
	TAP_EQ(json_escape(out, sizeof(out), "ab\"\"\"\"\"\""), 6);
	TAP_STREQ(out, "ab\\\"\\\"");
	/* an escape of 6 never half-written */
	TAP_EQ(json_escape(out, sizeof(out), "abc\x01"), 3);
	TAP_STREQ(out, "abc");
	/* a multi-byte character never split */
	TAP_EQ(json_escape(out, 6, "abc\xe2\x82\xac"), 3);
	TAP_STREQ(out, "abc");
	TAP_EQ(json_escape(out, 1, "abc"), 0);
	TAP_STREQ(out, "");
}

/* Every pair of byte values: no control byte and no unescaped quote or
 * backslash comes out (the cases above check the UTF-8 side). */
static void test_all_bytes(void)
{
	char in[4], out[64];

	for (int a = 1; a < 256; a++) {
		for (int b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = 0;
			json_escape(out, sizeof(out), in);
			for (size_t i = 0; out[i]; i++) {
				unsigned char c = (unsigned char)out[i];

				TAP_ASSERT(c >= 0x20 && c != 0x7f);
				if (c == '\\') {
					i++; /* the escaped character */
					continue;
				}
				TAP_ASSERT(c != '"');
			}
		}
	}
}

static const struct tap_case cases[] = {
    {"plain_and_specials", test_plain_and_specials},
    {"utf8_kept", test_utf8_kept},
    {"utf8_bad_replaced", test_utf8_bad_replaced},
    {"cut_whole", test_cut_whole},
    {"all_bytes", test_all_bytes},
};

TAP_MAIN(cases)
