/* Scoring rules, points and league-table ranks (see scoring.h). */
#include "season/scoring.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scoring_defaults(const char *sport, scoring_rules_t *r)
{
    memset(r, 0, sizeof(*r));
    if (sport && !strcmp(sport, "football")) {
        r->sport = SCORING_FOOTBALL;
        r->win = 3, r->draw = 1, r->loss = 0, r->goal = 1;
        return 0;
    }
    if (sport && !strcmp(sport, "cricket")) {
        r->sport = SCORING_CRICKET;
        r->run = 1, r->wicket = 20, r->catch_ = 10, r->stumping = 25, r->run_out = 20;
        r->half_century = (scoring_milestone_t){0, 50, 10};
        r->century = (scoring_milestone_t){0, 100, 25};
        r->five_wickets = (scoring_milestone_t){0, 5, 25};
        return 0;
    }
    return GV_EINVALID_REQUEST;
}

/* RFC 7386 merge of patch into target (both objects): null removes, objects merge, the rest
 * replaces. 0 or GV_ENOMEM. */
static int scoring_merge_patch(json_t *target, const json_t *patch)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v)
    {
        json_t *cur = json_object_get(target, key);
        int rc = 0;
        if (json_is_null(v)) {
            json_object_del(target, key);
        } else if (json_is_object(v)) { /* into an object: a fresh one when there is none, so
                                         * the patch's nulls are applied, never stored */
            if (!json_is_object(cur) && json_object_set_new(target, key, cur = json_object()) != 0)
                return GV_ENOMEM;
            rc = scoring_merge_patch(cur, v);
        } else {
            rc = json_object_set_new(target, key, json_deep_copy(v)) ? GV_ENOMEM : 0;
        }
        if (rc)
            return rc;
    }
    return 0;
}

typedef struct {
    const char *name;
    int64_t *value;
} scoring_field_t;

/* Applies one object of numbers (obj may be NULL) to fields; prefix names the object. */
static int scoring_numbers(const json_t *obj, const scoring_field_t *fields, size_t nf,
                           const char *prefix, char *field, size_t n)
{
    const char *key;
    json_t *v;
    if (obj && !json_is_object(obj))
        return snprintf(field, n, "%s", prefix), GV_EINVALID_REQUEST;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (i < nf && strcmp(fields[i].name, key))
            i++;
        if (i == nf || !json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > SCORING_VALUE_MAX)
            return snprintf(field, n, "%s.%s", prefix, key), GV_EINVALID_REQUEST;
        *fields[i].value = json_integer_value(v);
    }
    return 0;
}

static int scoring_milestone(const json_t *obj, scoring_milestone_t *m, const char *prefix,
                             char *field, size_t n)
{
    const json_t *en = json_object_get(obj, "enabled");
    json_t *rest = obj ? json_deep_copy(obj) : NULL;
    json_object_del(rest, "enabled");
    scoring_field_t f[] = {{"threshold", &m->threshold}, {"points", &m->points}};
    int rc = en && !json_is_boolean(en) ? GV_EINVALID_REQUEST : 0;
    if (rc)
        snprintf(field, n, "%s.enabled", prefix);
    rc = rc ? rc : scoring_numbers(rest, f, 2, prefix, field, n);
    json_decref(rest);
    if (!rc && en)
        m->enabled = json_is_true(en);
    if (!rc && m->threshold < 1)
        rc = GV_EINVALID_REQUEST, snprintf(field, n, "%s.threshold", prefix);
    return rc;
}

/* Applies a whole overrides document to r (the sport's defaults). */
static int scoring_apply(scoring_rules_t *r, const json_t *doc, char *field, size_t n)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)doc, key, v)
    {
        int ok = !strcmp(key, "rules") || !strcmp(key, "sport") ||
                 (!strcmp(key, "milestones") && r->sport == SCORING_CRICKET);
        if (!ok) /* an empty key is still named, as "" */
            return snprintf(field, n, "%s", *key ? key : "\"\""), GV_EINVALID_REQUEST;
    }
    const json_t *sport = json_object_get(doc, "sport");
    const char *want = r->sport == SCORING_FOOTBALL ? "football" : "cricket";
    if (sport && (!json_is_string(sport) || strcmp(json_string_value(sport), want)))
        return snprintf(field, n, "sport"), GV_EINVALID_REQUEST;
    scoring_field_t fb[] = {
        {"win", &r->win}, {"draw", &r->draw}, {"loss", &r->loss}, {"goal", &r->goal}};
    scoring_field_t ck[] = {{"run", &r->run},
                            {"wicket", &r->wicket},
                            {"catch", &r->catch_},
                            {"stumping", &r->stumping},
                            {"runOut", &r->run_out}};
    int rc = r->sport == SCORING_FOOTBALL
                 ? scoring_numbers(json_object_get(doc, "rules"), fb, 4, "rules", field, n)
                 : scoring_numbers(json_object_get(doc, "rules"), ck, 5, "rules", field, n);
    const json_t *ms = json_object_get(doc, "milestones");
    if (!rc && ms && !json_is_object(ms))
        rc = GV_EINVALID_REQUEST, snprintf(field, n, "milestones");
    json_object_foreach((json_t *)ms, key, v)
    {
        scoring_milestone_t *m = !strcmp(key, "halfCentury")      ? &r->half_century
                                 : !strcmp(key, "century")        ? &r->century
                                 : !strcmp(key, "fiveWicketHaul") ? &r->five_wickets
                                                                  : NULL;
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "milestones.%.40s", key);
        if (!rc && (!m || !json_is_object(v)))
            rc = GV_EINVALID_REQUEST, snprintf(field, n, "%s", prefix);
        rc = rc ? rc : scoring_milestone(v, m, prefix, field, n);
    }
    return rc;
}

