/* Unit tests of the store's auctions on both backends (tests/store_backend.h: real SQLite in a
 * temporary directory, real PostgreSQL in a schema of its own): rows round-trip (seeds bit for
 * bit), one auction per league, the league's status follows its auction, the event log in order
 * with after/limit, bids per epoch and lot, closed and undone lots, first bid outcomes, cascades,
 * and group commit: many writes in one caller transaction, or none. The leagues are made with
 * plain SQL (valid on both), not store_league_create: these tests are the auctions'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../store_backend.h"

#define T0 1700000000000LL
#define MAX_SEEN 64

/* The commits of the fixture's store, counted from the end of setup on. */
static observed_t committed;

/* The first column of the first row of sql as an integer (-1 when no row). */
static int64_t query_i64(fixture_t *f, const char *sql)
{
    return backend_i64(f->store, sql, NULL);
}

static void exec_sql(fixture_t *f, const char *sql)
{
    backend_exec(f->store, sql);
}

/* 1 when no transaction is open on the store (SQLite's autocommit mode), else 0. */
static int autocommit(fixture_t *f)
{
    return !f->store->ops->tx_open(f->store);
}

/* The rows of table whose auction_id is id. */
static int64_t count_of(fixture_t *f, const char *table, const char *id)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE auction_id = '%s'", table, id);
    return query_i64(f, sql);
}

static void make_user(fixture_t *f, const char *tag)
{
    char email[64], id[STORE_ID_MAX], name[64];
    snprintf(email, sizeof(email), "%s@example.com", tag);
    snprintf(id, sizeof(id), "u-%s", tag);
    snprintf(name, sizeof(name), "User %s", tag);
    store_user_t u;
    assert_int_equal(0, store_user_ensure(f->store, email, id, name, T0, &u, NULL));
}

/* League "lg-<n>" of alice over AFCON-2025, status setup, with PRODUCT.md's default settings
 * (random lot order), alice as its commissioner and the competition's assets by name: the rows
 * store_league_create writes. */
static void make_league(fixture_t *f, int n)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO leagues(id, name, sport, competition, commissioner_id, budget, currency, "
             "roster_size, min_managers, max_managers, lot_seconds, anti_snipe_seconds, min_bid, "
             "min_increment, intermission_seconds, lot_order, reoffer_unsold, invite_code, "
             "watch_code, created_ms) VALUES('lg-%d', 'League %d', 'football', 'AFCON-2025', "
             "'u-alice', 500000000, 'GBP', 3, 2, 8, 30, 10, 1000000, 1000000, 3, 'random', 1, "
             "'INVITE%04d', 'WATCH%04d', %lld); "
             "INSERT INTO league_members(league_id, user_id, role, joined_ms) "
             "VALUES('lg-%d', 'u-alice', 'commissioner', %lld); "
             "INSERT INTO league_assets(league_id, position, asset_id) "
             "VALUES('lg-%d', 0, 'fb-alg'), ('lg-%d', 1, 'fb-egy')",
             n, n, n, n, (long long)T0, n, (long long)T0, n, n);
    exec_sql(f, sql);
}

static int setup(void **state)
{
    if (setup_open(state) != 0)
        return -1;
    fixture_t *f = *state;
    if (store_migrate(f->store, NULL) != 0)
        return -1;
    exec_sql(f, "INSERT INTO competitions(code, sport, name, season) VALUES"
                "('AFCON-2025', 'football', 'Africa Cup of Nations', '2025')");
    exec_sql(f, "INSERT INTO assets(id, sport, name, updated_ms) VALUES"
                "('fb-egy', 'football', 'Egypt', 1), ('fb-alg', 'football', 'Algeria', 1)");
    exec_sql(f, "INSERT INTO asset_competitions(competition, asset_id) VALUES"
                "('AFCON-2025', 'fb-egy'), ('AFCON-2025', 'fb-alg')");
    make_user(f, "alice");
    make_user(f, "bob");
    make_user(f, "carol");
    for (int n = 1; n <= 3; n++)
        make_league(f, n);
    committed = (observed_t){0, -1};
    store_set_commit_observer(f->store, observe_commit, &committed); /* count from here on */
    return 0;
}

static char config_text[] =
    "{\"budget\":500000000,\"note\":\"caf\xc3\xa9 \\\"q\\\" \xe2\x9a\xbd\"}";
static char assets_text[] = "[\"fb-egy\",\"fb-alg\"]";
static char managers_text[] = "[\"u-alice\",\"u-bob\"]";

/* An auction row with borrowed texts (create only reads them). */
static store_auction_t auction_of(const char *id, const char *league_id, const char *status)
{
    store_auction_t a;
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), "%s", id);
    snprintf(a.league_id, sizeof(a.league_id), "%s", league_id);
    snprintf(a.status, sizeof(a.status), "%s", status);
    a.seq = 1;
    a.seed = 42;
    a.config = config_text;
    a.asset_ids = assets_text;
    a.manager_ids = managers_text;
    a.created_ms = T0 + 5;
    return a;
}

static void create_auction(fixture_t *f, const char *id, const char *league_id, const char *status)
{
    store_auction_t a = auction_of(id, league_id, status);
    assert_int_equal(0, store_auction_create(f->store, &a));
}

static void assert_auction_equal(const store_auction_t *a, const store_auction_t *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->league_id, b->league_id);
    assert_string_equal(a->status, b->status);
    assert_int_equal(a->seq, b->seq);
    assert_true(a->seed == b->seed);
    assert_string_equal(a->config, b->config);
    assert_string_equal(a->asset_ids, b->asset_ids);
    assert_string_equal(a->manager_ids, b->manager_ids);
    assert_int_equal(a->created_ms, b->created_ms);
}

/* The league's status is status (its row read with SQL: the leagues' queries are not these
 * tests'). */
static void assert_league_status(fixture_t *f, const char *league_id, const char *status)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM leagues WHERE id = '%s' AND status = '%s'",
             league_id, status);
    if (query_i64(f, sql) != 1)
        fail_msg("league %s is not in status %s", league_id, status);
}

static store_auction_event_t event_of(int64_t seq, const char *actor_id)
{
    static char payloads[8][64];
    char *payload = payloads[seq % 8];
    snprintf(payload, sizeof(payloads[0]), "{\"seq\":%lld}", (long long)seq);
    return (store_auction_event_t){
        .seq = seq,
        .type = seq % 2 ? "bid" : "lot_opened",
        .payload = payload,
        .at_ms = T0 + seq * 10,
        .actor_id = actor_id,
    };
}

static void append_events(fixture_t *f, const char *auction_id, int64_t from, int64_t to)
{
    for (int64_t seq = from; seq <= to; seq++) {
        store_auction_event_t ev = event_of(seq, seq % 3 == 0 ? NULL : "u-bob");
        assert_int_equal(0, store_auction_event_append(f->store, auction_id, &ev));
    }
}

