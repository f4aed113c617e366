/* The season of a league (see season.h): CSV imports with per-row reports, effective rules,
 * standings and per-asset points, all computed from the stored rows. */
#include "season/season.h"

#include "season/cricsheet.h"
#include "auth/token.h"
#include "core/clock.h"
#include "core/csv.h"
#include "core/err.h"
#include "core/utf8.h"
#include "json/json_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEASON_FUTURE_MS (24LL * 3600 * 1000) /* results of later fixtures are refused */
#define SEASON_GOALS_MAX 999
#define SEASON_STAT_MAX 100000

/* ---- reports -------------------------------------------------------------------------------- */

void season_report_init(season_report_t *r)
{
    memset(r, 0, sizeof(*r));
}

void season_report_deinit(season_report_t *r)
{
    free(r->errors);
    json_decref(r->unmatched);
    memset(r, 0, sizeof(*r));
}

static void season_error(season_report_t *r, int line, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void season_error(season_report_t *r, int line, const char *code, const char *fmt, ...)
{
    r->error_count++;
    if (r->nerrors >= SEASON_ERRORS_MAX)
        return;
    if (r->nerrors % 64 == 0) {
        season_row_error_t *e = realloc(r->errors, (r->nerrors + 64) * sizeof(*e));
        if (!e)
            return; /* counted, not described */
        r->errors = e;
    }
    season_row_error_t *e = &r->errors[r->nerrors++];
    e->line = line;
    snprintf(e->code, sizeof(e->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

json_t *season_report_json(const season_report_t *r)
{
    json_t *errors = json_array();
    for (size_t i = 0; i < r->nerrors; i++)
        json_array_append_new(errors,
                              json_pack("{s:i, s:s, s:s}", "line", r->errors[i].line, "code",
                                        r->errors[i].code, "message", r->errors[i].message));
    json_t *o = json_pack("{s:i, s:i, s:i, s:o, s:I}", "created", r->created, "updated", r->updated,
                          "skipped", r->skipped, "errors", errors, "errorCount",
                          (json_int_t)r->error_count);
    if (o && r->unmatched && json_object_set(o, "unmatched", r->unmatched) != 0)
        o = (json_decref(o), NULL);
    if (o && r->match_id[0] && json_object_set_new(o, "matchId", json_string(r->match_id)) != 0)
        o = (json_decref(o), NULL);
    return o;
}

/* ---- values --------------------------------------------------------------------------------- */

static int season_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

static int64_t season_days(int y, int m, int d) /* days since 1970-01-01 (proleptic Gregorian) */
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int season_parse_time(const char *t, int64_t *ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, s = 0, frac = 0, zh = 0, zm = 0, sign = 0;
    const char *p = t;
    if (season_digits(&p, 4, &y) || *p++ != '-' || season_digits(&p, 2, &mo) || *p++ != '-' ||
        season_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' ') || !*p++ ||
        season_digits(&p, 2, &h) || *p++ != ':' || season_digits(&p, 2, &mi))
        return GV_EINVALID_REQUEST;
    if (*p == ':' && (p++, season_digits(&p, 2, &s)))
        return GV_EINVALID_REQUEST;
    if (*p == '.') {
        int nd = 0;
        for (p++; isdigit((unsigned char)*p); p++, nd++)
            if (nd < 3)
                frac = frac * 10 + (*p - '0');
        if (nd == 0)
            return GV_EINVALID_REQUEST;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (season_digits(&p, 2, &zh))
            return GV_EINVALID_REQUEST;
        p += *p == ':';
        if (season_digits(&p, 2, &zm))
            return GV_EINVALID_REQUEST;
    } else {
        return GV_EINVALID_REQUEST; /* a time without a zone names no instant */
    }
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || s > 59 || zh > 18 || zm > 59)
        return GV_EINVALID_REQUEST;
    int64_t secs = season_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    *ms = (secs - sign * (zh * 3600 + zm * 60)) * 1000 + frac;
    return 0;
}

/* A non-negative integer of at most max: 0, or -1. "" is -1 too. */
static int season_count(const char *t, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (!*t)
        return -1;
    for (; *t; t++) {
        if (!isdigit((unsigned char)*t) || (v = v * 10 + (*t - '0')) > max)
            return -1;
    }
    *out = v;
    return 0;
}

/* ---- matching names to assets --------------------------------------------------------------- */

typedef struct {
    store_asset_t *v;
    size_t n;
} season_assets_t;

static int season_assets_load(store_t *s, const char *sport, season_assets_t *out)
{
    enum { PAGE = 500 };
    memset(out, 0, sizeof(*out));
    char after_name[STORE_TEXT_MAX] = "", after_id[STORE_ASSET_ID_MAX] = "";
    int more = 1, rc = 0;
    while (!rc && more) {
        store_asset_t *grown = realloc(out->v, (out->n + PAGE) * sizeof(*grown));
        if (!grown)
            return GV_ENOMEM;
        out->v = grown;
        store_asset_query_t q = {
            .sport = sport, .after_name = after_name, .after_id = after_id, .limit = PAGE};
        size_t n = 0;
        rc = store_assets_list(s, &q, out->v + out->n, PAGE, &n, &more);
        out->n += rc ? 0 : n;
        more = more && n;
        if (n) {
            snprintf(after_name, sizeof(after_name), "%s", out->v[out->n - 1].name);
            snprintf(after_id, sizeof(after_id), "%s", out->v[out->n - 1].id);
        }
    }
    return rc;
}

/* 1 when one of the asset's provider ids (the values of its JSON object) is token. */
static int season_provider_match(const store_asset_t *a, const char *token)
{
    json_t *ids = json_loads(a->provider_ids, 0, NULL);
    const char *k;
    json_t *v;
    int hit = 0;
    json_object_foreach(ids, k, v)
    {
        char num[32];
        const char *text = json_string_value(v);
        if (json_is_integer(v))
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v)), text = num;
        hit = hit || (text && !strcmp(text, token));
    }
    json_decref(ids);
    return hit;
}

/* Finds token among the assets: an exact id wins; else one asset by provider id or exact name
 * (case-insensitive). The index, -1 (none) or -2 (several). */
