/* datadir.c - writing and loading quorumfs data directories (adm.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adm.h"
#include "cons.h"
#include "logstore.h"
#include "snapshot.h"
#include "tmpfile.h"
#include "txn.h"
#include "zerr.h"

int adm_map(const char *path, const void **p, size_t *n)
{
	struct stat sb;
	void *m;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return -errno;
	}
	if (!S_ISREG(sb.st_mode)) {
		/* (mmap would say ENODEV, which names nothing a user did) */
		close(fd);
		return S_ISDIR(sb.st_mode) ? -EISDIR : -EINVAL;
	}
	*n = (size_t)sb.st_size;
	if (*n == 0) {
		close(fd);
		*p = "";
		return 0;
	}
	m = mmap(NULL, *n, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	*p = m;
	return 0;
}

void adm_unmap(const void *p, size_t n)
{
	if (n)
		munmap((void *)p, n);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Write a small file durably (under a .tmp name, fsync'd, renamed). */
static int write_small(const char *dir, const char *name, const char *text)
{
	char path[4400], tmp[4500];
	size_t len = strlen(text);
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = tmpfile_create(tmp, 0600);
	if (fd < 0)
		return fd;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}

static void ls_done(struct logstore_req *req, int status)
{
	*(int *)req->data = status;
}

/* An empty log that starts after zxid, in the epoch of zxid. */
static int write_log(const char *dir, zxid_t zxid, char *errbuf, size_t errlen)
{
	struct logstore *ls = NULL;
	struct logstore_state st;
	struct logstore_meta m;
	struct logstore_req req;
	char path[4400];
	int rc, status = 0;

	snprintf(path, sizeof(path), "%s/txnlog.db", dir);
	rc = logstore_open(path, NULL, &ls, &st, errbuf, errlen);
	if (rc)
		return rc;
	memset(&req, 0, sizeof(req));
	req.data = &status;
	rc = logstore_reset(ls, &req, zxid, ls_done);
	if (!rc)
		rc = status;
	if (!rc) {
		m = *logstore_meta(ls);
		m.accepted_epoch = m.current_epoch = zxid_epoch(zxid);
		m.snapshot_zxid = m.commit_zxid = zxid;
		memset(&req, 0, sizeof(req));
		req.data = &status;
		rc = logstore_set_meta(ls, &req, &m, ls_done);
		if (!rc)
			rc = status;
	}
	if (rc)
		snprintf(errbuf, errlen, "%s: %s", path,
			 req.errmsg[0] ? req.errmsg : strerror(-rc));
	logstore_close(ls);
	return rc;
}

/* Empty (or absent: then created) directory? 1 yes, 0 no, <0 error. */
static int dir_empty(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int empty = 1;

	if (!d)
		return errno == ENOENT ? 1 : -errno;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static void rm_tree_flat(const char *dir)
{
	struct dirent *e;
	char p[4400];
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

static void parent_dir(const char *dir, char *buf, size_t len)
{
	const char *s = strrchr(dir, '/');

	if (!s)
		snprintf(buf, len, ".");
	else if (s == dir)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(s - dir), dir);
}

int adm_datadir_lock(const char *dir, int *fd, char *errbuf, size_t errlen)
{
	char path[4200];

	*fd = -1;
	snprintf(path, sizeof(path), "%s/lock", dir);
	*fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return 0; /* no lock file: no daemon ever ran here */
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		close(*fd);
		*fd = -1;
		snprintf(errbuf, errlen,
			 "%s is in use by a running quorumfs: stop it first", dir);
		return -EBUSY;
	}
	return 0;
}

/*
 * A data directory given as a symbolic link (to a disk mounted elsewhere,
 * say) is written where the link points: renaming the new directory onto
 * the link would fail, and replacing the link would leave the disk unused.
 */
static const char *resolve_dir(const char *dir, char *buf, size_t len)
{
	struct stat sb;
	char *r;

	if (lstat(dir, &sb) < 0 || !S_ISLNK(sb.st_mode))
		return dir;
	r = realpath(dir, NULL);
	if (!r)
		return dir;
	snprintf(buf, len, "%s", r);
	free(r);
	return buf;
}

static int datadir_write_locked(const struct tree *t, zxid_t zxid, const char *dir,
				const char *cluster_name, int force, int empty,
				const char *origin, char *aside, size_t aside_len,
				char *errbuf, size_t errlen)
{
	char tmp[4200], old[4200], parent[4200], text[1024];
	uint8_t id[16];
	int rc;

	if (!empty && !force) {
		snprintf(errbuf, errlen,
			 "%s is not empty: give an empty or new directory, or --force "
			 "to move it aside",
			 dir);
		return -ENOTEMPTY;
	}
	if (cluster_name && (!*cluster_name || strlen(cluster_name) > 255 ||
			     strpbrk(cluster_name, "\n\r"))) {
		snprintf(errbuf, errlen, "--name: 1 to 255 characters, one line");
		return -EINVAL;
	}
	snprintf(tmp, sizeof(tmp), "%s.quorumadm-tmp.%ld", dir, (long)getpid());
	rm_tree_flat(tmp);
	if (mkdir(tmp, 0700) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: %s", tmp, strerror(errno));
		return rc;
	}
	rc = snapshot_write(t, tmp, zxid, errbuf, errlen);
	if (rc)
		goto err;
	rc = write_log(tmp, zxid, errbuf, errlen);
	if (rc)
		goto err;
	snprintf(text, sizeof(text), "quorumfs-data %d\n", ADM_DATA_FORMAT);
	rc = write_small(tmp, "VERSION", text);
	if (!rc && getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		rc = -EIO;
	if (!rc) {
		snprintf(text, sizeof(text),
			 "quorumfs-cluster 1\nname %s\n"
			 "id %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x%02x%02x%02x%02x\n"
			 "zxid 0x%llx\ncreated %lld\norigin %s\n",
			 cluster_name ? cluster_name : "quorumfs", id[0], id[1], id[2],
			 id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11],
			 id[12], id[13], id[14], id[15], (unsigned long long)zxid,
			 (long long)time(NULL), origin ? origin : "-");
		rc = write_small(tmp, "CLUSTER", text);
	}
	if (!rc)
		rc = fsync_dir(tmp);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", tmp, strerror(-rc));
		goto err;
	}
	/* Into place: an empty dir is replaced by rename itself; a full one
	 * (--force) is moved aside first, never deleted. */
	if (!empty) {
		snprintf(old, sizeof(old), "%s.replaced-%lld", dir,
			 (long long)time(NULL));
		if (rename(dir, old) < 0) {
			rc = -errno;
			snprintf(errbuf, errlen, "moving %s aside: %s", dir,
				 strerror(errno));
			goto err;
		}
		if (aside)
			snprintf(aside, aside_len, "%s", old);
	}
	if (rename(tmp, dir) < 0) {
		rc = -errno;
		snprintf(errbuf, errlen, "renaming %s to %s: %s", tmp, dir,
			 strerror(errno));
		goto err;
	}
	parent_dir(dir, parent, sizeof(parent));
	fsync_dir(parent);
	return 0;
err:
	rm_tree_flat(tmp);
	return rc;
}

int adm_datadir_write(const struct tree *t, zxid_t zxid, const char *dir,
		      const char *cluster_name, int force, const char *origin,
		      char *aside, size_t aside_len, char *errbuf, size_t errlen)
{
	char parent[4200], real[4096];
	struct stat sb;
	int rc, empty, lock_fd;

	if (aside && aside_len)
		aside[0] = '\0';
	dir = resolve_dir(dir, real, sizeof(real));
	parent_dir(dir, parent, sizeof(parent));
	if (stat(parent, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(errbuf, errlen, "%s: its parent directory %s is not there",
			 dir, parent);
		return -ENOENT;
	}
	empty = dir_empty(dir);
	if (empty < 0) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(-empty));
		return empty;
	}
	/* Held until the directory is moved aside (and closed with it): a
	 * running daemon refuses this, and none can start meanwhile. */
	rc = adm_datadir_lock(dir, &lock_fd, errbuf, errlen);
	if (rc)
		return rc;
	rc = datadir_write_locked(t, zxid, dir, cluster_name, force, empty, origin,
				  aside, aside_len, errbuf, errlen);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

/*
 * The log's entries after the snapshot, up to the commit watermark; each
 * payload's header is core_format.h's.
 */

static int replay_log(const char *dir, struct tree *t, zxid_t *zxid, int committed_only,
		      uint64_t *past, char *errbuf, size_t errlen)
{
	struct logstore *ls = NULL;
	struct logstore_state st;
	struct logstore_req req;
	struct zresult res;
	struct ztxn *txn;
	char path[4400];
	zxid_t end;
	size_t i;
	int rc;

	*past = 0;
	snprintf(path, sizeof(path), "%s/txnlog.db", dir);
	if (access(path, F_OK) < 0)
		return 0;
	rc = logstore_open(path, NULL, &ls, &st, errbuf, errlen);
	if (rc)
		return rc;
	memset(&req, 0, sizeof(req));
	end = committed_only ? st.meta.commit_zxid : st.last_zxid;
	if (end <= *zxid)
		goto out;
	rc = logstore_read_sync(ls, &req, *zxid + 1, end, SIZE_MAX);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", path, req.errmsg);
		goto out;
	}
	for (i = 0; i < req.n_entries; i++) {
		const struct logstore_entry *e = &req.entries[i];
		const uint8_t *d = e->data;

		if (e->zxid > st.meta.commit_zxid)
			(*past)++;
		/* EPOCH and CONFIG (membership) entries, and no-ops, change
		 * no node; they take their zxid. */
		if (!core_entry_is_txn(e->type, d, e->len)) {
			tree_set_last_zxid(t, e->zxid);
			*zxid = e->zxid;
			continue;
		}
		txn = NULL;
		rc = txn_decode(d + CORE_ENTRY_HDR, e->len - CORE_ENTRY_HDR, &txn);
		memset(&res, 0, sizeof(res));
		if (rc == ZOK)
			rc = tree_apply(t, NULL, txn, &res);
		zresult_free(&res);
		if (txn)
			txn_free(txn);
		if (rc != ZOK) {
			snprintf(errbuf, errlen, "%s: entry 0x%llx does not apply (%s)",
				 path, (unsigned long long)e->zxid, zerr_str(rc));
			rc = -EBADMSG;
			goto out;
		}
		*zxid = e->zxid;
	}
out:
	logstore_req_release(&req);
	logstore_close(ls);
	return rc;
}

int adm_datadir_load(const char *dir, struct tree *t, zxid_t *zxid, int committed_only,
		     uint64_t *past, char *errbuf, size_t errlen)
{
	zxid_t *zxids = NULL;
	size_t n = 0;
	char path[4200];
	int rc;

	rc = snapshot_list(dir, &zxids, &n);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	if (n == 0) {
		free(zxids);
		snprintf(errbuf, errlen,
			 "%s: no snapshot.*.db (not a quorumfs data directory)", dir);
		return -ENOENT;
	}
	snapshot_path(path, sizeof(path), dir, zxids[0]);
	free(zxids);
	rc = snapshot_load(path, t, zxid, errbuf, errlen);
	if (!rc)
		rc = replay_log(dir, t, zxid, committed_only, past, errbuf, errlen);
	return rc;
}
