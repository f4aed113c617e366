/* The leagues queries of the PostgreSQL backend: leagues, members, codes and the asset selection
 * (tables of sql/004_leagues.sql), the SQLite backend's statements (store_sqlite_league.c) with
 * the same semantics and errors. Bound parameters only. Text is ordered and compared byte-wise
 * (COLLATE "C") as SQLite does; where SQLite's single writer made a read-then-write safe (seats,
 * codes unique across both kinds), the write runs in a unit that first takes a lock. */
#include "store/store_league_int.h"
#include "store/store_pg_int.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SQL ----------------------------------------------------------------------------------- */

/* Runs a hot statement, prepared once per connection under its slot. */
#define LG_RUNP(sp, res, slot, sql, ...) store_pg_runp(sp, res, slot, sql, __VA_ARGS__)

/* Prepared-statement slots (store_pg_runp) of the hot statements. */
enum {
    LG_SLOT_GET = STORE_PG_SLOT_LEAGUE,
    LG_SLOT_BY_INVITE,
    LG_SLOT_BY_WATCH,
    LG_SLOT_FOR_USER,
    LG_SLOT_MEMBER_GET,
    LG_SLOT_MEMBER_ADD,
    LG_SLOT_PROMOTE,
    LG_SLOT_MEMBERS,
    LG_SLOT_ASSETS,
    LG_SLOT_ASSETS_COUNT,
    LG_SLOT_LOCK,
    LG_SLOT_EXISTS,
    LG_SLOT_CODES_LOCK,
};

/* The columns lg_row reads, from leagues l (as SQLite's LG_COLS); the auction's id and status
 * are "" without one. */
#define LG_COLS                                                                                    \
    "l.id, l.name, l.sport, l.competition, l.commissioner_id, l.status, l.budget, l.currency, "    \
    "l.roster_size, l.min_managers, l.max_managers, l.lot_seconds, l.anti_snipe_seconds, "         \
    "l.min_bid, l.min_increment, l.intermission_seconds, (l.lot_order = 'fixed')::int, "           \
    "l.reoffer_unsold, l.invite_code, l.watch_code, l.created_ms, "                                \
    "(SELECT count(*) FROM league_members c WHERE c.league_id = l.id "                             \
    "AND c.role <> 'spectator'), "                                                                 \
    "(SELECT count(*) FROM league_members c WHERE c.league_id = l.id AND c.role = 'spectator'), "  \
    "coalesce((SELECT au.id FROM auctions au WHERE au.league_id = l.id), ''), "                    \
    "coalesce((SELECT au.status FROM auctions au WHERE au.league_id = l.id), '')"

/* The commissioner and the managers: the seats maxManagers limits. */
#define LG_SEATS_TAKEN                                                                             \
    "(SELECT count(*) FROM league_members c WHERE c.league_id = $1::text "                         \
    "AND c.role <> 'spectator')"

/* The settings travel as their integers in one bigint[] (lg_settings_ints: budget, roster_size,
 * min_managers, max_managers, lot_seconds, anti_snipe_seconds, min_bid, min_increment,
 * intermission_seconds, reoffer_unsold) and two texts, currency and lot_order: a league row has
 * more columns than a statement may have parameters. */
static const char SQL_INSERT[] =
    "INSERT INTO leagues(id, name, sport, competition, commissioner_id, invite_code, watch_code, "
    "created_ms, budget, currency, roster_size, min_managers, max_managers, lot_seconds, "
    "anti_snipe_seconds, min_bid, min_increment, intermission_seconds, lot_order, reoffer_unsold) "
    "SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::bigint, "
    "v.s[1], $10::text, v.s[2], v.s[3], v.s[4], v.s[5], v.s[6], v.s[7], v.s[8], v.s[9], $11::text, "
    "v.s[10] FROM (SELECT $9::bigint[] AS s) v";
static const char SQL_UPDATE[] =
    "UPDATE leagues l SET name = $2::text, budget = v.s[1], currency = $4::text, "
    "roster_size = v.s[2], min_managers = v.s[3], max_managers = v.s[4], lot_seconds = v.s[5], "
    "anti_snipe_seconds = v.s[6], min_bid = v.s[7], min_increment = v.s[8], "
    "intermission_seconds = v.s[9], lot_order = $5::text, reoffer_unsold = v.s[10] "
    "FROM (SELECT $3::bigint[] AS s) v WHERE l.id = $1::text";
