/* Unit tests of the store's per-auction leases on both backends (tests/store_backend.h: real
 * SQLite in a temporary directory, real PostgreSQL in a schema of its own): a take raises the
 * fencing epoch and refuses another node's running lease; a lease ends by the database's clock
 * (waited for by polling its state, never by sleeping a fixed time); the fenced update of an
 * auction's row writes only under the current lease, alone, in a transaction and in a bulk
 * (pipelined) one, where its refusal fails the commit; renewals, the free auctions, release, a
 * race of connections for one lease, and a deleted auction's lease. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../store_backend.h"

#define T0 1700000000000LL
#define LONG_MS 600000LL /* a lease that does not end during a test */
#define SHORT_MS 50LL    /* a lease waited out */
#define LEAGUES 12

static int64_t query_i64(fixture_t *f, const char *sql)
{
    return backend_i64(f->store, sql, NULL);
}

static void exec_sql(fixture_t *f, const char *sql)
{
    backend_exec(f->store, sql);
}

/* League "lg-<n>" of alice, status setup (the rows store_league_create writes, by plain SQL:
 * these tests are the leases'). */
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
             "VALUES('lg-%d', 'u-alice', 'commissioner', %lld)",
             n, n, n, n, (long long)T0, n, (long long)T0);
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
    store_user_t u;
    if (store_user_ensure(f->store, "alice@example.com", "u-alice", "Alice", T0, &u, NULL) != 0)
        return -1;
    for (int n = 1; n <= LEAGUES; n++)
        make_league(f, n);
    return 0;
}

static char config_text[] = "{}";
static char assets_text[] = "[]";
static char managers_text[] = "[\"u-alice\"]";

/* Auction "au-<n>" of league "lg-<n>" in status. */
static void create_auction(fixture_t *f, int n, const char *status)
{
    store_auction_t a;
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), "au-%d", n);
    snprintf(a.league_id, sizeof(a.league_id), "lg-%d", n);
    snprintf(a.status, sizeof(a.status), "%s", status);
    a.seq = 1;
    a.seed = 7;
    a.config = config_text;
    a.asset_ids = assets_text;
    a.manager_ids = managers_text;
    a.created_ms = T0;
    assert_int_equal(0, store_auction_create(f->store, &a));
}

static int64_t take(store_t *s, const char *id, const char *node, int64_t ttl_ms)
{
    int64_t epoch = -1;
    int rc = store_lease_take(s, id, node, ttl_ms, &epoch);
    if (rc != 0)
        fail_msg("take of %s by %s: %s (%s)", id, node, err_name(rc), store_errmsg(s));
    return epoch;
}

static store_lease_t lease_of(store_t *s, const char *id)
{
    store_lease_t l;
    int rc = store_lease_get(s, id, &l);
    if (rc != 0)
        fail_msg("lease of %s: %s (%s)", id, err_name(rc), store_errmsg(s));
    return l;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls the lease of id until the database says it ended (a 10 s deadline fails the test). */
static void wait_expired(store_t *s, const char *id)
{
    int64_t deadline = mono_ms() + 10000;
    while (lease_of(s, id).remaining_ms >= 0) {
        if (mono_ms() > deadline)
            fail_msg("the lease of %s did not end", id);
        struct timespec pause = {0, 5 * 1000000};
        nanosleep(&pause, NULL);
    }
}

static int64_t seq_of(fixture_t *f, const char *id)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT seq FROM auctions WHERE id = '%s'", id);
    return query_i64(f, sql);
}

static int64_t events_of(fixture_t *f, const char *id)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM auction_events WHERE auction_id = '%s'", id);
    return query_i64(f, sql);
}

static int league_in(fixture_t *f, const char *league_id, const char *status)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM leagues WHERE id = '%s' AND status = '%s'",
             league_id, status);
    return query_i64(f, sql) == 1;
}

static int fenced(store_t *s, const char *id, const char *status, int64_t seq, const char *node,
                  int64_t epoch)
{
    store_fence_t fence = {node, epoch};
    return store_auction_update_fenced(s, id, status, seq, T0 + seq, &fence);
}

