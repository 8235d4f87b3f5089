/*
 * quorumctl_backup.c - quorumctl backup: an online backup of the cluster
 * into a standalone SQLite file (the snapshot format of quorumctl(8) and
 * quorumadm(8)), streamed from the server with QOP_BACKUP
 * (src/zks/zks_backup.c).
 *
 * First a sync, so that the server's replica holds every write committed
 * before the command started; then the server forks a writer and answers
 * with the file's zxid, size and CRC-32C; then the file is read in chunks,
 * CTL_BACKUP_WINDOW requests in flight (replies come in request order), into
 * FILE.tmp, which is checked against that size and CRC, fsync'd and renamed
 * to FILE. So FILE either is a complete, checked backup or is untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "crc32c.h"
#include "quorumctl.h"
#include "tmpfile.h"
#include "txn.h"
#include "zerr.h"

#define CTL_BACKUP_CHUNK  (512 * 1024)
#define CTL_BACKUP_WINDOW 4

struct backup_run {
	struct ctl *x;
	int fd;
	const char *tmp;
	int64_t zxid;
	uint64_t size, next_off, done_off;
	uint32_t want_crc, crc;
	int inflight;
	int err;      /* first ZooKeeper error, or ZOK */
	int io_errno; /* first write failure */
	int progress; /* show progress (stderr is a terminal) */
	double t0, last_shown;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show_progress(struct backup_run *b, int last)
{
	double t = now_s(), rate;

	if (!b->progress || (!last && t - b->last_shown < 0.2))
		return;
	b->last_shown = t;
	rate = (double)b->done_off / (t - b->t0 > 1e-3 ? t - b->t0 : 1e-3);
	fprintf(
	    stderr, "\rbackup: %" PRIu64 "/%" PRIu64 " MiB, %.1f MiB/s, %.0f s left  %s",
	    b->done_off >> 20, b->size >> 20, rate / 1048576.0,
	    rate > 0 ? (double)(b->size - b->done_off) / rate : 0.0, last ? "\n" : "");
}

static void on_start(struct ctl *x, const struct zkc_reply *r, void *arg)
{
	struct backup_run *b = arg;
	const struct jute_qfs_backup_response *res = &r->body.qfs_backup_response;

	if (r->err != ZOK || r->rec != JUTE_REC_qfs_backup_response)
		return;
	b->zxid = res->zxid;
	b->size = (uint64_t)res->size;
	b->want_crc = (uint32_t)res->crc;
}

static void send_next(struct backup_run *b);