static long season_match(const season_assets_t *as, const char *token)
{
    long found = -1;
    for (size_t i = 0; i < as->n; i++)
        if (!strcmp(as->v[i].id, token))
            return (long)i;
    for (size_t i = 0; i < as->n; i++) {
        if (strcasecmp(as->v[i].name, token) && !season_provider_match(&as->v[i], token))
            continue;
        if (found >= 0)
            return -2;
        found = (long)i;
    }
    return found;
}

/* ---- a set of strings (duplicate keys within one file) -------------------------------------- */

typedef struct {
    char **slot;
    size_t cap, n;
} season_set_t;

static uint64_t season_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Adds key: 1 when it was new, 0 when already there, GV_ENOMEM. */
static int season_set_add(season_set_t *set, const char *key)
{
    if (set->n * 2 >= set->cap) {
        season_set_t big = {calloc(set->cap ? set->cap * 2 : 256, sizeof(char *)),
                            set->cap ? set->cap * 2 : 256, 0};
        if (!big.slot)
            return GV_ENOMEM;
        for (size_t i = 0; i < set->cap; i++)
            if (set->slot[i]) {
                size_t j = season_hash(set->slot[i]) & (big.cap - 1);
                while (big.slot[j])
                    j = (j + 1) & (big.cap - 1);
                big.slot[j] = set->slot[i];
                big.n++;
            }
        free(set->slot);
        *set = big;
    }
    size_t j = season_hash(key) & (set->cap - 1);
    for (; set->slot[j]; j = (j + 1) & (set->cap - 1))
        if (!strcmp(set->slot[j], key))
            return 0;
    if (!(set->slot[j] = strdup(key)))
        return GV_ENOMEM;
    set->n++;
    return 1;
}

static void season_set_free(season_set_t *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slot[i]);
    free(set->slot);
}

/* ---- CSV headers ---------------------------------------------------------------------------- */

#define SEASON_MAX_COLS 9

typedef struct {
    const char *const *names; /* the columns of the format */
    size_t ncols;
    size_t required;         /* the first `required` must be present */
    int at[SEASON_MAX_COLS]; /* column of each name in the file, -1 when absent */
    size_t file_cols;        /* fields of the header row: every row has as many */
} season_header_t;

static int season_header(season_header_t *h, const csv_record_t *rec, season_report_t *r)
{
    for (size_t i = 0; i < h->ncols; i++)
        h->at[i] = -1;
    h->file_cols = rec->n;
    for (size_t c = 0; c < rec->n; c++) {
        size_t i = 0;
        while (i < h->ncols && strcmp(h->names[i], rec->fields[c]))
            i++;
        if (i == h->ncols)
            season_error(r, 1, "unknown_column", "Unknown column \"%.60s\".", rec->fields[c]);
        else if (h->at[i] >= 0)
            season_error(r, 1, "duplicate_column", "Column \"%s\" appears twice.", h->names[i]);
        else
            h->at[i] = (int)c;
    }
    for (size_t i = 0; i < h->required; i++)
        if (h->at[i] < 0)
            season_error(r, 1, "missing_column", "Column \"%s\" is required.", h->names[i]);
    r->file_error = r->error_count > 0;
    return r->file_error ? GV_EINVALID_REQUEST : 0;
}

static const char *season_col(const season_header_t *h, const csv_record_t *rec, size_t i)
{
    int c = h->at[i];
    return c >= 0 && (size_t)c < rec->n ? rec->fields[c] : "";
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static const char *const season_fixture_cols[] = {
    "externalMatchId", "startsAt", "home",      "away",     "venue",
    "round",           "status",   "homeGoals", "awayGoals"};
enum { FX_EXT, FX_STARTS, FX_HOME, FX_AWAY, FX_VENUE, FX_ROUND, FX_STATUS, FX_HG, FX_AG };

static int season_status_ok(const char *s)
{
    static const char *const all[] = {"scheduled", "live", "finished", "postponed", "cancelled"};
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(all[i], s))
            return 1;
    return 0;
}

int season_fixture_validate(const store_fixture_t *f, int64_t now_ms, char *field, size_t n,
                            const char **message)
{
    const char *fld = NULL, *msg = NULL;
    int has = (f->home_goals >= 0) + (f->away_goals >= 0);
    if (!season_status_ok(f->status))
        fld = "status", msg = "status is scheduled, live, finished, postponed or cancelled.";
    else if (has == 1)
        fld = f->home_goals < 0 ? "homeGoals" : "awayGoals", msg = "Give both goals or neither.";
    else if (!strcmp(f->status, "finished") && has == 0)
        fld = "homeGoals", msg = "A finished fixture needs its result.";
    else if (has && f->starts_ms > now_ms + SEASON_FUTURE_MS)
        fld = "startsAt", msg = "A result cannot be entered for a fixture more than 24 hours "
                                "in the future.";
    else if (!strcmp(f->home_asset_id, f->away_asset_id))
        fld = "away", msg = "A team cannot play itself.";
    if (!fld)
        return 0;
    snprintf(field, n, "%s", fld);
    *message = msg;
    return GV_EINVALID_REQUEST;
}

/* Resolves home or away; reports and returns -1 when it names no asset or several. */
static long season_team(const season_assets_t *as, const char *token, const char *col, int line,
                        season_report_t *r)
{
    long i = *token ? season_match(as, token) : -1;
    if (i == -2)
        season_error(r, line, "ambiguous_team", "%s \"%.60s\" matches several assets.", col, token);
    else if (i < 0)
        season_error(r, line, "unknown_team", "%s \"%.60s\" matches no asset of this sport.", col,
                     token);
    return i;
}

/* One fixture as texts, from a CSV row or a provider's match; home2/away2 (may be NULL) are
 * tried when home/away (a provider id) match nothing. */
typedef struct {
    int line;
    const char *ext, *starts, *home, *away, *home2, *away2, *venue, *round, *status, *hg, *ag;
} season_fx_text_t;

static long season_team_either(const season_assets_t *as, const char *a, const char *b,
                               const char *col, int line, season_report_t *r)
{
    long i = b && *a ? season_match(as, a) : -1;
    return i >= 0 ? i : season_team(as, b && *b ? b : a, col, line, r);
}

