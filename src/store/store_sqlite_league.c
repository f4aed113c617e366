/* The leagues queries of the SQLite backend: leagues, members, codes and the asset selection
 * (tables of sql/004_leagues.sql). Cached statements, bound parameters only; counts and member
 * names are computed at read time, never stored. */
#include "store/store_league_int.h"
#include "store/store_sqlite_int.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>

/* ---- SQL ----------------------------------------------------------------------------------- */

/* The columns lg_row reads, from leagues l; counts and the auction's id and status (NULL without
 * one: the auction's own row, derived from its log in the same commit) are read now. */
#define LG_COLS                                                                                    \
    "l.id, l.name, l.sport, l.competition, l.commissioner_id, l.status, l.budget, l.currency, "    \
    "l.roster_size, l.min_managers, l.max_managers, l.lot_seconds, l.anti_snipe_seconds, "         \
    "l.min_bid, l.min_increment, l.intermission_seconds, l.lot_order = 'fixed', "                  \
    "l.reoffer_unsold, l.invite_code, l.watch_code, l.created_ms, "                                \
    "(SELECT count(*) FROM league_members c WHERE c.league_id = l.id "                             \
    "AND c.role <> 'spectator'), "                                                                 \
    "(SELECT count(*) FROM league_members c WHERE c.league_id = l.id AND c.role = 'spectator'), "  \
    "(SELECT au.id FROM auctions au WHERE au.league_id = l.id), "                                  \
    "(SELECT au.status FROM auctions au WHERE au.league_id = l.id)"

/* The settings columns in the order lg_bind_settings binds them. */
#define LG_SETTINGS                                                                                \
    "budget, currency, roster_size, min_managers, max_managers, lot_seconds, "                     \
    "anti_snipe_seconds, min_bid, min_increment, intermission_seconds, lot_order, reoffer_unsold"

/* The commissioner and the managers: the seats maxManagers limits. */
#define LG_SEATS_TAKEN                                                                             \
    "(SELECT count(*) FROM league_members c WHERE c.league_id = ?1 AND c.role <> 'spectator')"

static const char SQL_CODE_TAKEN[] = "SELECT 1 FROM leagues WHERE invite_code IN (?1, ?2) "
                                     "OR watch_code IN (?1, ?2) LIMIT 1";
static const char SQL_INSERT[] =
    "INSERT INTO leagues(id, name, sport, competition, commissioner_id, invite_code, watch_code, "
    "created_ms, " LG_SETTINGS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";
static const char SQL_INSERT_COMMISSIONER[] =
    "INSERT INTO league_members(league_id, user_id, role, joined_ms) "
    "VALUES(?1, ?2, 'commissioner', ?3)";
/* The default selection: every asset of the competition (of the league's sport), by name. */
static const char SQL_SELECT_DEFAULT[] =
    "INSERT INTO league_assets(league_id, position, asset_id) "
    "SELECT ?1, row_number() OVER (ORDER BY a.name COLLATE NOCASE, a.id) - 1, a.id "
    "FROM asset_competitions ac JOIN assets a ON a.id = ac.asset_id "
    "WHERE ac.competition = ?2 AND a.sport = ?3";
static const char SQL_GET[] = "SELECT " LG_COLS " FROM leagues l WHERE l.id = ?1";
static const char SQL_OF_SPORT[] =
    "SELECT " LG_COLS " FROM leagues l WHERE l.sport = ?1 ORDER BY l.id";
static const char SQL_BY_INVITE[] = "SELECT " LG_COLS " FROM leagues l WHERE l.invite_code = ?1";
static const char SQL_BY_WATCH[] = "SELECT " LG_COLS " FROM leagues l WHERE l.watch_code = ?1";
static const char SQL_UPDATE[] =
    "UPDATE leagues SET name = ?2, (" LG_SETTINGS ") = "
    "(?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) WHERE id = ?1";
