/* Token-bucket rate limits with a fake clock: bursts, Retry-After, refill, scale, per-key
 * independence, bounded memory with LRU eviction, long keys, checks that do not consume, and a
 * random run against a reference model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "auth/ratelimit.h"
#include "core/err.h"

#define T0 1700000000000LL

/* take1 takes one token and returns the retry_after (0 when allowed). */
static int64_t take1(rl_t *rl, const char *key, int64_t now)
{
    int64_t retry = -1;
    int rc = rl_take(rl, key, now, 1, &retry);
    if (rc == 0) {
        assert_int_equal(retry, 0);
        return 0;
    }
    assert_int_equal(rc, GV_ERATE_LIMITED);
    assert_true(retry >= 1);
    return retry;
}

/* 5 per minute: five at once, then one every 12 s, announced exactly by retry_after. */
static void test_burst_then_refusal(void **state)
{
    (void)state;
    rl_t *rl = rl_new(5, 5.0 / 60, 1, 100);
    assert_non_null(rl);
    for (int i = 0; i < 5; i++)
        assert_int_equal(take1(rl, "a@x.io", T0), 0);
    assert_int_equal(take1(rl, "a@x.io", T0), 12000);
    assert_int_equal(take1(rl, "a@x.io", T0 + 1), 11999); /* refusals do not consume */
    assert_int_equal(take1(rl, "a@x.io", T0 + 11999), 1);
    assert_int_equal(take1(rl, "a@x.io", T0 + 12000), 0);
    assert_int_equal(take1(rl, "a@x.io", T0 + 12000), 12000);
    /* a cost of 3 needs 3 tokens: 36 s from empty; ceil() of a fractional wait */
    int64_t retry = 0;
    assert_int_equal(rl_take(rl, "a@x.io", T0 + 12000, 3, &retry), GV_ERATE_LIMITED);
    assert_int_equal(retry, 36000);
    rl_free(rl);

    rl = rl_new(1, 3, 1, 10); /* 3 per second: 333.33 ms per token */
    assert_int_equal(take1(rl, "k", T0), 0);
    assert_int_equal(take1(rl, "k", T0), 334);
    assert_int_equal(take1(rl, "k", T0 + 333), 1);
    assert_int_equal(take1(rl, "k", T0 + 334), 0);
    rl_free(rl);
}

static void test_refill(void **state)
{
    (void)state;
    rl_t *rl = rl_new(5, 5.0 / 60, 1, 100);
    for (int i = 0; i < 5; i++)
        assert_int_equal(take1(rl, "ip", T0), 0);
    assert_true(take1(rl, "ip", T0) > 0);
    /* half a minute later: 2.5 tokens, two takes */
    assert_int_equal(take1(rl, "ip", T0 + 30000), 0);
    assert_int_equal(take1(rl, "ip", T0 + 30000), 0);
    assert_int_equal(take1(rl, "ip", T0 + 30000), 6000);
    /* an hour later the bucket is full but not fuller: five, then a refusal */
    for (int i = 0; i < 5; i++)
        assert_int_equal(take1(rl, "ip", T0 + 3600000), 0);
    assert_int_equal(take1(rl, "ip", T0 + 3600000), 12000);
    /* a clock that goes back gives nothing until it has caught up */
    assert_int_equal(take1(rl, "ip", T0), 3600000 + 12000);
    assert_int_equal(take1(rl, "ip", T0 + 3600000 + 11999), 1);
    assert_int_equal(take1(rl, "ip", T0 + 3600000 + 12000), 0);
    rl_free(rl);
}

static void test_keys_independent(void **state)
{
    (void)state;
    rl_t *rl = rl_new(2, 1, 1, 100);
    assert_int_equal(take1(rl, "a", T0), 0);
    assert_int_equal(take1(rl, "a", T0), 0);
    assert_true(take1(rl, "a", T0) > 0);
    assert_int_equal(take1(rl, "b", T0), 0);
    assert_int_equal(take1(rl, "A", T0), 0);
    assert_int_equal(take1(rl, "a ", T0), 0);
    assert_int_equal(take1(rl, "", T0), 0);
    assert_int_equal(take1(rl, "\xff\x01\n=", T0), 0);
    assert_int_equal(take1(rl, "\xff\x01\n=", T0), 0);
    assert_true(take1(rl, "\xff\x01\n=", T0) > 0);
    assert_true(take1(rl, "a", T0) > 0);
    assert_int_equal(rl_count(rl), 6);
    rl_free(rl);
}

