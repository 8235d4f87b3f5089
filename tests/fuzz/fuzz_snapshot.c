/*
 * fuzz_snapshot.c - libFuzzer target for what snapshot loading decodes from
 * a file it did not write itself: the binary ACL column, and whole files
 * (the input written to disk and opened as a snapshot). Neither may crash,
 * leak or read out of bounds, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "snapshot.h"
#include "snapshot_codec.h"
#include "tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acl_list acl;
	struct tree *t;
	char path[64], err[512];
	zxid_t z;
	FILE *f;

	if (snapshot_acl_decode(data, size, &acl) == 0)
		acl_free(&acl);

	snprintf(path, sizeof(path), "/tmp/fuzz_snapshot.%d.db", (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	t = tree_new();
	if (t) {
		snapshot_load(path, t, &z, err, sizeof(err));
		tree_free(t);
	}
	unlink(path);
	return 0;
}
