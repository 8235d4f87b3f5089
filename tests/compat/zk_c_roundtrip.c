/*
 * zk_c_roundtrip.c - HOST:PORT PATH N: with Apache ZooKeeper's C client
 * (libzookeeper_mt, default settings) create PATH holding N bytes, read it
 * back and compare. Prints "ok", or the step and error, and exits 0 or 1.
 * Built by tests/compat/limits_zk.sh when the library is installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADED /* the synchronous API of libzookeeper_mt */
#include <zookeeper/zookeeper.h>

int main(int argc, char **argv)
{
	zhandle_t *zh;
	char *v, *back;
	int n, len, rc, i;
	struct Stat st;

	if (argc != 4)
		return 2;
	n = atoi(argv[3]);
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	zh = zookeeper_init(argv[1], NULL, 10000, NULL, NULL, 0);
	for (i = 0; zh && zoo_state(zh) != ZOO_CONNECTED_STATE && i < 100; i++)
		usleep(100 * 1000);
	if (!zh || zoo_state(zh) != ZOO_CONNECTED_STATE) {
		printf("connect failed\n");
		return 1;
	}
	v = malloc((size_t)n + 1);
	back = malloc((size_t)n + 1);
	if (!v || !back)
		return 1;
	memset(v, 'c', (size_t)n);
	rc = zoo_create(zh, argv[2], v, n, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
	if (rc != ZOK) {
		printf("create: %s\n", zerror(rc));
		return 1;
	}
	len = n + 1;
	rc = zoo_get(zh, argv[2], 0, back, &len, &st);
	if (rc != ZOK) {
		printf("get: %s\n", zerror(rc));
		return 1;
	}
	if (len != n || memcmp(v, back, (size_t)n) != 0) {
		printf("get: %d bytes back, expected %d\n", len, n);
		return 1;
	}
	zoo_delete(zh, argv[2], -1);
	zookeeper_close(zh);
	printf("ok\n");
	return 0;
}