static const char SQL_INSERT_COMMISSIONER[] =
    "INSERT INTO league_members(league_id, user_id, role, joined_ms) "
    "VALUES($1::text, $2::text, 'commissioner', $3::bigint)";
/* The default selection: every asset of the competition (of the league's sport), by name with
 * ASCII case folding (SQLite's NOCASE), then id, byte-wise. */
static const char SQL_SELECT_DEFAULT[] =
    "INSERT INTO league_assets(league_id, position, asset_id) "
    "SELECT $1::text, row_number() OVER (ORDER BY lower(a.name COLLATE \"C\"), "
    "a.id COLLATE \"C\") - 1, a.id "
    "FROM asset_competitions ac JOIN assets a ON a.id = ac.asset_id "
    "WHERE ac.competition = $2::text AND a.sport = $3::text";
/* Code writers take turns per code (7347713: this file's advisory lock class), so a code is
 * unique across both kinds even when two connections write it at once; in key order, so two
 * writers of the same two codes cannot deadlock. Held until the transaction ends. */
static const char SQL_CODES_LOCK[] =
    "SELECT pg_advisory_xact_lock(7347713, v.k) FROM (SELECT DISTINCT hashtext(c) AS k "
    "FROM unnest(ARRAY[$1::text, $2::text]) AS c ORDER BY k) v";
static const char SQL_CODE_TAKEN[] =
    "SELECT 1 FROM leagues WHERE invite_code IN ($1::text, $2::text) "
    "OR watch_code IN ($1::text, $2::text) LIMIT 1";
static const char SQL_GET[] = "SELECT " LG_COLS " FROM leagues l WHERE l.id = $1::text";
static const char SQL_OF_SPORT[] =
    "SELECT " LG_COLS " FROM leagues l WHERE l.sport = $1::text ORDER BY l.id COLLATE \"C\"";
static const char SQL_BY_INVITE[] =
    "SELECT " LG_COLS " FROM leagues l WHERE l.invite_code = $1::text";
static const char SQL_BY_WATCH[] =
    "SELECT " LG_COLS " FROM leagues l WHERE l.watch_code = $1::text";
/* A code is unique across both kinds, so that it names one league and one role. Checked here
 * rather than left to the unique index: a failed statement would abort the caller's
 * transaction. */
static const char SQL_SET_INVITE[] =
    "UPDATE leagues SET invite_code = $2::text WHERE id = $1::text AND NOT EXISTS (SELECT 1 "
    "FROM leagues o WHERE o.watch_code = $2::text OR (o.invite_code = $2::text AND o.id <> $1))";
static const char SQL_SET_WATCH[] =
    "UPDATE leagues SET watch_code = $2::text WHERE id = $1::text AND NOT EXISTS (SELECT 1 "
    "FROM leagues o WHERE o.invite_code = $2::text OR (o.watch_code = $2::text AND o.id <> $1))";
static const char SQL_EXISTS[] = "SELECT 1 FROM leagues WHERE id = $1::text";
/* Seat takers of one league take turns: the count read after this lock is current. NO KEY
 * UPDATE: inserts whose foreign key names the league are not blocked. */
static const char SQL_LOCK[] = "SELECT 1 FROM leagues WHERE id = $1::text FOR NO KEY UPDATE";
static const char SQL_DELETE[] = "DELETE FROM leagues WHERE id = $1::text";
static const char SQL_FOR_USER[] =
    "SELECT m.role, " LG_COLS " FROM league_members m JOIN leagues l ON l.id = m.league_id "
    "WHERE m.user_id = $1::text AND m.league_id > $2::text COLLATE \"C\" "
    "ORDER BY m.league_id COLLATE \"C\" LIMIT $3::bigint";
static const char SQL_MEMBER_GET[] =
    "SELECT m.user_id, u.name, m.role, m.joined_ms FROM league_members m "
    "JOIN users u ON u.id = m.user_id WHERE m.league_id = $1::text AND m.user_id = $2::text";
static const char SQL_MEMBER_ADD[] =
    "INSERT INTO league_members(league_id, user_id, role, joined_ms) "
    "SELECT l.id, $2::text, $3::text, $4::bigint FROM leagues l WHERE l.id = $1::text "
    "AND ($3::text = 'spectator' OR " LG_SEATS_TAKEN " < $5::bigint) ON CONFLICT DO NOTHING";
