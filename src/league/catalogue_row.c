/* One catalogue row: each value checked (ids, texts, the sport, competitions of that sport,
 * provider ids), then the competition or asset upserted and the outcome counted. */
#include "league/catalogue_int.h"

#include "core/err.h"
#include "json/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_PROVIDER_KEY_MAX 32
#define CAT_PROVIDER_VALUE_MAX 64

void catalogue_row_set(catalogue_ctx_t *c, catalogue_row_t *row, int col, const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char *dst = c->scratch + (size_t)col * (CAT_VALUE_MAX + 1);
    row->too_long[col] = n > CAT_VALUE_MAX;
    if (n > CAT_VALUE_MAX)
        n = CAT_VALUE_MAX;
    memcpy(dst, s, n);
    dst[n] = '\0';
    row->v[col] = dst;
}

static const char *cat_val(const catalogue_row_t *row, int col)
{
    return row->v[col] != NULL ? row->v[col] : "";
}

/* ---- validation ------------------------------------------------------------------------------ */

/* Ids and codes: 1..cap-1 bytes of letters, digits, '.', '_', ':' and '-'. */
static int cat_key_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("._:-", s[i])))
            return 0;
    return 1;
}

/* Text without control characters that fits cap bytes with its NUL. */
static int cat_text_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return n < cap;
}

static const char *const cat_col_names[CATALOGUE_COL_COUNT] = {
    [CATALOGUE_COL_ID] = "id",
    [CATALOGUE_COL_SPORT] = "sport",
    [CATALOGUE_COL_NAME] = "name",
    [CATALOGUE_COL_SHORT] = "shortName",
    [CATALOGUE_COL_COUNTRY] = "country",
    [CATALOGUE_COL_TEAM] = "team",
    [CATALOGUE_COL_ROLE] = "role",
    [CATALOGUE_COL_COMPS] = "competitions",
    [CATALOGUE_COL_PROVIDERS] = "providerIds",
    [CATALOGUE_COL_FD_ID] = "football_data_id",
    [CATALOGUE_COL_CODE] = "code",
    [CATALOGUE_COL_SEASON] = "season",
    [CATALOGUE_COL_IGNORED] = "-",
};

/* Copies text column col into dst (cap bytes). A row error (returned as 1) when it is missing
 * but required, too long or has control characters. */