/* Parses one fixture into f; 0, or -1 with the errors reported. */
static int season_fixture_parse(const season_fx_text_t *x, const season_assets_t *as,
                                const char *league_id, int64_t now_ms, store_fixture_t *f,
                                season_report_t *r)
{
    int line = x->line;
    size_t before = r->error_count;
    memset(f, 0, sizeof(*f));
    snprintf(f->league_id, sizeof(f->league_id), "%s", league_id);
    if (!*x->ext || strlen(x->ext) >= sizeof(f->external_id))
        season_error(r, line, "invalid_external_id", "externalMatchId must be 1 to 127 bytes.");
    snprintf(f->external_id, sizeof(f->external_id), "%s", x->ext);
    if (season_parse_time(x->starts, &f->starts_ms))
        season_error(r, line, "invalid_date",
                     "startsAt must be ISO-8601 with a zone, e.g. 2025-12-21T19:00:00Z.");
    long hi = season_team_either(as, x->home, x->home2, "home", line, r);
    long ai = season_team_either(as, x->away, x->away2, "away", line, r);
    if (hi >= 0)
        snprintf(f->home_asset_id, sizeof(f->home_asset_id), "%s", as->v[hi].id);
    if (ai >= 0)
        snprintf(f->away_asset_id, sizeof(f->away_asset_id), "%s", as->v[ai].id);
    if (strlen(x->venue) >= sizeof(f->venue) || strlen(x->round) >= sizeof(f->round))
        season_error(r, line, "too_long", "venue or round is too long.");
    snprintf(f->venue, sizeof(f->venue), "%s", x->venue);
    snprintf(f->round, sizeof(f->round), "%s", x->round);
    int64_t g[2] = {-1, -1};
    const char *gt[2] = {x->hg, x->ag};
    for (int i = 0; i < 2; i++)
        if (*gt[i] && season_count(gt[i], SEASON_GOALS_MAX, &g[i]))
            season_error(r, line, "invalid_number", "%s must be a whole number from 0 to 999.",
                         i ? "awayGoals" : "homeGoals");
    f->home_goals = (int)g[0], f->away_goals = (int)g[1];
    snprintf(f->status, sizeof(f->status), "%.15s",
             *x->status               ? x->status
             : g[0] >= 0 && g[1] >= 0 ? "finished"
                                      : "scheduled");
    char field[32];
    const char *msg;
    if (r->error_count == before && hi >= 0 && ai >= 0 &&
        season_fixture_validate(f, now_ms, field, sizeof(field), &msg))
        season_error(r, line,
                     !strcmp(field, "startsAt") ? "result_in_future"
                     : !strcmp(field, "status") ? "invalid_status"
                                                : "invalid_result",
                     "%s", msg);
    return r->error_count == before ? 0 : -1;
}

/* Checks x, refuses a key seen earlier in the same input, upserts and counts. */
static int season_fixture_save(store_t *s, const season_fx_text_t *x, const season_assets_t *as,
                               const store_league_t *lg, int64_t now_ms, season_set_t *seen,
                               season_report_t *r)
{
    store_fixture_t f;
    if (season_fixture_parse(x, as, lg->id, now_ms, &f, r))
        return 0;
    int fresh = season_set_add(seen, f.external_id);
    if (fresh < 0)
        return fresh;
    if (!fresh) {
        season_error(r, x->line, "duplicate_id",
                     "externalMatchId %.60s appears earlier in this file.", f.external_id);
        return 0;
    }
    store_upsert_t what;
    int rc = token_id(f.id, "fx_");
    rc = rc ? rc : store_fixture_upsert(s, &f, now_ms, &what);
    if (rc)
        return rc;
    r->created += what == STORE_UPSERT_CREATED;
    r->updated += what == STORE_UPSERT_UPDATED;
    r->skipped += what == STORE_UPSERT_UNCHANGED;
    return 0;
}

typedef int (*season_row_fn)(store_t *s, const season_header_t *h, const csv_record_t *rec,
                             const season_assets_t *as, const store_league_t *lg, int64_t now_ms,
                             season_set_t *seen, season_report_t *r);

static int season_fixture_do(store_t *s, const season_header_t *h, const csv_record_t *rec,
                             const season_assets_t *as, const store_league_t *lg, int64_t now_ms,
                             season_set_t *seen, season_report_t *r)
{
    season_fx_text_t x = {
        .line = (int)rec->line,
        .ext = season_col(h, rec, FX_EXT),
        .starts = season_col(h, rec, FX_STARTS),
        .home = season_col(h, rec, FX_HOME),
        .away = season_col(h, rec, FX_AWAY),
        .venue = season_col(h, rec, FX_VENUE),
        .round = season_col(h, rec, FX_ROUND),
        .status = season_col(h, rec, FX_STATUS),
        .hg = season_col(h, rec, FX_HG),
        .ag = season_col(h, rec, FX_AG),
    };
    return season_fixture_save(s, &x, as, lg, now_ms, seen, r);
}

/* ---- cricket stats -------------------------------------------------------------------------- */

static const char *const season_stat_cols[] = {"externalMatchId", "player",    "runs",   "wickets",
                                               "catches",         "stumpings", "runOuts"};

static int season_line_save(store_t *s, const store_cricket_line_t *l, int line, int64_t now_ms,
                            season_set_t *seen, season_report_t *r);

static int season_stat_do(store_t *s, const season_header_t *h, const csv_record_t *rec,
                          const season_assets_t *as, const store_league_t *lg, int64_t now_ms,
                          season_set_t *seen, season_report_t *r)
{
    int line = (int)rec->line;
    size_t before = r->error_count;
    store_cricket_line_t l;
    memset(&l, 0, sizeof(l));
    snprintf(l.league_id, sizeof(l.league_id), "%s", lg->id);
    const char *ext = season_col(h, rec, 0);
    if (!*ext || strlen(ext) >= sizeof(l.external_id))
        season_error(r, line, "invalid_external_id", "externalMatchId must be 1 to 127 bytes.");
    snprintf(l.external_id, sizeof(l.external_id), "%s", ext);
    long pi = season_team(as, season_col(h, rec, 1), "player", line, r);
    if (pi >= 0)
        snprintf(l.asset_id, sizeof(l.asset_id), "%s", as->v[pi].id);
    int64_t *v[] = {&l.runs, &l.wickets, &l.catches, &l.stumpings, &l.run_outs};
    for (int i = 0; i < 5; i++)
        if (season_count(season_col(h, rec, 2 + (size_t)i), SEASON_STAT_MAX, v[i]))
            season_error(r, line, "invalid_number", "%s must be a whole number from 0 to %d.",
                         season_stat_cols[2 + i], SEASON_STAT_MAX);
    if (r->error_count != before)
        return 0;
    return season_line_save(s, &l, line, now_ms, seen, r);
}

