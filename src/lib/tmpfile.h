/*
 * tmpfile.h - creating the temporary file a write-then-rename goes through.
 *
 * Files are written as NAME.tmp (or similar), fsync'd and renamed over
 * NAME, so NAME is always whole. The temporary name is predictable, and
 * some of the directories are shared (a backup or archive directory):
 * opened with O_CREAT|O_TRUNC, a symbolic link planted at that name sends
 * the data, as root, into whatever file it points to. So the name is
 * cleared first and created exclusively, never followed.
 */
#ifndef QFS_TMPFILE_H
#define QFS_TMPFILE_H

#include <sys/types.h>

/*
 * Removes whatever is at path (a stale temporary file from a crash, or a
 * link) and creates a new file there for writing with the given mode
 * (O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC). Returns the descriptor,
 * or -errno (-EEXIST if something was put there again in between, -EISDIR
 * for a directory in the way), errno then set as well. The caller owns the
 * descriptor.
 */
int tmpfile_create(const char *path, mode_t mode);

#endif
