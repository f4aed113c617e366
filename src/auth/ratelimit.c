/* Token-bucket rate limits in constant memory: a fixed array of buckets, a chained hash index
 * keyed with a random SipHash key (so clients cannot pick colliding keys) and an LRU list used to
 * evict a bucket, preferably a fully refilled one, when the array is full. O(1) per take. */
#include "auth/ratelimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "core/random.h"
#include "core/err.h"

#define RL_NONE UINT32_MAX
#define RL_EVICT_SCAN 8 /* LRU-end buckets examined for a fully refilled one to evict */
#define RL_SLACK 1e-9   /* tokens: absorbs rounding of non-representable rates (5/min) */
#define RL_RETRY_MAX_MS 1e15

typedef struct {
    unsigned char key[RL_KEY_MAX]; /* the key bytes, or the SHA-256 of a longer key */
    uint8_t key_len;
    uint8_t hashed; /* 1 when key holds a SHA-256: never equal to a short key of 32 bytes */
    uint64_t hash;
    double tokens;
    int64_t at_ms;       /* when tokens was last brought up to date */
    uint32_t chain;      /* next bucket in the same index slot */
    uint32_t prev, next; /* LRU list; prev is more recently used */
} rl_bucket_t;

struct rl_s {
    double cap;     /* burst * scale */
    double rate_ms; /* tokens per millisecond: per_s * scale / 1000 */
    int off;        /* scale 0: every take succeeds, nothing is stored */
    size_t max_keys, count, mask;
    uint32_t *index; /* mask + 1 slots, RL_NONE or the first bucket of a chain */
    rl_bucket_t *buckets;
    uint32_t mru, lru;
    uint64_t sip[2];
    rl_taken_fn taken; /* told of every take that was allowed (NULL: no one) */
    void *taken_ctx;
};

typedef struct {
    unsigned char bytes[RL_KEY_MAX];
    uint8_t len;
    uint8_t hashed;
    uint64_t hash;
} rl_key_t;

static uint64_t rl_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static void rl_sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rl_rotl(v[1], 13) ^ v[0];
    v[0] = rl_rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rl_rotl(v[3], 16) ^ v[2];
    v[0] += v[3];
    v[3] = rl_rotl(v[3], 21) ^ v[0];
    v[2] += v[1];
    v[1] = rl_rotl(v[1], 17) ^ v[2];
    v[2] = rl_rotl(v[2], 32);
}

static void rl_sip_block(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    rl_sip_round(v);
    rl_sip_round(v);
    v[0] ^= m;
}

