/*
 * log.h - the daemon's one log module.
 *
 * Foreground (-f): lines go to stderr with a timestamp; otherwise to syslog
 * (which journald collects), as text or as JSON lines (log_set_json).
 * log_debug prints only with -d. fatalx logs and exits(1): for startup
 * errors and broken invariants, never for bad input.
 */
#ifndef QFS_LOG_H
#define QFS_LOG_H

#include <stdarg.h>

void log_init(const char *ident, int foreground, int debug);
/*
 * logFormat=json: every later line is one JSON object (log.c's json_line
 * says which fields), to stderr or syslog as before; member (myid) is
 * added to each line when above 0. Lines before this call, such as a
 * configuration error, stay text.
 */
void log_set_json(int on, long member);
/*
 * While on, warnings and errors that go to syslog are also written to
 * stderr: a daemon starting in the background still has the terminal it
 * was started from, where a misconfiguration (an unknown key, say) must
 * show; main turns it off once the daemon is up and detached.
 */
void log_echo_stderr(int on);
int log_debug_enabled(void);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)". */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