static const char SQL_MEMBER_PROMOTE[] =
    "UPDATE league_members SET role = 'manager' WHERE league_id = $1::text AND user_id = $2::text "
    "AND role = 'spectator' AND " LG_SEATS_TAKEN " < $3::bigint";
static const char SQL_MEMBER_REMOVE[] =
    "DELETE FROM league_members WHERE league_id = $1::text AND user_id = $2::text";
/* which ($2): 0 commissioner and managers, 1 spectators, 2 everyone. The first page starts after
 * (INT64_MIN, ''), so every page is one range of (joined_ms, user_id). */
static const char SQL_MEMBERS[] =
    "SELECT m.user_id, u.name, m.role, m.joined_ms FROM league_members m "
    "JOIN users u ON u.id = m.user_id WHERE m.league_id = $1::text "
    "AND ($2::int = 2 OR (m.role = 'spectator') = ($2::int = 1)) "
    "AND (m.joined_ms, m.user_id COLLATE \"C\") > ($3::bigint, $4::text) "
    "ORDER BY m.joined_ms, m.user_id COLLATE \"C\" LIMIT $5::bigint";
static const char SQL_ASSETS_CLEAR[] = "DELETE FROM league_assets WHERE league_id = $1::text";
/* $2: the ids as an array literal (lg_array), positions from 0 in its order. */
static const char SQL_ASSETS_ADD[] =
    "INSERT INTO league_assets(league_id, position, asset_id) "
    "SELECT $1::text, u.o - 1, u.id FROM unnest($2::text[]) WITH ORDINALITY AS u(id, o)";
/* The competitions as SQLite's json_group_array writes them: ["A","B"], no spaces. */
static const char SQL_ASSETS[] =
    "SELECT la.position, a.id, a.sport, a.name, a.short_name, a.country, a.team, a.role, "
    "a.provider_ids, coalesce((SELECT '[' || string_agg(to_json(ac.competition)::text, ',' "
    "ORDER BY ac.competition COLLATE \"C\") || ']' FROM asset_competitions ac "
    "WHERE ac.asset_id = a.id), '[]') "
    "FROM league_assets la JOIN assets a ON a.id = la.asset_id "
    "WHERE la.league_id = $1::text AND la.position > $2::bigint ORDER BY la.position "
    "LIMIT $3::bigint";
static const char SQL_ASSETS_COUNT[] =
    "SELECT count(*) FROM league_assets WHERE league_id = $1::text";

/* ---- helpers ------------------------------------------------------------------------------- */

/* Maps a failed statement as SQLite's lg_fail does: a taken key (23505) is GV_ECONFLICT, any
 * other integrity violation (class 23: an unknown sport, competition, user or asset; a CHECK)
 * GV_EINVALID_REQUEST, the rest unchanged. err is the statement's result. */
static int lg_map(store_pg_t *sp, int err)
{
    if (err != GV_EDB)
        return err;
    if (store_pg_is(sp, "23505"))
        return GV_ECONFLICT;
    return strncmp(sp->state, "23", 2) == 0 ? GV_EINVALID_REQUEST : err;
}

/* Finishes a write whose statement returned err and r: *changes (may be NULL) is how many rows
 * it touched, r is freed, a failure mapped by lg_map. */
static int lg_changes(store_pg_t *sp, int err, PGresult *r, int *changes)
{
    if (changes != NULL)
        *changes = err == 0 ? store_pg_changes(r) : 0;
    if (err == 0)
        PQclear(r);
    return lg_map(sp, err);
}

/* *found is 1 when the result of a statement that succeeded (err 0) has a row; frees it. */
static int lg_found(int err, PGresult *r, int *found)
{
    *found = err == 0 && PQntuples(r) > 0;
    if (err == 0)
        PQclear(r);
    return err;
}

static int lg_league_exists(store_pg_t *sp, const char *id, int *found)
{
    PGresult *r = NULL;
    int err = LG_RUNP(sp, &r, LG_SLOT_EXISTS, SQL_EXISTS, "t", id);
    return lg_found(err, r, found);
}

static const char *lg_role_text(store_role_t role)
{
    switch (role) {
    case STORE_ROLE_COMMISSIONER:
        return "commissioner";
    case STORE_ROLE_MANAGER:
        return "manager";
    default:
        return "spectator";
    }
}