/* Upserts one valid line unless the file had it already (duplicate_id), counting the outcome. */
static int season_line_save(store_t *s, const store_cricket_line_t *l, int line, int64_t now_ms,
                            season_set_t *seen, season_report_t *r)
{
    char key[STORE_EXTERNAL_ID_MAX + STORE_ASSET_ID_MAX + 2];
    snprintf(key, sizeof(key), "%s\n%s", l->external_id, l->asset_id);
    int fresh = season_set_add(seen, key);
    if (fresh <= 0) {
        if (fresh == 0)
            season_error(r, line, "duplicate_id",
                         "This player's line for %.60s appears earlier "
                         "in this file.",
                         l->external_id);
        return fresh < 0 ? fresh : 0;
    }
    store_upsert_t what;
    int rc = store_cricket_line_upsert(s, l, now_ms, &what);
    if (rc)
        return rc;
    r->created += what == STORE_UPSERT_CREATED;
    r->updated += what == STORE_UPSERT_UPDATED;
    r->skipped += what == STORE_UPSERT_UNCHANGED;
    return 0;
}

/* ---- the import loop ------------------------------------------------------------------------ */

static int season_rows(store_t *s, csv_reader_t *rd, season_header_t *h, const season_assets_t *as,
                       const store_league_t *lg, int64_t now_ms, season_row_fn row,
                       season_report_t *r)
{
    csv_record_t rec;
    season_set_t seen = {0};
    int rc = csv_reader_next(rd, &rec);
    if (rc == 0) {
        season_error(r, 1, "missing_header", "The file is empty: a header row is required.");
        r->file_error = 1;
        return GV_EINVALID_REQUEST;
    }
    rc = rc < 0 ? rc : season_header(h, &rec, r);
    while (rc == 0 && (rc = csv_reader_next(rd, &rec)) == 1) {
        rc = 0;
        if (rec.n == 1 && rec.lens[0] == 0)
            continue; /* a blank line */
        if (rec.n != h->file_cols)
            season_error(r, (int)rec.line, "wrong_column_count",
                         "This row has %zu fields; the header has %zu.", rec.n, h->file_cols);
        else
            rc = row(s, h, &rec, as, lg, now_ms, &seen, r);
    }
    season_set_free(&seen);
    if (rc == GV_EINVALID_REQUEST && !r->file_error) { /* the CSV itself is broken */
        season_error(r, (int)rd->err_line, "invalid_csv", "%s", rd->err);
        r->file_error = 1;
    }
    return rc;
}

typedef int (*season_source_fn)(store_t *s, const void *src, const season_assets_t *as,
                                const store_league_t *lg, int64_t now_ms, season_report_t *r);

/* Runs source under one transaction with the sport's assets loaded; keeps the writes only when
 * there are no row errors or the caller asked for a partial import. */
static int season_import(store_t *s, const store_league_t *lg, int flags, int64_t now_ms,
                         season_source_fn source, const void *src, season_report_t *r)
{
    season_assets_t as;
    int rc = season_assets_load(s, lg->sport, &as);
    rc = rc ? rc : store_tx_begin(s);
    if (!rc) {
        rc = source(s, src, &as, lg, now_ms, r);
        if (!rc && r->error_count && !(flags & SEASON_PARTIAL))
            rc = GV_EINVALID_REQUEST;
        if (rc) {
            store_tx_rollback(s);
            r->created = r->updated = r->skipped = 0; /* nothing was written */
        } else {
            rc = store_tx_commit(s);
        }
    }
    free(as.v);
    return rc;
}

typedef struct {
    const char *text;
    size_t len;
    season_header_t *h;
    season_row_fn row;
} season_csv_src_t;

static int season_csv_source(store_t *s, const void *src, const season_assets_t *as,
                             const store_league_t *lg, int64_t now_ms, season_report_t *r)
{
    const season_csv_src_t *c = src;
    csv_reader_t rd;
    csv_reader_init(&rd, c->text, c->len, NULL);
    int rc = season_rows(s, &rd, c->h, as, lg, now_ms, c->row, r);
    csv_reader_deinit(&rd);
    return rc;
}

int season_import_fixtures(store_t *s, const store_league_t *lg, const char *text, size_t len,
                           int flags, int64_t now_ms, season_report_t *r)
{
    season_header_t h = {.names = season_fixture_cols, .ncols = 9, .required = 4};
    season_csv_src_t c = {text, len, &h, season_fixture_do};
    return season_import(s, lg, flags, now_ms, season_csv_source, &c, r);
}

int season_import_stats(store_t *s, const store_league_t *lg, const char *text, size_t len,
                        int flags, int64_t now_ms, season_report_t *r)
{
    season_header_t h = {.names = season_stat_cols, .ncols = 7, .required = 7};
    season_csv_src_t c = {text, len, &h, season_stat_do};
    return season_import(s, lg, flags, now_ms, season_csv_source, &c, r);
}

/* ---- Football-Data.org v4 (GET /v4/competitions/{code}/matches) ------------------------------ */

static const char *season_str(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

/* The provider's status in ours. */
static const char *season_fd_status(const char *st)
{
    static const char *const map[][2] = {
        {"SCHEDULED", "scheduled"}, {"TIMED", "scheduled"},     {"IN_PLAY", "live"},
        {"PAUSED", "live"},         {"FINISHED", "finished"},   {"AWARDED", "finished"},
        {"POSTPONED", "postponed"}, {"SUSPENDED", "postponed"}, {"CANCELLED", "cancelled"},
    };
    for (size_t i = 0; st && i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(map[i][0], st))
            return map[i][1];
    return st ? st : ""; /* unknown: reported as invalid_status */
}

/* A JSON scalar as text into buf ("" for null or absent, "x" for a wrong type). */
static const char *season_fd_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, n, "%s", v && !json_is_null(v) ? "x" : "");
    return buf;
}

