/* log.c - stderr or syslog logging; see log.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_fg = 1;
static int log_dbg;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The daemon forks children (snapshots, backups) that log: a child forked
 * while another thread held log_lock would wait for it for ever. Held
 * across every fork() instead, and released on both sides.
 */
static void log_fork_prepare(void)
{
	pthread_mutex_lock(&log_lock);
}

static void log_fork_done(void)
{
	pthread_mutex_unlock(&log_lock);
}

__attribute__((constructor)) static void log_register_fork(void)
{
	pthread_atfork(log_fork_prepare, log_fork_done, log_fork_done);
}

void log_init(const char *ident, int foreground, int debug)
{
	log_fg = foreground;
	log_dbg = debug;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_debug_enabled(void)
{
	return log_dbg;
}

static void log_vemit(int prio, const char *errstr, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void log_vemit(int prio, const char *errstr, const char *fmt, va_list ap)
{
	char msg[2048];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return;
	if (errstr)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), ": %s", errstr);
	if (log_fg) {
		struct timespec ts;
		struct tm tm;
		char when[32];
		static const char *const names[] = {[LOG_ERR] = "error", [LOG_WARNING] = "warn",
						    [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		pthread_mutex_lock(&log_lock);
		fprintf(stderr, "%s.%03ld %s %s\n", when, ts.tv_nsec / 1000000,
			names[prio] ? names[prio] : "log", msg);
		pthread_mutex_unlock(&log_lock);
	} else {
		syslog(prio, "%s", msg);
	}
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_dbg)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, e, fmt, ap);
	va_end(ap);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