static int cat_text(catalogue_ctx_t *c, const catalogue_row_t *row, int line, int col, int required,
                    char *dst, size_t cap)
{
    const char *v = cat_val(row, col);
    const char *what = cat_col_names[col];
    if (required && v[0] == '\0')
        return catalogue_report_add(c->rep, line, "missing_field", "%s is required.", what) ? -1
                                                                                            : 1;
    if (row->too_long[col] || !cat_text_ok(v, cap))
        return catalogue_report_add(
                   c->rep, line, "invalid_value",
                   "%s must be at most %zu bytes of text without control characters.", what,
                   cap - 1)
                   ? -1
                   : 1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* The id (or code) of column col: present, well formed, and not seen before in this input. */
static int cat_key(catalogue_ctx_t *c, const catalogue_row_t *row, int line, int col, char *dst,
                   size_t cap)
{
    char clip[48];
    const char *v = cat_val(row, col), *what = cat_col_names[col];
    if (v[0] == '\0')
        return catalogue_report_add(c->rep, line, "missing_field", "%s is required.", what) ? -1
                                                                                            : 1;
    if (row->too_long[col] || !cat_key_ok(v, cap))
        return catalogue_report_add(c->rep, line, "invalid_value",
                                    "%s must be 1 to %zu letters, digits, '.', '_', ':' or '-'.",
                                    what, cap - 1)
                   ? -1
                   : 1;
    if (json_object_get(c->seen, v) != NULL)
        return catalogue_report_add(c->rep, line, "duplicate_id",
                                    "%s \"%s\" appears twice in this input.", what,
                                    catalogue_clip(v, clip, sizeof(clip)))
                   ? -1
                   : 1;
    if (json_object_set_new(c->seen, v, json_true()) != 0)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int cat_sport(catalogue_ctx_t *c, const catalogue_row_t *row, int line, char *dst)
{
    char clip[48];
    const char *v = c->kind->sport != NULL ? c->kind->sport : cat_val(row, CATALOGUE_COL_SPORT);
    if (v[0] == '\0')
        return catalogue_report_add(c->rep, line, "missing_field", "sport is required.") ? -1 : 1;
    for (size_t i = 0; i < c->nsports; i++)
        if (strcmp(c->sports[i].key, v) == 0) {
            memcpy(dst, v, strlen(v) + 1);
            return 0;
        }
    return catalogue_report_add(c->rep, line, "unknown_sport", "There is no sport \"%s\".",
                                catalogue_clip(v, clip, sizeof(clip)))
               ? -1
               : 1;
}

/* Adds competition code to codes (deduplicated) after checking it exists and is of sport. */
static int cat_comp_add(catalogue_ctx_t *c, int line, const char *sport, const char *code,
                        size_t len, char codes[][STORE_KEY_MAX], size_t *n)
{
    char clip[48], buf[STORE_KEY_MAX];
    if (len == 0)
        return 0; /* "A;;B" or a trailing ';' */
    const store_competition_t *found = NULL;
    if (len < sizeof(buf)) {
        memcpy(buf, code, len);
        buf[len] = '\0';
        for (size_t i = 0; i < c->ncomps && found == NULL; i++)
            if (strcmp(c->comps[i].code, buf) == 0)
                found = &c->comps[i];
    }
    if (found == NULL) {
        return catalogue_report_add(c->rep, line, "unknown_competition",
                                    "There is no competition \"%s\".",
                                    catalogue_clipn(code, len, clip, sizeof(clip)))
                   ? -1
                   : 1;
    }
    if (strcmp(found->sport, sport) != 0)
        return catalogue_report_add(c->rep, line, "wrong_sport",
                                    "Competition %s is a %s competition.", found->code,
                                    found->sport)
                   ? -1
                   : 1;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(codes[i], found->code) == 0)
            return 0;
    if (*n >= STORE_ASSET_COMPETITIONS_MAX)
        return catalogue_report_add(c->rep, line, "invalid_value",
                                    "An asset has at most %d competitions.",
                                    STORE_ASSET_COMPETITIONS_MAX)
                   ? -1
                   : 1;
    memcpy(codes[(*n)++], found->code, strlen(found->code) + 1);
    return 0;
}

/* The competitions of a row: "A;B" text or, from JSON, an array of strings. */
static int cat_comps(catalogue_ctx_t *c, const catalogue_row_t *row, int line, const char *sport,
                     char codes[][STORE_KEY_MAX], size_t *n)
{
    int rc = 0;
    *n = 0;
    if (row->comps != NULL) {
        size_t i;
        json_t *v;
        json_array_foreach(row->comps, i, v)
        {
            const char *s = json_string_value(v);
            if (s == NULL)
                return catalogue_report_add(c->rep, line, "invalid_value",
                                            "competitions must be an array of codes.")
                           ? -1
                           : 1;
            if ((rc = cat_comp_add(c, line, sport, s, strlen(s), codes, n)) != 0)
                return rc;
        }
        return 0;
    }
    for (const char *p = cat_val(row, CATALOGUE_COL_COMPS); rc == 0 && *p != '\0';) {
        size_t len = strcspn(p, ";");
        const char *q = p, *end = p + len;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        while (end > q && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        rc = cat_comp_add(c, line, sport, q, (size_t)(end - q), codes, n);
        p += len + (p[len] == ';');
    }
    return rc;
}

static int cat_provider_ok(const char *key, size_t klen, const char *val, size_t vlen)
{
    if (klen == 0 || klen > CAT_PROVIDER_KEY_MAX || vlen == 0 || vlen > CAT_PROVIDER_VALUE_MAX)
        return 0;
    for (size_t i = 0; i < klen; i++)
        if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
              (key[i] >= '0' && key[i] <= '9') || key[i] == '_'))
            return 0;
    for (size_t i = 0; i < vlen; i++)
        if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
            return 0;
    return 1;
}

