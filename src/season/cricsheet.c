/* Cricsheet JSON scorecards as per-player stats lines (see cricsheet.h). */
#include "season/cricsheet.h"

#include "core/err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_BALL_RUNS_MAX 100 /* runs off one delivery: six plus overthrows fit well within */

static int cs_fail(cricsheet_card_t *c, int where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cs_fail(cricsheet_card_t *c, int where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    c->where = where;
    return GV_EINVALID_REQUEST;
}

/* The line of name, added when absent. Its index, or -1 with c->why set (too many, too long,
 * out of memory: *err says which). */
static long cs_line(cricsheet_card_t *c, const char *name, int where, int *err)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->lines[i].name, name))
            return (long)i;
    if (!*name || strlen(name) >= CRICSHEET_NAME_MAX) {
        *err = cs_fail(c, where, "A player's name must be 1 to %d bytes.", CRICSHEET_NAME_MAX - 1);
        return -1;
    }
    if (c->n >= CRICSHEET_PLAYERS_MAX) {
        *err =
            cs_fail(c, where, "More than %d people take part in the match.", CRICSHEET_PLAYERS_MAX);
        return -1;
    }
    if (c->n % 32 == 0) {
        cricsheet_line_t *grown = realloc(c->lines, (c->n + 32) * sizeof(*grown));
        if (!grown) {
            *err = GV_ENOMEM;
            return -1;
        }
        c->lines = grown;
    }
    cricsheet_line_t *l = &c->lines[c->n];
    memset(l, 0, sizeof(*l));
    snprintf(l->name, sizeof(l->name), "%s", name);
    return (long)c->n++;
}

/* Appends "-slug of text" to out (lower-case letters and digits, other runs as one '-'). */
static void cs_slug(char *out, size_t cap, const char *text)
{
    size_t n = strlen(out);
    int dash = 1;
    if (n + 1 < cap)
        out[n++] = '-';
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 1 < cap; p++) {
        if (isalnum(*p) && *p < 0x80) {
            out[n++] = (char)tolower(*p);
            dash = 0;
        } else if (!dash) {
            out[n++] = '-';
            dash = 1;
        }
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
}

static int cs_date_ok(const char *d)
{
    static const char shape[] = "dddd-dd-dd";
    if (!d || strlen(d) != sizeof(shape) - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)d[i]) : d[i] != shape[i])
            return 0;
    return 1;
}

/* The match id, from the first date and the two teams. */
static int cs_match(cricsheet_card_t *c, const json_t *info)
{
    const json_t *teams = json_object_get(info, "teams");
    const char *date = json_string_value(json_array_get(json_object_get(info, "dates"), 0));
    if (!cs_date_ok(date))
        return cs_fail(c, 0, "info.dates must start with a date (YYYY-MM-DD).");
    if (!json_is_array(teams) || json_array_size(teams) != 2 ||
        !json_is_string(json_array_get(teams, 0)) || !json_is_string(json_array_get(teams, 1)))
        return cs_fail(c, 0, "info.teams must name the two teams.");
    snprintf(c->match_id, sizeof(c->match_id), "%s", date);
    for (size_t i = 0; i < 2; i++)
        cs_slug(c->match_id, sizeof(c->match_id), json_string_value(json_array_get(teams, i)));
    return 0;
}

/* Everyone in info.players (team by team), with their registry ids. */
static int cs_players(cricsheet_card_t *c, const json_t *info)
{
    const json_t *players = json_object_get(info, "players");
    const char *team;
    const json_t *list;
    int err = 0;
    if (players && !json_is_object(players))
        return cs_fail(c, 0, "info.players must be an object of team names to lists of names.");
    json_object_foreach((json_t *)players, team, list)
    {
        if (!json_is_array(list))
            return cs_fail(c, 0, "info.players[\"%.60s\"] must be a list of names.", team);
        for (size_t i = 0; i < json_array_size(list); i++) {
            const char *name = json_string_value(json_array_get(list, i));
            if (!name)
                return cs_fail(c, 0, "info.players[\"%.60s\"] must be a list of names.", team);
            if (cs_line(c, name, 0, &err) < 0)
                return err;
        }
    }
    return 0;
}

/* Each line's id in info.registry.people, when it has one. */
static void cs_registry(cricsheet_card_t *c, const json_t *info)
{
    const json_t *people = json_object_get(json_object_get(info, "registry"), "people");
    for (size_t i = 0; i < c->n; i++) {
        const char *id = json_string_value(json_object_get(people, c->lines[i].name));
        if (id && strlen(id) < sizeof(c->lines[i].registry))
            snprintf(c->lines[i].registry, sizeof(c->lines[i].registry), "%s", id);
    }
}

typedef enum { CS_NONE, CS_BOWLER, CS_CATCH, CS_CAUGHT_BOWLED, CS_STUMPED, CS_RUN_OUT } cs_credit_t;

/* What a wicket of kind credits, or -1 for a kind Cricsheet does not have. */
static int cs_kind(const char *kind)
{
    static const struct {
        const char *kind;
        cs_credit_t credit;
    } kinds[] = {
        {"bowled", CS_BOWLER},
        {"caught", CS_CATCH},
        {"caught and bowled", CS_CAUGHT_BOWLED},
        {"lbw", CS_BOWLER},
        {"stumped", CS_STUMPED},
        {"hit wicket", CS_BOWLER},
        {"run out", CS_RUN_OUT},
        {"retired hurt", CS_NONE},
        {"retired not out", CS_NONE},
        {"retired out", CS_NONE},
        {"obstructing the field", CS_NONE},
        {"handled the ball", CS_NONE},
        {"hit the ball twice", CS_NONE},
        {"timed out", CS_NONE},
    };
    for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (!strcmp(kinds[i].kind, kind))
            return (int)kinds[i].credit;
    return -1;
}