/* ---- take and the fence -------------------------------------------------------------------- */

static void take_raises_the_epoch_and_fences_off_the_previous_holder(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, 1, "running");
    store_lease_t l = lease_of(s, "au-1"); /* never taken: free, epoch 0 */
    assert_string_equal("", l.owner);
    assert_int_equal(0, l.epoch);
    assert_true(l.remaining_ms < 0);

    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int64_t wall_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    assert_int_equal(1, take(s, "au-1", "node-a", LONG_MS));
    l = lease_of(s, "au-1");
    assert_string_equal("node-a", l.owner);
    assert_int_equal(1, l.epoch);
    assert_true(l.remaining_ms > 0 && l.remaining_ms <= LONG_MS);
    /* the database's clock, in ms since 1970: the same machine's clock within seconds */
    int64_t until = query_i64(f, "SELECT lease_until_ms FROM auctions WHERE id = 'au-1'");
    assert_true(until > wall_ms + LONG_MS - 10000 && until < wall_ms + LONG_MS + 10000);

    /* another node while it runs: refused, nothing changed */
    int64_t epoch = -1;
    assert_int_equal(GV_ECONFLICT, store_lease_take(s, "au-1", "node-b", LONG_MS, &epoch));
    assert_int_equal(-1, epoch);
    l = lease_of(s, "au-1");
    assert_string_equal("node-a", l.owner);
    assert_int_equal(1, l.epoch);

    assert_int_equal(0, fenced(s, "au-1", "running", 2, "node-a", 1));
    assert_int_equal(2, seq_of(f, "au-1"));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "running", 3, "node-b", 1));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "running", 3, "node-a", 2));
    assert_int_equal(2, seq_of(f, "au-1"));

    /* the same node again (restarted): a new epoch, which fences off its old one */
    assert_int_equal(2, take(s, "au-1", "node-a", SHORT_MS));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "running", 3, "node-a", 1));
    assert_int_equal(2, seq_of(f, "au-1"));

    /* ended but not taken: its holder still writes (only a take changes the epoch) */
    wait_expired(s, "au-1");
    assert_string_equal("node-a", lease_of(s, "au-1").owner);
    assert_int_equal(0, fenced(s, "au-1", "running", 3, "node-a", 2));
    assert_int_equal(3, seq_of(f, "au-1"));

    /* another node takes the ended lease; the old holder writes nothing from then on, not even
     * its league's status */
    assert_int_equal(3, take(s, "au-1", "node-b", LONG_MS));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "completed", 4, "node-a", 2));
    assert_int_equal(3, seq_of(f, "au-1"));
    assert_true(league_in(f, "lg-1", "auction"));
    store_auction_t a;
    assert_int_equal(0, store_auction_get(s, "au-1", &a));
    assert_string_equal("running", a.status);
    store_auction_free_fields(&a);

    /* the new holder writes, the league's status following */
    assert_int_equal(0, fenced(s, "au-1", "completed", 4, "node-b", 3));
    assert_int_equal(4, seq_of(f, "au-1"));
    assert_true(league_in(f, "lg-1", "season"));
    assert_int_equal(T0 + 4, query_i64(f, "SELECT updated_ms FROM auctions WHERE id = 'au-1'"));
    /* the holder's own take again: a new epoch while its lease runs */
    assert_int_equal(4, take(s, "au-1", "node-b", LONG_MS));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "completed", 5, "node-b", 3));

    /* no fence: store_auction_update */
    assert_int_equal(0, store_auction_update_fenced(s, "au-1", "paused", 6, T0 + 6, NULL));
    assert_int_equal(6, seq_of(f, "au-1"));
    assert_int_equal(0, f->store->ops->tx_open(f->store));
}

