/*
 * fuzz_zkimport.c - libFuzzer target for every decoder of quorumadm's
 * ZooKeeper import (src/adm): snapshots (zk_snap_decode), transaction logs
 * (zk_log_replay with the full txn apply of every type), and what follows a
 * successful decode (the conversion into a quorumfs tree and the export
 * writer, whose output must decode again). The first byte picks the
 * decoder: 0 snapshot, 1 log over a fresh tree, 2 snapshot then log (the
 * second byte .. says where the log starts). Nothing may crash, leak or
 * read out of bounds, whatever the bytes.
 * Seeds in tests/fuzz/corpus/zkimport are real ZooKeeper 3.8 files with
 * the selector byte prepended, and inputs that once found a bug (bug-*:
 * bug-setdata-cut-leak, a setData cut after its path, leaked the path).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "zkfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A decoded tree must convert or be refused cleanly; a converted one must
 * export to bytes that decode again. */
static void convert(const struct zkdb *db)
{
	struct zkdb back;
	struct tree *t = tree_new();
	char err[512], *mem = NULL;
	size_t memlen = 0;
	uint64_t nodes;
	FILE *f;

	if (!t)
		return;
	if (adm_zkdb_to_tree(db, t, err, sizeof(err)) == 0) {
		f = open_memstream(&mem, &memlen);
		if (f && zk_snap_write(t, f, &nodes, NULL, NULL) == 0) {
			fclose(f);
			f = NULL;
			if (zkdb_init(&back) == 0) {
				if (zk_snap_decode(&back, mem, memlen, err,
						   sizeof(err)) != 0)
					abort(); /* our own export must load */
				zkdb_free(&back);
			}
		}
		if (f)
			fclose(f);
		free(mem);
	}
	tree_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zk_log_result lr;
	struct zkdb db;
	struct zstat st;
	char err[512];
	size_t split;
	int rc = 0;

	if (size < 1 || zkdb_init(&db))
		return 0;
	data++;
	size--;
	switch (data[-1] % 3) {
	case 0:
		if (zk_snap_decode(&db, data, size, err, sizeof(err)) == 0)
			convert(&db);
		break;
	case 1:
		memset(&st, 0, sizeof(st));
		if (zkdb_insert(&db, "/", NULL, -1,
				zkdb_acl_index(&db, acl_open_unsafe()), &st) == 0 &&
		    zk_log_replay(&db, data, size, &lr, err, sizeof(err)) == 0)
			convert(&db);
		break;
	default:
		if (size < 4)
			break;
		split = ((size_t)data[0] << 24 | (size_t)data[1] << 16 |
			 (size_t)data[2] << 8 | data[3]);
		data += 4;
		size -= 4;
		if (split > size)
			split = size;
		rc = zk_snap_decode(&db, data, split, err, sizeof(err));
		if (rc == 0)
			rc = zk_log_replay(&db, data + split, size - split, &lr, err,
					   sizeof(err));
		if (rc == 0)
			convert(&db);
	}
	zkdb_free(&db);
	return 0;
}