/* A code is unique across both kinds, so that it names one league and one role. */
static const char SQL_SET_INVITE[] = "UPDATE leagues SET invite_code = ?2 WHERE id = ?1 "
                                     "AND NOT EXISTS (SELECT 1 FROM leagues WHERE watch_code = ?2)";
static const char SQL_SET_WATCH[] = "UPDATE leagues SET watch_code = ?2 WHERE id = ?1 "
                                    "AND NOT EXISTS (SELECT 1 FROM leagues WHERE invite_code = ?2)";
static const char SQL_EXISTS[] = "SELECT 1 FROM leagues WHERE id = ?1";
static const char SQL_DELETE[] = "DELETE FROM leagues WHERE id = ?1";
static const char SQL_FOR_USER[] =
    "SELECT m.role, " LG_COLS " FROM league_members m JOIN leagues l ON l.id = m.league_id "
    "WHERE m.user_id = ?1 AND m.league_id > ?2 ORDER BY m.league_id LIMIT ?3";
static const char SQL_MEMBER_GET[] =
    "SELECT m.user_id, u.name, m.role, m.joined_ms FROM league_members m "
    "JOIN users u ON u.id = m.user_id WHERE m.league_id = ?1 AND m.user_id = ?2";
/* The seat check and the insert are one statement: two joins racing for the last seat cannot
 * both see it free. ON CONFLICT: a member added meanwhile stays as they were. */
static const char SQL_MEMBER_ADD[] =
    "INSERT INTO league_members(league_id, user_id, role, joined_ms) "
    "SELECT l.id, ?2, ?3, ?4 FROM leagues l WHERE l.id = ?1 "
    "AND (?3 = 'spectator' OR " LG_SEATS_TAKEN " < ?5) ON CONFLICT DO NOTHING";
static const char SQL_MEMBER_PROMOTE[] =
    "UPDATE league_members SET role = 'manager' WHERE league_id = ?1 AND user_id = ?2 "
    "AND role = 'spectator' AND " LG_SEATS_TAKEN " < ?3";
static const char SQL_MEMBER_REMOVE[] =
    "DELETE FROM league_members WHERE league_id = ?1 AND user_id = ?2";
/* which (?2): 0 commissioner and managers, 1 spectators, 2 everyone. The first page starts after
 * (INT64_MIN, ''), so every page is one range of league_members_by_join. */
static const char SQL_MEMBERS[] =
    "SELECT m.user_id, u.name, m.role, m.joined_ms FROM league_members m "
    "JOIN users u ON u.id = m.user_id WHERE m.league_id = ?1 "
    "AND (?2 = 2 OR (m.role = 'spectator') = (?2 = 1)) AND (m.joined_ms, m.user_id) > (?3, ?4) "
    "ORDER BY m.joined_ms, m.user_id LIMIT ?5";
static const char SQL_ASSETS_CLEAR[] = "DELETE FROM league_assets WHERE league_id = ?1";
static const char SQL_ASSET_ADD[] =
    "INSERT INTO league_assets(league_id, position, asset_id) VALUES(?1, ?2, ?3)";
static const char SQL_ASSETS[] =
    "SELECT la.position, a.id, a.sport, a.name, a.short_name, a.country, a.team, a.role, "
    "a.provider_ids, (SELECT json_group_array(x.competition) FROM (SELECT ac.competition "
    "FROM asset_competitions ac WHERE ac.asset_id = a.id ORDER BY ac.competition) x) "
    "FROM league_assets la JOIN assets a ON a.id = la.asset_id "
    "WHERE la.league_id = ?1 AND la.position > ?2 ORDER BY la.position LIMIT ?3";
static const char SQL_ASSETS_COUNT[] = "SELECT count(*) FROM league_assets WHERE league_id = ?1";

/* ---- helpers ------------------------------------------------------------------------------- */