static void test_scale(void **state)
{
    (void)state;
    rl_t *rl = rl_new(5, 5.0 / 60, 2, 100); /* 10 at once, 10 per minute */
    for (int i = 0; i < 10; i++)
        assert_int_equal(take1(rl, "k", T0), 0);
    assert_int_equal(take1(rl, "k", T0), 6000);
    rl_free(rl);

    rl = rl_new(5, 5.0 / 60, 0, 100); /* off */
    assert_non_null(rl);
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i % 7);
        assert_int_equal(take1(rl, key, T0), 0);
    }
    assert_int_equal(rl_count(rl), 0);
    rl_free(rl);
    rl = rl_new(5, 5.0 / 60, 0, 0); /* no table needed when off */
    assert_non_null(rl);
    assert_int_equal(take1(rl, "k", T0), 0);
    rl_free(rl);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_null(rl_new(0, 1, 1, 10));
    assert_null(rl_new(5, 0, 1, 10));
    assert_null(rl_new(-5, 1, 1, 10));
    assert_null(rl_new(5, 1, -1, 10));
    assert_null(rl_new(5, 1, NAN, 10));
    assert_null(rl_new(INFINITY, 1, 1, 10));
    assert_null(rl_new(5, 1, 1, 0));
    assert_null(rl_new(5, 1, 0.1, 10)); /* half a token: would refuse everything */
    rl_free(NULL);
    assert_int_equal(rl_count(NULL), 0);
    rl_t *rl = rl_new(2, 1, 1, 10);
    int64_t retry = 5;
    assert_int_equal(rl_take(rl, NULL, T0, 1, &retry), GV_EINVALID_REQUEST);
    assert_int_equal(rl_take(rl, "k", T0, -1, &retry), GV_EINVALID_REQUEST);
    assert_int_equal(rl_take(rl, "k", T0, NAN, &retry), GV_EINVALID_REQUEST);
    assert_int_equal(rl_take(rl, "k", T0, 3, &retry), GV_EINVALID_REQUEST); /* above burst */
    assert_int_equal(rl_take(rl, "k", T0, 2, NULL), 0);
    assert_int_equal(rl_take(rl, "k", T0, 1, NULL), GV_ERATE_LIMITED);
    rl_free(rl);
}

/* With room for 4 keys, a fifth evicts the least recently used; memory stays bounded. */
static void test_eviction_lru(void **state)
{
    (void)state;
    rl_t *rl = rl_new(1, 1.0 / 3600, 1, 4); /* one per hour: a drained bucket stays drained */
    const char *keys[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(take1(rl, keys[i], T0 + i), 0);
    assert_int_equal(rl_count(rl), 4);
    assert_true(take1(rl, "a", T0 + 10) > 0); /* a is now the most recently used */
    assert_int_equal(take1(rl, "e", T0 + 11), 0);
    assert_int_equal(rl_count(rl), 4);
    assert_true(take1(rl, "a", T0 + 12) > 0); /* kept its (empty) bucket */
    assert_true(take1(rl, "c", T0 + 13) > 0);
    assert_true(take1(rl, "d", T0 + 14) > 0);
    assert_true(take1(rl, "e", T0 + 15) > 0);
    assert_int_equal(take1(rl, "b", T0 + 16), 0); /* b was evicted: a fresh bucket */
    assert_int_equal(rl_count(rl), 4);
    /* now a was the least recently used; many new keys keep the count at 4 */
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof(key), "n%d", i);
        assert_int_equal(take1(rl, key, T0 + 100 + i), 0);
        assert_true(rl_count(rl) <= 4);
    }
    rl_free(rl);

    rl = rl_new(1, 1.0 / 3600, 1, 1); /* a single slot */
    assert_int_equal(take1(rl, "a", T0), 0);
    assert_true(take1(rl, "a", T0) > 0);
    assert_int_equal(take1(rl, "b", T0), 0);
    assert_int_equal(rl_count(rl), 1);
    assert_true(take1(rl, "b", T0) > 0);
    rl_free(rl);
}