/* What a walk saw. stop_at: return 7 from the callback on that seq (0: never). */
typedef struct {
    int64_t seq[MAX_SEEN];
    int lot[MAX_SEEN];
    size_t n;
    int64_t stop_at;
    int64_t total; /* every row, also past MAX_SEEN */
    int64_t last_seq;
    int gapless;
} seen_t;

static int see_event(void *ctx, const store_auction_event_t *ev)
{
    seen_t *s = ctx;
    store_auction_event_t want = event_of(ev->seq, ev->seq % 3 == 0 ? NULL : "u-bob");
    assert_string_equal(want.type, ev->type);
    assert_string_equal(want.payload, ev->payload);
    assert_int_equal(want.at_ms, ev->at_ms);
    if (want.actor_id == NULL)
        assert_null(ev->actor_id);
    else
        assert_string_equal(want.actor_id, ev->actor_id);
    if (s->total > 0 && ev->seq != s->last_seq + 1)
        s->gapless = 0;
    s->last_seq = ev->seq;
    s->total++;
    if (s->n < MAX_SEEN)
        s->seq[s->n++] = ev->seq;
    return ev->seq == s->stop_at ? 7 : 0;
}

static void assert_seqs(const seen_t *s, const int64_t *want, size_t n)
{
    assert_int_equal(n, s->n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(want[i], s->seq[i]);
}

/* ---- auctions ------------------------------------------------------------------------------ */

static void create_then_get_and_by_league_round_trip(void **state)
{
    fixture_t *f = *state;
    store_auction_t a = auction_of("au-1", "lg-1", "waiting");
    a.seq = 3;
    a.seed = 0xFFFFFFFFFFFFFFFFull;
    assert_int_equal(0, store_auction_create(f->store, &a));
    assert_int_equal(1,
                     committed.calls); /* its own transaction, committed through store_tx_commit */
    assert_int_equal(1,
                     query_i64(f, "SELECT count(*) FROM auctions WHERE id = 'au-1' AND seed = -1"));

    store_auction_t got;
    assert_int_equal(0, store_auction_get(f->store, "au-1", &got));
    assert_auction_equal(&a, &got);
    assert_ptr_not_equal(got.config, a.config); /* a copy the caller owns */
    store_auction_free_fields(&got);
    assert_null(got.config);
    assert_null(got.asset_ids);
    assert_null(got.manager_ids);
    store_auction_free_fields(&got); /* twice is harmless */

    assert_int_equal(0, store_auction_by_league(f->store, "lg-1", &got));
    assert_auction_equal(&a, &got);
    store_auction_free_fields(&got);

    /* Other seeds at the edges of the signed column. */
    const uint64_t seeds[] = {0, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull,
                              0x0123456789ABCDEFull};
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        store_auction_t b = auction_of("au-2", "lg-2", "waiting");
        b.seed = seeds[i];
        assert_int_equal(0, store_auction_create(f->store, &b));
        assert_int_equal(0, store_auction_get(f->store, "au-2", &got));
        assert_true(got.seed == seeds[i]);
        store_auction_free_fields(&got);
        assert_int_equal(0, store_auction_delete(f->store, "au-2"));
    }

    /* Misses clear out, so freeing after any result is safe. */
    memset(&got, 0xAB, sizeof(got));
    assert_int_equal(GV_ENOT_FOUND, store_auction_get(f->store, "au-none", &got));
    assert_null(got.config);
    assert_int_equal(GV_ENOT_FOUND, store_auction_by_league(f->store, "lg-2", &got));
    assert_int_equal(GV_ENOT_FOUND, store_auction_get(f->store, "", &got));
    store_auction_free_fields(&got);
}

static void second_auction_of_a_league_is_a_conflict(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "waiting");
    store_auction_t again = auction_of("au-other", "lg-1", "waiting");
    assert_int_equal(GV_ECONFLICT, store_auction_create(f->store, &again));
    store_auction_t same_id = auction_of("au-1", "lg-2", "waiting");
    assert_int_equal(GV_ECONFLICT, store_auction_create(f->store, &same_id));
    store_auction_t no_league = auction_of("au-3", "lg-none", "waiting");
    assert_int_equal(GV_ENOT_FOUND, store_auction_create(f->store, &no_league));

    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM auctions"));
    assert_league_status(f, "lg-2", "setup"); /* the failed creates changed no league */
    assert_int_equal(1, autocommit(f));
    assert_int_equal(1, committed.calls);

    store_auction_t got;
    assert_int_equal(0, store_auction_by_league(f->store, "lg-1", &got));
    assert_string_equal("au-1", got.id);
    store_auction_free_fields(&got);
}

static void league_status_follows_the_auction(void **state)
{
    fixture_t *f = *state;
    assert_league_status(f, "lg-1", "setup");
    create_auction(f, "au-1", "lg-1", "waiting");
    assert_league_status(f, "lg-1", "auction");

    assert_int_equal(0, store_auction_update(f->store, "au-1", "running", 5, T0 + 100));
    assert_league_status(f, "lg-1", "auction");
    assert_int_equal(0, store_auction_update(f->store, "au-1", "completed", 9, T0 + 200));
    assert_league_status(f, "lg-1", "season");
    assert_int_equal(T0 + 200, query_i64(f, "SELECT updated_ms FROM auctions"));
    /* An undo after completion reopens it: the season is not on yet. */
    assert_int_equal(0, store_auction_update(f->store, "au-1", "paused", 10, T0 + 300));
    assert_league_status(f, "lg-1", "auction");

    store_auction_t got;
    assert_int_equal(0, store_auction_get(f->store, "au-1", &got));
    assert_string_equal("paused", got.status);
    assert_int_equal(10, got.seq);
    assert_int_equal(T0 + 5, got.created_ms);
    store_auction_free_fields(&got);

    assert_int_equal(GV_ENOT_FOUND, store_auction_update(f->store, "au-none", "running", 1, T0));
    assert_league_status(f, "lg-2", "setup");

    assert_int_equal(0, store_auction_delete(f->store, "au-1"));
    assert_league_status(f, "lg-1", "setup");
    assert_int_equal(GV_ENOT_FOUND, store_auction_delete(f->store, "au-1"));
    assert_league_status(f, "lg-3", "setup");
    assert_int_equal(1, autocommit(f));
}

/* A write of the league failing after the auction's: the whole operation is undone, alone or
 * inside a caller's transaction (whose other work survives). */