/* Maps a failed step: a taken key (unique or primary key) is GV_ECONFLICT, any other constraint
 * (an unknown sport, competition, user or asset; a CHECK) GV_EINVALID_REQUEST, the rest as
 * store_sqlite_fail does. The message is recorded either way. */
static int lg_fail(store_sqlite_t *ss, int rc)
{
    int err = store_sqlite_fail(ss, rc);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return GV_ECONFLICT;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? GV_EINVALID_REQUEST : err;
}

/* Sets *stmt to the cached statement for sql with text a bound to ?1 and, unless NULL, b to ?2:
 * the shape of most lookups here. */
static int lg_prepare(store_sqlite_t *ss, const char *sql, sqlite3_stmt **stmt, const char *a,
                      const char *b)
{
    int err = store_sqlite_stmt(ss, sql, stmt);
    if (err == 0)
        err = b != NULL ? store_sqlite_bind(ss, *stmt, "tt", a, b)
                        : store_sqlite_bind(ss, *stmt, "t", a);
    return err;
}

/* Steps stmt (a write returning no rows) and resets it; *changes is how many rows it wrote. */
static int lg_write(store_sqlite_t *ss, sqlite3_stmt *stmt, int *changes)
{
    int rc = sqlite3_step(stmt);
    int err = rc == SQLITE_DONE ? 0 : lg_fail(ss, rc);
    if (changes != NULL)
        *changes = err == 0 ? sqlite3_changes(ss->db) : 0;
    return store_sqlite_done(stmt, err);
}

/* Steps stmt for a yes/no answer: *found is 1 when it returns a row. Resets it. */
static int lg_exists(store_sqlite_t *ss, sqlite3_stmt *stmt, int *found)
{
    int rc = sqlite3_step(stmt);
    *found = rc == SQLITE_ROW;
    return store_sqlite_done(stmt, rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : lg_fail(ss, rc));
}

static int lg_league_exists(store_sqlite_t *ss, const char *id, int *found)
{
    sqlite3_stmt *stmt = NULL;
    int err = lg_prepare(ss, SQL_EXISTS, &stmt, id, NULL);
    return err != 0 ? err : lg_exists(ss, stmt, found);
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

/* The role in text column col; anything unknown is a database error. */
static int lg_col_role(store_sqlite_t *ss, sqlite3_stmt *stmt, int col, store_role_t *out)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    for (store_role_t r = STORE_ROLE_COMMISSIONER; text != NULL && r <= STORE_ROLE_SPECTATOR; r++) {
        if (strcmp(text, lg_role_text(r)) == 0) {
            *out = r;
            return 0;
        }
    }
    snprintf(ss->err, sizeof(ss->err), "column %d is not a role", col);
    return GV_EDB;
}

/* Binds st's settings to parameters first, first + 1, ... in LG_SETTINGS order. */
static int lg_bind_settings(store_sqlite_t *ss, sqlite3_stmt *stmt, int first,
                            const store_league_settings_t *st)
{
    return store_sqlite_bind_from(ss, stmt, first, "itnnnnniintn", st->budget, st->currency,
                                  st->roster_size, st->min_managers, st->max_managers,
                                  st->lot_seconds, st->anti_snipe_seconds, st->min_bid,
                                  st->min_increment, st->intermission_seconds,
                                  st->lot_order_fixed ? "fixed" : "random", st->reoffer_unsold);
}

static void lg_row_settings(sqlite3_stmt *stmt, int c, store_league_settings_t *st)
{
    st->budget = sqlite3_column_int64(stmt, c + 6);
    st->roster_size = sqlite3_column_int(stmt, c + 8);
    st->min_managers = sqlite3_column_int(stmt, c + 9);
    st->max_managers = sqlite3_column_int(stmt, c + 10);
    st->lot_seconds = sqlite3_column_int(stmt, c + 11);
    st->anti_snipe_seconds = sqlite3_column_int(stmt, c + 12);
    st->min_bid = sqlite3_column_int64(stmt, c + 13);
    st->min_increment = sqlite3_column_int64(stmt, c + 14);
    st->intermission_seconds = sqlite3_column_int(stmt, c + 15);
    st->lot_order_fixed = sqlite3_column_int(stmt, c + 16);
    st->reoffer_unsold = sqlite3_column_int(stmt, c + 17);
}

