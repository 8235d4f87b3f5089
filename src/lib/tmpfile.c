/* tmpfile.c - creating a write-then-rename temporary file (tmpfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "tmpfile.h"

int tmpfile_create(const char *path, mode_t mode)
{
	int fd;

	/* unlink removes a link itself, never what it points to. */
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}