static int season_fd_match(store_t *s, const json_t *m, int line, const season_assets_t *as,
                           const store_league_t *lg, int64_t now_ms, season_set_t *seen,
                           season_report_t *r)
{
    char id[32], hid[32], aid[32], hg[16], ag[16], round[128];
    if (!json_is_object(m)) {
        season_error(r, line, "invalid_match", "Match %d is not an object.", line);
        return 0;
    }
    const json_t *home = json_object_get(m, "homeTeam"), *away = json_object_get(m, "awayTeam");
    const json_t *full = json_object_get(json_object_get(m, "score"), "fullTime");
    const char *status = season_fd_status(json_string_value(json_object_get(m, "status")));
    int done = !strcmp(status, "finished");
    const json_t *md = json_object_get(m, "matchday");
    const char *stage = json_string_value(json_object_get(m, "stage"));
    const char *group = json_string_value(json_object_get(m, "group"));
    if (json_is_integer(md))
        snprintf(round, sizeof(round), "Matchday %lld", (long long)json_integer_value(md));
    else
        snprintf(round, sizeof(round), "%.60s%s%.60s", stage ? stage : "", group ? " " : "",
                 group ? group : "");
    const char *venue = json_string_value(json_object_get(m, "venue"));
    season_fx_text_t x = {
        .line = line,
        .ext = season_fd_text(json_object_get(m, "id"), id, sizeof(id)),
        .starts = season_str(json_object_get(m, "utcDate")),
        .home = season_fd_text(json_object_get(home, "id"), hid, sizeof(hid)),
        .away = season_fd_text(json_object_get(away, "id"), aid, sizeof(aid)),
        .home2 = season_str(json_object_get(home, "name")),
        .away2 = season_str(json_object_get(away, "name")),
        .venue = venue ? venue : "",
        .round = round,
        .status = status,
        .hg = done ? season_fd_text(json_object_get(full, "home"), hg, sizeof(hg)) : "",
        .ag = done ? season_fd_text(json_object_get(full, "away"), ag, sizeof(ag)) : "",
    };
    return season_fixture_save(s, &x, as, lg, now_ms, seen, r);
}

static int season_fd_source(store_t *s, const void *src, const season_assets_t *as,
                            const store_league_t *lg, int64_t now_ms, season_report_t *r)
{
    const json_t *matches = json_object_get(src, "matches");
    season_set_t seen = {0};
    int rc = 0;
    if (!json_is_array(matches)) {
        season_error(r, 1, "missing_matches", "The response has no \"matches\" array.");
        r->file_error = 1;
        return GV_EINVALID_REQUEST;
    }
    for (size_t i = 0; !rc && i < json_array_size(matches); i++)
        rc = season_fd_match(s, json_array_get(matches, i), (int)i + 1, as, lg, now_ms, &seen, r);
    season_set_free(&seen);
    return rc;
}

int season_import_football_data(store_t *s, const store_league_t *lg, const char *text, size_t len,
                                int flags, int64_t now_ms, season_report_t *r)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        season_error(r, root ? 1 : jerr.line, "invalid_json",
                     "The provider's response is not a JSON object (%.120s).",
                     root ? "another JSON value" : jerr.text);
        r->file_error = 1;
        json_decref(root);
        return GV_EINVALID_REQUEST;
    }
    int rc = season_import(s, lg, flags, now_ms, season_fd_source, root, r);
    json_decref(root);
    return rc;
}

/* ---- Cricsheet scorecards (cricket stats) ------------------------------------------------------
 */

typedef struct {
    const cricsheet_card_t *card;
    const char *match_id;
} season_cs_src_t;

/* A scorecard line's asset: by the people registry id among provider ids, else by name or id. */
static long season_cs_player(const season_assets_t *as, const cricsheet_line_t *cl)
{
    long i = cl->registry[0] ? season_match(as, cl->registry) : -1;
    return i == -1 ? season_match(as, cl->name) : i;
}

static int season_cs_source(store_t *s, const void *src, const season_assets_t *as,
                            const store_league_t *lg, int64_t now_ms, season_report_t *r)
{
    const season_cs_src_t *c = src;
    season_set_t seen = {0};
    int rc = 0;
    for (size_t i = 0; !rc && i < c->card->n; i++) {
        const cricsheet_line_t *cl = &c->card->lines[i];
        long a = season_cs_player(as, cl);
        if (a == -2)
            season_error(r, (int)i + 1, "ambiguous_team",
                         "%.100s matches more than one player; add the player's Cricsheet id "
                         "to one of them.",
                         cl->name);
        if (a == -1 && json_array_append_new(r->unmatched, json_string(cl->name)) != 0)
            rc = GV_ENOMEM;
        if (a < 0)
            continue;
        store_cricket_line_t l = {.runs = cl->runs,
                                  .wickets = cl->wickets,
                                  .catches = cl->catches,
                                  .stumpings = cl->stumpings,
                                  .run_outs = cl->run_outs};
        snprintf(l.league_id, sizeof(l.league_id), "%s", lg->id);
        snprintf(l.external_id, sizeof(l.external_id), "%s", c->match_id);
        snprintf(l.asset_id, sizeof(l.asset_id), "%s", as->v[a].id);
        rc = season_line_save(s, &l, (int)i + 1, now_ms, &seen, r);
    }
    season_set_free(&seen);
    return rc;
}

/* Refuses the whole scorecard with one report line (where: 0 = info, else the innings). */
static int season_cs_refuse(season_report_t *r, int where, const char *code, const char *why)
{
    season_error(r, where, code, "%s", why);
    r->file_error = 1;
    return GV_EINVALID_REQUEST;
}

