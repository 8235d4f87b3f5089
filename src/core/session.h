/*
 * session.h - the session clock: ids, passwords and expiry of the sessions
 * this server tracks (ZooKeeper's SessionTrackerImpl and ExpiryQueue).
 *
 * Expiry is bucketed by tick: a session touched at `now` with timeout T
 * expires at roundUp(now + T, tick), so one timer per tick expires whole
 * buckets and a touch only moves a session when its bucket changes. The
 * buckets are a ring of (max_timeout / tick + 2) lists indexed by
 * expiry / tick, which never wraps onto a live bucket because no session
 * expires more than max_timeout + tick ahead.
 *
 * Times are milliseconds on a monotonic clock, given by the caller. Runs on
 * the loop thread only.
 */
#ifndef QFS_SESSION_H
#define QFS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define SESSION_SECRET_LEN 32

struct sesstrack;

/* Returns NULL on ENOMEM. secret is copied. */
struct sesstrack *sesstrack_new(int64_t server_id, int32_t tick_ms,
				int32_t max_timeout_ms,
				const uint8_t secret[SESSION_SECRET_LEN],
				int64_t wall_ms);
void sesstrack_free(struct sesstrack *st);

/*
 * A new session id: (server_id << 56) | a counter seeded from the wall clock
 * ((ms << 24) >> 8, as ZooKeeper's initializeNextSessionId), kept above
 * every id already tracked so a restart in the same millisecond cannot
 * reuse one.
 */
int64_t sesstrack_next_id(struct sesstrack *st);

/* Track id (created, or found at recovery) as touched at now. 0 or -ENOMEM;
 * an already tracked id just gets its timeout and a touch. */
int sesstrack_add(struct sesstrack *st, int64_t id, int32_t timeout_ms, int64_t now_ms);
/* Heard from the session: 0, or -ENOENT if unknown or closing. */
int sesstrack_touch(struct sesstrack *st, int64_t id, int64_t now_ms);
/* Every tracked session (not closing) touched at now: after the loop was
 * held for longer than a tick, the silence was the server's, not the
 * clients'. */
void sesstrack_touch_all(struct sesstrack *st, int64_t now_ms);
/* Mark closing (no more touches, no expiry): 0, or -ENOENT. */
int sesstrack_set_closing(struct sesstrack *st, int64_t id);
void sesstrack_remove(struct sesstrack *st, int64_t id);
size_t sesstrack_count(const struct sesstrack *st);
/* fn(arg, id, expiry) for every tracked session not closing, in no order;
 * expiry is the bucket time it expires at, on the caller's clock. */
void sesstrack_foreach(const struct sesstrack *st,
		       void (*fn)(void *arg, int64_t id, int64_t expire_ms), void *arg);

/*
 * Pop the sessions whose bucket time has come, up to max of them, into ids;
 * they are marked closing (the caller logs their closeSession). Returns the
 * count; call again while it returns max.
 */
size_t sesstrack_expire(struct sesstrack *st, int64_t now_ms, int64_t *ids, size_t max);

/* The first 16 bytes of HMAC-SHA256(secret, id as 8 big-endian bytes). */
void sesstrack_password(const struct sesstrack *st, int64_t id, uint8_t pw[16]);

/*
 * The per-dataDir secret behind passwords: dir/session.secret, 32 random
 * bytes, created on first use (written to a temp name, fsync'd, renamed) so
 * passwords survive restarts. Returns 0 or a negative errno with errbuf set.
 */
int session_secret_load(const char *dir, uint8_t secret[SESSION_SECRET_LEN], char *errbuf,
			size_t errlen);

#endif
