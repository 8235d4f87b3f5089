/* tap.c - runs the cases of one test program; see tap.h. */
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "tap.h"

jmp_buf tap_jmp;
const char *tap_skip_reason;

int tap_run(const struct tap_case *cases, size_t n, int argc, char **argv)
{
	volatile int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (volatile size_t i = 0; i < n; i++) {
		volatile int rc;

		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		tap_skip_reason = NULL;
		rc = setjmp(tap_jmp);
		if (rc == 0) {
			cases[i].fn();
			printf("ok - %s\n", cases[i].name);
		} else if (rc == 2) {
			printf("ok - %s # SKIP %s\n", cases[i].name, tap_skip_reason);
		} else {
			printf("not ok - %s\n", cases[i].name);
			failed++;
		}
	}
	return failed ? 1 : 0;
}

void tap_tmpdir(char *dir, size_t len, const char *tag)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/qfs-%s-XXXXXX", tmp ? tmp : "/tmp", tag);
	TAP_ASSERT(mkdtemp(dir) != NULL);
}

void tap_rmdir(const char *dir)
{
	char p[1024];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}