/* Adds key=val to obj, refusing bad or repeated keys. 0, 1 (row error) or < 0. */
static int cat_provider_add(catalogue_ctx_t *c, int line, json_t *obj, const char *key, size_t klen,
                            const char *val, size_t vlen)
{
    char k[CAT_PROVIDER_KEY_MAX + 1];
    if (!cat_provider_ok(key, klen, val, vlen))
        return catalogue_report_add(
                   c->rep, line, "invalid_value",
                   "providerIds are key=value pairs: keys of 1 to %d letters, digits or "
                   "'_', values of 1 to %d characters.",
                   CAT_PROVIDER_KEY_MAX, CAT_PROVIDER_VALUE_MAX)
                   ? -1
                   : 1;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (json_object_get(obj, k) != NULL)
        return catalogue_report_add(c->rep, line, "invalid_value", "providerIds names %s twice.", k)
                   ? -1
                   : 1;
    return json_object_set_new(obj, k, json_stringn(val, vlen)) == 0 ? 0 : -1;
}

/* Fills obj from the row's provider ids: football_data_id, "k=v;k=v" text or a JSON object. */
static int cat_providers_fill(catalogue_ctx_t *c, const catalogue_row_t *row, int line, json_t *obj)
{
    int rc = 0;
    const char *fd = cat_val(row, CATALOGUE_COL_FD_ID);
    if (fd[0] != '\0')
        return cat_provider_add(c, line, obj, "footballData", 12, fd, strlen(fd));
    if (row->providers != NULL) {
        const char *k;
        json_t *v;
        json_object_foreach(row->providers, k, v)
        {
            const char *s = json_string_value(v);
            if (s == NULL)
                return catalogue_report_add(c->rep, line, "invalid_value",
                                            "providerIds values must be strings.")
                           ? -1
                           : 1;
            if ((rc = cat_provider_add(c, line, obj, k, strlen(k), s, strlen(s))) != 0)
                return rc;
        }
        return 0;
    }
    for (const char *p = cat_val(row, CATALOGUE_COL_PROVIDERS); rc == 0 && *p != '\0';) {
        size_t len = strcspn(p, ";");
        const char *eq = memchr(p, '=', len);
        if (len > 0)
            rc = eq == NULL ? cat_provider_add(c, line, obj, p, len, "", 0)
                            : cat_provider_add(c, line, obj, p, (size_t)(eq - p), eq + 1,
                                               (size_t)(p + len - eq - 1));
        p += len + (p[len] == ';');
    }
    return rc;
}

/* The row's provider ids as canonical JSON text in dst. */
static int cat_providers(catalogue_ctx_t *c, const catalogue_row_t *row, int line, char *dst,
                         size_t cap)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return -1;
    int rc = cat_providers_fill(c, row, line, obj);
    char *text = rc == 0 ? json_text(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (rc == 0 && text == NULL)
        rc = -1;
    else if (rc == 0 && strlen(text) >= cap)
        rc = catalogue_report_add(c->rep, line, "invalid_value", "providerIds are too long.") ? -1
                                                                                              : 1;
    else if (rc == 0)
        memcpy(dst, text, strlen(text) + 1);
    free(text);
    json_decref(obj);
    return rc;
}

/* ---- one row --------------------------------------------------------------------------------- */

/* Counts what a write did; a refusal by the store is the row's error. 0, 1 or < 0 (fatal). */
static int cat_written(catalogue_ctx_t *c, int line, const char *what, const char *key, int err,
                       store_upsert_t outcome)
{
    char clip[48];
    if (err == GV_ECONFLICT)
        return catalogue_report_add(c->rep, line, "conflict",
                                    "%s %s exists with another sport; its sport cannot change.",
                                    what, catalogue_clip(key, clip, sizeof(clip)))
                   ? -1
                   : 1;
    if (err == GV_EINVALID_REQUEST || err == GV_ELIMIT)
        return catalogue_report_add(c->rep, line, "invalid_value", "The store refused %s %s.", what,
                                    catalogue_clip(key, clip, sizeof(clip)))
                   ? -1
                   : 1;
    if (err != 0)
        return err;
    c->rep->created += outcome == STORE_UPSERT_CREATED;
    c->rep->updated += outcome == STORE_UPSERT_UPDATED;
    c->rep->skipped += outcome == STORE_UPSERT_UNCHANGED;
    return 0;
}