/* A full bucket is the same as no bucket, so it goes first even if it is not the LRU one. */
static void test_eviction_prefers_full(void **state)
{
    (void)state;
    rl_t *rl = rl_new(2, 1, 1, 4); /* 2 at once, one per second */
    int64_t retry = 0;
    assert_int_equal(rl_take(rl, "lru", T0, 2, &retry), 0);  /* empty */
    assert_int_equal(rl_take(rl, "full", T0, 1, &retry), 0); /* 1 left */
    assert_int_equal(rl_take(rl, "g", T0 + 100, 2, &retry), 0);
    assert_int_equal(rl_take(rl, "h", T0 + 100, 2, &retry), 0);
    /* at +1100: lru has 1.1 tokens, full has 2 (full), g and h have 1.0 */
    assert_int_equal(take1(rl, "new", T0 + 1100), 0);
    assert_int_equal(rl_count(rl), 4);
    assert_int_equal(rl_take(rl, "lru", T0 + 1100, 2, &retry), GV_ERATE_LIMITED);
    assert_int_equal(retry, 900); /* still its own bucket: 0.9 tokens short at 1 per second */
    rl_free(rl);
}

/* Keys over RL_KEY_MAX are hashed whole: a shared prefix does not mean a shared bucket. */
static void test_long_keys(void **state)
{
    (void)state;
    rl_t *rl = rl_new(1, 1.0 / 3600, 1, 16);
    char k1[501], k2[501], prefix[RL_KEY_MAX + 1], k3[RL_KEY_MAX + 2];
    memset(k1, 'x', 500);
    k1[500] = '\0';
    memcpy(k2, k1, sizeof(k2));
    k2[499] = 'y'; /* same first 499 chars */
    memcpy(prefix, k1, RL_KEY_MAX);
    prefix[RL_KEY_MAX] = '\0';
    memcpy(k3, k1, RL_KEY_MAX + 1); /* one char over the limit */
    k3[RL_KEY_MAX + 1] = '\0';
    assert_int_equal(take1(rl, k1, T0), 0);
    assert_true(take1(rl, k1, T0) > 0);
    assert_int_equal(take1(rl, k2, T0), 0);
    assert_true(take1(rl, k2, T0) > 0);
    assert_int_equal(take1(rl, prefix, T0), 0);
    assert_true(take1(rl, prefix, T0) > 0);
    assert_int_equal(take1(rl, k3, T0), 0);
    assert_true(take1(rl, k3, T0) > 0);
    k2[20] = 'z';
    assert_int_equal(take1(rl, k2, T0), 0);
    assert_int_equal(rl_count(rl), 5);
    rl_free(rl);
}

static void test_check_does_not_consume(void **state)
{
    (void)state;
    rl_t *rl = rl_new(1, 1, 1, 8);
    int64_t retry = -1;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rl_take(rl, "k", T0, 0, &retry), 0);
        assert_int_equal(retry, 0);
    }
    assert_int_equal(rl_count(rl), 0); /* checking an unknown key stores nothing */
    assert_int_equal(rl_take(rl, "k", T0, 1, &retry), 0);
    assert_int_equal(rl_take(rl, "k", T0, 0, &retry), GV_ERATE_LIMITED);
    assert_int_equal(retry, 1000);
    assert_int_equal(rl_take(rl, "k", T0 + 400, 0, &retry), GV_ERATE_LIMITED);
    assert_int_equal(retry, 600);
    assert_int_equal(rl_take(rl, "k", T0 + 1000, 0, &retry), 0);
    assert_int_equal(rl_take(rl, "k", T0 + 1000, 0, &retry), 0);
    assert_int_equal(rl_take(rl, "k", T0 + 1000, 1, &retry), 0);
    assert_int_equal(rl_count(rl), 1);
    rl_free(rl);
}

/* The reference: the same bucket arithmetic on a plain array, no hashing and no eviction. */
typedef struct {
    double tokens;
    int64_t at_ms;
    int seen;
} ref_bucket_t;

static int ref_take(ref_bucket_t *b, double cap, double rate_ms, int64_t now)
{
    if (!b->seen) {
        b->seen = 1;
        b->tokens = cap;
        b->at_ms = now;
    }
    if (now > b->at_ms) {
        b->tokens = fmin(cap, b->tokens + ((double)now - (double)b->at_ms) * rate_ms);
        b->at_ms = now;
    }
    if (b->tokens >= 1 - 1e-9) {
        b->tokens = fmax(0, b->tokens - 1);
        return 0;
    }
    return GV_ERATE_LIMITED;
}