/* The role in text column col of row; anything unknown is a database error. */
static int lg_col_role(store_pg_t *sp, const PGresult *r, int row, int col, store_role_t *out)
{
    const char *text = PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
    for (store_role_t k = STORE_ROLE_COMMISSIONER; text != NULL && k <= STORE_ROLE_SPECTATOR; k++) {
        if (strcmp(text, lg_role_text(k)) == 0) {
            *out = k;
            return 0;
        }
    }
    snprintf(sp->err, sizeof(sp->err), "column %d is not a role", col);
    return GV_EDB;
}

/* The integers of st as the bigint[] literal the settings parameter takes (see SQL_INSERT). */
static void lg_settings_ints(const store_league_settings_t *st, char *buf, size_t cap)
{
    snprintf(buf, cap, "{%lld,%d,%d,%d,%d,%d,%lld,%lld,%d,%d}", (long long)st->budget,
             st->roster_size, st->min_managers, st->max_managers, st->lot_seconds,
             st->anti_snipe_seconds, (long long)st->min_bid, (long long)st->min_increment,
             st->intermission_seconds, st->reoffer_unsold);
}

static void lg_row_settings(const PGresult *r, int row, int c, store_league_settings_t *st)
{
    st->budget = store_pg_col_i64(r, row, c + 6);
    st->roster_size = (int)store_pg_col_i64(r, row, c + 8);
    st->min_managers = (int)store_pg_col_i64(r, row, c + 9);
    st->max_managers = (int)store_pg_col_i64(r, row, c + 10);
    st->lot_seconds = (int)store_pg_col_i64(r, row, c + 11);
    st->anti_snipe_seconds = (int)store_pg_col_i64(r, row, c + 12);
    st->min_bid = store_pg_col_i64(r, row, c + 13);
    st->min_increment = store_pg_col_i64(r, row, c + 14);
    st->intermission_seconds = (int)store_pg_col_i64(r, row, c + 15);
    st->lot_order_fixed = (int)store_pg_col_i64(r, row, c + 16);
    st->reoffer_unsold = (int)store_pg_col_i64(r, row, c + 17);
}

/* Reads the LG_COLS of row starting at column c into *out (written only on success). */
static int lg_row(store_pg_t *sp, const PGresult *r, int row, int c, store_league_t *out)
{
    store_league_t lg;
    memset(&lg, 0, sizeof(lg));
    struct {
        char *dst;
        size_t cap;
        int col;
    } texts[] = {
        {lg.id, sizeof(lg.id), 0},
        {lg.name, sizeof(lg.name), 1},
        {lg.sport, sizeof(lg.sport), 2},
        {lg.competition, sizeof(lg.competition), 3},
        {lg.commissioner_id, sizeof(lg.commissioner_id), 4},
        {lg.status, sizeof(lg.status), 5},
        {lg.settings.currency, sizeof(lg.settings.currency), 7},
        {lg.invite_code, sizeof(lg.invite_code), 18},
        {lg.watch_code, sizeof(lg.watch_code), 19},
        {lg.auction_id, sizeof(lg.auction_id), 23},
        {lg.auction_status, sizeof(lg.auction_status), 24},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        int err = store_pg_col_text(sp, r, row, c + texts[i].col, texts[i].dst, texts[i].cap);
        if (err != 0)
            return err;
    }
    lg_row_settings(r, row, c, &lg.settings);
    lg.created_ms = store_pg_col_i64(r, row, c + 20);
    lg.member_count = (int)store_pg_col_i64(r, row, c + 21);
    lg.spectator_count = (int)store_pg_col_i64(r, row, c + 22);
    *out = lg;
    return 0;
}

/* The result of a one-league query (err: the statement's) into *out; frees it. 0,
 * GV_ENOT_FOUND or GV_EDB*. */
static int lg_read_one(store_pg_t *sp, int err, PGresult *r, store_league_t *out)
{
    if (err != 0)
        return err;
    err = PQntuples(r) > 0 ? lg_row(sp, r, 0, 0, out) : GV_ENOT_FOUND;
    PQclear(r);
    return err;
}

/* user_id, name, role, joined_ms of row into *out. */
static int lg_member_row(store_pg_t *sp, const PGresult *r, int row, store_member_t *out)
{
    int err = store_pg_col_text(sp, r, row, 0, out->user_id, sizeof(out->user_id));
    if (err == 0)
        err = store_pg_col_text(sp, r, row, 1, out->name, sizeof(out->name));
    if (err == 0)
        err = lg_col_role(sp, r, row, 2, &out->role);
    out->joined_ms = store_pg_col_i64(r, row, 3);
    return err;
}