/* Reads the LG_COLS starting at column c into *out (written only on success). */
static int lg_row(store_sqlite_t *ss, sqlite3_stmt *stmt, int c, store_league_t *out)
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
        int err = store_sqlite_col_text(ss, stmt, c + texts[i].col, texts[i].dst, texts[i].cap);
        if (err != 0)
            return err;
    }
    lg_row_settings(stmt, c, &lg.settings);
    lg.created_ms = sqlite3_column_int64(stmt, c + 20);
    lg.member_count = sqlite3_column_int(stmt, c + 21);
    lg.spectator_count = sqlite3_column_int(stmt, c + 22);
    *out = lg;
    return 0;
}

/* Steps a bound one-league query into *out and resets it. 0, GV_ENOT_FOUND or GV_EDB*. */
static int lg_read_one(store_sqlite_t *ss, sqlite3_stmt *stmt, store_league_t *out)
{
    int rc = sqlite3_step(stmt);
    int err;
    if (rc == SQLITE_ROW)
        err = lg_row(ss, stmt, 0, out);
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : lg_fail(ss, rc);
    return store_sqlite_done(stmt, err);
}

/* user_id, name, role, joined_ms into *out. */
static int lg_member_row(store_sqlite_t *ss, sqlite3_stmt *stmt, store_member_t *out)
{
    int err = store_sqlite_col_text(ss, stmt, 0, out->user_id, sizeof(out->user_id));
    if (err == 0)
        err = store_sqlite_col_text(ss, stmt, 1, out->name, sizeof(out->name));
    if (err == 0)
        err = lg_col_role(ss, stmt, 2, &out->role);
    out->joined_ms = sqlite3_column_int64(stmt, 3);
    return err;
}

/* ---- transactions -------------------------------------------------------------------------- */

/* ---- leagues ------------------------------------------------------------------------------- */

/* GV_ECONFLICT when either code is already used by any league, as either kind. */
static int lg_codes_free(store_sqlite_t *ss, const char *invite, const char *watch)
{
    if (strcmp(invite, watch) == 0)
        return GV_ECONFLICT;
    sqlite3_stmt *stmt = NULL;
    int found = 0;
    int err = lg_prepare(ss, SQL_CODE_TAKEN, &stmt, invite, watch);
    if (err == 0)
        err = lg_exists(ss, stmt, &found);
    return err == 0 && found ? GV_ECONFLICT : err;
}

static int lg_insert(store_sqlite_t *ss, const store_league_t *lg)
{
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_INSERT, &stmt);
    if (err == 0)
        err =
            store_sqlite_bind(ss, stmt, "ttttttti", lg->id, lg->name, lg->sport, lg->competition,
                              lg->commissioner_id, lg->invite_code, lg->watch_code, lg->created_ms);
    if (err == 0)
        err = lg_bind_settings(ss, stmt, 9, &lg->settings);
    return err != 0 ? err : lg_write(ss, stmt, NULL);
}

static int sqlite_league_create_tx(store_t *s, const store_league_t *lg)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = lg_codes_free(ss, lg->invite_code, lg->watch_code);
    if (err == 0)
        err = lg_insert(ss, lg);
    if (err == 0)
        err = store_sqlite_stmt(ss, SQL_INSERT_COMMISSIONER, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tti", lg->id, lg->commissioner_id, lg->created_ms);
    if (err == 0)
        err = lg_write(ss, stmt, NULL);
    if (err == 0)
        err = store_sqlite_stmt(ss, SQL_SELECT_DEFAULT, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "ttt", lg->id, lg->competition, lg->sport);
    if (err == 0)
        err = lg_write(ss, stmt, NULL);
    return err;
}