/* Inside a plain transaction the refusal is the call's own; the caller rolls back. */
static void a_fenced_refusal_in_a_transaction_is_rolled_back(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, 1, "running");
    assert_int_equal(1, take(s, "au-1", "node-a", LONG_MS));
    assert_int_equal(0, store_tx_begin(s));
    store_auction_event_t ev = {.seq = 1, .type = "bid", .payload = "{}", .at_ms = T0};
    assert_int_equal(0, store_auction_event_append(s, "au-1", &ev));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "running", 1, "node-a", 2));
    assert_int_equal(0, store_tx_rollback(s));
    assert_int_equal(0, events_of(f, "au-1"));

    assert_int_equal(0, store_tx_begin(s));
    assert_int_equal(0, store_auction_event_append(s, "au-1", &ev));
    assert_int_equal(0, fenced(s, "au-1", "running", 1, "node-a", 1));
    assert_int_equal(0, store_tx_commit(s));
    assert_int_equal(1, events_of(f, "au-1"));
}

/* Events and the fenced row in one bulk transaction (the writer's group commit; pipelined on
 * PostgreSQL, where the refusal is the commit's): a stale epoch keeps nothing, events included;
 * the current one commits it all; a failure before the fenced write stays that failure. */
static void a_bulk_commit_under_a_stale_epoch_keeps_nothing(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, 1, "running");
    assert_int_equal(1, take(s, "au-1", "node-a", LONG_MS));
    assert_int_equal(2, take(s, "au-1", "node-a", LONG_MS)); /* node-a restarted */
    assert_int_equal(0, store_bulk(s, 1));

    /* its old epoch, then another node (its statements already prepared) */
    const store_fence_t stale[] = {{"node-a", 1}, {"node-b", 2}};
    for (int round = 0; round < 2; round++) {
        assert_int_equal(0, store_tx_begin(s));
        for (int64_t seq = 1; seq <= 5; seq++) {
            store_auction_event_t ev = {.seq = seq, .type = "bid", .payload = "{}", .at_ms = T0};
            assert_int_equal(0, store_auction_event_append(s, "au-1", &ev));
        }
        int rc = store_auction_update_fenced(s, "au-1", "completed", 5, T0, &stale[round]);
        if (backend_kind == BACKEND_POSTGRES) /* sent, not answered yet */
            assert_int_equal(0, rc);
        if (rc == 0)
            rc = store_tx_commit(s);
        else
            assert_int_equal(0, store_tx_rollback(s));
        assert_int_equal(GV_EFENCED, rc);
        assert_int_equal(0, s->ops->tx_open(s));
        assert_int_equal(0, events_of(f, "au-1"));
        assert_int_equal(1, seq_of(f, "au-1"));
        assert_true(league_in(f, "lg-1", "auction"));
    }

    /* another failure first (an unfenced update of no auction: on PostgreSQL a division by zero
     * too, but not the fenced statement's): the commit fails with it, not GV_EFENCED */
    assert_int_equal(0, store_tx_begin(s));
    store_auction_event_t ev = {.seq = 1, .type = "bid", .payload = "{}", .at_ms = T0};
    assert_int_equal(0, store_auction_event_append(s, "au-1", &ev));
    int rc = store_auction_update(s, "au-none", "running", 5, T0);
    if (rc == 0)
        rc = fenced(s, "au-1", "running", 5, "node-a", 1);
    if (rc == 0)
        rc = store_tx_commit(s);
    else
        assert_int_equal(0, store_tx_rollback(s));
    assert_true(rc != 0 && rc != GV_EFENCED);
    assert_int_equal(0, events_of(f, "au-1"));

    /* the current epoch: all of it commits */
    assert_int_equal(0, store_tx_begin(s));
    for (int64_t seq = 1; seq <= 5; seq++) {
        store_auction_event_t e = {.seq = seq, .type = "bid", .payload = "{}", .at_ms = T0};
        assert_int_equal(0, store_auction_event_append(s, "au-1", &e));
    }
    assert_int_equal(0, fenced(s, "au-1", "completed", 5, "node-a", 2));
    assert_int_equal(0, store_tx_commit(s));
    assert_int_equal(5, events_of(f, "au-1"));
    assert_int_equal(5, seq_of(f, "au-1"));
    assert_true(league_in(f, "lg-1", "season"));
    assert_int_equal(0, store_bulk(s, 0));
}

