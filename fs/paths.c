/*
 * paths.c - znode path arithmetic and name checks shared by the handlers.
 *
 * Paths are ZooKeeper's: absolute, "/"-separated, "/" alone is the root.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"
#include "zerr.h"

int qfs_name_check(const char *name)
{
	return strlen(name) > QFS_NAME_MAX ? ENAMETOOLONG : 0;
}

int qfs_path_system(const char *zpath)
{
	static const char sys[] = "/zookeeper";

	return strncmp(zpath, sys, sizeof(sys) - 1) == 0 &&
	       (zpath[sizeof(sys) - 1] == '\0' || zpath[sizeof(sys) - 1] == '/');
}

/* dir + "/" + name, malloc'd (caller frees); NULL on ENOMEM. */
char *qfs_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p;

	if (dl == 1 && dir[0] == '/')
		dl = 0; /* the root: no doubled slash */
	p = malloc(dl + 1 + nl + 1);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

int qfs_child_path(struct qfs_mount *m, fuse_ino_t parent, const char *name, int replay,
		   struct qfs_inode **pin_out, const struct znode **pn_out, char **path_out)
{
	struct qfs_inode *pin = qfs_inode_get(m, parent);
	const struct znode *pn;
	char *path;

	if (!pin)
		return ESTALE;
	if (pin->is_data || !pin->is_dir)
		return ENOTDIR;
	pn = qfs_inode_node(m, pin);
	if (!pn && !replay)
		return ENOENT;
	path = qfs_path_join(pin->path, name);
	if (!path)
		return ENOMEM;
	*pin_out = pin;
	*pn_out = pn;
	*path_out = path;
	return 0;
}

int qfs_new_name_check(const char *name, const char *path)
{
	int err = qfs_name_check(name);

	if (err)
		return err;
	if (qfs_path_system(path))
		return EPERM;
	if (strcmp(name, QFS_DATA_NAME) == 0 || path_validate(path) != ZOK)
		return EINVAL;
	return 0;
}

/* The parent's path, malloc'd (caller frees); NULL on ENOMEM. */
char *qfs_path_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	char *p;

	if (n == 0)
		return strdup("/");
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, path, n);
	p[n] = '\0';
	return p;
}

/* The last component; borrowed from path. */
const char *qfs_path_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}