static void late_failure_rolls_back_the_whole_operation(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    exec_sql(f, backend_sql("CREATE TEMP TRIGGER refuse_league BEFORE UPDATE ON main.leagues "
                            "WHEN NEW.id IN ('lg-1', 'lg-2') BEGIN SELECT RAISE(ABORT, "
                            "'refused'); END",
                            /* the same refusal: a constraint failure (class 23) */
                            "CREATE FUNCTION refuse_league() RETURNS trigger LANGUAGE plpgsql "
                            "AS $$BEGIN IF NEW.id IN ('lg-1', 'lg-2') THEN RAISE EXCEPTION "
                            "'refused' USING ERRCODE = 'integrity_constraint_violation'; "
                            "END IF; RETURN NEW; END$$; CREATE TRIGGER refuse_league BEFORE "
                            "UPDATE ON leagues FOR EACH ROW EXECUTE FUNCTION refuse_league()"));
    int commits = committed.calls;

    store_auction_t a2 = auction_of("au-2", "lg-2", "waiting");
    assert_int_equal(GV_EINVALID_REQUEST, store_auction_create(f->store, &a2));
    assert_int_equal(0, query_i64(f, "SELECT count(*) FROM auctions WHERE id = 'au-2'"));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_auction_update(f->store, "au-1", "completed", 9, T0 + 1));
    assert_int_equal(GV_EINVALID_REQUEST, store_auction_delete(f->store, "au-1"));
    assert_int_equal(1, autocommit(f));
    assert_int_equal(commits, committed.calls);

    store_auction_t got;
    assert_int_equal(0, store_auction_get(f->store, "au-1", &got));
    assert_string_equal("running", got.status);
    assert_int_equal(1, got.seq);
    store_auction_free_fields(&got);

    assert_int_equal(0, store_tx_begin(f->store));
    append_events(f, "au-1", 1, 3);
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_auction_update(f->store, "au-1", "completed", 9, T0 + 1));
    assert_int_equal(GV_EINVALID_REQUEST, store_auction_create(f->store, &a2));
    assert_int_equal(0, autocommit(f)); /* the caller's is still open */
    append_events(f, "au-1", 4, 4);
    create_auction(f, "au-3", "lg-3", "waiting");
    assert_int_equal(commits, committed.calls); /* nothing committed behind the caller's back */
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(commits + 1, committed.calls);

    assert_int_equal(4, count_of(f, "auction_events", "au-1"));
    assert_int_equal(0, store_auction_get(f->store, "au-1", &got));
    assert_string_equal("running", got.status);
    store_auction_free_fields(&got);
    assert_int_equal(GV_ENOT_FOUND, store_auction_get(f->store, "au-2", &got));
    assert_league_status(f, "lg-3", "auction");
}

typedef struct {
    char ids[8][STORE_ID_MAX];
    size_t n;
    int stop_after; /* return 5 after this many rows (0: never) */
    fixture_t *f;   /* non-NULL: complete each auction from inside the walk */
} auctions_seen_t;

static int see_auction(void *ctx, const store_auction_t *a)
{
    auctions_seen_t *s = ctx;
    assert_true(s->n < 8);
    assert_string_equal(config_text, a->config);
    snprintf(s->ids[s->n++], STORE_ID_MAX, "%s", a->id);
    if (s->f != NULL) {
        assert_int_equal(0, store_auction_update(s->f->store, a->id, "completed", 2, T0));
        seen_t ev = {.gapless = 1};
        assert_int_equal(0, store_auction_events_each(s->f->store, a->id, 0, 0, see_event, &ev));
    }
    return s->stop_after > 0 && (int)s->n == s->stop_after ? 5 : 0;
}

static void auctions_each_lists_all_or_the_live_ones(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "waiting");
    create_auction(f, "au-2", "lg-2", "running");
    create_auction(f, "au-3", "lg-3", "completed");
    assert_league_status(f, "lg-3", "season"); /* created completed: the season is on */

    auctions_seen_t all = {.n = 0};
    assert_int_equal(0, store_auctions_each(f->store, 1, see_auction, &all));
    assert_int_equal(3, all.n);
    auctions_seen_t live = {.n = 0};
    assert_int_equal(0, store_auctions_each(f->store, 0, see_auction, &live));
    assert_int_equal(2, live.n);
    for (size_t i = 0; i < live.n; i++)
        assert_string_not_equal("au-3", live.ids[i]);

    auctions_seen_t stop = {.stop_after = 2};
    assert_int_equal(5, store_auctions_each(f->store, 1, see_auction, &stop));
    assert_int_equal(2, stop.n);

    /* The callback may write (recovery does): every row was read before it ran. */
    auctions_seen_t writer = {.f = f};
    assert_int_equal(0, store_auctions_each(f->store, 0, see_auction, &writer));
    assert_int_equal(2, writer.n);
    auctions_seen_t none = {.n = 0};
    assert_int_equal(0, store_auctions_each(f->store, 0, see_auction, &none));
    assert_int_equal(0, none.n);
    assert_league_status(f, "lg-1", "season");
}

/* ---- the event log ------------------------------------------------------------------------- */

static void events_append_and_walk_after_seq_with_limit(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    create_auction(f, "au-2", "lg-2", "running");
    append_events(f, "au-1", 1, 20);
    append_events(f, "au-2", 1, 4);

    seen_t s = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 0, 0, see_event, &s));
    assert_int_equal(20, s.n);
    assert_int_equal(1, s.seq[0]);
    assert_true(s.gapless);

    seen_t page = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 5, 3, see_event, &page));
    assert_seqs(&page, (const int64_t[]){6, 7, 8}, 3);
    seen_t tail = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 18, 10, see_event, &tail));
    assert_seqs(&tail, (const int64_t[]){19, 20}, 2);
    seen_t past = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 20, 0, see_event, &past));
    assert_int_equal(0, past.n);
    seen_t other = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-2", 0, 0, see_event, &other));
    assert_seqs(&other, (const int64_t[]){1, 2, 3, 4}, 4);
    seen_t unknown = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-x", 0, 0, see_event, &unknown));
    assert_int_equal(0, unknown.n);

    seen_t stop = {.stop_at = 4, .gapless = 1};
    assert_int_equal(7, store_auction_events_each(f->store, "au-1", 0, 0, see_event, &stop));
    assert_seqs(&stop, (const int64_t[]){1, 2, 3, 4}, 4);

    /* A taken seq keeps the first event; an unknown auction has no log. */
    store_auction_event_t dup = {.seq = 7, .type = "bid", .payload = "{}", .at_ms = T0};
    assert_int_equal(GV_ECONFLICT, store_auction_event_append(f->store, "au-1", &dup));
    assert_int_equal(GV_ENOT_FOUND, store_auction_event_append(f->store, "au-x", &dup));
    seen_t again = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 6, 1, see_event, &again));
    assert_seqs(&again, (const int64_t[]){7}, 1); /* see_event checked the original payload */
    assert_int_equal(20, count_of(f, "auction_events", "au-1"));
}

typedef struct {
    fixture_t *f;
    int64_t outer, inner;
} nested_t;

static int count_event(void *ctx, const store_auction_event_t *ev)
{
    (void)ev;
    ((nested_t *)ctx)->inner++;
    return 0;
}