int season_import_cricsheet(store_t *s, const store_league_t *lg, const char *text, size_t len,
                            const char *match_id, int flags, int64_t now_ms, season_report_t *r)
{
    json_error_t jerr;
    cricsheet_card_t card;
    memset(&card, 0, sizeof(card));
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = 0;
    if (!json_is_object(root))
        rc = season_cs_refuse(r, root ? 1 : jerr.line, "invalid_json",
                              root ? "The scorecard is not a JSON object." : jerr.text);
    else if ((rc = cricsheet_parse(root, &card)) == GV_EINVALID_REQUEST)
        rc = season_cs_refuse(r, card.where, "invalid_scorecard", card.why);
    const char *id = match_id && *match_id ? match_id : card.match_id;
    if (!rc &&
        (strlen(id) >= STORE_EXTERNAL_ID_MAX || !utf8_valid((const unsigned char *)id, strlen(id))))
        rc = season_cs_refuse(r, 0, "invalid_external_id",
                              "matchId must be 1 to 127 bytes of UTF-8.");
    if (!rc && !r->unmatched && !(r->unmatched = json_array()))
        rc = GV_ENOMEM;
    if (!rc) {
        season_cs_src_t src = {&card, id};
        snprintf(r->match_id, sizeof(r->match_id), "%s", id);
        rc = season_import(s, lg, flags, now_ms, season_cs_source, &src, r);
    }
    cricsheet_free(&card);
    json_decref(root);
    return rc;
}

/* ---- rules ---------------------------------------------------------------------------------- */

int season_rules(store_t *s, const store_league_t *lg, scoring_rules_t *rules)
{
    char doc[STORE_SCORING_MAX], field[64];
    int rc = store_scoring_get(s, lg->id, doc, sizeof(doc));
    json_t *over = rc ? NULL : doc[0] ? json_loads(doc, 0, NULL) : json_object();
    if (!rc && !json_is_object(over))
        rc = GV_EDB;
    rc = rc ? rc : scoring_overrides_merge(lg->sport, over, NULL, rules, field, sizeof(field));
    json_decref(over);
    return rc;
}

/* ---- standings ------------------------------------------------------------------------------ */

typedef struct {
    char asset_id[STORE_ASSET_ID_MAX];
    char name[STORE_TEXT_MAX];
    char user_id[40];
    int64_t points, tb1, tb2; /* football: goals, wins; cricket: runs, wickets */
} season_owned_t;

typedef struct {
    season_owned_t *v; /* in lot order */
    size_t n, cap;
    season_owned_t **by_id; /* v by asset id, for the lookups of every stored line */
    size_t indexed;         /* how many of v by_id holds (rebuilt when v has grown) */
    const scoring_rules_t *rules;
} season_table_t;

static void season_table_free(season_table_t *t)
{
    free(t->v);
    free(t->by_id);
}

static int season_owned_row(void *ctx, const store_roster_row_t *row)
{
    season_table_t *t = ctx;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        season_owned_t *v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return GV_ENOMEM;
        t->v = v, t->cap = cap;
    }
    season_owned_t *o = &t->v[t->n++];
    memset(o, 0, sizeof(*o));
    snprintf(o->asset_id, sizeof(o->asset_id), "%s", row->asset_id);
    snprintf(o->name, sizeof(o->name), "%s", row->name);
    snprintf(o->user_id, sizeof(o->user_id), "%s", row->user_id);
    return 0;
}

static int season_owned_cmp(const void *a, const void *b)
{
    return strcmp((*(season_owned_t *const *)a)->asset_id, (*(season_owned_t *const *)b)->asset_id);
}

static int season_owned_key_cmp(const void *key, const void *b)
{
    return strcmp(key, (*(season_owned_t *const *)b)->asset_id);
}

/* The owned asset of that id, or NULL (also when the index cannot be built: no memory means
 * the lookups fall back to a scan). */
static season_owned_t *season_owned_find(season_table_t *t, const char *asset_id)
{
    if (t->n == 0)
        return NULL; /* nothing owned (and bsearch may not be given a null array) */
    if (t->indexed != t->n) {
        season_owned_t **idx = realloc(t->by_id, (t->n ? t->n : 1) * sizeof(*idx));
        if (idx) {
            for (size_t i = 0; i < t->n; i++)
                idx[i] = &t->v[i];
            qsort(idx, t->n, sizeof(*idx), season_owned_cmp);
            t->by_id = idx, t->indexed = t->n;
        }
    }
    if (t->indexed == t->n) {
        season_owned_t **hit =
            bsearch(asset_id, t->by_id, t->n, sizeof(*t->by_id), season_owned_key_cmp);
        return hit ? *hit : NULL;
    }
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].asset_id, asset_id))
            return &t->v[i];
    return NULL;
}

static void season_football_add(season_table_t *t, const char *asset, int gf, int ga)
{
    season_owned_t *o = season_owned_find(t, asset);
    if (!o)
        return;
    o->points += scoring_football(t->rules, gf, ga);
    o->tb1 += gf;
    o->tb2 += gf > ga;
}

static int season_fixture_score(void *ctx, const store_result_t *f)
{
    season_football_add(ctx, f->home_asset_id, f->home_goals, f->away_goals);
    season_football_add(ctx, f->away_asset_id, f->away_goals, f->home_goals);
    return 0;
}

static int season_line_score(void *ctx, const store_cricket_stat_t *l)
{
    season_table_t *t = ctx;
    season_owned_t *o = season_owned_find(t, l->asset_id);
    if (o) {
        scoring_line_t line = {l->runs, l->wickets, l->catches, l->stumpings, l->run_outs};
        o->points += scoring_cricket(t->rules, &line);
        o->tb1 += l->runs;
        o->tb2 += l->wickets;
    }
    return 0;
}

/* One standings item per commissioner and manager, their assets in lot order. */
static json_t *season_item(const season_table_t *t, const store_member_t *m,
                           const scoring_row_t *row, int football)
{
    json_t *assets = json_array();
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].user_id, m->user_id))
            json_array_append_new(assets,
                                  json_pack("{s:s, s:s, s:I}", "assetId", t->v[i].asset_id, "name",
                                            t->v[i].name, "points", (json_int_t)t->v[i].points));
    return json_pack("{s:i, s:s, s:s, s:I, s:{s:I, s:I}, s:o}", "rank", row->rank, "userId",
                     m->user_id, "name", m->name, "points", (json_int_t)row->points, "tiebreak",
                     football ? "goals" : "runs", (json_int_t)row->tb1,
                     football ? "wins" : "wickets", (json_int_t)row->tb2, "assets", assets);
}

