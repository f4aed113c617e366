/* League settings: a table of integer settings with their ranges, plus the two text settings
 * (currency, lotOrder) and the rules that relate settings to each other. */
#include "league/settings.h"

#include "core/err.h"
#include "core/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SETTING_MONEY_MAX 1000000000000LL /* 10^12 */

typedef struct {
    const char *name;
    size_t offset;
    int is64;
    int64_t min, max;
} league_int_setting_t;

#define INT_SETTING(n, f, lo, hi)                                                                  \
    {                                                                                              \
        n, offsetof(store_league_settings_t, f), 0, lo, hi                                         \
    }
#define I64_SETTING(n, f, lo, hi)                                                                  \
    {                                                                                              \
        n, offsetof(store_league_settings_t, f), 1, lo, hi                                         \
    }

static const league_int_setting_t league_ints[] = {
    I64_SETTING("budget", budget, 1, SETTING_MONEY_MAX),
    INT_SETTING("rosterSize", roster_size, 1, 50),
    INT_SETTING("minManagers", min_managers, 1, 64),
    INT_SETTING("maxManagers", max_managers, 1, 64),
    INT_SETTING("lotSeconds", lot_seconds, 5, 600),
    INT_SETTING("antiSnipeSeconds", anti_snipe_seconds, 0, 120),
    I64_SETTING("minBid", min_bid, 1, SETTING_MONEY_MAX),
    I64_SETTING("minIncrement", min_increment, 1, SETTING_MONEY_MAX),
    INT_SETTING("intermissionSeconds", intermission_seconds, 0, 30),
    INT_SETTING("reofferUnsold", reoffer_unsold, 0, 5),
};

#define LEAGUE_NINTS (sizeof(league_ints) / sizeof(league_ints[0]))

void league_settings_defaults(store_league_settings_t *s)
{
    memset(s, 0, sizeof(*s));
    s->budget = 500000000;
    memcpy(s->currency, "GBP", 4);
    s->roster_size = 3;
    s->min_managers = 2;
    s->max_managers = 8;
    s->lot_seconds = 30;
    s->anti_snipe_seconds = 10;
    s->min_bid = 1000000;
    s->min_increment = 1000000;
    s->intermission_seconds = 3;
    s->lot_order_fixed = 0;
    s->reoffer_unsold = 1;
}

static int league_fail(league_error_t *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int league_fail(league_error_t *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    snprintf(err->field, sizeof(err->field), "%s", field);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return GV_EINVALID_REQUEST;
}

static int league_set_int(store_league_settings_t *s, const league_int_setting_t *d, json_t *v,
                          league_error_t *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < d->min || json_integer_value(v) > d->max)
        return league_fail(err, d->name, "%s must be a whole number from %lld to %lld.", d->name,
                           (long long)d->min, (long long)d->max);
    char *field = (char *)s + d->offset;
    if (d->is64)
        *(int64_t *)(void *)field = json_integer_value(v);
    else
        *(int *)(void *)field = (int)json_integer_value(v);
    return 0;
}

static int league_set_text(store_league_settings_t *s, const char *key, json_t *v,
                           league_error_t *err)
{
    const char *t = json_string_value(v);
    if (strcmp(key, "lotOrder") == 0) {
        if (!t || (strcmp(t, "random") != 0 && strcmp(t, "fixed") != 0))
            return league_fail(err, "lotOrder", "lotOrder must be \"random\" or \"fixed\".");
        s->lot_order_fixed = t[0] == 'f';
        return 0;
    }
    int ok = t && strlen(t) == 3;
    for (int i = 0; ok && i < 3; i++)
        ok = t[i] >= 'A' && t[i] <= 'Z';
    if (!ok)
        return league_fail(err, "currency",
                           "currency must be a three-letter ISO code such as GBP.");
    memcpy(s->currency, t, 4);
    return 0;
}

/* Applies one field; 1 when key is not a setting. */
static int league_set_one(store_league_settings_t *s, const char *key, json_t *v,
                          league_error_t *err)
{
    for (size_t i = 0; i < LEAGUE_NINTS; i++)
        if (strcmp(key, league_ints[i].name) == 0)
            return league_set_int(s, &league_ints[i], v, err);
    if (strcmp(key, "lotOrder") == 0 || strcmp(key, "currency") == 0)
        return league_set_text(s, key, v, err);
    return 1;
}

static int league_settings_check(const store_league_settings_t *s, league_error_t *err)
{
    if (s->min_managers > s->max_managers)
        return league_fail(err, "minManagers", "minManagers must not exceed maxManagers (%d).",
                           s->max_managers);
    if (s->anti_snipe_seconds >= s->lot_seconds)
        return league_fail(err, "antiSnipeSeconds",
                           "antiSnipeSeconds must be less than lotSeconds (%d).", s->lot_seconds);
    if (s->min_bid > SETTING_MONEY_MAX / s->roster_size || s->budget < s->min_bid * s->roster_size)
        return league_fail(err, "budget",
                           "budget must be at least minBid x rosterSize (%lld) and at most %lld.",
                           s->min_bid > SETTING_MONEY_MAX / s->roster_size
                               ? (long long)SETTING_MONEY_MAX
                               : (long long)(s->min_bid * s->roster_size),
                           (long long)SETTING_MONEY_MAX);
    return 0;
}

int league_settings_apply(store_league_settings_t *s, json_t *obj, const char *const *ignore,
                          league_error_t *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int skip = 0;
        for (size_t i = 0; ignore && ignore[i] && !skip; i++)
            skip = strcmp(ignore[i], key) == 0;
        if (skip)
            continue;
        int rc = league_set_one(s, key, v, err);
        if (rc == 1) {
            snprintf(err->field, sizeof(err->field), "%.63s", key);
            snprintf(err->message, sizeof(err->message), "Unknown field: %.100s.", key);
            return GV_EINVALID_REQUEST;
        }
        if (rc)
            return rc;
    }
    return league_settings_check(s, err);
}

int league_name_normalize(const char *name, char *out, size_t n)
{
    size_t len = strlen(name), chars = 0;
    while (len && (*name == ' ' || *name == '\t'))
        name++, len--;
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= n || !utf8_valid((const unsigned char *)name, len))
        return GV_EINVALID_REQUEST;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return GV_EINVALID_REQUEST;
        chars += (c & 0xC0) != 0x80;
    }
    if (chars > LEAGUE_NAME_MAX_CHARS)
        return GV_EINVALID_REQUEST;
    memcpy(out, name, len);
    out[len] = '\0';
    return 0;
}

json_t *league_settings_json(const store_league_settings_t *s)
{
    return json_pack("{s:I, s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:i, s:s, s:i}", "budget",
                     (json_int_t)s->budget, "currency", s->currency, "rosterSize", s->roster_size,
                     "minManagers", s->min_managers, "maxManagers", s->max_managers, "lotSeconds",
                     s->lot_seconds, "antiSnipeSeconds", s->anti_snipe_seconds, "minBid",
                     (json_int_t)s->min_bid, "minIncrement", (json_int_t)s->min_increment,
                     "intermissionSeconds", s->intermission_seconds, "lotOrder",
                     s->lot_order_fixed ? "fixed" : "random", "reofferUnsold", s->reoffer_unsold);
}
