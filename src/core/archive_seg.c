/*
 * archive_seg.c - the archive's log segment format and its durable file
 * writes (archive_seg.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_seg.h"
#include "buf.h"
#include "crc32c.h"
#include "tmpfile.h"

int archive_follows(zxid_t prev, zxid_t z)
{
	if (z == prev + 1 && zxid_counter(z) != 0)
		return 1;
	return zxid_epoch(z) > zxid_epoch(prev) && zxid_counter(z) <= 1;
}

void archive_seg_name(char *buf, size_t len, zxid_t first, zxid_t last)
{
	snprintf(buf, len, "log.%016llx-%016llx.qfa", (unsigned long long)first,
		 (unsigned long long)last);
}

static int cmp_file(const void *a, const void *b)
{
	const struct archive_file *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

int archive_list(const char *dir, struct archive_file **files, size_t *n)
{
	struct archive_file *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	unsigned long long a, b;
	struct dirent *e;
	DIR *d;
	int off;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		off = 0;
		if (sscanf(e->d_name, "log.%16llx-%16llx.qfa%n", &a, &b, &off) != 2 ||
		    off != 41 || e->d_name[off] != '\0')
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt].first = (zxid_t)a;
		v[cnt].last = (zxid_t)b;
		memcpy(v[cnt].name, e->d_name, 42); /* 41 characters and the NUL */
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_file);
	*files = v;
	*n = cnt;
	return 0;
}

int archive_seg_encode(const struct archive_rec *recs, size_t n, int64_t tmin,
		       int64_t tmax, uint8_t **out, size_t *out_len)
{
	struct buf b;
	size_t i;

	if (n == 0)
		return -EINVAL;
	buf_init(&b);
	buf_put(&b, ARCHIVE_SEG_MAGIC, 4);
	buf_put_u32(&b, ARCHIVE_SEG_VERSION);
	buf_put_u64(&b, recs[0].zxid);
	buf_put_u64(&b, recs[n - 1].zxid);
	buf_put_u64(&b, n);
	buf_put_u64(&b, (uint64_t)tmin);
	buf_put_u64(&b, (uint64_t)tmax);
	for (i = 0; i < n; i++) {
		buf_put_u64(&b, recs[i].zxid);
		buf_put_u32(&b, recs[i].epoch);
		buf_put_u8(&b, recs[i].type);
		buf_put_u32(&b, recs[i].len);
		buf_put(&b, recs[i].data, recs[i].len);
	}
	buf_put_u32(&b, crc32c(0, b.data, b.len));
	if (buf_failed(&b)) {
		buf_free(&b);
		return -ENOMEM;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}

static int read_all(const char *path, uint8_t **out, size_t *out_len)
{
	struct stat st;
	uint8_t *p;
	size_t got = 0;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	p = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!p) {
		rc = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, p + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			free(p);
			goto out_close;
		}
		got += (size_t)r;
	}
	*out = p;
	*out_len = got;
out_close:
	close(fd);
	return rc;
}