/* ---- renewals, free auctions, release ------------------------------------------------------ */

typedef struct {
    char ids[LEAGUES][STORE_ID_MAX];
    int64_t epochs[LEAGUES];
    int n;
    int stop; /* returned by the callback (0: go on) */
} seen_t;

static int see_renewed(void *ctx, const char *auction_id, int64_t epoch)
{
    seen_t *s = ctx;
    assert_true(s->n < LEAGUES);
    snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", auction_id);
    s->epochs[s->n++] = epoch;
    return s->stop;
}

static int see_free(void *ctx, const char *auction_id)
{
    return see_renewed(ctx, auction_id, 0);
}

/* The epoch id was seen with, or -1. */
static int64_t seen_epoch(const seen_t *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return s->epochs[i];
    return -1;
}

static void renew_extends_only_the_nodes_own_live_leases(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, 1, "running");
    create_auction(f, 2, "paused");
    create_auction(f, 3, "completed");
    create_auction(f, 4, "running");
    create_auction(f, 5, "waiting");
    assert_int_equal(1, take(s, "au-1", "node-a", SHORT_MS));
    assert_int_equal(1, take(s, "au-2", "node-a", LONG_MS));
    assert_int_equal(2, take(s, "au-2", "node-a", LONG_MS));
    assert_int_equal(1, take(s, "au-3", "node-a", SHORT_MS));
    assert_int_equal(1, take(s, "au-4", "node-b", SHORT_MS));
    wait_expired(s, "au-1");
    wait_expired(s, "au-3");
    wait_expired(s, "au-4");

    seen_t seen = {.n = 0};
    assert_int_equal(0, store_lease_renew(s, "node-a", LONG_MS, see_renewed, &seen));
    assert_int_equal(2, seen.n);
    assert_int_equal(1, seen_epoch(&seen, "au-1")); /* ended, not taken: still its own */
    assert_int_equal(2, seen_epoch(&seen, "au-2"));
    store_lease_t l = lease_of(s, "au-1");
    assert_true(l.remaining_ms > 0 && l.remaining_ms <= LONG_MS);
    assert_int_equal(1, l.epoch);                      /* a renewal keeps the epoch */
    assert_true(lease_of(s, "au-3").remaining_ms < 0); /* completed: not renewed */
    assert_true(lease_of(s, "au-4").remaining_ms < 0); /* another node's */
    assert_string_equal("node-b", lease_of(s, "au-4").owner);
    assert_string_equal("", lease_of(s, "au-5").owner);

    /* taken by another node: no longer renewed */
    assert_int_equal(2, take(s, "au-4", "node-a", LONG_MS));
    int64_t epoch = -1;
    assert_int_equal(GV_ECONFLICT, store_lease_take(s, "au-1", "node-b", LONG_MS, &epoch));
    seen = (seen_t){.n = 0};
    assert_int_equal(0, store_lease_renew(s, "node-b", LONG_MS, see_renewed, &seen));
    assert_int_equal(0, seen.n);
    assert_int_equal(0, store_lease_renew(s, "node-c", LONG_MS, see_renewed, &seen));
    assert_int_equal(0, seen.n);

    /* the callback's nonzero stops the walk (the renewal itself is done) */
    seen = (seen_t){.n = 0, .stop = 9};
    assert_int_equal(9, store_lease_renew(s, "node-a", LONG_MS, see_renewed, &seen));
    assert_int_equal(1, seen.n);
}