int scoring_overrides_merge(const char *sport, json_t *overrides, const json_t *patch,
                            scoring_rules_t *rules, char *field, size_t n)
{
    field[0] = '\0';
    int rc = scoring_defaults(sport, rules);
    if (!rc && patch && !json_is_object(patch))
        return snprintf(field, n, "body"), GV_EINVALID_REQUEST;
    const json_t *named = json_object_get(patch, "sport");
    if (!rc && named && (!json_is_string(named) || strcmp(json_string_value(named), sport)))
        return snprintf(field, n, "sport"), GV_EINVALID_REQUEST;
    rc = rc ? rc : patch ? scoring_merge_patch(overrides, patch) : 0;
    json_object_del(overrides, "sport"); /* named for clarity only, never stored */
    return rc ? rc : scoring_apply(rules, overrides, field, n);
}

static json_t *scoring_milestone_json(const scoring_milestone_t *m)
{
    return json_pack("{s:b, s:I, s:I}", "enabled", m->enabled, "threshold",
                     (json_int_t)m->threshold, "points", (json_int_t)m->points);
}

json_t *scoring_document(const scoring_rules_t *r)
{
    if (r->sport == SCORING_FOOTBALL)
        return json_pack("{s:s, s:{s:I, s:I, s:I, s:I}}", "sport", "football", "rules", "win",
                         (json_int_t)r->win, "draw", (json_int_t)r->draw, "loss",
                         (json_int_t)r->loss, "goal", (json_int_t)r->goal);
    return json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:o, s:o, s:o}}", "sport", "cricket",
                     "rules", "run", (json_int_t)r->run, "wicket", (json_int_t)r->wicket, "catch",
                     (json_int_t)r->catch_, "stumping", (json_int_t)r->stumping, "runOut",
                     (json_int_t)r->run_out, "milestones", "halfCentury",
                     scoring_milestone_json(&r->half_century), "century",
                     scoring_milestone_json(&r->century), "fiveWicketHaul",
                     scoring_milestone_json(&r->five_wickets));
}

int64_t scoring_football(const scoring_rules_t *r, int gf, int ga)
{
    int64_t result = gf > ga ? r->win : gf == ga ? r->draw : r->loss;
    return result + r->goal * gf;
}

static int64_t scoring_bonus(const scoring_milestone_t *m, int64_t value)
{
    return m->enabled && value >= m->threshold ? m->points : 0;
}

int64_t scoring_cricket(const scoring_rules_t *r, const scoring_line_t *l)
{
    return r->run * l->runs + r->wicket * l->wickets + r->catch_ * l->catches +
           r->stumping * l->stumpings + r->run_out * l->run_outs +
           scoring_bonus(&r->half_century, l->runs) + scoring_bonus(&r->century, l->runs) +
           scoring_bonus(&r->five_wickets, l->wickets);
}

static int scoring_cmp_values(const scoring_row_t *a, const scoring_row_t *b)
{
    if (a->points != b->points)
        return a->points > b->points ? -1 : 1;
    if (a->tb1 != b->tb1)
        return a->tb1 > b->tb1 ? -1 : 1;
    if (a->tb2 != b->tb2)
        return a->tb2 > b->tb2 ? -1 : 1;
    return 0;
}

static int scoring_cmp(const void *pa, const void *pb)
{
    const scoring_row_t *a = pa, *b = pb;
    int c = scoring_cmp_values(a, b);
    return c ? c : strcmp(a->key ? a->key : "", b->key ? b->key : "");
}

void scoring_rank(scoring_row_t *rows, size_t n)
{
    qsort(rows, n, sizeof(*rows), scoring_cmp);
    for (size_t i = 0; i < n; i++)
        rows[i].rank = i > 0 && scoring_cmp_values(&rows[i - 1], &rows[i]) == 0 ? rows[i - 1].rank
                                                                                : (int)i + 1;
}