int archive_seg_load(const char *dir, const char *name, struct archive_seg *seg,
		     char *errbuf, size_t errlen)
{
	struct archive_seg s;
	char path[4400], want[64];
	struct rd r;
	uint32_t crc;
	uint64_t i;
	int rc;

	memset(&s, 0, sizeof(s));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = read_all(path, &s.buf, &s.len);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (s.len < ARCHIVE_SEG_HDR + 4 || memcmp(s.buf, ARCHIVE_SEG_MAGIC, 4) != 0) {
		snprintf(errbuf, errlen, "%s: not an archive log segment (%zu bytes, %s)",
			 path, s.len,
			 s.len < ARCHIVE_SEG_HDR + 4 ? "too short" : "bad magic");
		goto bad;
	}
	rd_init(&r, s.buf + s.len - 4, 4);
	crc = rd_u32(&r);
	if (crc != crc32c(0, s.buf, s.len - 4)) {
		snprintf(errbuf, errlen,
			 "%s: checksum mismatch (truncated or damaged: %zu bytes)", path,
			 s.len);
		goto bad;
	}
	rd_init(&r, s.buf + 4, s.len - 8);
	if (rd_u32(&r) != ARCHIVE_SEG_VERSION) {
		snprintf(errbuf, errlen, "%s: unknown segment version", path);
		goto bad;
	}
	s.first = rd_u64(&r);
	s.last = rd_u64(&r);
	s.count = rd_u64(&r);
	s.tmin = (int64_t)rd_u64(&r);
	s.tmax = (int64_t)rd_u64(&r);
	archive_seg_name(want, sizeof(want), s.first, s.last);
	if (strcmp(want, name) != 0 || s.count == 0 ||
	    s.count > (s.len - ARCHIVE_SEG_HDR) / 17) {
		snprintf(
		    errbuf, errlen,
		    "%s: header (0x%llx-0x%llx, %llu entries) does not match its name",
		    path, (unsigned long long)s.first, (unsigned long long)s.last,
		    (unsigned long long)s.count);
		goto bad;
	}
	s.recs = calloc((size_t)s.count, sizeof(*s.recs));
	if (!s.recs) {
		free(s.buf);
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (i = 0; i < s.count; i++) {
		struct archive_rec *e = &s.recs[i];

		e->zxid = rd_u64(&r);
		e->epoch = rd_u32(&r);
		e->type = rd_u8(&r);
		e->len = rd_u32(&r);
		if (rd_ok(&r) && e->len <= r.left) {
			e->data = r.p;
			r.p += e->len;
			r.left -= e->len;
		} else {
			r.bad = 1;
		}
		if (!rd_ok(&r)) {
			snprintf(errbuf, errlen, "%s: entry %llu runs past the end", path,
				 (unsigned long long)i);
			goto bad;
		}
		if (i && !archive_follows(s.recs[i - 1].zxid, e->zxid)) {
			snprintf(errbuf, errlen,
				 "%s: entry 0x%llx does not follow 0x%llx", path,
				 (unsigned long long)e->zxid,
				 (unsigned long long)s.recs[i - 1].zxid);
			goto bad;
		}
	}
	if (s.recs[0].zxid != s.first || s.recs[s.count - 1].zxid != s.last ||
	    r.left != 0) {
		snprintf(errbuf, errlen, "%s: entries do not match the header", path);
		goto bad;
	}
	*seg = s;
	return 0;
bad:
	free(s.recs);
	free(s.buf);
	return -EBADMSG;
}

int archive_seg_header(const char *dir, const char *name, struct archive_seg *seg,
		       char *errbuf, size_t errlen)
{
	uint8_t h[ARCHIVE_SEG_HDR];
	char path[4400], want[64];
	struct rd r;
	ssize_t n;
	int fd;

	memset(seg, 0, sizeof(*seg));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	n = read(fd, h, sizeof(h));
	close(fd);
	rd_init(&r, h + 4, sizeof(h) - 4);
	if (n != (ssize_t)sizeof(h) || memcmp(h, ARCHIVE_SEG_MAGIC, 4) != 0 ||
	    rd_u32(&r) != ARCHIVE_SEG_VERSION) {
		snprintf(errbuf, errlen, "%s: not an archive log segment (%s)", path,
			 n != (ssize_t)sizeof(h) ? "too short" : "bad magic or version");
		return -EBADMSG;
	}
	seg->first = rd_u64(&r);
	seg->last = rd_u64(&r);
	seg->count = rd_u64(&r);
	seg->tmin = (int64_t)rd_u64(&r);
	seg->tmax = (int64_t)rd_u64(&r);
	archive_seg_name(want, sizeof(want), seg->first, seg->last);
	if (strcmp(want, name) != 0) {
		snprintf(errbuf, errlen, "%s: header does not match its name", path);
		return -EBADMSG;
	}
	return 0;
}

void archive_seg_free(struct archive_seg *seg)
{
	free(seg->recs);
	free(seg->buf);
	memset(seg, 0, sizeof(*seg));
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Write all of p to fd. 0 or -errno. */
static int write_all(int fd, const void *p, size_t len)
{
	const uint8_t *q = p;
	ssize_t w;

	while (len) {
		w = write(fd, q, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		q += w;
		len -= (size_t)w;
	}
	return 0;
}

int archive_copy_file(const char *src, const char *dir, const char *name, char *errbuf,
		      size_t errlen)
{
	char tmp[4400], path[4400];
	static const size_t chunk = 1 << 20;
	uint8_t *b;
	ssize_t r;
	int in, out, rc = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: %s", src, strerror(errno));
		return rc;
	}
	b = malloc(chunk);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = b ? tmpfile_create(tmp, 0640) : -ENOMEM;
	if (out < 0) {
		rc = out;
		snprintf(errbuf, errlen, "%s: %s", tmp, strerror(-rc));
		goto err_after_open;
	}
	for (;;) {
		r = read(in, b, chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(errbuf, errlen, "reading %s: %s", src, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		rc = write_all(out, b, (size_t)r);
		if (rc) {
			snprintf(errbuf, errlen, "%s: %s", tmp, strerror(-rc));
			break;
		}
	}
	if (!rc && fsync(out) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: fsync: %s", tmp, strerror(errno));
	}
	close(out);
	if (!rc && rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
	}
	if (rc)
		unlink(tmp);
	else
		fsync_dir(dir);
err_after_open:
	free(b);
	close(in);
	return rc;
}

int archive_write_file(const char *dir, const char *name, const void *p, size_t len,
		       char *errbuf, size_t errlen)
{
	char tmp[4400], path[4400];
	const uint8_t *q = p;
	ssize_t w;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = tmpfile_create(tmp, 0640);
	if (fd < 0) {
		rc = fd;
		snprintf(errbuf, errlen, "%s: %s", tmp, strerror(-fd));
		return rc;
	}
	while (len) {
		w = write(fd, q, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			snprintf(errbuf, errlen, "%s: %s", tmp, strerror(errno));
			goto err_after_open;
		}
		q += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto err_after_open;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	fsync_dir(dir);
	return 0;
err_after_open:
	close(fd);
	unlink(tmp);
	return rc;
}