static int sqlite_league_get(store_t *s, const char *id, store_league_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = lg_prepare(ss, SQL_GET, &stmt, id, NULL);
    return err != 0 ? err : lg_read_one(ss, stmt, out);
}

static int sqlite_leagues_each(store_t *s, const char *sport, store_league_fn fn, void *ctx)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_prepare(ss, SQL_OF_SPORT, &stmt);
    err = err ? err : store_sqlite_bind(ss, stmt, "t", sport);
    int rc = SQLITE_ROW;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        store_league_t lg;
        err = lg_row(ss, stmt, 0, &lg);
        err = err ? err : fn(ctx, &lg);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = store_sqlite_step_fail(ss, rc);
    sqlite3_finalize(stmt);
    return err;
}

static int sqlite_league_count(store_t *s, int64_t *count)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, "SELECT count(*) FROM leagues", &stmt);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(stmt, 0);
    else
        err = store_sqlite_step_fail(ss, rc);
    sqlite3_reset(stmt);
    return err;
}

static int sqlite_league_by_code(store_t *s, const char *code, int watch, store_league_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = lg_prepare(ss, watch ? SQL_BY_WATCH : SQL_BY_INVITE, &stmt, code, NULL);
    return err != 0 ? err : lg_read_one(ss, stmt, out);
}

static int sqlite_league_update(store_t *s, const store_league_t *lg)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int err = lg_prepare(ss, SQL_UPDATE, &stmt, lg->id, lg->name);
    if (err == 0)
        err = lg_bind_settings(ss, stmt, 3, &lg->settings);
    if (err == 0)
        err = lg_write(ss, stmt, &changes);
    return err == 0 && changes == 0 ? GV_ENOT_FOUND : err;
}

static int sqlite_league_set_code(store_t *s, const char *id, int watch, const char *code)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int found = 0;
    int err = lg_prepare(ss, watch ? SQL_SET_WATCH : SQL_SET_INVITE, &stmt, id, code);
    if (err == 0)
        err = lg_write(ss, stmt, &changes);
    if (err != 0 || changes > 0)
        return err;
    /* Nothing changed: no such league, or the code is the other kind of some league. */
    err = lg_league_exists(ss, id, &found);
    return err != 0 ? err : found ? GV_ECONFLICT : GV_ENOT_FOUND;
}

static int sqlite_league_delete(store_t *s, const char *id)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int err = lg_prepare(ss, SQL_DELETE, &stmt, id, NULL);
    if (err == 0)
        err = lg_write(ss, stmt, &changes);
    return err == 0 && changes == 0 ? GV_ENOT_FOUND : err;
}

/* Reads at most limit rows of a bound page query asked for limit + 1 rows; *more tells whether
 * the extra row came. row reads row i. Resets stmt. */
static int lg_page(store_sqlite_t *ss, sqlite3_stmt *stmt, int limit, size_t *n, int *more,
                   int (*row)(store_sqlite_t *ss, sqlite3_stmt *stmt, void *out, size_t i),
                   void *out)
{
    int rc = SQLITE_DONE;
    int err = 0;
    *n = 0;
    *more = 0;
    while (err == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == (size_t)limit) {
            *more = 1;
            break;
        }
        err = row(ss, stmt, out, *n);
        if (err == 0)
            (*n)++;
    }
    if (err == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = lg_fail(ss, rc);
    if (err != 0) {
        *n = 0;
        *more = 0;
    }
    return store_sqlite_done(stmt, err);
}

static int lg_my_row(store_sqlite_t *ss, sqlite3_stmt *stmt, void *out, size_t i)
{
    store_my_league_t *my = (store_my_league_t *)out + i;
    int err = lg_col_role(ss, stmt, 0, &my->role);
    return err != 0 ? err : lg_row(ss, stmt, 1, &my->league);
}

