/*
 * transport_resolve.c - peer host names resolved again before every dial,
 * off the event loop.
 *
 * A server.N line may name its host (zk3.example.com) rather than give an
 * address. Machines are replaced and DNS records move with them; a member
 * that resolved the name once, at start, would dial the old address for
 * ever (ZooKeeper resolves again on each connection attempt for the same
 * reason). getaddrinfo blocks, for seconds when a name server does not
 * answer, and the loop also carries the heartbeats: so one thread per
 * transport does the lookups, one at a time, and hands each answer back
 * through an eventfd.
 *
 * Ownership: the loop owns struct resolver until resolver_free; if the
 * thread is inside getaddrinfo then, it is detached and frees the struct
 * itself when the call returns (it never touches the transport: answers
 * name the peer by id, and the loop looks it up again).
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "transport_int.h"

struct ask {
	struct ask *next;
	uint32_t id;
	uint16_t port;
	char host[TRANSPORT_HOST_MAX];
	int rc; /* 0 or an EAI_* code */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct resolver {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	int running; /* the thread was started */
	int busy;    /* it is inside getaddrinfo */
	int stop;    /* the loop is done with it */
	struct ask *todo, *done;
	int fd;
	struct event *ev;
};

static void ask_free_list(struct ask *a)
{
	while (a) {
		struct ask *next = a->next;

		free(a);
		a = next;
	}
}

static void resolver_destroy(struct resolver *r)
{
	ask_free_list(r->todo);
	ask_free_list(r->done);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

static void *resolver_main(void *arg)
{
	struct resolver *r = arg;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct addrinfo *res = NULL;
		struct ask *a;
		char port[8];
		uint64_t one = 1;

		while (!r->todo && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		a = r->todo;
		r->todo = a->next;
		r->busy = 1;
		pthread_mutex_unlock(&r->mu);

		snprintf(port, sizeof(port), "%u", a->port);
		a->rc = getaddrinfo(a->host, port, &hints, &res);
		if (a->rc == 0 && (!res || res->ai_addrlen > sizeof(a->addr)))
			a->rc = EAI_FAIL;
		if (a->rc == 0) {
			memcpy(&a->addr, res->ai_addr, res->ai_addrlen);
			a->addr_len = res->ai_addrlen;
		}
		if (res)
			freeaddrinfo(res);

		pthread_mutex_lock(&r->mu);
		r->busy = 0;
		if (r->stop) {
			free(a);
			break;
		}
		a->next = r->done;
		r->done = a;
		/* The loop still owns fd while stop is 0 (checked under mu). */
		if (write(r->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("resolver: waking the loop");
	}
	/* stop: the loop has let go (resolver_free); whoever is last frees. */
	if (r->running == 2) {
		pthread_mutex_unlock(&r->mu);
		resolver_destroy(r);
		return NULL;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* The loop: answers are in. */
static void on_answers(evutil_socket_t fd, short what, void *arg)
{
	struct transport *t = arg;
	struct resolver *r = t->resolver;
	struct ask *list, *a;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("resolver: reading its eventfd");
	pthread_mutex_lock(&r->mu);
	list = r->done;
	r->done = NULL;
	pthread_mutex_unlock(&r->mu);
	while ((a = list)) {
		list = a->next;
		transport_resolved(t, a->id, a->rc ? -EHOSTUNREACH : 0,
				   a->rc ? gai_strerror(a->rc) : NULL,
				   (struct sockaddr *)&a->addr, a->addr_len);
		free(a);
	}
}

static int resolver_start(struct transport *t)
{
	struct resolver *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->fd < 0) {
		rc = -errno;
		goto fail;
	}
	r->ev = event_new(t->base, r->fd, EV_READ | EV_PERSIST, on_answers, t);
	if (!r->ev || event_add(r->ev, NULL)) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = pthread_create(&r->th, NULL, resolver_main, r);
	if (rc) {
		rc = -rc;
		goto fail;
	}
	pthread_setname_np(r->th, "qfs-resolve");
	r->running = 1;
	t->resolver = r;
	return 0;
fail:
	if (r->ev)
		event_free(r->ev);
	if (r->fd >= 0)
		close(r->fd);
	resolver_destroy(r);
	return rc;
}

int resolver_ask(struct transport *t, uint32_t id, const char *host, uint16_t port)
{
	struct resolver *r;
	struct ask *a;
	int rc;

	if (!t->resolver && (rc = resolver_start(t)) != 0)
		return rc;
	r = t->resolver;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->id = id;
	a->port = port;
	snprintf(a->host, sizeof(a->host), "%s", host);
	pthread_mutex_lock(&r->mu);
	a->next = r->todo;
	r->todo = a;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

void resolver_free(struct transport *t)
{
	struct resolver *r = t->resolver;
	int busy;

	if (!r)
		return;
	t->resolver = NULL;
	event_free(r->ev);
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	busy = r->busy;
	close(r->fd); /* under mu: the thread writes to it only with stop 0 */
	if (busy)
		r->running = 2; /* the thread frees it when getaddrinfo returns */
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (busy) {
		/* A name server that does not answer must not hold up a
		 * stopping daemon: let the lookup finish on its own. */
		pthread_detach(r->th);
		return;
	}
	pthread_join(r->th, NULL);
	resolver_destroy(r);
}