/* Reads at most limit rows of the result of a page query asked for limit + 1 rows (err: the
 * statement's); *more tells whether the extra row came. row reads result row i into entry i of
 * out. Frees the result. */
static int lg_page(store_pg_t *sp, int err, PGresult *r, int limit, size_t *n, int *more,
                   int (*row)(store_pg_t *sp, const PGresult *r, void *out, int i), void *out)
{
    *n = 0;
    *more = 0;
    if (err != 0)
        return lg_map(sp, err);
    int rows = PQntuples(r);
    for (int i = 0; err == 0 && i < rows && i < limit; i++)
        err = row(sp, r, out, i);
    PQclear(r);
    if (err == 0) {
        *n = (size_t)(rows < limit ? rows : limit);
        *more = rows > limit;
    }
    return err;
}

/* The arguments of a body run by lg_in_unit. */
typedef struct {
    const char *league_id;
    const char *user_id;
    const char *code;
    store_role_t role;
    int watch;
    int max_managers;
    int64_t now_ms;
} lg_args_t;

/* Runs body(sp, a) in a unit (store_unit_begin: its own transaction, or a savepoint of the
 * caller's), so that the locks it takes are held until its writes are committed, and a failure
 * it meets undoes them without aborting the caller's transaction. */
static int lg_in_unit(store_t *s, int (*body)(store_pg_t *sp, const lg_args_t *a),
                      const lg_args_t *a)
{
    int own = 0;
    int err = store_unit_begin(s, &own);
    return err != 0 ? err : store_unit_end(s, own, body(store_pg_of(s), a));
}

/* Takes the code writers' locks of codes a and b (may be equal), until the transaction ends. */
static int lg_codes_lock(store_pg_t *sp, const char *a, const char *b)
{
    return LG_RUNP(sp, NULL, LG_SLOT_CODES_LOCK, SQL_CODES_LOCK, "tt", a, b);
}

/* ---- leagues ------------------------------------------------------------------------------- */

/* GV_ECONFLICT when either code is already used by any league, as either kind. */
static int lg_codes_free(store_pg_t *sp, const char *invite, const char *watch)
{
    if (strcmp(invite, watch) == 0)
        return GV_ECONFLICT;
    PGresult *r = NULL;
    int found = 0;
    int err = lg_found(store_pg_run(sp, &r, SQL_CODE_TAKEN, "tt", invite, watch), r, &found);
    return err == 0 && found ? GV_ECONFLICT : err;
}

static int lg_insert(store_pg_t *sp, const store_league_t *lg)
{
    char ints[256];
    lg_settings_ints(&lg->settings, ints, sizeof(ints));
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, SQL_INSERT, "tttttttittt", lg->id, lg->name, lg->sport,
                           lg->competition, lg->commissioner_id, lg->invite_code, lg->watch_code,
                           lg->created_ms, ints, lg->settings.currency,
                           lg->settings.lot_order_fixed ? "fixed" : "random");
    return lg_changes(sp, err, r, NULL);
}

/* The codes are locked before they are checked: a concurrent writer of the same code has
 * committed (and is seen) or waits for this transaction. */
static int pg_league_create_tx(store_t *s, const store_league_t *lg)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = lg_codes_lock(sp, lg->invite_code, lg->watch_code);
    if (err == 0)
        err = lg_codes_free(sp, lg->invite_code, lg->watch_code);
    if (err == 0)
        err = lg_insert(sp, lg);
    if (err == 0) {
        err = store_pg_run(sp, &r, SQL_INSERT_COMMISSIONER, "tti", lg->id, lg->commissioner_id,
                           lg->created_ms);
        err = lg_changes(sp, err, r, NULL);
    }
    if (err == 0) {
        err = store_pg_run(sp, &r, SQL_SELECT_DEFAULT, "ttt", lg->id, lg->competition, lg->sport);
        err = lg_changes(sp, err, r, NULL);
    }
    return err;
}

static int pg_league_get(store_t *s, const char *id, store_league_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = LG_RUNP(sp, &r, LG_SLOT_GET, SQL_GET, "t", id);
    return lg_read_one(sp, err, r, out);
}

/* Every row is read before fn is called (fn may use the store, even write to it); fn's
 * nonzero return stops the walk. */
