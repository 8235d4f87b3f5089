/* test_path.c - path rules, as ZooKeeper's PathUtils.validatePath. */
#include "tap.h"
#include "txn.h"
#include "zerr.h"

static const char *good[] = {
    "/",
    "/a",
    "/a/b",
    "/a.b",
    "/..a",
    "/a..",
    "/.a",
    "/a/.b/c",
    "/a/b.",
    "/zookeeper",
    "/with space",
    "/tab\xc2\xa0nbsp",
    "/\xc3\xa9t\xc3\xa9",
    "/\xe4\xb8\xad\xe6\x96\x87",
    "/\xef\xbf\xaf", /* U+FFEF: just below the refused FFF0 range */
    "/a-b_c:d@e",
    "/\xee\x80\x80x" /* U+E000 is in D800..F8FF: see bad */
};

static const char *bad[] = {
    "",
    "a",
    "a/b",
    "//",
    "/a/",
    "/a//b",
    "/.",
    "/..",
    "/a/.",
    "/a/..",
    "/a/./b",
    "/a/../b",
    "/./a",
    "/a\x01",
    "/a\x1f",
    "/\x7f",
    "/\xc2\x80",
    "/\xc2\x9f",
    "/\xed\xa0\x80",	 /* an encoded surrogate */
    "/\xef\xbf\xb0",	 /* U+FFF0 */
    "/\xef\xbf\xbf",	 /* U+FFFF */
    "/\xf0\x9f\x98\x80", /* U+1F600: a surrogate pair in Java */
    "/\xc0\xaf",	 /* overlong '/' */
    "/\xff",
    "/\x80",
    "/\xe4\xb8",
    "/trail/",
};

static void test_good(void)
{
	size_t i;

	/* U+E000 is inside ZooKeeper's refused D800..F8FF range */
	for (i = 0; i < sizeof(good) / sizeof(good[0]) - 1; i++) {
		if (path_validate(good[i]) != ZOK)
			printf("# refused: \"%s\"\n", good[i]);
		TAP_EQ(path_validate(good[i]), ZOK);
	}
	TAP_EQ(path_validate(good[i]), ZBADARGUMENTS);
}

static void test_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (path_validate(bad[i]) != ZBADARGUMENTS)
			printf("# accepted: index %zu\n", i);
		TAP_EQ(path_validate(bad[i]), ZBADARGUMENTS);
	}
	TAP_EQ(path_validate(NULL), ZBADARGUMENTS);
}

static void test_long(void)
{
	static char p[70000];
	size_t i;

	for (i = 0; i + 2 < sizeof(p); i += 2) {
		p[i] = '/';
		p[i + 1] = 'x';
	}
	p[i] = '\0';
	TAP_EQ(path_validate(p), ZOK);
}

static const struct tap_case cases[] = {
    {"good_paths", test_good},
    {"bad_paths", test_bad},
    {"long_path", test_long},
};

TAP_MAIN(cases)
