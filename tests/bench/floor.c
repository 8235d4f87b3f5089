/*
 * floor.c - this machine's floor under one replicated write: three member
 * processes on loopback TCP, each appending the write to a file of its own
 * and flushing it, with nothing else in the way (no SQLite, no ZooKeeper
 * protocol, no event loop, no threads).
 *
 *   floor -D DIR [-d SECONDS] [-z BYTES] [-n]
 *
 * Why: the cluster benchmark's 1x1 write rows are one write at a time, so
 * they measure latency, and most of a write's latency here is the disk's
 * flush and the machine's cost per wake-up. This program takes the
 * shortest path any leader-based system with ZooKeeper's guarantees can
 * take for a write sent to a follower, and so says how far any software
 * could go on this machine:
 *
 *   client -> F1 (request) -> L (forwarded) -> F1, F2 (append)
 *   each member: pwrite + fdatasync; F1, F2 -> L (ack)
 *   L, with its own flush and one ack (2 of 3): -> F1, F2 (commit)
 *   F1 -> client (reply)
 *
 * Each member is one process blocking in poll, read and fdatasync; the
 * leader sends the append before it flushes, so the three flushes overlap
 * as they do in ZooKeeper and in quorumfs. The files are written in full
 * before the run, so a flush has no block allocation to do. Prints one
 * line in zkload's format, with the members' CPU per write:
 *
 *   RESULT op=floor sessions=1 pipeline=1 ops=N secs=S ops_per_s=X p50_us=A
 *          p99_us=B errors=0 cpu_us_per_op=C
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILE_BYTES  (16u << 20) /* each member's file; records wrap around */
#define MAX_PAYLOAD 4096
#define MAX_SAMPLES (1u << 22)

enum { M_REQ = 1, M_FWD, M_APPEND, M_ACK, M_COMMIT, M_REPLY };

struct hdr {
	uint32_t type;
	uint32_t len; /* payload bytes after the header */
	uint64_t seq;
};

static int payload = 100;
static int flush = 1; /* -n: no fdatasync, to see the hops' share alone */

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int read_full(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void write_full(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t r = write(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		/* A peer gone is the run ending: the client closes first and
		 * the members go down one after the other, so a member's last
		 * ack or commit can meet a closed socket. */
		if (r < 0 && (errno == EPIPE || errno == ECONNRESET))
			_exit(0);
		if (r <= 0)
			die("write");
		c += r;
		n -= (size_t)r;
	}
}

/* One message: header and payload in one write, as a real sender would. */
static void send_msg(int fd, uint32_t type, uint64_t seq, const char *data, uint32_t len)
{
	char buf[sizeof(struct hdr) + MAX_PAYLOAD];
	struct hdr h = {type, len, seq};

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), data, len);
	write_full(fd, buf, sizeof(h) + len);
}

/* Returns -1 at end of stream. */
static int recv_msg(int fd, struct hdr *h, char *data)
{
	if (read_full(fd, h, sizeof(*h)) < 0)
		return -1;
	if (h->len > MAX_PAYLOAD) {
		fprintf(stderr, "floor: message of %u bytes\n", h->len);
		exit(1);
	}
	return h->len ? read_full(fd, data, h->len) : 0;
}

struct log {
	int fd;
	off_t off;
};

static void log_open(struct log *lg, const char *dir, int id)
{
	char path[4096], zero[65536] = {0};

	snprintf(path, sizeof(path), "%s/floor.%d", dir, id);
	lg->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (lg->fd < 0)
		die(path);
	for (unsigned done = 0; done < FILE_BYTES; done += sizeof(zero))
		write_full(lg->fd, zero, sizeof(zero));
	if (fsync(lg->fd) < 0)
		die("fsync");
	lg->off = 0;
}

/* Appends one record (header + payload) and flushes it. */
static void log_append(struct log *lg, const struct hdr *h, const char *data)
{
	char rec[sizeof(*h) + MAX_PAYLOAD];
	size_t n = sizeof(*h) + h->len;

	memcpy(rec, h, sizeof(*h));
	memcpy(rec + sizeof(*h), data, h->len);
	if (lg->off + (off_t)n > (off_t)FILE_BYTES)
		lg->off = 0;
	if (pwrite(lg->fd, rec, n, lg->off) != (ssize_t)n)
		die("pwrite");
	if (flush && fdatasync(lg->fd) < 0)
		die("fdatasync");
	lg->off += (off_t)n;
}

static int tcp_listen(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		die("listen");
	*port = ntohs(a.sin_port);
	return fd;
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY");
}

static int tcp_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		die("accept");
	nodelay(fd);
	return fd;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	nodelay(fd);
	return fd;
}

/*
 * The leader: fds[0] is F1 (the followers say who they are first). It
 * sends the append, flushes its own copy, then waits for one ack: with its
 * own, two of three.
 */
static void run_leader(int lfd, const char *dir)
{
	int fds[2];
	struct log lg;
	struct hdr h;
	char data[MAX_PAYLOAD];

	for (int i = 0; i < 2; i++) {
		int fd = tcp_accept(lfd);
		uint8_t id;
		if (read_full(fd, &id, 1) < 0 || (id != 1 && id != 2))
			die("hello");
		fds[id - 1] = fd;
	}
	log_open(&lg, dir, 0);
	while (recv_msg(fds[0], &h, data) == 0) {
		uint64_t seq = h.seq;
		int acked = 0;

		if (h.type != M_FWD)
			continue;
		send_msg(fds[0], M_APPEND, seq, data, h.len);
		send_msg(fds[1], M_APPEND, seq, data, h.len);
		h.type = M_APPEND;
		log_append(&lg, &h, data);
		while (!acked) {
			struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				die("poll");
			}
			for (int i = 0; i < 2; i++) {
				if (!p[i].revents)
					continue;
				if (recv_msg(fds[i], &h, data) < 0)
					return;
				if (h.type == M_ACK && h.seq == seq)
					acked = 1;
			}
		}
		send_msg(fds[0], M_COMMIT, seq, NULL, 0);
		send_msg(fds[1], M_COMMIT, seq, NULL, 0);
		/* The other follower's ack arrives with the next write's. */
	}
}

