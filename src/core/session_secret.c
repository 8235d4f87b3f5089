/* session_secret.c - the per-dataDir secret behind session passwords; see
 * session.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "session.h"
#include "storage_sql.h"
#include "tmpfile.h"

static int read_all(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EBADMSG;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int create_secret(const char *dir, const char *path, uint8_t *secret, char *errbuf,
			 size_t errlen)
{
	char tmp[4200];
	ssize_t got;
	int fd, ret = 0;

	got = getrandom(secret, SESSION_SECRET_LEN, 0);
	if (got != SESSION_SECRET_LEN) {
		snprintf(errbuf, errlen, "getrandom: %s", strerror(errno));
		return -EIO;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = tmpfile_create(tmp, 0600);
	if (fd < 0) {
		ret = -errno;
		goto err;
	}
	if (write(fd, secret, SESSION_SECRET_LEN) != SESSION_SECRET_LEN || fsync(fd) < 0)
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (!ret)
		ret = storage_fsync_dir(dir);
	if (!ret)
		return 0;
err:
	snprintf(errbuf, errlen, "%s: %s", path, strerror(-ret));
	unlink(tmp);
	return ret;
}

int session_secret_load(const char *dir, uint8_t secret[SESSION_SECRET_LEN], char *errbuf,
			size_t errlen)
{
	char path[4096];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/session.secret", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return create_secret(dir, path, secret, errbuf, errlen);
	if (fd < 0) {
		ret = -errno;
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	ret = read_all(fd, secret, SESSION_SECRET_LEN);
	close(fd);
	if (ret)
		snprintf(errbuf, errlen,
			 "%s: %s (remove it to make a new one; open sessions "
			 "then need to reconnect)",
			 path, ret == -EBADMSG ? "too short" : strerror(-ret));
	return ret;
}