int season_standings(store_t *s, const store_league_t *lg, int64_t now_ms, json_t **out)
{
    enum { MEMBERS = 256 };
    scoring_rules_t rules;
    season_table_t t = {.rules = &rules};
    store_member_t *mem = calloc(MEMBERS, sizeof(*mem));
    scoring_row_t *rows = calloc(MEMBERS, sizeof(*rows));
    size_t n = 0;
    int more = 0, football = !strcmp(lg->sport, "football");
    int rc = mem && rows ? season_rules(s, lg, &rules) : GV_ENOMEM;
    rc = rc ? rc : store_league_rosters_each(s, lg->id, season_owned_row, &t);
    rc = rc         ? rc
         : football ? store_results_each(s, lg->id, season_fixture_score, &t)
                    : store_cricket_stats_each(s, lg->id, season_line_score, &t);
    rc = rc ? rc : store_members_list(s, lg->id, 0, 0, "", MEMBERS, mem, MEMBERS, &n, &more);
    for (size_t i = 0; !rc && i < n; i++) {
        rows[i] = (scoring_row_t){.key = mem[i].name, .index = i};
        for (size_t k = 0; k < t.n; k++)
            if (!strcmp(t.v[k].user_id, mem[i].user_id)) {
                rows[i].points += t.v[k].points;
                rows[i].tb1 += t.v[k].tb1;
                rows[i].tb2 += t.v[k].tb2;
            }
    }
    if (!rc) {
        scoring_rank(rows, n);
        char at[32];
        clock_format_iso(now_ms, at);
        json_t *items = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(items, season_item(&t, &mem[rows[i].index], &rows[i], football));
        *out = json_pack("{s:o, s:s}", "items", items, "computedAt", at);
        rc = *out ? 0 : GV_ENOMEM;
    }
    season_table_free(&t);
    free(mem);
    free(rows);
    return rc;
}

/* ---- one asset's points --------------------------------------------------------------------- */

typedef struct {
    const store_asset_t *asset;
    const scoring_rules_t *rules;
    json_t *items;
    int64_t total;
} season_history_t;

static int season_history_fixture(void *ctx, const store_fixture_t *f)
{
    season_history_t *h = ctx;
    int home = !strcmp(f->home_asset_id, h->asset->id);
    if (!home && strcmp(f->away_asset_id, h->asset->id))
        return 0;
    int done = !strcmp(f->status, "finished") && f->home_goals >= 0 && f->away_goals >= 0;
    int gf = home ? f->home_goals : f->away_goals, ga = home ? f->away_goals : f->home_goals;
    int64_t pts = done ? scoring_football(h->rules, gf, ga) : 0;
    h->total += pts;
    char at[32];
    clock_format_iso(f->starts_ms, at);
    json_array_append_new(
        h->items, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:o}", "fixtureId",
                            f->id, "externalMatchId", f->external_id, "startsAt", at, "opponent",
                            home ? f->away_name : f->home_name, "home", home, "round", f->round,
                            "status", f->status, "goalsFor", done ? json_integer(gf) : json_null(),
                            "goalsAgainst", done ? json_integer(ga) : json_null(), "points",
                            done ? json_integer(pts) : json_null()));
    return 0;
}

static int season_history_line(void *ctx, const store_cricket_line_t *l)
{
    season_history_t *h = ctx;
    if (strcmp(l->asset_id, h->asset->id))
        return 0;
    scoring_line_t line = {l->runs, l->wickets, l->catches, l->stumpings, l->run_outs};
    int64_t pts = scoring_cricket(h->rules, &line);
    h->total += pts;
    json_array_append_new(h->items,
                          json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "externalMatchId",
                                    l->external_id, "runs", (json_int_t)l->runs, "wickets",
                                    (json_int_t)l->wickets, "catches", (json_int_t)l->catches,
                                    "stumpings", (json_int_t)l->stumpings, "runOuts",
                                    (json_int_t)l->run_outs, "points", (json_int_t)pts));
    return 0;
}

int season_asset_points(store_t *s, const store_league_t *lg, const store_asset_t *a, json_t **out)
{
    scoring_rules_t rules;
    season_history_t h = {.asset = a, .rules = &rules, .items = json_array()};
    int rc = h.items ? season_rules(s, lg, &rules) : GV_ENOMEM;
    rc = rc ? rc
         : !strcmp(lg->sport, "football")
             ? store_fixtures_each(s, lg->id, season_history_fixture, &h)
             : store_cricket_lines_each(s, lg->id, season_history_line, &h);
    if (rc) {
        json_decref(h.items);
        return rc;
    }
    *out = json_pack("{s:s, s:s, s:I, s:o}", "assetId", a->id, "name", a->name, "points",
                     (json_int_t)h.total, "items", h.items);
    return *out ? 0 : GV_ENOMEM;
}

/* ---- the asset leaderboard ------------------------------------------------------------------ */

/* Seeds t with the league's whole selection (owner ""), then marks the owners. */
static int season_selection(store_t *s, const char *league_id, season_table_t *t)
{
    enum { PAGE = 100 };
    store_asset_t *rows = calloc(PAGE, sizeof(*rows));
    int pos[PAGE], after = -1, more = 1, rc = rows ? 0 : GV_ENOMEM;
    while (!rc && more) {
        size_t n = 0;
        rc = store_league_assets_list(s, league_id, after, PAGE, rows, pos, PAGE, &n, &more);
        for (size_t i = 0; !rc && i < n; i++) {
            store_roster_row_t r = {rows[i].id, "", 0, 0, rows[i].name};
            rc = season_owned_row(t, &r);
        }
        after = n ? pos[n - 1] : after;
        more = more && n;
    }
    free(rows);
    return rc;
}

static int season_owner_mark(void *ctx, const store_roster_row_t *row)
{
    season_owned_t *o = season_owned_find(ctx, row->asset_id);
    if (o)
        snprintf(o->user_id, sizeof(o->user_id), "%s", row->user_id);
    return 0;
}