static int pg_leagues_each(store_t *s, const char *sport, store_league_fn fn, void *ctx)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, SQL_OF_SPORT, "t", sport);
    if (err != 0)
        return err;
    int rows = PQntuples(r);
    for (int i = 0; err == 0 && i < rows; i++) {
        store_league_t lg;
        err = lg_row(sp, r, i, 0, &lg);
        err = err ? err : fn(ctx, &lg);
    }
    PQclear(r);
    return err;
}

static int pg_league_count(store_t *s, int64_t *count)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, "SELECT count(*) FROM leagues", "");
    if (err != 0)
        return err;
    *count = store_pg_col_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

static int pg_league_by_code(store_t *s, const char *code, int watch, store_league_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = watch ? LG_RUNP(sp, &r, LG_SLOT_BY_WATCH, SQL_BY_WATCH, "t", code)
                    : LG_RUNP(sp, &r, LG_SLOT_BY_INVITE, SQL_BY_INVITE, "t", code);
    return lg_read_one(sp, err, r, out);
}

static int pg_league_update(store_t *s, const store_league_t *lg)
{
    store_pg_t *sp = store_pg_of(s);
    char ints[256];
    lg_settings_ints(&lg->settings, ints, sizeof(ints));
    PGresult *r = NULL;
    int changes = 0;
    int err =
        store_pg_run(sp, &r, SQL_UPDATE, "ttttt", lg->id, lg->name, ints, lg->settings.currency,
                     lg->settings.lot_order_fixed ? "fixed" : "random");
    err = lg_changes(sp, err, r, &changes);
    return err == 0 && changes == 0 ? GV_ENOT_FOUND : err;
}

/* The body of set_code: with the code locked, the check in the update sees every other writer
 * of it. Nothing changed: no such league (GV_ENOT_FOUND) or the code is taken (GV_ECONFLICT). */
static int lg_set_code_unit(store_pg_t *sp, const lg_args_t *a)
{
    PGresult *r = NULL;
    int changes = 0;
    int found = 0;
    int err = lg_codes_lock(sp, a->code, a->code);
    if (err == 0) {
        err = store_pg_run(sp, &r, a->watch ? SQL_SET_WATCH : SQL_SET_INVITE, "tt", a->league_id,
                           a->code);
        err = lg_changes(sp, err, r, &changes);
    }
    if (err != 0 || changes > 0)
        return err;
    err = lg_league_exists(sp, a->league_id, &found);
    return err != 0 ? err : found ? GV_ECONFLICT : GV_ENOT_FOUND;
}

static int pg_league_set_code(store_t *s, const char *id, int watch, const char *code)
{
    lg_args_t a = {.league_id = id, .code = code, .watch = watch};
    return lg_in_unit(s, lg_set_code_unit, &a);
}

static int pg_league_delete(store_t *s, const char *id)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int changes = 0;
    int err = store_pg_run(sp, &r, SQL_DELETE, "t", id);
    err = lg_changes(sp, err, r, &changes);
    return err == 0 && changes == 0 ? GV_ENOT_FOUND : err;
}

static int lg_my_row(store_pg_t *sp, const PGresult *r, void *out, int i)
{
    store_my_league_t *my = (store_my_league_t *)out + i;
    int err = lg_col_role(sp, r, i, 0, &my->role);
    return err != 0 ? err : lg_row(sp, r, i, 1, &my->league);
}

static int pg_leagues_for_user(store_t *s, const char *user_id, const char *after_id, int limit,
                               store_my_league_t *out, size_t *n, int *more)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = LG_RUNP(sp, &r, LG_SLOT_FOR_USER, SQL_FOR_USER, "ttn", user_id, after_id, limit + 1);
    return lg_page(sp, err, r, limit, n, more, lg_my_row, out);
}

/* ---- members ------------------------------------------------------------------------------- */

static int pg_member_get(store_t *s, const char *league_id, const char *user_id,
                         store_member_t *out)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = LG_RUNP(sp, &r, LG_SLOT_MEMBER_GET, SQL_MEMBER_GET, "tt", league_id, user_id);
    if (err != 0)
        return err;
    store_member_t m;
    err = PQntuples(r) > 0 ? lg_member_row(sp, r, 0, &m) : GV_ENOT_FOUND;
    PQclear(r);
    if (err == 0)
        *out = m;
    return err;
}

/* Locks league_id's row for a seat taker (nothing when there is no such league). */
static int lg_seats_lock(store_pg_t *sp, const char *league_id)
{
    return LG_RUNP(sp, NULL, LG_SLOT_LOCK, SQL_LOCK, "t", league_id);
}

