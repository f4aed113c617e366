/* The catalogue part of the store dispatcher: checks arguments, normalises what is compared
 * later (sorted competition codes, canonical provider ids), and wraps single writes in their own
 * transaction when the caller has none open. */
#include "store/store_catalogue_int.h"

#include "core/err.h"
#include "json/json_text.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated string that fits in cap bytes; nonempty when required. */
static int cat_str_ok(const char *str, size_t cap, int required)
{
    if (str == NULL)
        return 0;
    size_t n = strnlen(str, cap);
    return n < cap && (!required || n > 0);
}

/* An optional filter: NULL or "" means none. */
static const char *cat_filter(const char *v)
{
    return v != NULL && v[0] != '\0' ? v : NULL;
}

int store_sports_list(store_t *s, store_sport_t *out, size_t max, size_t *n)
{
    if (n == NULL || (out == NULL && max > 0))
        return GV_EINTERNAL;
    *n = 0;
    return max == 0 ? 0 : s->cat->sports_list(s, out, max, n);
}

int store_competitions_list(store_t *s, const char *sport, store_competition_t *out, size_t max,
                            size_t *n)
{
    if (n == NULL || (out == NULL && max > 0))
        return GV_EINTERNAL;
    *n = 0;
    return max == 0 ? 0 : s->cat->competitions_list(s, cat_filter(sport), out, max, n);
}

int store_competition_get(store_t *s, const char *code, store_competition_t *out)
{
    if (code == NULL || out == NULL)
        return GV_EINTERNAL;
    return s->cat->competition_get(s, code, out);
}

int store_asset_get(store_t *s, const char *id, store_asset_t *out)
{
    if (id == NULL || out == NULL)
        return GV_EINTERNAL;
    return s->cat->asset_get(s, id, out);
}

int store_assets_list(store_t *s, const store_asset_query_t *q, store_asset_t *out, size_t max,
                      size_t *n, int *more)
{
    if (q == NULL || out == NULL || n == NULL || more == NULL)
        return GV_EINTERNAL;
    *n = 0;
    *more = 0;
    if (q->limit < 1 || q->limit > 500 || max == 0)
        return GV_EINVALID_REQUEST;
    store_asset_query_t c = *q;
    c.sport = cat_filter(q->sport);
    c.competition = cat_filter(q->competition);
    c.q = cat_filter(q->q);
    c.after_name = cat_filter(q->after_name);
    c.after_id = q->after_id != NULL ? q->after_id : "";
    if (c.after_name == NULL && c.after_id[0] != '\0')
        return GV_EINVALID_REQUEST; /* a key is both parts or none */
    if (c.after_name == NULL)
        c.after_id = NULL;
    if (max > (size_t)c.limit)
        max = (size_t)c.limit;
    return s->cat->assets_list(s, &c, out, max, n, more);
}

/* Runs a catalogue write in the caller's transaction, or in its own when none is open. */
typedef int (*cat_write_fn)(store_t *s, const void *arg);

static int cat_write(store_t *s, cat_write_fn fn, const void *arg)
{
    if (s->cat->in_tx(s))
        return fn(s, arg);
    int err = store_tx_begin(s);
    if (err != 0)
        return err;
    err = fn(s, arg);
    if (err == 0)
        return store_tx_commit(s);
    store_tx_rollback(s); /* the write's own error is the one to report */
    return err;
}

typedef struct {
    const store_competition_t *c;
    store_upsert_t *outcome;
} cat_comp_arg_t;

static int cat_comp_write(store_t *s, const void *arg)
{
    const cat_comp_arg_t *a = arg;
    return s->cat->competition_save_tx(s, a->c, a->outcome);
}

int store_competition_save(store_t *s, const store_competition_t *c, store_upsert_t *outcome)
{
    store_upsert_t ignored;
    if (c == NULL)
        return GV_EINTERNAL;
    if (!cat_str_ok(c->code, sizeof(c->code), 1) || !cat_str_ok(c->sport, sizeof(c->sport), 1) ||
        !cat_str_ok(c->name, sizeof(c->name), 1) || !cat_str_ok(c->season, sizeof(c->season), 0))
        return GV_EINVALID_REQUEST;
    cat_comp_arg_t arg = {c, outcome != NULL ? outcome : &ignored};
    return cat_write(s, cat_comp_write, &arg);
}

int store_competition_upsert(store_t *s, const store_competition_t *c)
{
    return store_competition_save(s, c, NULL);
}

typedef struct {
    const store_asset_t *a;
    const char *const *codes;
    size_t n;
    int64_t now_ms;
    store_upsert_t *outcome;
} cat_asset_arg_t;

static int cat_asset_write(store_t *s, const void *arg)
{
    const cat_asset_arg_t *a = arg;
    return s->cat->asset_save_tx(s, a->a, a->codes, a->n, a->now_ms, a->outcome);
}