static int sqlite_leagues_for_user(store_t *s, const char *user_id, const char *after_id, int limit,
                                   store_my_league_t *out, size_t *n, int *more)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = store_sqlite_stmt(ss, SQL_FOR_USER, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "ttn", user_id, after_id, limit + 1);
    return err != 0 ? err : lg_page(ss, stmt, limit, n, more, lg_my_row, out);
}

/* ---- members ------------------------------------------------------------------------------- */

static int sqlite_member_get(store_t *s, const char *league_id, const char *user_id,
                             store_member_t *out)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = lg_prepare(ss, SQL_MEMBER_GET, &stmt, league_id, user_id);
    if (err != 0)
        return err;
    store_member_t m;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        err = lg_member_row(ss, stmt, &m);
    else
        err = rc == SQLITE_DONE ? GV_ENOT_FOUND : lg_fail(ss, rc);
    if (err == 0)
        *out = m;
    return store_sqlite_done(stmt, err);
}

/* After an insert that added nothing: 1 when user_id became a member meanwhile, else
 * GV_ENOT_FOUND for an unknown league, else GV_ECONFLICT (no seat left). */
static int lg_add_refused(store_t *s, const char *league_id, const char *user_id)
{
    store_member_t m;
    int found = 0;
    int err = sqlite_member_get(s, league_id, user_id, &m);
    if (err != GV_ENOT_FOUND)
        return err == 0 ? 1 : err;
    err = lg_league_exists(store_sqlite_of(s), league_id, &found);
    return err != 0 ? err : found ? GV_ECONFLICT : GV_ENOT_FOUND;
}

/* The existence check first: a member is reported (1) and left as they are. */
static int sqlite_member_add(store_t *s, const char *league_id, const char *user_id,
                             store_role_t role, int max_managers, int64_t now_ms)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    store_member_t m;
    int err = sqlite_member_get(s, league_id, user_id, &m);
    if (err != GV_ENOT_FOUND)
        return err == 0 ? 1 : err;
    int changes = 0;
    err = store_sqlite_stmt(ss, SQL_MEMBER_ADD, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tttin", league_id, user_id, lg_role_text(role), now_ms,
                                max_managers);
    if (err == 0)
        err = lg_write(ss, stmt, &changes);
    if (err != 0 || changes > 0)
        return err;
    return lg_add_refused(s, league_id, user_id);
}

static int sqlite_member_promote(store_t *s, const char *league_id, const char *user_id,
                                 int max_managers)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int err = store_sqlite_stmt(ss, SQL_MEMBER_PROMOTE, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "ttn", league_id, user_id, max_managers);
    if (err == 0)
        err = lg_write(ss, stmt, &changes);
    if (err != 0 || changes > 0)
        return err;
    /* Nothing changed: not a member, already seated, or no seat left. */
    store_member_t m;
    err = sqlite_member_get(s, league_id, user_id, &m);
    if (err != 0)
        return err;
    return m.role != STORE_ROLE_SPECTATOR ? 1 : GV_ECONFLICT;
}

static int sqlite_member_remove(store_t *s, const char *league_id, const char *user_id)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int changes = 0;
    int err = lg_prepare(ss, SQL_MEMBER_REMOVE, &stmt, league_id, user_id);
    if (err == 0)
        err = lg_write(ss, stmt, &changes);
    return err == 0 && changes == 0 ? GV_ENOT_FOUND : err;
}

static int lg_members_row(store_sqlite_t *ss, sqlite3_stmt *stmt, void *out, size_t i)
{
    return lg_member_row(ss, stmt, (store_member_t *)out + i);
}

static int sqlite_members_list(store_t *s, const char *league_id, int which, int64_t after_ms,
                               const char *after_id, int limit, store_member_t *out, size_t *n,
                               int *more)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    if (after_id[0] == '\0')
        after_ms = INT64_MIN;
    int err = store_sqlite_stmt(ss, SQL_MEMBERS, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tnitn", league_id, which, after_ms, after_id, limit + 1);
    return err != 0 ? err : lg_page(ss, stmt, limit, n, more, lg_members_row, out);
}