/* rl_siphash is SipHash-2-4 of in[0..n) under the 128-bit key k. */
static uint64_t rl_siphash(const uint64_t k[2], const unsigned char *in, size_t n)
{
    uint64_t v[4] = {k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
                     k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t m = 0;
        for (int b = 0; b < 8; b++)
            m |= (uint64_t)in[i + b] << (8 * b);
        rl_sip_block(v, m);
    }
    uint64_t last = (uint64_t)(n & 0xff) << 56;
    for (int b = 0; i + (size_t)b < n; b++)
        last |= (uint64_t)in[i + b] << (8 * b);
    rl_sip_block(v, last);
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        rl_sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* rl_key_make gives the stored form of key: its bytes, or the SHA-256 of a longer key, so two
 * long keys never share a bucket because of a common prefix. */
static void rl_key_make(const rl_t *rl, const char *key, rl_key_t *k)
{
    size_t n = strnlen(key, RL_KEY_MAX + 1);
    k->hashed = n > RL_KEY_MAX;
    if (k->hashed) {
        SHA256((const unsigned char *)key, strlen(key), k->bytes);
        n = SHA256_DIGEST_LENGTH;
    } else {
        memcpy(k->bytes, key, n);
    }
    k->len = (uint8_t)n;
    k->hash = rl_siphash(rl->sip, k->bytes, n);
}

static int rl_args_ok(double burst, double per_s, double scale, size_t max_keys)
{
    if (!isfinite(burst) || !isfinite(per_s) || !isfinite(scale) || scale < 0)
        return 0;
    if (burst <= 0 || per_s <= 0)
        return 0;
    /* A bucket that can never hold one token would refuse everything: a configuration error. */
    if (scale > 0 && (burst * scale < 1 || !isfinite(burst * scale) || max_keys == 0))
        return 0;
    return max_keys < RL_NONE;
}

rl_t *rl_new(double burst, double per_s, double scale, size_t max_keys)
{
    if (!rl_args_ok(burst, per_s, scale, max_keys))
        return NULL;
    rl_t *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->cap = burst * scale;
    rl->rate_ms = per_s * scale / 1000.0;
    rl->off = scale == 0;
    rl->mru = rl->lru = RL_NONE;
    if (rl->off)
        return rl;
    size_t slots = 1;
    while (slots < max_keys)
        slots <<= 1;
    rl->max_keys = max_keys;
    rl->mask = slots - 1;
    rl->index = malloc(slots * sizeof(*rl->index));
    rl->buckets = calloc(max_keys, sizeof(*rl->buckets));
    if (!rl->index || !rl->buckets || random_bytes(rl->sip, sizeof(rl->sip)) != 0) {
        rl_free(rl);
        return NULL;
    }
    memset(rl->index, 0xff, slots * sizeof(*rl->index)); /* every slot RL_NONE */
    return rl;
}

void rl_free(rl_t *rl)
{
    if (!rl)
        return;
    free(rl->index);
    free(rl->buckets);
    free(rl);
}

size_t rl_count(const rl_t *rl)
{
    return rl ? rl->count : 0;
}

static uint32_t rl_find(const rl_t *rl, const rl_key_t *k)
{
    uint32_t i = rl->index[k->hash & rl->mask];
    while (i != RL_NONE) {
        const rl_bucket_t *b = &rl->buckets[i];
        if (b->hash == k->hash && b->hashed == k->hashed && b->key_len == k->len &&
            memcmp(b->key, k->bytes, k->len) == 0)
            return i;
        i = b->chain;
    }
    return RL_NONE;
}

static void rl_lru_unlink(rl_t *rl, uint32_t i)
{
    rl_bucket_t *b = &rl->buckets[i];
    if (b->prev != RL_NONE)
        rl->buckets[b->prev].next = b->next;
    else
        rl->mru = b->next;
    if (b->next != RL_NONE)
        rl->buckets[b->next].prev = b->prev;
    else
        rl->lru = b->prev;
}

static void rl_lru_push_front(rl_t *rl, uint32_t i)
{
    rl_bucket_t *b = &rl->buckets[i];
    b->prev = RL_NONE;
    b->next = rl->mru;
    if (rl->mru != RL_NONE)
        rl->buckets[rl->mru].prev = i;
    rl->mru = i;
    if (rl->lru == RL_NONE)
        rl->lru = i;
}

static void rl_index_remove(rl_t *rl, uint32_t i)
{
    uint32_t *link = &rl->index[rl->buckets[i].hash & rl->mask];
    while (*link != i)
        link = &rl->buckets[*link].chain;
    *link = rl->buckets[i].chain;
}

/* rl_tokens_at gives b's tokens at now_ms. A clock that went back adds nothing. */
static double rl_tokens_at(const rl_t *rl, const rl_bucket_t *b, int64_t now_ms)
{
    if (now_ms <= b->at_ms)
        return b->tokens;
    return fmin(rl->cap, b->tokens + ((double)now_ms - (double)b->at_ms) * rl->rate_ms);
}

static void rl_refill(const rl_t *rl, rl_bucket_t *b, int64_t now_ms)
{
    b->tokens = rl_tokens_at(rl, b, now_ms);
    if (now_ms > b->at_ms)
        b->at_ms = now_ms;
}

/* rl_victim picks the bucket to reuse when the table is full: a fully refilled one near the LRU
 * end if there is one (forgetting it changes nothing), else the least recently used. */
static uint32_t rl_victim(const rl_t *rl, int64_t now_ms)
{
    uint32_t i = rl->lru;
    for (int n = 0; n < RL_EVICT_SCAN && i != RL_NONE; n++) {
        if (rl_tokens_at(rl, &rl->buckets[i], now_ms) >= rl->cap)
            return i;
        i = rl->buckets[i].prev;
    }
    return rl->lru;
}

/* rl_insert makes a full bucket for k, evicting one when the table is full. */
static uint32_t rl_insert(rl_t *rl, const rl_key_t *k, int64_t now_ms)
{
    uint32_t i;
    if (rl->count < rl->max_keys) {
        i = (uint32_t)rl->count++;
    } else {
        i = rl_victim(rl, now_ms);
        rl_index_remove(rl, i);
        rl_lru_unlink(rl, i);
    }
    rl_bucket_t *b = &rl->buckets[i];
    memcpy(b->key, k->bytes, k->len);
    b->key_len = k->len;
    b->hashed = k->hashed;
    b->hash = k->hash;
    b->tokens = rl->cap;
    b->at_ms = now_ms;
    b->chain = rl->index[k->hash & rl->mask];
    rl->index[k->hash & rl->mask] = i;
    rl_lru_push_front(rl, i);
    return i;
}

/* rl_retry_ms is the smallest whole number of ms (>= 1) after which rl_refill gives `need`:
 * ceil(deficit / rate), then nudged so it agrees exactly with the refill arithmetic. */
static int64_t rl_retry_ms(const rl_t *rl, double tokens, double need)
{
    double ms = ceil((need - RL_SLACK - tokens) / rl->rate_ms);
    if (!(ms < RL_RETRY_MAX_MS))
        return (int64_t)RL_RETRY_MAX_MS;
    int64_t r = ms < 1 ? 1 : (int64_t)ms;
    for (int n = 0; n < 4 && r > 1 && tokens + (double)(r - 1) * rl->rate_ms >= need - RL_SLACK;
         n++)
        r--;
    for (int n = 0; n < 4 && tokens + (double)r * rl->rate_ms < need - RL_SLACK; n++)
        r++;
    return r;
}

/* key's bucket brought up to now_ms and made the most recently used; made when absent and make
 * is set (else NULL). */
static rl_bucket_t *rl_bucket(rl_t *rl, const char *key, int64_t now_ms, int make)
{
    rl_key_t k;
    rl_key_make(rl, key, &k);
    uint32_t i = rl_find(rl, &k);
    if (i == RL_NONE && !make)
        return NULL;
    if (i == RL_NONE)
        i = rl_insert(rl, &k, now_ms);
    rl_bucket_t *b = &rl->buckets[i];
    rl_refill(rl, b, now_ms);
    rl_lru_unlink(rl, i);
    rl_lru_push_front(rl, i);
    return b;
}

int rl_take(rl_t *rl, const char *key, int64_t now_ms, double cost, int64_t *retry_after_ms)
{
    if (retry_after_ms)
        *retry_after_ms = 0;
    if (!rl || !key || !(cost >= 0) || !isfinite(cost))
        return GV_EINVALID_REQUEST;
    if (rl->off)
        return 0;
    double need = cost > 0 ? cost : 1;
    if (need > rl->cap + RL_SLACK)
        return GV_EINVALID_REQUEST; /* more than a full bucket: no wait would ever allow it */
    rl_bucket_t *b = rl_bucket(rl, key, now_ms, cost > 0);
    if (!b)
        return 0; /* an absent key is a full bucket; a check need not store it */
    if (b->tokens >= need - RL_SLACK) {
        b->tokens = fmax(0.0, b->tokens - cost);
        if (rl->taken && cost > 0)
            rl->taken(rl->taken_ctx, key, cost);
        return 0;
    }
    /* A clock behind the bucket's last update earns nothing until it catches up. */
    int64_t behind_ms = b->at_ms > now_ms ? b->at_ms - now_ms : 0;
    if (retry_after_ms)
        *retry_after_ms = rl_retry_ms(rl, b->tokens, need) + behind_ms;
    return GV_ERATE_LIMITED;
}

void rl_set_observer(rl_t *rl, rl_taken_fn fn, void *ctx)
{
    rl->taken = fn;
    rl->taken_ctx = ctx;
}

int rl_debit(rl_t *rl, const char *key, int64_t now_ms, double cost)
{
    if (!rl || !key || !(cost > 0) || !isfinite(cost))
        return GV_EINVALID_REQUEST;
    if (rl->off)
        return 0;
    rl_bucket_t *b = rl_bucket(rl, key, now_ms, 1);
    b->tokens = fmax(0.0, b->tokens - cost);
    return 0;
}