/* The same query walked again from inside its own callback (a cached statement in use). */
static int nest_event(void *ctx, const store_auction_event_t *ev)
{
    nested_t *n = ctx;
    assert_int_equal(n->outer + 1, ev->seq);
    n->outer++;
    return store_auction_events_each(n->f->store, "au-1", 0, 0, count_event, n);
}

static void event_walk_may_be_reentered(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    append_events(f, "au-1", 1, 5);
    nested_t n = {.f = f};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 0, 0, nest_event, &n));
    assert_int_equal(5, n.outer);
    assert_int_equal(25, n.inner);
    /* The cached statement is left reusable. */
    seen_t s = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 2, 0, see_event, &s));
    assert_seqs(&s, (const int64_t[]){3, 4, 5}, 3);
}

/* ---- bids and lots ------------------------------------------------------------------------- */

typedef struct {
    int64_t seq[MAX_SEEN];
    int lot[MAX_SEEN];
    char user[MAX_SEEN][STORE_ID_MAX];
    int64_t amount[MAX_SEEN];
    size_t n;
} bids_seen_t;

static int see_bid(void *ctx, const store_bid_row_t *b)
{
    bids_seen_t *s = ctx;
    assert_true(s->n < MAX_SEEN);
    assert_int_equal(T0 + b->seq, b->at_ms);
    s->seq[s->n] = b->seq;
    s->lot[s->n] = b->lot;
    snprintf(s->user[s->n], STORE_ID_MAX, "%s", b->user_id);
    s->amount[s->n] = b->amount;
    s->n++;
    return 0;
}

static void insert_bid(fixture_t *f, int epoch, int64_t seq, int lot, const char *user,
                       int64_t amount)
{
    store_bid_row_t b = {
        .seq = seq, .lot = lot, .user_id = user, .amount = amount, .at_ms = T0 + seq};
    assert_int_equal(0, store_auction_bid_insert(f->store, "au-1", epoch, &b));
}

static void bids_are_walked_per_epoch_and_lot_in_seq_order(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    /* Inserted out of seq order on purpose. */
    insert_bid(f, 0, 12, 2, "u-carol", 30);
    insert_bid(f, 0, 3, 1, "u-bob", 10);
    insert_bid(f, 0, 4, 1, "u-carol", 11);
    insert_bid(f, 0, 10, 2, "u-bob", 20);
    insert_bid(f, 0, 2, 1, "u-alice", 9);
    insert_bid(f, 1, 20, 1, "u-bob", 50); /* after a reset: lot 1 again, a new epoch */

    bids_seen_t all = {.n = 0};
    assert_int_equal(0, store_auction_bids_each(f->store, "au-1", 0, 0, see_bid, &all));
    assert_int_equal(5, all.n);
    const int64_t want_seq[] = {2, 3, 4, 10, 12};
    const int want_lot[] = {1, 1, 1, 2, 2};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(want_seq[i], all.seq[i]);
        assert_int_equal(want_lot[i], all.lot[i]);
    }
    assert_string_equal("u-alice", all.user[0]);
    assert_int_equal(9, all.amount[0]);

    bids_seen_t lot2 = {.n = 0};
    assert_int_equal(0, store_auction_bids_each(f->store, "au-1", 0, 2, see_bid, &lot2));
    assert_int_equal(2, lot2.n);
    assert_int_equal(10, lot2.seq[0]);
    assert_int_equal(12, lot2.seq[1]);
    assert_string_equal("u-carol", lot2.user[1]);
    assert_int_equal(30, lot2.amount[1]);

    bids_seen_t epoch1 = {.n = 0};
    assert_int_equal(0, store_auction_bids_each(f->store, "au-1", 1, 1, see_bid, &epoch1));
    assert_int_equal(1, epoch1.n);
    assert_int_equal(20, epoch1.seq[0]);
    bids_seen_t none = {.n = 0};
    assert_int_equal(0, store_auction_bids_each(f->store, "au-1", 0, 3, see_bid, &none));
    assert_int_equal(0, none.n);

    store_bid_row_t dup = {.seq = 4, .lot = 1, .user_id = "u-bob", .amount = 99, .at_ms = T0};
    assert_int_equal(GV_ECONFLICT, store_auction_bid_insert(f->store, "au-1", 0, &dup));
    dup.seq = 99;
    assert_int_equal(GV_ENOT_FOUND, store_auction_bid_insert(f->store, "au-x", 0, &dup));
    assert_int_equal(6, count_of(f, "auction_bids", "au-1"));
}

static void lots_are_closed_once_and_undone(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    assert_int_equal(
        0, store_auction_lot_closed(f->store, "au-1", 0, 1, "fb-egy", "sold", "u-bob", 25, T0 + 1));
    assert_int_equal(
        0, store_auction_lot_closed(f->store, "au-1", 0, 2, "fb-alg", "unsold", NULL, 0, T0 + 2));
    assert_int_equal(GV_ECONFLICT, store_auction_lot_closed(f->store, "au-1", 0, 1, "fb-egy",
                                                            "sold", "u-carol", 30, T0 + 3));
    assert_int_equal(GV_ENOT_FOUND, store_auction_lot_closed(f->store, "au-x", 0, 1, "fb-egy",
                                                             "unsold", NULL, 0, T0 + 3));
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM auction_lots WHERE lot = 1 AND "
                                     "result = 'sold' AND winner_id = 'u-bob' AND price = 25 "
                                     "AND closed_ms = 1700000000001 AND asset_id = 'fb-egy'"));
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM auction_lots WHERE lot = 2 AND "
                                     "result = 'unsold' AND winner_id IS NULL AND price = 0"));

    assert_int_equal(0, store_auction_lot_undone(f->store, "au-1", 0, 1));
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM auction_lots WHERE lot = 1 AND "
                                     "result = 'undone' AND winner_id = 'u-bob'"));
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM auction_lots WHERE lot = 2 AND "
                                     "result = 'unsold'"));
    assert_int_equal(GV_ENOT_FOUND, store_auction_lot_undone(f->store, "au-1", 0, 3));
    assert_int_equal(GV_ENOT_FOUND, store_auction_lot_undone(f->store, "au-1", 1, 1));

    /* A reset starts a new epoch: lot 1 again. */
    assert_int_equal(
        0, store_auction_lot_closed(f->store, "au-1", 1, 1, "fb-egy", "sold", "u-carol", 7, T0));
    assert_int_equal(3, count_of(f, "auction_lots", "au-1"));

    /* sold needs a winner; unsold has neither winner nor price. */
    assert_int_equal(GV_EINTERNAL, store_auction_lot_closed(f->store, "au-1", 1, 2, "fb-alg",
                                                            "sold", NULL, 5, 0));
    assert_int_equal(GV_EINTERNAL, store_auction_lot_closed(f->store, "au-1", 1, 2, "fb-alg",
                                                            "unsold", "u-bob", 0, 0));
    assert_int_equal(GV_EINTERNAL, store_auction_lot_closed(f->store, "au-1", 1, 2, "fb-alg",
                                                            "unsold", NULL, 3, 0));
    assert_int_equal(GV_EINTERNAL, store_auction_lot_closed(f->store, "au-1", 1, 2, "fb-alg",
                                                            "undone", NULL, 0, 0));
    assert_int_equal(3, count_of(f, "auction_lots", "au-1"));
}

