/*
 * fuzz_archive.c - libFuzzer target for the archive's log segments
 * (archive_seg.h), which quorumadm restore --archive reads from a
 * directory that may have been copied, truncated or damaged:
 *  - the input as a segment file, named after the zxids its header claims
 *    (so the name check passes and the decoder goes deeper): loading it
 *    and reading its header may fail but must not crash, leak or read out
 *    of bounds, and a segment that loads re-encodes to the same bytes;
 *  - a round trip: records cut from the input are encoded, written and
 *    loaded back; each must come back as it went in, or this aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive_seg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RT_MAX_RECS 64

static char dir[64];

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "archive segment: %s\n", what);
		abort();
	}
}

static void put_file(const char *name, const uint8_t *p, size_t len)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	check(f != NULL, "cannot write the scratch file");
	check(len == 0 || fwrite(p, 1, len, f) == len, "short write");
	check(fclose(f) == 0, "close");
}

static void drop_file(const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* The input itself as a segment file. */
static void as_file(const uint8_t *data, size_t size)
{
	struct archive_seg seg;
	char name[64], err[512];
	zxid_t first = 0, last = 0;
	uint8_t *out;
	size_t len;

	if (size >= 24) {
		first = be64(data + 8);
		last = be64(data + 16);
	}
	archive_seg_name(name, sizeof(name), first, last);
	put_file(name, data, size);
	memset(&seg, 0, sizeof(seg));
	if (archive_seg_load(dir, name, &seg, err, sizeof(err)) == 0) {
		check(seg.first == first && seg.last == last,
		      "loaded zxids differ from the name");
		if (seg.count && archive_seg_encode(seg.recs, seg.count, seg.tmin,
						    seg.tmax, &out, &len) == 0) {
			check(len == seg.len && memcmp(out, seg.buf, len) == 0,
			      "a loaded segment does not re-encode to its bytes");
			free(out);
		}
		archive_seg_free(&seg);
	}
	memset(&seg, 0, sizeof(seg));
	(void)archive_seg_header(dir, name, &seg, err, sizeof(err));
	drop_file(name);
}

/* Records cut from the input: lengths from its bytes, consecutive zxids. */
static void round_trip(const uint8_t *data, size_t size)
{
	struct archive_rec recs[RT_MAX_RECS];
	struct archive_seg seg;
	char name[64], err[512];
	uint8_t *out;
	size_t n = 0, pos = 1, len;
	zxid_t z;

	if (size < 2)
		return;
	z = ((zxid_t)(data[0] % 4 + 1) << 32) | 1;
	while (pos < size && n < RT_MAX_RECS) {
		uint32_t l = data[pos++] % 32;

		if (l > size - pos)
			l = (uint32_t)(size - pos);
		recs[n].zxid = z + n;
		recs[n].epoch = (uint32_t)(z >> 32);
		recs[n].type = (uint8_t)(l ? data[pos] : 0);
		recs[n].data = data + pos;
		recs[n].len = l;
		pos += l;
		n++;
	}
	check(archive_seg_encode(recs, n, 1, 2, &out, &len) == 0, "encode failed");
	archive_seg_name(name, sizeof(name), recs[0].zxid, recs[n - 1].zxid);
	put_file(name, out, len);
	free(out);
	memset(&seg, 0, sizeof(seg));
	if (archive_seg_load(dir, name, &seg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		check(0, "a segment just encoded does not load");
	}
	check(seg.count == n && seg.first == recs[0].zxid && seg.last == recs[n - 1].zxid,
	      "header differs");
	for (size_t i = 0; i < n; i++)
		check(seg.recs[i].zxid == recs[i].zxid &&
			  seg.recs[i].epoch == recs[i].epoch &&
			  seg.recs[i].type == recs[i].type &&
			  seg.recs[i].len == recs[i].len &&
			  (!recs[i].len ||
			   memcmp(seg.recs[i].data, recs[i].data, recs[i].len) == 0),
		      "a record differs");
	archive_seg_free(&seg);
	drop_file(name);
}

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_archive.XXXXXX");
		check(mkdtemp(dir) != NULL, "mkdtemp");
		atexit(remove_dir);
	}
	as_file(data, size);
	round_trip(data, size);
	return 0;
}