/* After an insert that added nothing: 1 when user_id became a member meanwhile, else
 * GV_ENOT_FOUND for an unknown league, else GV_ECONFLICT (no seat left). */
static int lg_add_refused(store_pg_t *sp, const char *league_id, const char *user_id)
{
    store_member_t m;
    int found = 0;
    int err = pg_member_get(&sp->base, league_id, user_id, &m);
    if (err != GV_ENOT_FOUND)
        return err == 0 ? 1 : err;
    err = lg_league_exists(sp, league_id, &found);
    return err != 0 ? err : found ? GV_ECONFLICT : GV_ENOT_FOUND;
}

/* The body of member_add: a member is reported (1) and left as they are; a seat taker counts
 * the seats only once the league is locked, so two joins racing for the last seat on two
 * connections cannot both see it free. */
static int lg_member_add_unit(store_pg_t *sp, const lg_args_t *a)
{
    store_member_t m;
    int err = pg_member_get(&sp->base, a->league_id, a->user_id, &m);
    if (err != GV_ENOT_FOUND)
        return err == 0 ? 1 : err;
    err = a->role == STORE_ROLE_SPECTATOR ? 0 : lg_seats_lock(sp, a->league_id);
    if (err != 0)
        return err;
    PGresult *r = NULL;
    int changes = 0;
    err = LG_RUNP(sp, &r, LG_SLOT_MEMBER_ADD, SQL_MEMBER_ADD, "tttin", a->league_id, a->user_id,
                  lg_role_text(a->role), a->now_ms, a->max_managers);
    err = lg_changes(sp, err, r, &changes);
    if (err != 0 || changes > 0)
        return err;
    return lg_add_refused(sp, a->league_id, a->user_id);
}

static int pg_member_add(store_t *s, const char *league_id, const char *user_id, store_role_t role,
                         int max_managers, int64_t now_ms)
{
    lg_args_t a = {.league_id = league_id,
                   .user_id = user_id,
                   .role = role,
                   .max_managers = max_managers,
                   .now_ms = now_ms};
    return lg_in_unit(s, lg_member_add_unit, &a);
}

/* The body of member_promote, the seats counted with the league locked as in member_add.
 * Nothing changed: not a member, already seated (1), or no seat left. */
static int lg_promote_unit(store_pg_t *sp, const lg_args_t *a)
{
    PGresult *r = NULL;
    int changes = 0;
    int err = lg_seats_lock(sp, a->league_id);
    if (err == 0) {
        err = LG_RUNP(sp, &r, LG_SLOT_PROMOTE, SQL_MEMBER_PROMOTE, "ttn", a->league_id, a->user_id,
                      a->max_managers);
        err = lg_changes(sp, err, r, &changes);
    }
    if (err != 0 || changes > 0)
        return err;
    store_member_t m;
    err = pg_member_get(&sp->base, a->league_id, a->user_id, &m);
    if (err != 0)
        return err;
    return m.role != STORE_ROLE_SPECTATOR ? 1 : GV_ECONFLICT;
}

static int pg_member_promote(store_t *s, const char *league_id, const char *user_id,
                             int max_managers)
{
    lg_args_t a = {.league_id = league_id, .user_id = user_id, .max_managers = max_managers};
    return lg_in_unit(s, lg_promote_unit, &a);
}

static int pg_member_remove(store_t *s, const char *league_id, const char *user_id)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int changes = 0;
    int err = store_pg_run(sp, &r, SQL_MEMBER_REMOVE, "tt", league_id, user_id);
    err = lg_changes(sp, err, r, &changes);
    return err == 0 && changes == 0 ? GV_ENOT_FOUND : err;
}

static int lg_members_row(store_pg_t *sp, const PGresult *r, void *out, int i)
{
    return lg_member_row(sp, r, i, (store_member_t *)out + i);
}

static int pg_members_list(store_t *s, const char *league_id, int which, int64_t after_ms,
                           const char *after_id, int limit, store_member_t *out, size_t *n,
                           int *more)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    if (after_id[0] == '\0')
        after_ms = INT64_MIN;
    int err = LG_RUNP(sp, &r, LG_SLOT_MEMBERS, SQL_MEMBERS, "tnitn", league_id, which, after_ms,
                      after_id, limit + 1);
    return lg_page(sp, err, r, limit, n, more, lg_members_row, out);
}

