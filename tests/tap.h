/*
 * tap.h - the tiny test harness every C test program uses.
 *
 * A test program lists its cases and calls TAP_MAIN. Each case prints one
 * line the runner (tests/run.sh) counts:
 *
 *     ok - NAME
 *     not ok - NAME
 *     ok - NAME # SKIP reason
 *
 * A failed TAP_ASSERT prints the file, line and expression as a "#" comment
 * and abandons the case (longjmp), so later cases still run. Cases must not
 * depend on each other. `prog NAME` runs the one case called NAME.
 */
#ifndef QFS_TAP_H
#define QFS_TAP_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_case {
	const char *name;
	void (*fn)(void);
};

extern jmp_buf tap_jmp;
extern const char *tap_skip_reason;

#define TAP_ASSERT(cond)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			printf("# %s:%d: assertion failed: %s\n", __FILE__, __LINE__,    \
			       #cond);                                                   \
			longjmp(tap_jmp, 1);                                             \
		}                                                                        \
	} while (0)

/* Compare two integers and print both values when they differ. */
#define TAP_EQ(a, b)                                                                     \
	do {                                                                             \
		long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);              \
		if (tap_a_ != tap_b_) {                                                  \
			printf("# %s:%d: %s == %s failed: %lld != %lld\n", __FILE__,     \
			       __LINE__, #a, #b, tap_a_, tap_b_);                        \
			longjmp(tap_jmp, 1);                                             \
		}                                                                        \
	} while (0)

#define TAP_STREQ(a, b)                                                                  \
	do {                                                                             \
		const char *tap_a_ = (a), *tap_b_ = (b);                                 \
		if (!tap_a_ || !tap_b_ || strcmp(tap_a_, tap_b_) != 0) {                 \
			printf("# %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, \
			       __LINE__, #a, #b, tap_a_ ? tap_a_ : "(null)",             \
			       tap_b_ ? tap_b_ : "(null)");                              \
			longjmp(tap_jmp, 1);                                             \
		}                                                                        \
	} while (0)

/* Mark the running case skipped and leave it. */
#define TAP_SKIP(reason)                                                                 \
	do {                                                                             \
		tap_skip_reason = (reason);                                              \
		longjmp(tap_jmp, 2);                                                     \
	} while (0)

int tap_run(const struct tap_case *cases, size_t n, int argc, char **argv);

/* A new directory $TMPDIR/qfs-TAG-XXXXXX (/tmp without TMPDIR) into dir;
 * the running case fails if it cannot be made. */
void tap_tmpdir(char *dir, size_t len, const char *tag);
/* Remove dir and the files directly in it (a test's SQLite database with
 * its -wal and -shm, say); not recursive. */
void tap_rmdir(const char *dir);

#define TAP_MAIN(cases)                                                                  \
	int main(int argc, char **argv)                                                  \
	{                                                                                \
		return tap_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);     \
	}

#endif