/* ---- asset selection ----------------------------------------------------------------------- */

static int sqlite_league_assets_set_tx(store_t *s, const char *league_id, const char *const *ids,
                                       size_t n)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int found = 0;
    int err = lg_league_exists(ss, league_id, &found);
    if (err == 0 && !found)
        err = GV_ENOT_FOUND;
    if (err == 0)
        err = lg_prepare(ss, SQL_ASSETS_CLEAR, &stmt, league_id, NULL);
    if (err == 0)
        err = lg_write(ss, stmt, NULL);
    for (size_t i = 0; err == 0 && i < n; i++) {
        err = store_sqlite_stmt(ss, SQL_ASSET_ADD, &stmt);
        if (err == 0)
            err = store_sqlite_bind(ss, stmt, "tnt", league_id, (int)i, ids[i]);
        if (err == 0)
            err = lg_write(ss, stmt, NULL);
    }
    return err;
}

/* position, then the store_asset_t columns in field order. */
static int lg_asset_row(store_sqlite_t *ss, sqlite3_stmt *stmt, void *out, size_t i)
{
    store_asset_t *a = (store_asset_t *)out + i;
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
        int err = store_sqlite_col_text(ss, stmt, (int)c + 1, cols[c].dst, cols[c].cap);
        if (err != 0)
            return err;
    }
    return 0;
}

typedef struct {
    store_asset_t *assets;
    int *pos;
} lg_assets_out_t;

static int lg_assets_row(store_sqlite_t *ss, sqlite3_stmt *stmt, void *out, size_t i)
{
    lg_assets_out_t *o = out;
    if (o->pos != NULL)
        o->pos[i] = sqlite3_column_int(stmt, 0);
    return lg_asset_row(ss, stmt, o->assets, i);
}

static int sqlite_league_assets_list(store_t *s, const char *league_id, int after_pos, int limit,
                                     store_asset_t *out, int *pos, size_t *n, int *more)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    lg_assets_out_t o = {out, pos};
    int err = store_sqlite_stmt(ss, SQL_ASSETS, &stmt);
    if (err == 0)
        err = store_sqlite_bind(ss, stmt, "tnn", league_id, after_pos, limit + 1);
    return err != 0 ? err : lg_page(ss, stmt, limit, n, more, lg_assets_row, &o);
}

static int sqlite_league_assets_count(store_t *s, const char *league_id, int *count)
{
    store_sqlite_t *ss = store_sqlite_of(s);
    sqlite3_stmt *stmt = NULL;
    int err = lg_prepare(ss, SQL_ASSETS_COUNT, &stmt, league_id, NULL);
    if (err != 0)
        return err;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int(stmt, 0);
    else
        err = rc == SQLITE_DONE ? GV_EDB : lg_fail(ss, rc); /* count(*) always has a row */
    return store_sqlite_done(stmt, err);
}

const struct store_league_ops_s store_sqlite_league_ops = {
    .create_tx = sqlite_league_create_tx,
    .get = sqlite_league_get,
    .each = sqlite_leagues_each,
    .count = sqlite_league_count,
    .by_code = sqlite_league_by_code,
    .update = sqlite_league_update,
    .set_code = sqlite_league_set_code,
    .del = sqlite_league_delete,
    .for_user = sqlite_leagues_for_user,
    .member_get = sqlite_member_get,
    .member_add = sqlite_member_add,
    .member_promote = sqlite_member_promote,
    .member_remove = sqlite_member_remove,
    .members_list = sqlite_members_list,
    .assets_set_tx = sqlite_league_assets_set_tx,
    .assets_list = sqlite_league_assets_list,
    .assets_count = sqlite_league_assets_count,
};