static void on_chunk(void *arg, const struct zkc_reply *r)
{
	struct backup_run *b = arg;
	const struct jute_qfs_backup_response *res = &r->body.qfs_backup_response;
	size_t n, off = 0;

	b->inflight--;
	if (b->err != ZOK || b->io_errno)
		return;
	if (r->err != ZOK || r->rec != JUTE_REC_qfs_backup_response) {
		b->err = r->err != ZOK ? r->err : ZMARSHALLINGERROR;
		return;
	}
	n = res->data.len > 0 ? (size_t)res->data.len : 0;
	if (n == 0 || b->done_off + n > b->size) {
		b->err = ZMARSHALLINGERROR; /* the server must not stop short */
		return;
	}
	while (off < n) {
		ssize_t w = pwrite(b->fd, res->data.data + off, n - off,
				   (off_t)(b->done_off + off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			b->io_errno = errno;
			return;
		}
		off += (size_t)w;
	}
	b->crc = crc32c(b->crc, res->data.data, n);
	b->done_off += n;
	show_progress(b, 0);
	send_next(b);
}

/* Keep CTL_BACKUP_WINDOW chunk requests in flight. Each asks for a full
 * chunk at the next offset; the server gives that much except at the end. */
static void send_next(struct backup_run *b)
{
	while (b->inflight < CTL_BACKUP_WINDOW && b->next_off < b->size &&
	       b->err == ZOK && !b->io_errno) {
		struct jute_qfs_backup_request q = {(int64_t)b->next_off,
						    CTL_BACKUP_CHUNK};

		if (zkc_submit(b->x->zk, QOP_BACKUP, &q, on_chunk, b) < 0) {
			b->err = ZCONNECTIONLOSS;
			return;
		}
		b->inflight++;
		b->next_off += CTL_BACKUP_CHUNK;
	}
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

static const struct option backup_opts[] = {
    {"force", no_argument, NULL, 'f'},
    {NULL, 0, NULL, 0},
};

int ctl_cmd_backup(struct ctl *x, int argc, char **argv)
{
	struct jute_qfs_backup_request start = {-1, 0};
	struct jute_sync_request sync = {"/"};
	struct backup_run b;
	char tmp[4200];
	const char *file;
	struct stat sb;
	double secs;
	int opt, force = 0, rc;

	while ((opt = getopt_long(argc, argv, "+f", backup_opts, NULL)) != -1) {
		if (opt != 'f') {
			fprintf(stderr, "usage: quorumctl backup [--force] FILE\n");
			return CTL_EXIT_USAGE;
		}
		force = 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: quorumctl backup [--force] FILE\n");
		return CTL_EXIT_USAGE;
	}
	file = argv[optind];
	if (stat(file, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "quorumctl: backup: %s is a directory: give the backup "
				"file's name\n",
			file);
		return CTL_EXIT_USAGE;
	}
	if (!force && access(file, F_OK) == 0) {
		fprintf(stderr, "quorumctl: backup: %s exists (--force replaces it)\n",
			file);
		return CTL_EXIT_USAGE;
	}
	memset(&b, 0, sizeof(b));
	b.x = x;
	b.fd = -1;
	b.progress = isatty(2);
	b.t0 = now_s();
	/* Up to date with the leader before the snapshot is taken. */
	rc = ctl_call(x, ZOP_SYNC, &sync, NULL, NULL);
	if (rc != ZOK)
		return ctl_zk_fail(x, "backup: sync", rc);
	rc = ctl_call(x, QOP_BACKUP, &start, on_start, &b);
	if (rc == ZNOAUTH) {
		fprintf(stderr,
			"quorumctl: backup: refused: a backup needs a session with "
			"every permission on / or super (--auth "
			"digest:USER:PASSWORD)\n");
		return CTL_EXIT_ZK;
	}
	if (rc == ZUNIMPLEMENTED) {
		fprintf(stderr, "quorumctl: backup: the server does not offer backups "
				"(not quorumfs, or an older one)\n");
		return CTL_EXIT_ZK;
	}
	if (rc != ZOK)
		return ctl_zk_fail(x, "backup (the server's log says why)", rc);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	b.tmp = tmp;
	b.fd = tmpfile_create(tmp, 0600);
	if (b.fd < 0) {
		fprintf(stderr, "quorumctl: backup: %s: %s\n", tmp, strerror(-b.fd));
		return CTL_EXIT_FILE;
	}
	send_next(&b);
	while (b.inflight > 0 && !x->lost)
		event_base_loop(x->base, EVLOOP_ONCE);
	if (x->lost && b.err == ZOK && b.done_off < b.size)
		b.err = ZCONNECTIONLOSS;
	show_progress(&b, 1);
	if (b.io_errno) {
		fprintf(stderr, "quorumctl: backup: writing %s: %s\n", tmp,
			strerror(b.io_errno));
		rc = CTL_EXIT_FILE;
		goto err_unlink;
	}
	if (b.err != ZOK) {
		rc = ctl_zk_fail(x, "backup: reading the file", b.err);
		goto err_unlink;
	}
	if (b.done_off != b.size || b.crc != b.want_crc) {
		fprintf(stderr,
			"quorumctl: backup: the copy does not match the server's file "
			"(%" PRIu64 " of %" PRIu64
			" bytes, CRC-32C %08x, expected %08x)\n",
			b.done_off, b.size, b.crc, b.want_crc);
		rc = CTL_EXIT_ZK;
		goto err_unlink;
	}
	if (fsync(b.fd) < 0 || close(b.fd) < 0) {
		b.fd = -1;
		fprintf(stderr, "quorumctl: backup: %s: %s\n", tmp, strerror(errno));
		rc = CTL_EXIT_FILE;
		goto err_unlink;
	}
	b.fd = -1;
	if (rename(tmp, file) < 0 || fsync_dir_of(file) < 0) {
		fprintf(stderr, "quorumctl: backup: %s: %s\n", file, strerror(errno));
		rc = CTL_EXIT_FILE;
		goto err_unlink;
	}
	secs = now_s() - b.t0;
	printf("backup %s: zxid 0x%" PRIx64 ", %" PRIu64 " bytes, CRC-32C %08x, %.2f s\n",
	       file, (uint64_t)b.zxid, b.size, b.crc, secs);
	return CTL_EXIT_OK;

err_unlink:
	if (b.fd >= 0)
		close(b.fd);
	unlink(tmp);
	return rc;
}