/* Rewrites provider_ids as compact JSON with sorted keys; it must be an object. */
static int cat_provider_ids_canon(const char *in, char *out, size_t cap)
{
    json_t *obj = json_loads(in, JSON_REJECT_DUPLICATES, NULL);
    int err = json_is_object(obj) ? 0 : GV_EINVALID_REQUEST;
    char *text = err == 0 ? json_text(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (err == 0 && text == NULL)
        err = GV_ENOMEM;
    if (err == 0 && strlen(text) >= cap)
        err = GV_ELIMIT;
    if (err == 0)
        memcpy(out, text, strlen(text) + 1);
    free(text);
    json_decref(obj);
    return err;
}

static int cat_code_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Copies the n codes into sorted (cap STORE_ASSET_COMPETITIONS_MAX), sorted and without
 * duplicates; *m is how many remain. Their JSON array must fit STORE_JSON_MAX. */
static int cat_codes_sort(const char *const *codes, size_t n, const char **sorted, size_t *m)
{
    if (n > STORE_ASSET_COMPETITIONS_MAX || (n > 0 && codes == NULL))
        return n > STORE_ASSET_COMPETITIONS_MAX ? GV_ELIMIT : GV_EINTERNAL;
    for (size_t i = 0; i < n; i++) {
        if (!cat_str_ok(codes[i], STORE_KEY_MAX, 1))
            return GV_EINVALID_REQUEST;
        sorted[i] = codes[i];
    }
    qsort(sorted, n, sizeof(*sorted), cat_code_cmp);
    size_t json_len = 2;
    *m = 0;
    for (size_t i = 0; i < n; i++) {
        if (*m > 0 && strcmp(sorted[*m - 1], sorted[i]) == 0)
            continue;
        sorted[(*m)++] = sorted[i];
        json_len += strlen(sorted[i]) + 3; /* quotes and comma; codes need no escapes */
    }
    return json_len < STORE_JSON_MAX ? 0 : GV_ELIMIT;
}

static int cat_asset_check(const store_asset_t *a)
{
    int ok = cat_str_ok(a->id, sizeof(a->id), 1) && cat_str_ok(a->sport, sizeof(a->sport), 1) &&
             cat_str_ok(a->name, sizeof(a->name), 1) &&
             cat_str_ok(a->short_name, sizeof(a->short_name), 0) &&
             cat_str_ok(a->country, sizeof(a->country), 0) &&
             cat_str_ok(a->team, sizeof(a->team), 0) && cat_str_ok(a->role, sizeof(a->role), 0) &&
             cat_str_ok(a->provider_ids, sizeof(a->provider_ids), 1);
    return ok ? 0 : GV_EINVALID_REQUEST;
}

int store_asset_save(store_t *s, const store_asset_t *a, const char *const *competitions, size_t n,
                     int64_t now_ms, store_upsert_t *outcome)
{
    store_upsert_t ignored;
    const char *sorted[STORE_ASSET_COMPETITIONS_MAX];
    size_t m = 0;
    if (a == NULL)
        return GV_EINTERNAL;
    store_asset_t canon = *a;
    int err = cat_asset_check(a);
    err = err ? err
              : cat_provider_ids_canon(a->provider_ids, canon.provider_ids,
                                       sizeof(canon.provider_ids));
    err = err ? err : cat_codes_sort(competitions, n, sorted, &m);
    if (err != 0)
        return err;
    canon.competitions[0] = '\0'; /* the codes given are what counts */
    cat_asset_arg_t arg = {&canon, sorted, m, now_ms, outcome != NULL ? outcome : &ignored};
    return cat_write(s, cat_asset_write, &arg);
}

int store_asset_upsert(store_t *s, const store_asset_t *a, const char *const *competitions,
                       size_t n, int64_t now_ms, int *created)
{
    store_upsert_t outcome = STORE_UPSERT_UNCHANGED;
    int err = store_asset_save(s, a, competitions, n, now_ms, &outcome);
    if (created != NULL)
        *created = err == 0 && outcome == STORE_UPSERT_CREATED;
    return err;
}

int store_meta_get(store_t *s, const char *key, char *out, size_t cap)
{
    if (key == NULL || out == NULL || cap == 0)
        return GV_EINTERNAL;
    out[0] = '\0';
    return s->cat->meta_get(s, key, out, cap);
}

int store_meta_set(store_t *s, const char *key, const char *value)
{
    if (key == NULL || value == NULL)
        return GV_EINTERNAL;
    return s->cat->meta_set(s, key, value);
}

int store_meta_claim(store_t *s, const char *key, const char *value, char *out, size_t cap)
{
    if (key == NULL || value == NULL || out == NULL || cap == 0)
        return GV_EINTERNAL;
    out[0] = '\0';
    int err = s->cat->meta_add(s, key, value);
    err = err ? err : s->cat->meta_get(s, key, out, cap);
    return err == GV_ENOT_FOUND ? GV_EDB : err; /* deleted between the two: not ours to hide */
}