static int collect_roster(void *ctx, const store_roster_row_t *r)
{
    char *out = ctx;
    char line[96];
    snprintf(line, sizeof(line), "%s=%s:%lld:%d;", r->asset_id, r->user_id, (long long)r->price,
             r->lot);
    strcat(out, line);
    return 0;
}

static void rosters_follow_sales_undos_and_resets(void **state)
{
    fixture_t *f = *state;
    char seen[512] = "";
    create_auction(f, "au-1", "lg-1", "running");
    assert_int_equal(0, store_auction_roster_set(f->store, "au-1", "fb-egy", "u-bob", 25, 1));
    assert_int_equal(0, store_auction_roster_set(f->store, "au-1", "fb-alg", "u-al", 7, 2));
    assert_int_equal(0, store_auction_roster_set(f->store, "au-1", "fb-mar", "u-bob", 9, 3));
    assert_int_equal(0, store_auction_rosters_each(f->store, "au-1", collect_roster, seen));
    assert_string_equal(seen, "fb-alg=u-al:7:2;fb-egy=u-bob:25:1;fb-mar=u-bob:9:3;");
    assert_int_equal(0, store_auction_roster_set(f->store, "au-1", "fb-egy", NULL, 0, 0));
    seen[0] = '\0';
    store_auction_rosters_each(f->store, "au-1", collect_roster, seen);
    assert_string_equal(seen, "fb-alg=u-al:7:2;fb-mar=u-bob:9:3;");
    assert_int_equal(0, store_auction_roster_clear(f->store, "au-1"));
    seen[0] = '\0';
    store_auction_rosters_each(f->store, "au-1", collect_roster, seen);
    assert_string_equal(seen, "");
    assert_int_equal(GV_EINTERNAL, store_auction_rosters_each(f->store, "au-1", NULL, NULL));
}

static void bid_outcome_keeps_the_first(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    char out[64];
    assert_int_equal(GV_ENOT_FOUND,
                     store_bid_outcome_get(f->store, "au-1", "u-bob", "c-1", out, sizeof(out)));
    assert_string_equal("", out);
    assert_int_equal(0, store_bid_outcome_put(f->store, "au-1", "u-bob", "c-1",
                                              "{\"accepted\":true,\"seq\":4}"));
    assert_int_equal(0, store_bid_outcome_put(f->store, "au-1", "u-bob", "c-1",
                                              "{\"accepted\":false,\"code\":\"bid_too_low\"}"));
    assert_int_equal(0, store_bid_outcome_get(f->store, "au-1", "u-bob", "c-1", out, sizeof(out)));
    assert_string_equal("{\"accepted\":true,\"seq\":4}", out);

    /* The key is (auction, user, clientBidId): another user's c-1 is theirs. */
    assert_int_equal(GV_ENOT_FOUND,
                     store_bid_outcome_get(f->store, "au-1", "u-carol", "c-1", out, sizeof(out)));
    assert_int_equal(0, store_bid_outcome_put(f->store, "au-1", "u-carol", "c-1", "{\"x\":1}"));
    assert_int_equal(0,
                     store_bid_outcome_get(f->store, "au-1", "u-carol", "c-1", out, sizeof(out)));
    assert_string_equal("{\"x\":1}", out);

    /* Exactly fitting (with the NUL) is fine; one byte short is GV_ELIMIT. */
    size_t len = strlen("{\"accepted\":true,\"seq\":4}");
    assert_int_equal(0, store_bid_outcome_get(f->store, "au-1", "u-bob", "c-1", out, len + 1));
    assert_int_equal(GV_ELIMIT, store_bid_outcome_get(f->store, "au-1", "u-bob", "c-1", out, len));
    assert_int_equal(GV_ELIMIT, store_bid_outcome_get(f->store, "au-1", "u-bob", "c-1", out, 0));
    assert_int_equal(GV_ENOT_FOUND, store_bid_outcome_put(f->store, "au-x", "u-bob", "c-1", "{}"));
    assert_int_equal(2, count_of(f, "auction_bid_outcomes", "au-1"));
}

static int count_key(void *ctx, const char *user, const char *cbid)
{
    char *seen = ctx;
    strcat(seen, user);
    strcat(seen, "/");
    strcat(seen, cbid);
    strcat(seen, ";");
    return 0;
}

/* An accepted bid's answer is kept on its bid row: no row of its own, found like the others. */
static void bid_outcome_on_the_bid_row(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    store_bid_row_t b = {.seq = 3, .lot = 1, .user_id = "u-bob", .amount = 5, .at_ms = T0};
    assert_int_equal(0, store_auction_bid_insert(f->store, "au-1", 0, &b));
    char out[64], seen[256] = "";
    /* not that user's bid, no such seq, a bad seq: refused and nothing written */
    assert_int_equal(GV_ENOT_FOUND,
                     store_bid_outcome_on_bid(f->store, "au-1", 3, "u-carol", "c-9", "{}"));
    assert_int_equal(GV_ENOT_FOUND,
                     store_bid_outcome_on_bid(f->store, "au-1", 4, "u-bob", "c-9", "{}"));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_bid_outcome_on_bid(f->store, "au-1", 0, "u-bob", "c-9", "{}"));
    assert_int_equal(0, store_bid_outcome_on_bid(f->store, "au-1", 3, "u-bob", "c-1",
                                                 "{\"accepted\":true,\"seq\":3}"));
    /* the first answer stays */
    assert_int_equal(GV_ENOT_FOUND,
                     store_bid_outcome_on_bid(f->store, "au-1", 3, "u-bob", "c-2", "{}"));
    assert_int_equal(0, store_bid_outcome_get(f->store, "au-1", "u-bob", "c-1", out, sizeof(out)));
    assert_string_equal("{\"accepted\":true,\"seq\":3}", out);
    assert_int_equal(GV_ENOT_FOUND,
                     store_bid_outcome_get(f->store, "au-1", "u-carol", "c-1", out, sizeof(out)));
    assert_int_equal(0, count_of(f, "auction_bid_outcomes", "au-1"));
    assert_int_equal(0, store_bid_outcome_put(f->store, "au-1", "u-carol", "c-7", "{\"r\":1}"));
    assert_int_equal(0, store_bid_outcome_keys_each(f->store, "au-1", count_key, seen));
    assert_true(strstr(seen, "u-bob/c-1;") && strstr(seen, "u-carol/c-7;"));
    assert_int_equal(strlen("u-bob/c-1;u-carol/c-7;"), strlen(seen));
}

/* ---- delete and group commit --------------------------------------------------------------- */

