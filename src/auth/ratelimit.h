/* In-memory token-bucket rate limits per key (e-mail, IP, user id), in constant memory: a fixed
 * table of buckets; when it is full the least recently used bucket is evicted. Pure: time is
 * passed in. */
#ifndef GAVEL_AUTH_RATELIMIT_H
#define GAVEL_AUTH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RL_KEY_MAX 96 /* longer keys are hashed down to this size, never truncated blindly */

typedef struct rl_s rl_t;

/* rl_new makes a limiter allowing `burst` requests at once and `per_s` requests per second
 * sustained, both multiplied by scale (scale 0 turns the limiter off: every take succeeds),
 * tracking at most max_keys keys. NULL when out of memory or on nonsensical arguments (burst or
 * per_s not > 0, scale < 0, burst * scale < 1, max_keys 0). */
rl_t *rl_new(double burst, double per_s, double scale, size_t max_keys);

/* rl_free releases the limiter. NULL is a no-op. */
void rl_free(rl_t *rl);

/* rl_take takes `cost` tokens from key's bucket at now_ms. cost 0 only checks that at least one
 * token is available. Returns 0 when allowed, or GV_ERATE_LIMITED with *retry_after_ms set to
 * when enough tokens will be back (>= 1 ms). GV_EINVALID_REQUEST for a NULL key, a negative or
 * non-finite cost, or a cost above burst * scale (no wait would ever allow it). Evicting an
 * unrelated key never lets a limited key through early by more than its own bucket would. */
int rl_take(rl_t *rl, const char *key, int64_t now_ms, double cost, int64_t *retry_after_ms);

/* Told of a take that was allowed: key and the tokens taken (> 0). */
typedef void (*rl_taken_fn)(void *ctx, const char *key, double cost);

/* rl_set_observer makes fn(ctx, ...) hear of every allowed take with a cost (NULL: none): a
 * cluster's node tells the others, which debit the same key (rl_debit), so a limit holds across
 * nodes. */
void rl_set_observer(rl_t *rl, rl_taken_fn fn, void *ctx);

/* rl_debit takes cost tokens from key's bucket at now_ms whatever it holds (it empties at 0):
 * another node's take of the same key. 0, or GV_EINVALID_REQUEST for a NULL key or a cost not
 * > 0. */
int rl_debit(rl_t *rl, const char *key, int64_t now_ms, double cost);

/* rl_count gives the number of keys currently tracked (for tests and metrics). */
size_t rl_count(const rl_t *rl);

#endif