static void free_each_lists_free_and_ended_leases_oldest_first(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, 1, "running");   /* never taken: free */
    create_auction(f, 2, "running");   /* held */
    create_auction(f, 3, "completed"); /* free but completed */
    create_auction(f, 4, "paused");    /* ended */
    create_auction(f, 5, "waiting");   /* released */
    create_auction(f, 6, "running");   /* ended after au-4's */
    assert_int_equal(1, take(s, "au-2", "node-a", LONG_MS));
    assert_int_equal(1, take(s, "au-4", "node-b", SHORT_MS));
    wait_expired(s, "au-4");
    assert_int_equal(1, take(s, "au-6", "node-b", SHORT_MS));
    wait_expired(s, "au-6");
    assert_int_equal(1, take(s, "au-5", "node-a", LONG_MS));
    assert_int_equal(0, store_lease_release(s, "au-5", "node-a", 1));

    seen_t seen = {.n = 0};
    assert_int_equal(0, store_lease_free_each(s, 0, see_free, &seen));
    assert_int_equal(4, seen.n);
    /* no lease (ended at 0) first, by id; then the ended ones by their end */
    assert_string_equal("au-1", seen.ids[0]);
    assert_string_equal("au-5", seen.ids[1]);
    assert_string_equal("au-4", seen.ids[2]);
    assert_string_equal("au-6", seen.ids[3]);

    seen = (seen_t){.n = 0};
    assert_int_equal(0, store_lease_free_each(s, 3, see_free, &seen));
    assert_int_equal(3, seen.n);
    assert_string_equal("au-4", seen.ids[2]);
    seen = (seen_t){.n = 0, .stop = 5};
    assert_int_equal(5, store_lease_free_each(s, 0, see_free, &seen));
    assert_int_equal(1, seen.n);

    /* the callback may take what it is given */
    assert_int_equal(2, take(s, "au-4", "node-c", LONG_MS));
    seen = (seen_t){.n = 0};
    assert_int_equal(0, store_lease_free_each(s, 0, see_free, &seen));
    assert_int_equal(3, seen.n);
    assert_int_equal(-1, seen_epoch(&seen, "au-4"));
    assert_int_equal(-1, seen_epoch(&seen, "au-2"));
    assert_int_equal(-1, seen_epoch(&seen, "au-3"));
}

static void release_lets_another_node_take_at_once(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, 1, "running");
    assert_int_equal(1, take(s, "au-1", "node-a", LONG_MS));
    int64_t epoch = -1;

    /* not its holder at that epoch: nothing happens, and that is no failure */
    assert_int_equal(0, store_lease_release(s, "au-1", "node-a", 2));
    assert_int_equal(0, store_lease_release(s, "au-1", "node-b", 1));
    assert_int_equal(0, store_lease_release(s, "au-none", "node-a", 1));
    assert_int_equal(0, store_lease_release(s, "", "node-a", 1));
    assert_int_equal(GV_ECONFLICT, store_lease_take(s, "au-1", "node-b", LONG_MS, &epoch));
    assert_string_equal("node-a", lease_of(s, "au-1").owner);

    assert_int_equal(0, store_lease_release(s, "au-1", "node-a", 1));
    store_lease_t l = lease_of(s, "au-1");
    assert_string_equal("", l.owner);
    assert_int_equal(1, l.epoch); /* kept: the next take is above it */
    assert_true(l.remaining_ms < 0);
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "running", 2, "node-a", 1));
    assert_int_equal(2, take(s, "au-1", "node-b", LONG_MS));
    assert_string_equal("node-b", lease_of(s, "au-1").owner);
    assert_int_equal(0, store_lease_release(s, "au-1", "node-a", 1)); /* too late: nothing */
    assert_string_equal("node-b", lease_of(s, "au-1").owner);
}

/* ---- racing nodes -------------------------------------------------------------------------- */

#define RACERS 3
#define ROUNDS LEAGUES

typedef struct {
    store_t *store;
    char node[16];
    pthread_barrier_t *go;
    int rc[ROUNDS];
    int64_t epoch[ROUNDS];
} racer_t;

static void *racer_main(void *arg)
{
    racer_t *r = arg;
    for (int i = 0; i < ROUNDS; i++) {
        char id[16];
        snprintf(id, sizeof(id), "au-%d", i + 1);
        pthread_barrier_wait(r->go);
        r->rc[i] = store_lease_take(r->store, id, r->node, LONG_MS, &r->epoch[i]);
    }
    return NULL;
}