/* Events, bids, a lot and an outcome for auction id. */
static void fill_auction(fixture_t *f, const char *id)
{
    append_events(f, id, 1, 10);
    store_bid_row_t b = {.seq = 3, .lot = 1, .user_id = "u-bob", .amount = 5, .at_ms = T0};
    assert_int_equal(0, store_auction_bid_insert(f->store, id, 0, &b));
    assert_int_equal(
        0, store_auction_lot_closed(f->store, id, 0, 1, "fb-egy", "sold", "u-bob", 5, T0));
    assert_int_equal(0, store_bid_outcome_put(f->store, id, "u-bob", "c-1", "{}"));
}

static void delete_cascades_to_the_log_and_derived_rows(void **state)
{
    fixture_t *f = *state;
    const char *tables[] = {"auction_events", "auction_bids", "auction_lots",
                            "auction_bid_outcomes"};
    create_auction(f, "au-1", "lg-1", "running");
    create_auction(f, "au-2", "lg-2", "running");
    fill_auction(f, "au-1");
    fill_auction(f, "au-2");
    for (size_t i = 0; i < 4; i++)
        assert_true(count_of(f, tables[i], "au-1") > 0);

    assert_int_equal(0, store_auction_delete(f->store, "au-1"));
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(0, count_of(f, tables[i], "au-1"));
        assert_true(count_of(f, tables[i], "au-2") > 0);
    }
    store_auction_t got;
    assert_int_equal(GV_ENOT_FOUND, store_auction_get(f->store, "au-1", &got));
    assert_int_equal(GV_ENOT_FOUND, store_auction_by_league(f->store, "lg-1", &got));
    assert_league_status(f, "lg-1", "setup");
    assert_league_status(f, "lg-2", "auction");

    /* A new auction of the league starts from an empty log. */
    create_auction(f, "au-1", "lg-1", "waiting");
    seen_t s = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 0, 0, see_event, &s));
    assert_int_equal(0, s.n);

    /* Deleting the league takes its auction with it. */
    exec_sql(f, "DELETE FROM leagues WHERE id = 'lg-2'");
    assert_int_equal(GV_ENOT_FOUND, store_auction_get(f->store, "au-2", &got));
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(0, count_of(f, tables[i], "au-2"));
}

#define GROUP_EVENTS 10000

static void many_writes_commit_together_in_the_callers_transaction(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(0, store_tx_begin(f->store));
    create_auction(f, "au-1", "lg-1", "waiting");
    create_auction(f, "au-2", "lg-2", "waiting");
    for (int64_t seq = 1; seq <= GROUP_EVENTS; seq++) {
        const char *id = seq % 2 ? "au-1" : "au-2";
        store_auction_event_t ev = event_of(seq, seq % 3 == 0 ? NULL : "u-bob");
        assert_int_equal(0, store_auction_event_append(f->store, id, &ev));
        if (seq % 100 < 2) /* both auctions, as the service does per batch */
            assert_int_equal(0, store_auction_update(f->store, id, "running", seq, T0 + seq));
    }
    assert_int_equal(0, committed.calls); /* nothing committed behind the caller's back */
    assert_int_equal(0, autocommit(f));
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(1, committed.calls);

    assert_int_equal(GROUP_EVENTS / 2, count_of(f, "auction_events", "au-1"));
    assert_int_equal(GROUP_EVENTS / 2, count_of(f, "auction_events", "au-2"));
    seen_t s = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-2", 0, 0, see_event, &s));
    assert_int_equal(GROUP_EVENTS / 2, s.total);
    assert_int_equal(GROUP_EVENTS, s.last_seq);
    store_auction_t got;
    assert_int_equal(0, store_auction_get(f->store, "au-2", &got));
    assert_string_equal("running", got.status);
    assert_int_equal(GROUP_EVENTS, got.seq);
    store_auction_free_fields(&got);
    assert_league_status(f, "lg-1", "auction");

    /* The same kind of batch rolled back leaves nothing at all. */
    assert_int_equal(0, store_tx_begin(f->store));
    create_auction(f, "au-3", "lg-3", "waiting");
    fill_auction(f, "au-3");
    append_events(f, "au-3", 11, 1000);
    append_events(f, "au-1", GROUP_EVENTS + 1, GROUP_EVENTS + 50);
    assert_int_equal(0, store_auction_update(f->store, "au-1", "completed", 1, T0));
    assert_int_equal(0, store_auction_update(f->store, "au-3", "completed", 1000, T0));
    assert_int_equal(0, store_tx_rollback(f->store));
    assert_int_equal(1, committed.calls);

    assert_int_equal(GV_ENOT_FOUND, store_auction_get(f->store, "au-3", &got));
    const char *tables[] = {"auction_events", "auction_bids", "auction_lots",
                            "auction_bid_outcomes"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(0, count_of(f, tables[i], "au-3"));
    assert_league_status(f, "lg-3", "setup");
    assert_league_status(f, "lg-1", "auction");
    assert_int_equal(GROUP_EVENTS / 2, count_of(f, "auction_events", "au-1"));
    assert_int_equal(0, store_auction_get(f->store, "au-1", &got));
    assert_string_equal("running", got.status);
    store_auction_free_fields(&got);
}

/* The statements named by like prepared on the store's connection (PostgreSQL): one each, however
 * often they ran. */
static int64_t prepared_count(fixture_t *f, const char *like)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%s'", like);
    return query_i64(f, sql);
}

/* A taken key or a missing auction in the middle of a group commit is refused alone: the caller's
 * transaction goes on (PostgreSQL would abort it on a failed statement) and commits the rest. */
/* A bulk transaction (store_bulk: the writer's group commit, pipelined on PostgreSQL) writes
 * what a plain one writes, a read inside it sees what was sent before it, and a wrong write fails
 * either its own call or the commit, never silently: nothing of that transaction is kept, and the
 * next one on the same connection works (statements first sent in the failed one included). */