/* Credits one fielder's name (fielders[i].name) with one of the counters. */
static int cs_fielder(cricsheet_card_t *c, const json_t *fielders, size_t i, int where,
                      size_t field)
{
    const char *name = json_string_value(json_object_get(json_array_get(fielders, i), "name"));
    int err = 0;
    if (!name)
        return cs_fail(c, where, "A wicket's fielders must each have a name.");
    long f = cs_line(c, name, where, &err);
    if (f < 0)
        return err;
    ++*(int64_t *)((char *)&c->lines[f] + field);
    return 0;
}

static int cs_wicket(cricsheet_card_t *c, const json_t *w, long bowler, int where)
{
    int credit = cs_kind(json_string_value(json_object_get(w, "kind")));
    const json_t *fielders = json_object_get(w, "fielders");
    if (!json_is_object(w) || credit < 0 || !json_is_string(json_object_get(w, "player_out")))
        return cs_fail(c, where, "A wicket needs a known kind and player_out.");
    if (fielders && !json_is_array(fielders))
        return cs_fail(c, where, "A wicket's fielders must be a list.");
    if (credit == CS_BOWLER || credit == CS_CATCH || credit == CS_CAUGHT_BOWLED ||
        credit == CS_STUMPED)
        c->lines[bowler].wickets++;
    if (credit == CS_CAUGHT_BOWLED)
        c->lines[bowler].catches++;
    size_t nf = json_array_size(fielders);
    if ((credit == CS_CATCH || credit == CS_STUMPED) && nf > 0)
        return cs_fielder(c, fielders, 0, where,
                          credit == CS_CATCH ? offsetof(cricsheet_line_t, catches)
                                             : offsetof(cricsheet_line_t, stumpings));
    for (size_t i = 0; credit == CS_RUN_OUT && i < nf; i++) {
        int err = cs_fielder(c, fielders, i, where, offsetof(cricsheet_line_t, run_outs));
        if (err)
            return err;
    }
    return 0;
}

static int cs_delivery(cricsheet_card_t *c, const json_t *d, int where)
{
    const char *batter = json_string_value(json_object_get(d, "batter"));
    const char *bowler = json_string_value(json_object_get(d, "bowler"));
    const json_t *runs = json_object_get(json_object_get(d, "runs"), "batter");
    const json_t *wickets = json_object_get(d, "wickets");
    int err = 0;
    if (!batter || !bowler || !json_is_integer(runs))
        return cs_fail(c, where, "A delivery needs batter, bowler and runs.batter.");
    json_int_t r = json_integer_value(runs);
    if (r < 0 || r > CS_BALL_RUNS_MAX)
        return cs_fail(c, where, "runs.batter must be a whole number from 0 to %d.",
                       CS_BALL_RUNS_MAX);
    if (wickets && !json_is_array(wickets))
        return cs_fail(c, where, "A delivery's wickets must be a list.");
    long bat = cs_line(c, batter, where, &err);
    long bowl = bat < 0 ? -1 : cs_line(c, bowler, where, &err);
    if (bowl < 0)
        return err;
    c->lines[bat].runs += r;
    for (size_t i = 0; i < json_array_size(wickets) && !err; i++)
        err = cs_wicket(c, json_array_get(wickets, i), bowl, where);
    return err;
}

static int cs_innings(cricsheet_card_t *c, const json_t *inn, int where)
{
    const json_t *overs = json_object_get(inn, "overs");
    if (!json_is_object(inn) || (overs && !json_is_array(overs)))
        return cs_fail(c, where, "An innings must be an object with a list of overs.");
    int err = 0;
    for (size_t o = 0; o < json_array_size(overs) && !err; o++) {
        const json_t *ds = json_object_get(json_array_get(overs, o), "deliveries");
        if (!json_is_array(ds))
            return cs_fail(c, where, "Over %zu has no list of deliveries.", o + 1);
        for (size_t i = 0; i < json_array_size(ds) && !err; i++)
            err = cs_delivery(c, json_array_get(ds, i), where);
    }
    return err;
}

int cricsheet_parse(const json_t *root, cricsheet_card_t *card)
{
    memset(card, 0, sizeof(*card));
    const json_t *info = json_object_get(root, "info");
    const json_t *innings = json_object_get(root, "innings");
    if (!json_is_object(info))
        return cs_fail(card, 0, "The scorecard has no \"info\" object.");
    if (!json_is_array(innings))
        return cs_fail(card, 0, "The scorecard has no \"innings\" list.");
    int err = cs_match(card, info);
    err = err ? err : cs_players(card, info);
    for (size_t i = 0; i < json_array_size(innings) && !err; i++)
        err = cs_innings(card, json_array_get(innings, i), (int)i + 1);
    if (!err)
        cs_registry(card, info);
    return err;
}

void cricsheet_free(cricsheet_card_t *card)
{
    free(card->lines);
    card->lines = NULL;
    card->n = 0;
}