/* ---- asset selection ----------------------------------------------------------------------- */

/* ids[0..n) as a text[] literal ({"a","b"}, '"' and '\' escaped), malloc'd; NULL: no memory. */
static char *lg_array(const char *const *ids, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(ids[i]) + 3;
    char *buf = malloc(cap);
    if (buf == NULL)
        return NULL;
    char *p = buf;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        *p++ = '"';
        for (const char *c = ids[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                *p++ = '\\';
            *p++ = *c;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return buf;
}

/* Inserts ids[0..n) at positions 0..n-1 in one statement. */
static int lg_assets_insert(store_pg_t *sp, const char *league_id, const char *const *ids, size_t n)
{
    char *array = lg_array(ids, n);
    if (array == NULL)
        return GV_ENOMEM;
    PGresult *r = NULL;
    int err = store_pg_run(sp, &r, SQL_ASSETS_ADD, "tt", league_id, array);
    free(array);
    return lg_changes(sp, err, r, NULL);
}

static int pg_league_assets_set_tx(store_t *s, const char *league_id, const char *const *ids,
                                   size_t n)
{
    store_pg_t *sp = store_pg_of(s);
    int found = 0;
    int err = lg_league_exists(sp, league_id, &found);
    if (err == 0 && !found)
        err = GV_ENOT_FOUND;
    if (err == 0)
        err = store_pg_run(sp, NULL, SQL_ASSETS_CLEAR, "t", league_id);
    if (err == 0 && n > 0)
        err = lg_assets_insert(sp, league_id, ids, n);
    return err;
}

/* position, then the store_asset_t columns in field order. */
static int lg_asset_row(store_pg_t *sp, const PGresult *r, int row, store_asset_t *a)
{
    struct {
        char *dst;
        size_t cap;
    } cols[] = {
        {a->id, sizeof(a->id)},
        {a->sport, sizeof(a->sport)},
        {a->name, sizeof(a->name)},
        {a->short_name, sizeof(a->short_name)},
        {a->country, sizeof(a->country)},
        {a->team, sizeof(a->team)},
        {a->role, sizeof(a->role)},
        {a->provider_ids, sizeof(a->provider_ids)},
        {a->competitions, sizeof(a->competitions)},
    };
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        int err = store_pg_col_text(sp, r, row, (int)c + 1, cols[c].dst, cols[c].cap);
        if (err != 0)
            return err;
    }
    return 0;
}

typedef struct {
    store_asset_t *assets;
    int *pos;
} lg_assets_out_t;

static int lg_assets_row(store_pg_t *sp, const PGresult *r, void *out, int i)
{
    lg_assets_out_t *o = out;
    if (o->pos != NULL)
        o->pos[i] = (int)store_pg_col_i64(r, i, 0);
    return lg_asset_row(sp, r, i, o->assets + i);
}

static int pg_league_assets_list(store_t *s, const char *league_id, int after_pos, int limit,
                                 store_asset_t *out, int *pos, size_t *n, int *more)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    lg_assets_out_t o = {out, pos};
    int err = LG_RUNP(sp, &r, LG_SLOT_ASSETS, SQL_ASSETS, "tnn", league_id, after_pos, limit + 1);
    return lg_page(sp, err, r, limit, n, more, lg_assets_row, &o);
}

static int pg_league_assets_count(store_t *s, const char *league_id, int *count)
{
    store_pg_t *sp = store_pg_of(s);
    PGresult *r = NULL;
    int err = LG_RUNP(sp, &r, LG_SLOT_ASSETS_COUNT, SQL_ASSETS_COUNT, "t", league_id);
    if (err != 0)
        return err;
    *count = (int)store_pg_col_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

const struct store_league_ops_s store_pg_league_ops = {
    .create_tx = pg_league_create_tx,
    .get = pg_league_get,
    .each = pg_leagues_each,
    .count = pg_league_count,
    .by_code = pg_league_by_code,
    .update = pg_league_update,
    .set_code = pg_league_set_code,
    .del = pg_league_delete,
    .for_user = pg_leagues_for_user,
    .member_get = pg_member_get,
    .member_add = pg_member_add,
    .member_promote = pg_member_promote,
    .member_remove = pg_member_remove,
    .members_list = pg_members_list,
    .assets_set_tx = pg_league_assets_set_tx,
    .assets_list = pg_league_assets_list,
    .assets_count = pg_league_assets_count,
};