static void a_bulk_transaction_keeps_all_or_nothing(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    assert_int_equal(0, store_bulk(f->store, 1));

    assert_int_equal(0, store_tx_begin(f->store));
    store_auction_event_t ev = event_of(1, "u-bob");
    assert_int_equal(0, store_auction_event_append(f->store, "au-1", &ev));
    int rc = store_auction_event_append(f->store, "au-1", &ev); /* the same seq again */
    if (backend_kind == BACKEND_POSTGRES) /* pipelined: the failure is the commit's */
        assert_int_equal(0, rc);
    store_bid_row_t b = {.seq = 1, .lot = 1, .user_id = "u-bob", .amount = 10, .at_ms = T0 + 1};
    if (rc == 0) /* queued: the bid's statement is sent after the failure, and skipped */
        rc = store_auction_bid_insert(f->store, "au-1", 0, &b);
    if (rc == 0)
        rc = store_tx_commit(f->store);
    else
        assert_int_equal(0, store_tx_rollback(f->store));
    assert_true(rc != 0);
    assert_int_equal(0, f->store->ops->tx_open(f->store));
    assert_int_equal(0, count_of(f, "auction_events", "au-1"));

    enum { N = 600 };
    assert_int_equal(0, store_tx_begin(f->store));
    for (int64_t seq = 1; seq <= N; seq++) {
        store_auction_event_t e = event_of(seq, seq % 2 ? "u-bob" : NULL);
        assert_int_equal(0, store_auction_event_append(f->store, "au-1", &e));
        store_bid_row_t bid = {
            .seq = seq, .lot = 1, .user_id = "u-bob", .amount = 10 * seq, .at_ms = T0 + seq};
        assert_int_equal(0, store_auction_bid_insert(f->store, "au-1", 0, &bid));
        char cbid[16];
        snprintf(cbid, sizeof(cbid), "c-%d", (int)seq);
        assert_int_equal(0, store_bid_outcome_on_bid(f->store, "au-1", seq, "u-bob", cbid, "{}"));
    }
    char out[64];
    assert_int_equal(0, store_bid_outcome_get(f->store, "au-1", "u-bob", "c-7", out, sizeof(out)));
    assert_string_equal("{}", out); /* a read waits for what was sent before it */
    assert_int_equal(0, store_auction_update(f->store, "au-1", "running", N, T0 + N));
    assert_int_equal(0, store_bid_outcome_put(f->store, "au-1", "u-carol", "c-x", "{\"r\":1}"));
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(N, count_of(f, "auction_events", "au-1"));
    assert_int_equal(N, count_of(f, "auction_bids", "au-1"));
    store_auction_t a;
    assert_int_equal(0, store_auction_get(f->store, "au-1", &a));
    assert_int_equal(N, a.seq);
    store_auction_free_fields(&a);

    /* an update of an auction that does not exist must not pass for a success */
    assert_int_equal(0, store_tx_begin(f->store));
    ev = event_of(N + 1, NULL);
    assert_int_equal(0, store_auction_event_append(f->store, "au-1", &ev));
    rc = store_auction_update(f->store, "au-x", "running", N + 1, T0);
    if (rc == 0)
        rc = store_tx_commit(f->store);
    else
        assert_int_equal(0, store_tx_rollback(f->store));
    assert_true(rc != 0);
    assert_int_equal(N, count_of(f, "auction_events", "au-1"));
    assert_int_equal(0, store_bulk(f->store, 0));
}

static void refusals_inside_a_group_commit_keep_the_transaction(void **state)
{
    fixture_t *f = *state;
    create_auction(f, "au-1", "lg-1", "running");
    assert_int_equal(0, store_tx_begin(f->store));
    append_events(f, "au-1", 1, 3);
    store_auction_event_t dup = event_of(2, "u-bob");
    assert_int_equal(GV_ECONFLICT, store_auction_event_append(f->store, "au-1", &dup));
    assert_int_equal(GV_ENOT_FOUND, store_auction_event_append(f->store, "au-x", &dup));
    insert_bid(f, 0, 3, 1, "u-bob", 10);
    store_bid_row_t b = {.seq = 3, .lot = 1, .user_id = "u-carol", .amount = 11, .at_ms = T0 + 3};
    assert_int_equal(GV_ECONFLICT, store_auction_bid_insert(f->store, "au-1", 0, &b));
    assert_int_equal(GV_ENOT_FOUND, store_auction_bid_insert(f->store, "au-x", 0, &b));
    assert_int_equal(0, store_bid_outcome_on_bid(f->store, "au-1", 3, "u-bob", "c-1", "{\"s\":3}"));
    assert_int_equal(GV_ENOT_FOUND,
                     store_bid_outcome_on_bid(f->store, "au-1", 3, "u-bob", "c-2", "{}"));
    assert_int_equal(0, store_bid_outcome_put(f->store, "au-1", "u-carol", "c-9", "{\"r\":1}"));
    assert_int_equal(0, store_bid_outcome_put(f->store, "au-1", "u-carol", "c-9", "{\"r\":2}"));
    assert_int_equal(GV_ENOT_FOUND, store_bid_outcome_put(f->store, "au-x", "u-bob", "c", "{}"));
    assert_int_equal(
        0, store_auction_lot_closed(f->store, "au-1", 0, 1, "fb-egy", "sold", "u-bob", 10, T0));
    assert_int_equal(GV_ECONFLICT, store_auction_lot_closed(f->store, "au-1", 0, 1, "fb-egy",
                                                            "unsold", NULL, 0, T0));
    assert_int_equal(GV_ENOT_FOUND, store_auction_lot_closed(f->store, "au-x", 0, 1, "fb-egy",
                                                             "unsold", NULL, 0, T0));
    assert_int_equal(0, store_auction_roster_set(f->store, "au-1", "fb-egy", "u-bob", 10, 1));
    assert_int_equal(GV_ENOT_FOUND, store_auction_lot_undone(f->store, "au-1", 0, 2));
    assert_int_equal(GV_ENOT_FOUND, store_auction_update(f->store, "au-x", "running", 4, T0));
    append_events(f, "au-1", 4, 4);
    assert_int_equal(0, store_auction_update(f->store, "au-1", "running", 4, T0 + 4));
    assert_int_equal(0, autocommit(f));
    assert_int_equal(1, committed.calls);
    assert_int_equal(0, store_tx_commit(f->store));
    assert_int_equal(2, committed.calls);

    seen_t s = {.gapless = 1};
    assert_int_equal(0, store_auction_events_each(f->store, "au-1", 0, 0, see_event, &s));
    assert_seqs(&s, (const int64_t[]){1, 2, 3, 4}, 4); /* see_event checked the first payloads */
    bids_seen_t bids = {.n = 0};
    assert_int_equal(0, store_auction_bids_each(f->store, "au-1", 0, 0, see_bid, &bids));
    assert_int_equal(1, bids.n);
    assert_string_equal("u-bob", bids.user[0]);
    char out[32];
    assert_int_equal(0, store_bid_outcome_get(f->store, "au-1", "u-bob", "c-1", out, sizeof(out)));
    assert_string_equal("{\"s\":3}", out);
    assert_int_equal(0,
                     store_bid_outcome_get(f->store, "au-1", "u-carol", "c-9", out, sizeof(out)));
    assert_string_equal("{\"r\":1}", out);
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM auction_lots WHERE auction_id = 'au-1' "
                                     "AND result = 'sold' AND winner_id = 'u-bob'"));
    assert_int_equal(1, count_of(f, "auction_rosters", "au-1"));
    assert_int_equal(4, query_i64(f, "SELECT seq FROM auctions WHERE id = 'au-1'"));
    if (backend_kind == BACKEND_POSTGRES) { /* the group commit's statements: parsed once each */
        assert_int_equal(1, prepared_count(f, "INSERT INTO auction_events%"));
        assert_int_equal(1, prepared_count(f, "INSERT INTO auction_bids%"));
        assert_int_equal(1, prepared_count(f, "INSERT INTO auction_lots%"));
        assert_int_equal(1, prepared_count(f, "INSERT INTO auction_bid_outcomes%"));
        assert_int_equal(1, prepared_count(f, "UPDATE auction_bids SET client_bid_id%"));
        assert_int_equal(1, prepared_count(f, "INSERT INTO auction_rosters%"));
        assert_int_equal(1, prepared_count(f, "UPDATE auctions SET status%"));
        assert_int_equal(1, prepared_count(f, "UPDATE leagues SET status = $2 WHERE id = (%"));
    }
}