int season_leaderboard(store_t *s, const store_league_t *lg, json_t **out)
{
    scoring_rules_t rules;
    season_table_t t = {.rules = &rules};
    int football = !strcmp(lg->sport, "football");
    int rc = season_rules(s, lg, &rules);
    rc = rc ? rc : season_selection(s, lg->id, &t);
    rc = rc ? rc : store_league_rosters_each(s, lg->id, season_owner_mark, &t);
    rc = rc         ? rc
         : football ? store_results_each(s, lg->id, season_fixture_score, &t)
                    : store_cricket_stats_each(s, lg->id, season_line_score, &t);
    scoring_row_t *rows = rc ? NULL : calloc(t.n ? t.n : 1, sizeof(*rows));
    rc = rc ? rc : rows ? 0 : GV_ENOMEM;
    if (!rc) {
        for (size_t i = 0; i < t.n; i++)
            rows[i] = (scoring_row_t){.points = t.v[i].points,
                                      .tb1 = t.v[i].tb1,
                                      .tb2 = t.v[i].tb2,
                                      .key = t.v[i].name,
                                      .index = i};
        scoring_rank(rows, t.n);
        json_t *items = json_array();
        for (size_t i = 0; i < t.n; i++) {
            const season_owned_t *o = &t.v[rows[i].index];
            json_array_append_new(
                items, json_pack("{s:i, s:s, s:s, s:I, s:o}", "rank", rows[i].rank, "assetId",
                                 o->asset_id, "name", o->name, "points", (json_int_t)o->points,
                                 "ownerId", o->user_id[0] ? json_string(o->user_id) : json_null()));
        }
        *out = json_pack("{s:o}", "items", items);
        rc = *out ? 0 : GV_ENOMEM;
    }
    free(rows);
    season_table_free(&t);
    return rc;
}

/* ---- points over time ----------------------------------------------------------------------- */

#define SEASON_LABELS_MAX 2000

typedef struct {
    season_table_t *owners;
    const store_member_t *mem;
    size_t nmem;
    char (*labels)[STORE_EXTERNAL_ID_MAX];
    int64_t *delta; /* labels x members */
    size_t nlabels;
    int rc;
} season_series_t;

/* The column of label (appended when new, in arrival order). */
static long season_label(season_series_t *ss, const char *label)
{
    if (ss->nlabels && !strcmp(ss->labels[ss->nlabels - 1], label))
        return (long)ss->nlabels - 1;
    for (size_t i = 0; i < ss->nlabels; i++)
        if (!strcmp(ss->labels[i], label))
            return (long)i;
    if (ss->nlabels == SEASON_LABELS_MAX) {
        ss->rc = GV_ELIMIT;
        return -1;
    }
    snprintf(ss->labels[ss->nlabels], STORE_EXTERNAL_ID_MAX, "%s", label);
    return (long)ss->nlabels++;
}

static void season_series_add(season_series_t *ss, long col, const char *asset, int64_t pts)
{
    const season_owned_t *o = season_owned_find(ss->owners, asset);
    for (size_t m = 0; o && col >= 0 && m < ss->nmem; m++)
        if (!strcmp(ss->mem[m].user_id, o->user_id))
            ss->delta[(size_t)col * ss->nmem + m] += pts;
}

static int season_series_fixture(void *ctx, const store_result_t *f)
{
    season_series_t *ss = ctx;
    char day[32];
    clock_format_iso(f->starts_ms, day);
    day[10] = '\0';
    long col = season_label(ss, day);
    const scoring_rules_t *r = ss->owners->rules;
    season_series_add(ss, col, f->home_asset_id, scoring_football(r, f->home_goals, f->away_goals));
    season_series_add(ss, col, f->away_asset_id, scoring_football(r, f->away_goals, f->home_goals));
    return ss->rc;
}

static int season_series_line(void *ctx, const store_cricket_line_t *l)
{
    season_series_t *ss = ctx;
    scoring_line_t line = {l->runs, l->wickets, l->catches, l->stumpings, l->run_outs};
    season_series_add(ss, season_label(ss, l->external_id), l->asset_id,
                      scoring_cricket(ss->owners->rules, &line));
    return ss->rc;
}

static json_t *season_series_json(const season_series_t *ss, int football)
{
    json_t *labels = json_array(), *series = json_array();
    for (size_t i = 0; i < ss->nlabels; i++)
        json_array_append_new(labels, json_string(ss->labels[i]));
    for (size_t m = 0; m < ss->nmem; m++) {
        json_t *pts = json_array();
        int64_t run = 0;
        for (size_t i = 0; i < ss->nlabels; i++)
            json_array_append_new(pts, json_integer(run += ss->delta[i * ss->nmem + m]));
        json_array_append_new(series, json_pack("{s:s, s:s, s:o}", "userId", ss->mem[m].user_id,
                                                "name", ss->mem[m].name, "points", pts));
    }
    return json_pack("{s:s, s:o, s:o}", "by", football ? "date" : "match", "labels", labels,
                     "series", series);
}

int season_series(store_t *s, const store_league_t *lg, json_t **out)
{
    enum { MEMBERS = 256 };
    scoring_rules_t rules;
    season_table_t t = {.rules = &rules};
    store_member_t *mem = calloc(MEMBERS, sizeof(*mem));
    season_series_t ss = {.owners = &t, .mem = mem};
    int more = 0, football = !strcmp(lg->sport, "football");
    int rc = mem ? season_rules(s, lg, &rules) : GV_ENOMEM;
    rc = rc ? rc : store_league_rosters_each(s, lg->id, season_owned_row, &t);
    rc = rc ? rc : store_members_list(s, lg->id, 0, 0, "", MEMBERS, mem, MEMBERS, &ss.nmem, &more);
    if (!rc) { /* sized by the members there are, not the most there could be */
        ss.labels = calloc(SEASON_LABELS_MAX, sizeof(*ss.labels));
        ss.delta = calloc((size_t)SEASON_LABELS_MAX * (ss.nmem ? ss.nmem : 1), sizeof(*ss.delta));
        rc = ss.labels && ss.delta ? 0 : GV_ENOMEM;
    }
    rc = rc         ? rc
         : football ? store_results_each(s, lg->id, season_series_fixture, &ss)
                    : store_cricket_lines_each(s, lg->id, season_series_line, &ss);
    if (!rc) {
        *out = season_series_json(&ss, football);
        rc = *out ? 0 : GV_ENOMEM;
    }
    season_table_free(&t);
    free(mem);
    free(ss.labels);
    free(ss.delta);
    return rc;
}