/* Connections of their own (nodes) take each auction at the same moment, half of them never
 * taken and half ended: one of them wins each, at the next epoch, the others are refused. */
static void racing_takes_have_one_winner(void **state)
{
    fixture_t *f = *state;
    for (int i = 1; i <= ROUNDS; i++) {
        create_auction(f, i, "running");
        char id[16];
        snprintf(id, sizeof(id), "au-%d", i);
        if (i % 2 == 0)
            assert_int_equal(1, take(f->store, id, "node-old", 1));
    }
    for (int i = 2; i <= ROUNDS; i += 2) {
        char id[16];
        snprintf(id, sizeof(id), "au-%d", i);
        wait_expired(f->store, id);
    }
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    racer_t racers[RACERS];
    pthread_t tids[RACERS];
    for (int t = 0; t < RACERS; t++) {
        racers[t] = (racer_t){.store = NULL, .go = &go};
        snprintf(racers[t].node, sizeof(racers[t].node), "node-%d", t);
        assert_int_equal(0, backend_db_open(&f->db, &racers[t].store)); /* one connection each */
    }
    for (int t = 0; t < RACERS; t++)
        assert_int_equal(0, pthread_create(&tids[t], NULL, racer_main, &racers[t]));
    for (int t = 0; t < RACERS; t++)
        pthread_join(tids[t], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < ROUNDS; i++) {
        char id[16];
        snprintf(id, sizeof(id), "au-%d", i + 1);
        int won = -1;
        for (int t = 0; t < RACERS; t++) {
            if (racers[t].rc[i] != 0 && racers[t].rc[i] != GV_ECONFLICT)
                fail_msg("%s by %s: %s", id, racers[t].node, err_name(racers[t].rc[i]));
            if (racers[t].rc[i] == 0) {
                assert_int_equal(-1, won);
                won = t;
            }
        }
        assert_true(won >= 0);
        int64_t want = (i + 1) % 2 == 0 ? 2 : 1;
        assert_int_equal(want, racers[won].epoch[i]);
        store_lease_t l = lease_of(f->store, id);
        assert_string_equal(racers[won].node, l.owner);
        assert_int_equal(want, l.epoch);
    }
    for (int t = 0; t < RACERS; t++)
        store_close(racers[t].store);
}

/* ---- missing auctions and arguments -------------------------------------------------------- */

static void a_missing_or_deleted_auction_has_no_lease(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t epoch = -1;
    store_lease_t l;
    assert_int_equal(GV_ENOT_FOUND, store_lease_take(s, "au-none", "node-a", LONG_MS, &epoch));
    assert_int_equal(-1, epoch);
    assert_int_equal(GV_ENOT_FOUND, store_lease_get(s, "au-none", &l));
    assert_string_equal("", l.owner);
    assert_int_equal(GV_ENOT_FOUND, store_lease_get(s, "", &l));
    assert_int_equal(GV_ENOT_FOUND, fenced(s, "au-none", "running", 1, "node-a", 1));

    /* a deleted auction's lease goes with its row: a new one starts again */
    create_auction(f, 1, "running");
    assert_int_equal(1, take(s, "au-1", "node-a", LONG_MS));
    assert_int_equal(2, take(s, "au-1", "node-a", LONG_MS));
    assert_int_equal(0, store_auction_delete(s, "au-1"));
    assert_int_equal(GV_ENOT_FOUND, store_lease_get(s, "au-1", &l));
    assert_int_equal(GV_ENOT_FOUND, store_lease_take(s, "au-1", "node-a", LONG_MS, &epoch));
    assert_int_equal(GV_ENOT_FOUND, fenced(s, "au-1", "running", 1, "node-a", 2));
    create_auction(f, 1, "running");
    l = lease_of(s, "au-1");
    assert_string_equal("", l.owner);
    assert_int_equal(0, l.epoch);
    assert_int_equal(1, take(s, "au-1", "node-b", LONG_MS));
}