/* ---- arguments ----------------------------------------------------------------------------- */

static int never_called_event(void *ctx, const store_auction_event_t *ev)
{
    (void)ctx;
    (void)ev;
    fail_msg("called");
    return 0;
}

static int never_called_bid(void *ctx, const store_bid_row_t *b)
{
    (void)ctx;
    (void)b;
    fail_msg("called");
    return 0;
}

static void bad_arguments_are_refused_before_the_database(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, "au-1", "lg-1", "running");

    store_auction_t a = auction_of("au-2", "lg-2", "running");
    store_auction_t bad = a;
    snprintf(bad.status, sizeof(bad.status), "sleeping");
    assert_int_equal(GV_EINTERNAL, store_auction_create(s, &bad));
    bad = a;
    bad.config = NULL;
    assert_int_equal(GV_EINTERNAL, store_auction_create(s, &bad));
    bad = a;
    bad.id[0] = '\0';
    assert_int_equal(GV_EINVALID_REQUEST, store_auction_create(s, &bad));
    bad = a;
    memset(bad.league_id, 'x', sizeof(bad.league_id)); /* no NUL inside */
    assert_int_equal(GV_ELIMIT, store_auction_create(s, &bad));
    assert_int_equal(GV_EINTERNAL, store_auction_create(s, NULL));
    assert_int_equal(GV_EINTERNAL, store_auction_get(s, "au-1", NULL));
    assert_int_equal(GV_EINTERNAL, store_auctions_each(s, 1, NULL, NULL));
    assert_int_equal(GV_EINTERNAL, store_auction_update(s, "au-1", "done", 1, T0));
    assert_int_equal(GV_EINTERNAL, store_auction_update(s, "au-1", NULL, 1, T0));
    assert_int_equal(GV_ENOT_FOUND, store_auction_update(s, "", "running", 1, T0));
    assert_int_equal(GV_ENOT_FOUND, store_auction_delete(s, ""));
    assert_int_equal(GV_EINTERNAL, store_auction_delete(s, NULL));

    store_auction_event_t ev = {.seq = 1, .type = "bid", .payload = "{}", .at_ms = T0};
    assert_int_equal(GV_EINTERNAL, store_auction_event_append(s, "au-1", NULL));
    ev.seq = 0;
    assert_int_equal(GV_EINTERNAL, store_auction_event_append(s, "au-1", &ev));
    ev.seq = 1;
    ev.type = "";
    assert_int_equal(GV_EINTERNAL, store_auction_event_append(s, "au-1", &ev));
    ev.type = "bid";
    ev.payload = NULL;
    assert_int_equal(GV_EINTERNAL, store_auction_event_append(s, "au-1", &ev));
    ev.payload = "{}";
    ev.actor_id = "";
    assert_int_equal(GV_EINVALID_REQUEST, store_auction_event_append(s, "au-1", &ev));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_auction_events_each(s, "au-1", 0, -1, never_called_event, NULL));
    assert_int_equal(GV_EINTERNAL, store_auction_events_each(s, "au-1", 0, 0, NULL, NULL));
    assert_int_equal(GV_EINTERNAL,
                     store_auction_events_each(s, NULL, 0, 0, never_called_event, NULL));

    store_bid_row_t b = {.seq = 1, .lot = 0, .user_id = "u-bob", .amount = 5, .at_ms = T0};
    assert_int_equal(GV_EINTERNAL, store_auction_bid_insert(s, "au-1", 0, &b));
    b.lot = 1;
    assert_int_equal(GV_EINTERNAL, store_auction_bid_insert(s, "au-1", -1, &b));
    b.user_id = NULL;
    assert_int_equal(GV_EINTERNAL, store_auction_bid_insert(s, "au-1", 0, &b));
    assert_int_equal(GV_EINTERNAL, store_auction_bids_each(s, "au-1", 0, 0, NULL, NULL));
    assert_int_equal(GV_EINTERNAL, store_auction_bids_each(s, NULL, 0, 0, never_called_bid, NULL));
    assert_int_equal(GV_EINVALID_REQUEST,
                     store_auction_lot_closed(s, "au-1", 0, 1, "", "unsold", NULL, 0, T0));
    assert_int_equal(GV_EINTERNAL,
                     store_auction_lot_closed(s, "au-1", 0, 0, "fb-egy", "unsold", NULL, 0, T0));

    char out[8];
    assert_int_equal(GV_EINTERNAL, store_bid_outcome_get(s, "au-1", "u-bob", "c", NULL, 8));
    assert_int_equal(GV_ENOT_FOUND, store_bid_outcome_get(s, "au-1", "u-bob", "", out, 8));
    assert_int_equal(GV_EINVALID_REQUEST, store_bid_outcome_put(s, "au-1", "u-bob", "", "{}"));
    assert_int_equal(GV_EINTERNAL, store_bid_outcome_put(s, "au-1", "u-bob", "c", NULL));

    /* Nothing reached the tables. */
    assert_int_equal(1, query_i64(f, "SELECT count(*) FROM auctions"));
    assert_int_equal(0, count_of(f, "auction_events", "au-1"));
    assert_int_equal(0, count_of(f, "auction_bids", "au-1"));
    assert_int_equal(0, count_of(f, "auction_lots", "au-1"));
    assert_int_equal(0, count_of(f, "auction_bid_outcomes", "au-1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_then_get_and_by_league_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(second_auction_of_a_league_is_a_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(league_status_follows_the_auction, setup, teardown),
        cmocka_unit_test_setup_teardown(late_failure_rolls_back_the_whole_operation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(auctions_each_lists_all_or_the_live_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(events_append_and_walk_after_seq_with_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(event_walk_may_be_reentered, setup, teardown),
        cmocka_unit_test_setup_teardown(bids_are_walked_per_epoch_and_lot_in_seq_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(lots_are_closed_once_and_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(bid_outcome_keeps_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(bid_outcome_on_the_bid_row, setup, teardown),
        cmocka_unit_test_setup_teardown(rosters_follow_sales_undos_and_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_cascades_to_the_log_and_derived_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(many_writes_commit_together_in_the_callers_transaction,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(refusals_inside_a_group_commit_keep_the_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_bulk_transaction_keeps_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_are_refused_before_the_database, setup,
                                        teardown),
    };
    return BACKEND_RUN_BOTH("store auctions", tests);
}