/*
 * A follower. F1 (client >= 0) also takes the client's requests, forwards
 * them and answers once the leader says they committed.
 */
static void run_follower(uint8_t id, uint16_t lport, int cfd_listen, const char *dir)
{
	int lfd = tcp_connect(lport), cfd = -1;
	struct log lg;
	struct hdr h;
	char data[MAX_PAYLOAD];

	write_full(lfd, &id, 1);
	log_open(&lg, dir, id);
	if (cfd_listen >= 0)
		cfd = tcp_accept(cfd_listen);
	for (;;) {
		struct pollfd p[2] = {{lfd, POLLIN, 0}, {cfd, POLLIN, 0}};
		if (poll(p, cfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (cfd >= 0 && p[1].revents) {
			if (recv_msg(cfd, &h, data) < 0)
				return; /* the client is done: so is the cluster */
			send_msg(lfd, M_FWD, h.seq, data, h.len);
		}
		if (p[0].revents) {
			if (recv_msg(lfd, &h, data) < 0)
				return;
			if (h.type == M_APPEND) {
				log_append(&lg, &h, data);
				send_msg(lfd, M_ACK, h.seq, NULL, 0);
			} else if (h.type == M_COMMIT && cfd >= 0) {
				send_msg(cfd, M_REPLY, h.seq, NULL, 0);
			}
		}
	}
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* utime + stime of a process, in clock ticks. */
static unsigned long long cpu_ticks(pid_t pid)
{
	char path[64], buf[4096], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields count from its ')'. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		   &st) != 2)
		return 0;
	return ut + st;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int secs = 5, opt, lfd, cfd_listen, cfd, status, failed = 0;
	uint16_t lport, cport;
	pid_t pids[3];
	uint32_t *lat;
	char data[MAX_PAYLOAD];
	unsigned long long c0 = 0, c1 = 0;
	uint64_t ops = 0, seq = 0, t_end, t0;
	size_t n_lat = 0;

	while ((opt = getopt(argc, argv, "D:d:nz:")) != -1) {
		switch (opt) {
		case 'D':
			dir = optarg;
			break;
		case 'd':
			secs = atoi(optarg);
			break;
		case 'n':
			flush = 0;
			break;
		case 'z':
			payload = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (!dir || secs <= 0 || payload < 0 || payload > MAX_PAYLOAD)
		goto usage;
	memset(data, 'x', sizeof(data));
	if (!(lat = malloc(MAX_SAMPLES * sizeof(*lat))))
		die("malloc");
	lfd = tcp_listen(&lport);
	cfd_listen = tcp_listen(&cport);
	for (int i = 0; i < 3; i++) {
		if ((pids[i] = fork()) < 0)
			die("fork");
		if (pids[i] == 0) {
			alarm((unsigned)secs + 120); /* never outlive a lost parent */
			signal(SIGPIPE, SIG_IGN);    /* see write_full */
			if (i == 0)
				run_leader(lfd, dir);
			else
				run_follower((uint8_t)i, lport, i == 1 ? cfd_listen : -1, dir);
			_exit(0);
		}
	}
	close(lfd);
	cfd = tcp_connect(cport);
	close(cfd_listen);

	/* One second of warm-up, then the timed run. */
	t0 = now_us();
	t_end = t0 + 1000000u + (uint64_t)secs * 1000000u;
	for (int timed = 0;;) {
		uint64_t sent = now_us();
		struct hdr h;

		if (!timed && sent >= t0 + 1000000u) {
			timed = 1;
			t0 = sent;
			for (int i = 0; i < 3; i++)
				c0 += cpu_ticks(pids[i]);
		}
		if (sent >= t_end)
			break;
		send_msg(cfd, M_REQ, ++seq, data, (uint32_t)payload);
		if (recv_msg(cfd, &h, data) < 0 || h.type != M_REPLY || h.seq != seq) {
			fprintf(stderr, "floor: the cluster answered out of turn\n");
			failed = 1;
			break;
		}
		if (timed) {
			ops++;
			if (n_lat < MAX_SAMPLES)
				lat[n_lat++] = (uint32_t)(now_us() - sent);
		}
	}
	for (int i = 0; i < 3; i++)
		c1 += cpu_ticks(pids[i]);
	t_end = now_us();
	close(cfd);
	for (int i = 0; i < 3; i++)
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	for (int i = 0; i < 3; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/floor.%d", dir, i);
		unlink(path);
	}
	if (failed || ops == 0) {
		fprintf(stderr, "floor: the run failed\n");
		return 1;
	}
	qsort(lat, n_lat, sizeof(*lat), cmp_u32);
	{
		double s = (double)(t_end - t0) / 1e6;
		printf("RESULT op=floor sessions=1 pipeline=1 ops=%llu secs=%.1f ops_per_s=%.0f "
		       "p50_us=%u p99_us=%u errors=0 cpu_us_per_op=%.1f\n",
		       (unsigned long long)ops, s, (double)ops / s, lat[n_lat / 2],
		       lat[n_lat * 99 / 100],
		       (double)(c1 - c0) * 1e6 / (double)sysconf(_SC_CLK_TCK) / (double)ops);
	}
	free(lat);
	return 0;
usage:
	fprintf(stderr, "usage: floor -D DIR [-d SECONDS] [-z BYTES] [-n]\n");
	return 2;
}