static int never_renewed(void *ctx, const char *auction_id, int64_t epoch)
{
    (void)ctx;
    (void)auction_id;
    (void)epoch;
    fail_msg("called");
    return 0;
}

static int never_free(void *ctx, const char *auction_id)
{
    (void)ctx;
    (void)auction_id;
    fail_msg("called");
    return 0;
}

static void bad_arguments_are_refused_before_the_database(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    create_auction(f, 1, "running");
    int64_t epoch = -1;
    char long_node[STORE_NODE_MAX + 1];
    memset(long_node, 'n', sizeof(long_node) - 1);
    long_node[sizeof(long_node) - 1] = '\0';

    assert_int_equal(GV_EINTERNAL, store_lease_take(s, "au-1", "node-a", LONG_MS, NULL));
    assert_int_equal(GV_EINTERNAL, store_lease_take(s, "au-1", "node-a", 0, &epoch));
    assert_int_equal(GV_EINTERNAL,
                     store_lease_take(s, "au-1", "node-a", STORE_LEASE_TTL_MAX + 1, &epoch));
    assert_int_equal(GV_EINTERNAL, store_lease_take(s, "au-1", NULL, LONG_MS, &epoch));
    assert_int_equal(GV_EINVALID_REQUEST, store_lease_take(s, "au-1", "", LONG_MS, &epoch));
    assert_int_equal(GV_ELIMIT, store_lease_take(s, "au-1", long_node, LONG_MS, &epoch));
    assert_int_equal(GV_ENOT_FOUND, store_lease_take(s, "", "node-a", LONG_MS, &epoch));
    assert_int_equal(GV_EINTERNAL, store_lease_renew(s, "node-a", LONG_MS, NULL, NULL));
    assert_int_equal(GV_EINTERNAL, store_lease_renew(s, "node-a", -1, never_renewed, NULL));
    assert_int_equal(GV_EINVALID_REQUEST, store_lease_renew(s, "", LONG_MS, never_renewed, NULL));
    assert_int_equal(GV_EINTERNAL, store_lease_free_each(s, 0, NULL, NULL));
    assert_int_equal(GV_EINVALID_REQUEST, store_lease_free_each(s, -1, never_free, NULL));
    assert_int_equal(GV_EINTERNAL, store_lease_get(s, "au-1", NULL));
    assert_int_equal(GV_EINTERNAL, store_lease_release(s, NULL, "node-a", 1));
    assert_int_equal(GV_EINTERNAL, store_lease_release(s, "au-1", NULL, 1));
    store_fence_t fence = {NULL, 1};
    assert_int_equal(GV_EINTERNAL,
                     store_auction_update_fenced(s, "au-1", "running", 2, T0, &fence));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "running", 2, "", 0));
    assert_int_equal(GV_EFENCED, fenced(s, "au-1", "running", 2, long_node, 0));
    assert_int_equal(GV_EINTERNAL, fenced(s, "au-1", "done", 2, "node-a", 0));
    assert_int_equal(GV_EINTERNAL, fenced(s, "au-1", "running", -1, "node-a", 0));

    /* nothing reached the row */
    store_lease_t l = lease_of(s, "au-1");
    assert_string_equal("", l.owner);
    assert_int_equal(0, l.epoch);
    assert_int_equal(1, seq_of(f, "au-1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(take_raises_the_epoch_and_fences_off_the_previous_holder,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_fenced_refusal_in_a_transaction_is_rolled_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_bulk_commit_under_a_stale_epoch_keeps_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(renew_extends_only_the_nodes_own_live_leases, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(free_each_lists_free_and_ended_leases_oldest_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(release_lets_another_node_take_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(racing_takes_have_one_winner, setup, teardown),
        cmocka_unit_test_setup_teardown(a_missing_or_deleted_auction_has_no_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_are_refused_before_the_database, setup,
                                        teardown),
    };
    return BACKEND_RUN_BOTH("store leases", tests);
}