/* Random takes on 300 keys (more than the index has slots: chains) agree with the reference,
 * and every refusal's retry_after is exact: one ms earlier is refused, at it is allowed. */
static void test_random_against_model(void **state)
{
    (void)state;
    enum { KEYS = 300, STEPS = 200000 };
    rl_t *rl = rl_new(3, 2, 1, KEYS);
    ref_bucket_t *ref = calloc(KEYS, sizeof(*ref));
    assert_non_null(ref);
    srand(7);
    int64_t now = T0;
    int refused = 0;
    for (int i = 0; i < STEPS; i++) {
        now += rand() % 3;
        int k = rand() % KEYS;
        char key[32];
        snprintf(key, sizeof(key), "user-%d", k);
        int64_t retry = 0;
        int rc = rl_take(rl, key, now, 1, &retry);
        assert_int_equal(rc, ref_take(&ref[k], 3, 2.0 / 1000, now));
        if (rc) {
            refused++;
            ref_bucket_t probe = ref[k];
            assert_int_equal(ref_take(&probe, 3, 2.0 / 1000, now + retry - 1), GV_ERATE_LIMITED);
            probe = ref[k];
            assert_int_equal(ref_take(&probe, 3, 2.0 / 1000, now + retry), 0);
        }
    }
    assert_true(refused > STEPS / 10);
    assert_int_equal(rl_count(rl), KEYS);
    free(ref);
    rl_free(rl);
}

typedef struct {
    char keys[8][32];
    double costs[8];
    int n;
} heard_t;

static void heard(void *ctx, const char *key, double cost)
{
    heard_t *h = ctx;
    assert_true(h->n < 8);
    snprintf(h->keys[h->n], sizeof(h->keys[0]), "%s", key);
    h->costs[h->n++] = cost;
}

/* Two nodes' limiters of one limit: each tells the other of its takes (the observer), the other
 * debits them; together they allow the burst once, not once each. */
static void test_takes_told_to_another_limiter_count_there(void **state)
{
    (void)state;
    rl_t *a = rl_new(5, 5.0 / 60, 1, 16), *b = rl_new(5, 5.0 / 60, 1, 16);
    heard_t ha = {0}, hb = {0};
    rl_set_observer(a, heard, &ha);
    rl_set_observer(b, heard, &hb);
    int64_t retry = 0, t = 1000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(0, rl_take(a, "x@example.com", t, 1, &retry));
    assert_int_equal(0, rl_take(a, "x@example.com", t, 0, &retry)); /* a check: not told */
    assert_int_equal(3, ha.n);
    for (int i = 0; i < ha.n; i++) {
        assert_string_equal("x@example.com", ha.keys[i]);
        assert_true(ha.costs[i] == 1);
        assert_int_equal(0, rl_debit(b, ha.keys[i], t, ha.costs[i]));
    }
    assert_int_equal(0, hb.n); /* a debit is not a take of b's: never told back */
    assert_int_equal(0, rl_take(b, "x@example.com", t, 1, &retry));
    assert_int_equal(0, rl_take(b, "x@example.com", t, 1, &retry));
    assert_int_equal(GV_ERATE_LIMITED, rl_take(b, "x@example.com", t, 1, &retry));
    assert_true(retry > 0);
    assert_int_equal(0, rl_take(b, "y@example.com", t, 1, &retry)); /* other keys untouched */
    assert_int_equal(3, hb.n);                                      /* b's own takes: told */
    /* a debit below zero empties the bucket, and it refills from there */
    assert_int_equal(0, rl_debit(a, "z", t, 50));
    assert_int_equal(GV_ERATE_LIMITED, rl_take(a, "z", t, 1, &retry));
    assert_int_equal(0, rl_take(a, "z", t + retry, 1, &retry));
    assert_int_equal(GV_EINVALID_REQUEST, rl_debit(a, NULL, t, 1));
    assert_int_equal(GV_EINVALID_REQUEST, rl_debit(a, "z", t, 0));
    rl_free(a);
    rl_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refusal),
        cmocka_unit_test(test_refill),
        cmocka_unit_test(test_keys_independent),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_eviction_lru),
        cmocka_unit_test(test_eviction_prefers_full),
        cmocka_unit_test(test_long_keys),
        cmocka_unit_test(test_check_does_not_consume),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_takes_told_to_another_limiter_count_there),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