static int cat_competition_row(catalogue_ctx_t *c, const catalogue_row_t *row, int line)
{
    store_competition_t comp;
    store_upsert_t outcome = STORE_UPSERT_UNCHANGED;
    memset(&comp, 0, sizeof(comp));
    int rc = cat_key(c, row, line, CATALOGUE_COL_CODE, comp.code, sizeof(comp.code));
    rc = rc ? rc : cat_sport(c, row, line, comp.sport);
    rc = rc ? rc : cat_text(c, row, line, CATALOGUE_COL_NAME, 1, comp.name, sizeof(comp.name));
    rc =
        rc ? rc : cat_text(c, row, line, CATALOGUE_COL_SEASON, 0, comp.season, sizeof(comp.season));
    if (rc != 0 || !c->writing)
        return rc;
    int err = store_competition_save(c->s, &comp, &outcome);
    return cat_written(c, line, "Competition", comp.code, err, outcome);
}

/* Fills a and codes from row. 0, 1 (a row error was reported) or < 0. */
static int cat_asset_build(catalogue_ctx_t *c, const catalogue_row_t *row, int line,
                           store_asset_t *a, char codes[][STORE_KEY_MAX], size_t *ncodes)
{
    int rc = cat_key(c, row, line, CATALOGUE_COL_ID, a->id, sizeof(a->id));
    rc = rc ? rc : cat_sport(c, row, line, a->sport);
    rc = rc ? rc : cat_text(c, row, line, CATALOGUE_COL_NAME, 1, a->name, sizeof(a->name));
    rc = rc ? rc
            : cat_text(c, row, line, CATALOGUE_COL_SHORT, 0, a->short_name, sizeof(a->short_name));
    rc = rc ? rc : cat_text(c, row, line, CATALOGUE_COL_COUNTRY, 0, a->country, sizeof(a->country));
    rc = rc ? rc : cat_text(c, row, line, CATALOGUE_COL_TEAM, 0, a->team, sizeof(a->team));
    rc = rc ? rc : cat_text(c, row, line, CATALOGUE_COL_ROLE, 0, a->role, sizeof(a->role));
    rc = rc ? rc : cat_comps(c, row, line, a->sport, codes, ncodes);
    rc = rc ? rc : cat_providers(c, row, line, a->provider_ids, sizeof(a->provider_ids));
    if (rc == 0 && c->kind->country_is_name && a->country[0] == '\0')
        memcpy(a->country, a->name, sizeof(a->country));
    return rc;
}

static int cat_asset_row(catalogue_ctx_t *c, const catalogue_row_t *row, int line)
{
    char codes[STORE_ASSET_COMPETITIONS_MAX][STORE_KEY_MAX];
    const char *ptrs[STORE_ASSET_COMPETITIONS_MAX];
    size_t n = 0;
    store_upsert_t outcome = STORE_UPSERT_UNCHANGED;
    store_asset_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return GV_ENOMEM;
    int rc = cat_asset_build(c, row, line, a, codes, &n);
    if (rc == 0 && c->writing) {
        for (size_t i = 0; i < n; i++)
            ptrs[i] = codes[i];
        int err = store_asset_save(c->s, a, ptrs, n, c->now_ms, &outcome);
        rc = cat_written(c, line, "Asset", a->id, err, outcome);
    }
    free(a);
    return rc;
}

int catalogue_row_import(catalogue_ctx_t *c, const catalogue_row_t *row, int line)
{
    c->rep->rows++;
    int rc =
        c->kind->competitions ? cat_competition_row(c, row, line) : cat_asset_row(c, row, line);
    if (rc == 1 && !(c->flags & CATALOGUE_PARTIAL))
        c->writing = 0;
    return rc < 0 ? (rc == -1 ? GV_ENOMEM : rc) : 0;
}
