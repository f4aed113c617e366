/* Unit tests of the store's accounts on both backends (tests/store_backend.h: real SQLite in a
 * temporary directory, real PostgreSQL in a schema of its own): users, the single-use magic link
 * (also raced by threads and processes), refresh-token rotation and theft detection, and
 * migration 002 on top of a database that had only 001. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/err.h"
#include "store/store.h"
#include "store/store_int.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../store_backend.h"

#define T0 1700000000000LL /* "now" of the tests, ms */
#define TTL_MS 900000LL
#define DAY_MS 86400000LL

static int setup_migrated(void **state)
{
    if (setup_open(state) != 0)
        return -1;
    fixture_t *f = *state;
    int applied = 0;
    return store_migrate(f->store, &applied) == 0 ? 0 : -1;
}

/* A distinct token hash per seed. */
static const unsigned char *hash_of(unsigned char out[STORE_HASH_LEN], int seed)
{
    for (int i = 0; i < STORE_HASH_LEN; i++)
        out[i] = (unsigned char)(seed * 31 + i);
    return out;
}

/* Creates (or finds) the user with email; its id is "id-" + email. */
static store_user_t make_user(fixture_t *f, const char *email)
{
    store_user_t u;
    char id[STORE_ID_MAX];
    snprintf(id, sizeof(id), "id-%s", email);
    int created = -1;
    assert_int_equal(0, store_user_ensure(f->store, email, id, "someone", T0, &u, &created));
    return u;
}

/* ---- users --------------------------------------------------------------------------------- */

static void user_ensure_creates_once(void **state)
{
    fixture_t *f = *state;
    store_user_t u, again;
    int created = -1;
    assert_int_equal(0,
                     store_user_ensure(f->store, "ann@example.com", "u1", "ann", T0, &u, &created));
    assert_int_equal(1, created);
    assert_string_equal("u1", u.id);
    assert_string_equal("ann@example.com", u.email);
    assert_string_equal("ann", u.name);
    assert_int_equal(0, u.is_admin);
    assert_int_equal(T0, u.created_ms);

    assert_int_equal(
        0, store_user_ensure(f->store, "ann@example.com", "u2", "other", T0 + 5, &again, &created));
    assert_int_equal(0, created);
    assert_string_equal("u1", again.id);
    assert_string_equal("ann", again.name);
    assert_int_equal(T0, again.created_ms);
    assert_int_equal(1, backend_i64(f->store, "SELECT count(*) FROM users", NULL));
}

static void user_get_by_id(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "bob@example.com"), got;
    make_user(f, "carl@example.com");
    assert_int_equal(0, store_user_get(f->store, u.id, &got));
    assert_string_equal(u.id, got.id);
    assert_string_equal("bob@example.com", got.email);
    assert_string_equal("someone", got.name);
    assert_int_equal(T0, got.created_ms);
}

static void user_get_unknown_is_not_found(void **state)
{
    fixture_t *f = *state;
    store_user_t got;
    make_user(f, "bob@example.com");
    assert_int_equal(GV_ENOT_FOUND, store_user_get(f->store, "nobody", &got));
}

static void user_set_name(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "dora@example.com"), got;
    store_user_t other = make_user(f, "eve@example.com");
    assert_int_equal(0, store_user_set_name(f->store, u.id, "Dora \xc3\x89"));
    assert_int_equal(0, store_user_get(f->store, u.id, &got));
    assert_string_equal("Dora \xc3\x89", got.name);
    assert_int_equal(0, store_user_get(f->store, other.id, &got));
    assert_string_equal("someone", got.name);
    assert_int_equal(GV_ENOT_FOUND, store_user_set_name(f->store, "nobody", "x"));
}

static void user_set_admin(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "fay@example.com"), got;
    assert_int_equal(0, store_user_set_admin(f->store, "fay@example.com", 1));
    assert_int_equal(0, store_user_get(f->store, u.id, &got));
    assert_int_equal(1, got.is_admin);
    assert_int_equal(0, store_user_set_admin(f->store, "fay@example.com", 0));
    assert_int_equal(0, store_user_get(f->store, u.id, &got));
    assert_int_equal(0, got.is_admin);
    assert_int_equal(0, store_user_set_admin(f->store, "fay@example.com", 7)); /* any true */
    assert_int_equal(0, store_user_get(f->store, u.id, &got));
    assert_int_equal(1, got.is_admin);
    assert_int_equal(GV_ENOT_FOUND, store_user_set_admin(f->store, "nobody@example.com", 1));
}

static void user_overlong_input_refused(void **state)
{
    fixture_t *f = *state;
    char email[STORE_EMAIL_MAX + 1];
    memset(email, 'a', sizeof(email) - 1);
    email[sizeof(email) - 1] = '\0';
    email[STORE_EMAIL_MAX - 1] = '\0'; /* 255 bytes: fits */
    store_user_t u;
    int created = -1;
    assert_int_equal(0, store_user_ensure(f->store, email, "u1", "n", T0, &u, &created));
    assert_int_equal(1, created);
    email[STORE_EMAIL_MAX - 1] = 'a'; /* 256 bytes: no room for the NUL */
    assert_int_equal(GV_ELIMIT, store_user_ensure(f->store, email, "u2", "n", T0, &u, &created));
    char name[STORE_NAME_MAX + 1];
    memset(name, 'n', STORE_NAME_MAX);
    name[STORE_NAME_MAX] = '\0';
    assert_int_equal(GV_ELIMIT, store_user_set_name(f->store, "u1", name));
    assert_int_equal(1, backend_i64(f->store, "SELECT count(*) FROM users", NULL));
    assert_int_equal(1, backend_i64(f->store, "SELECT length(name) FROM users", NULL));
}

/* A value written behind the store's back that does not fit store_user_t is an error, not a
 * silently truncated name. */
static void user_db_value_too_long_is_an_error(void **state)
{
    fixture_t *f = *state;
    backend_exec(f->store, backend_sql("INSERT INTO users VALUES ('big', 'big@example.com', "
                                       "printf('%.200c', 'x'), 0, 1)",
                                       "INSERT INTO users VALUES ('big', 'big@example.com', "
                                       "repeat('x', 200), 0, 1)"));
    store_user_t got;
    memset(&got, 0, sizeof(got));
    assert_int_equal(GV_EDB, store_user_get(f->store, "big", &got));
    assert_non_null(strstr(store_errmsg(f->store), "name"));
    assert_string_equal("", got.id); /* nothing half-written */
}

static void accounts_before_migration_fail_then_work(void **state)
{
    fixture_t *f = *state;
    store_user_t got;
    int applied = 0;
    assert_int_equal(GV_EDB, store_user_get(f->store, "u1", &got));
    assert_non_null(strstr(store_errmsg(f->store), "users"));
    assert_int_equal(0, store_migrate(f->store, &applied));
    make_user(f, "gus@example.com");
    assert_int_equal(0, store_user_get(f->store, "id-gus@example.com", &got));
}

/* ---- magic links --------------------------------------------------------------------------- */

static void link_consume_succeeds_once(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char h[STORE_HASH_LEN];
    char uid[STORE_ID_MAX] = "";
    assert_int_equal(0, store_magic_link_insert(f->store, hash_of(h, 1), NULL, u.id, T0 + TTL_MS,
                                                "192.0.2.1", T0));
    assert_int_equal(0, store_magic_link_consume(f->store, h, "ann@example.com", T0 + 10, uid));
    assert_string_equal(u.id, uid);
    assert_int_equal(1, backend_i64(f->store, "SELECT used FROM magic_links WHERE hash = $1", h));
    assert_int_equal(T0 + 10,
                     backend_i64(f->store, "SELECT used_ms FROM magic_links WHERE hash = $1", h));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_link_consume(f->store, h, "ann@example.com", T0 + 20, uid));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_link_consume(f->store, hash_of(h, 2), "ann@example.com", T0, uid));
}

/* A link's code and token live in one row: using either spends both; a code works only with its
 * own e-mail, and a cached insert without a code leaves no earlier code behind. */
static void link_code_and_token_are_spent_together(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    make_user(f, "bob@example.com");
    unsigned char h1[STORE_HASH_LEN], c1[STORE_HASH_LEN], h2[STORE_HASH_LEN], c2[STORE_HASH_LEN],
        h3[STORE_HASH_LEN];
    char uid[STORE_ID_MAX] = "";
    assert_int_equal(0, store_magic_link_insert(f->store, hash_of(h1, 1), hash_of(c1, 11), u.id,
                                                T0 + TTL_MS, "ip", T0));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_code_consume(f->store, c1, "bob@example.com", T0, uid));
    assert_int_equal(0, store_magic_code_consume(f->store, c1, "ann@example.com", T0 + 1, uid));
    assert_string_equal(u.id, uid);
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_link_consume(f->store, h1, "ann@example.com", T0 + 2, uid));
    assert_int_equal(0, store_magic_link_insert(f->store, hash_of(h2, 2), hash_of(c2, 12), u.id,
                                                T0 + TTL_MS, "ip", T0));
    assert_int_equal(0, store_magic_link_consume(f->store, h2, "ann@example.com", T0 + 3, uid));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_code_consume(f->store, c2, "ann@example.com", T0 + 4, uid));
    assert_int_equal(
        0, store_magic_link_insert(f->store, hash_of(h3, 3), NULL, u.id, T0 + TTL_MS, "ip", T0));
    assert_int_equal(0, backend_i64(f->store,
                                    "SELECT count(*) FROM magic_links WHERE hash = $1 "
                                    "AND code_hash IS NOT NULL",
                                    h3));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_code_consume(f->store, c1, "ann@example.com", T0 + TTL_MS, uid));
}

static void link_wrong_email_is_refused_and_link_stays_usable(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    make_user(f, "mallory@example.com");
    unsigned char h[STORE_HASH_LEN];
    char uid[STORE_ID_MAX] = "";
    assert_int_equal(0, store_magic_link_insert(f->store, hash_of(h, 1), NULL, u.id, T0 + TTL_MS,
                                                "192.0.2.1", T0));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_link_consume(f->store, h, "mallory@example.com", T0, uid));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_link_consume(f->store, h, "nobody@example.com", T0, uid));
    assert_string_equal("", uid);
    assert_int_equal(0, store_magic_link_consume(f->store, h, "ann@example.com", T0, uid));
    assert_string_equal(u.id, uid);
}

static void link_expired_at_its_expiry(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    assert_int_equal(
        0, store_magic_link_insert(f->store, hash_of(h1, 1), NULL, u.id, T0, "ip", T0 - 9));
    assert_int_equal(
        0, store_magic_link_insert(f->store, hash_of(h2, 2), NULL, u.id, T0, "ip", T0 - 9));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_magic_link_consume(f->store, h1, "ann@example.com", T0, uid));
    assert_int_equal(0, backend_i64(f->store, "SELECT used FROM magic_links WHERE hash = $1", h1));
    assert_int_equal(0, store_magic_link_consume(f->store, h2, "ann@example.com", T0 - 1, uid));
}

static void link_insert_for_unknown_user_fails(void **state)
{
    fixture_t *f = *state;
    unsigned char h[STORE_HASH_LEN];
    assert_int_equal(
        GV_EDB, store_magic_link_insert(f->store, hash_of(h, 1), NULL, "nobody", T0, "ip", T0));
    assert_non_null(strcasestr(store_errmsg(f->store), "foreign key"));
}

static void link_purge_removes_expired_and_old_used(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char h[6][STORE_HASH_LEN];
    const int64_t expiry[6] = {T0 - 1,          T0, T0 + 1, T0 + 10 * DAY_MS, T0 + 10 * DAY_MS,
                               T0 + 10 * DAY_MS};
    char uid[STORE_ID_MAX];
    int purged = -1;
    for (int i = 0; i < 6; i++)
        assert_int_equal(0, store_magic_link_insert(f->store, hash_of(h[i], i), NULL, u.id,
                                                    expiry[i], "ip", T0 - 2 * DAY_MS));
    /* 3: used more than a day ago (gone); 4: used exactly a day ago (kept); 5: used just now. */
    assert_int_equal(0, store_magic_link_consume(f->store, h[3], u.email, T0 - DAY_MS - 1, uid));
    assert_int_equal(0, store_magic_link_consume(f->store, h[4], u.email, T0 - DAY_MS, uid));
    assert_int_equal(0, store_magic_link_consume(f->store, h[5], u.email, T0 - 1, uid));

    assert_int_equal(0, store_magic_link_purge(f->store, T0, &purged));
    assert_int_equal(3, purged);
    assert_int_equal(3, backend_i64(f->store, "SELECT count(*) FROM magic_links", NULL));
    const int kept[3] = {2, 4, 5};
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            1,
            backend_i64(f->store, "SELECT count(*) FROM magic_links WHERE hash = $1", h[kept[i]]));
    assert_int_equal(0, store_magic_link_purge(f->store, T0, &purged));
    assert_int_equal(0, purged);
}

static void link_consumed_once_across_two_stores(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    store_t *other = NULL;
    assert_int_equal(0, backend_db_open(&f->db, &other));
    unsigned char h[STORE_HASH_LEN];
    char uid1[STORE_ID_MAX], uid2[STORE_ID_MAX];
    for (int round = 0; round < 2; round++) {
        assert_int_equal(0, store_magic_link_insert(f->store, hash_of(h, round), NULL, u.id,
                                                    T0 + TTL_MS, "ip", T0));
        store_t *first = round == 0 ? f->store : other;
        store_t *second = round == 0 ? other : f->store;
        int rc1 = store_magic_link_consume(first, h, u.email, T0, uid1);
        int rc2 = store_magic_link_consume(second, h, u.email, T0, uid2);
        assert_int_equal(0, rc1);
        assert_int_equal(GV_EUNAUTHORIZED, rc2);
        assert_string_equal(u.id, uid1);
    }
    store_close(other);
}

#define RACERS 8
#define ROUNDS 30

typedef struct {
    store_t *store;
    const char *email;
    pthread_barrier_t *go;
    int rc[ROUNDS];
} racer_t;

static void *racer_main(void *arg)
{
    racer_t *r = arg;
    unsigned char h[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    for (int i = 0; i < ROUNDS; i++) {
        pthread_barrier_wait(r->go);
        r->rc[i] = store_magic_link_consume(r->store, hash_of(h, 100 + i), r->email, T0, uid);
    }
    return NULL;
}

static void link_consumed_once_by_racing_threads(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char h[STORE_HASH_LEN];
    for (int i = 0; i < ROUNDS; i++)
        assert_int_equal(0, store_magic_link_insert(f->store, hash_of(h, 100 + i), NULL, u.id,
                                                    T0 + TTL_MS, "ip", T0));
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    racer_t racers[RACERS];
    pthread_t tids[RACERS];
    for (int t = 0; t < RACERS; t++) {
        racers[t] = (racer_t){.store = NULL, .email = u.email, .go = &go};
        assert_int_equal(0, backend_db_open(&f->db, &racers[t].store)); /* one connection each */
    }
    for (int t = 0; t < RACERS; t++)
        assert_int_equal(0, pthread_create(&tids[t], NULL, racer_main, &racers[t]));
    for (int t = 0; t < RACERS; t++)
        pthread_join(tids[t], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < ROUNDS; i++) {
        int won = 0;
        for (int t = 0; t < RACERS; t++) {
            assert_true(racers[t].rc[i] == 0 || racers[t].rc[i] == GV_EUNAUTHORIZED);
            won += racers[t].rc[i] == 0;
        }
        assert_int_equal(1, won);
    }
    for (int t = 0; t < RACERS; t++)
        store_close(racers[t].store);
}

/* A child: opens its own store, waits for the parent to close the pipe, consumes; the exit
 * status is 0 on success, 1 when refused, 2 on anything else. */
static void racer_process(const backend_db_t *db, int go_fd, const char *email)
{
    store_t *s = NULL;
    unsigned char h[STORE_HASH_LEN];
    char uid[STORE_ID_MAX], byte;
    int status = 2;
    if (backend_db_open(db, &s) == 0 && read(go_fd, &byte, 1) == 0) {
        int rc = store_magic_link_consume(s, hash_of(h, 7), email, T0, uid);
        status = rc == 0 ? 0 : rc == GV_EUNAUTHORIZED ? 1 : 2;
    }
    store_close(s);
    _exit(status);
}

static void link_consumed_once_by_racing_processes(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char h[STORE_HASH_LEN];
    assert_int_equal(
        0, store_magic_link_insert(f->store, hash_of(h, 7), NULL, u.id, T0 + TTL_MS, "ip", T0));
    /* No connection (SQLite's, libpq's) may be open across fork(). */
    store_close(f->store);
    f->store = NULL;
    int go[2];
    assert_int_equal(0, pipe(go));
    pid_t pids[RACERS];
    for (int i = 0; i < RACERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            racer_process(&f->db, go[0], u.email);
        }
    }
    close(go[0]);
    close(go[1]); /* every child's read() returns 0 now: go */
    int won = 0, refused = 0;
    for (int i = 0; i < RACERS; i++) {
        int status = 0;
        assert_int_equal(pids[i], waitpid(pids[i], &status, 0));
        assert_true(WIFEXITED(status));
        won += WEXITSTATUS(status) == 0;
        refused += WEXITSTATUS(status) == 1;
    }
    assert_int_equal(1, won);
    assert_int_equal(RACERS - 1, refused);
    assert_int_equal(0, backend_db_open(&f->db, &f->store));
    assert_int_equal(1, backend_i64(f->store, "SELECT used FROM magic_links WHERE hash = $1", h));
}

/* ---- refresh tokens ------------------------------------------------------------------------ */

static void refresh_rotate_chains(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN], c[STORE_HASH_LEN];
    char uid[STORE_ID_MAX] = "";
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(a, 1), u.id, "fam1", T0 + 1000, T0));
    assert_int_equal(0, store_refresh_rotate(f->store, a, hash_of(b, 2), T0 + 2000, T0 + 10, uid));
    assert_string_equal(u.id, uid);
    assert_int_equal(T0 + 10, backend_i64(f->store,
                                          "SELECT rotated_ms FROM refresh_tokens "
                                          "WHERE hash = $1",
                                          a));
    assert_int_equal(T0 + 2000, backend_i64(f->store,
                                            "SELECT expires_ms FROM refresh_tokens "
                                            "WHERE hash = $1 AND family_id = 'fam1' "
                                            "AND rotated_ms IS NULL AND revoked_ms IS NULL",
                                            b));
    uid[0] = '\0';
    assert_int_equal(0, store_refresh_rotate(f->store, b, hash_of(c, 3), T0 + 3000, T0 + 20, uid));
    assert_string_equal(u.id, uid);
}

static void refresh_reuse_revokes_the_family_only(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN], d[STORE_HASH_LEN], e[STORE_HASH_LEN];
    unsigned char x[STORE_HASH_LEN], y[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    const int64_t exp = T0 + 100000;
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(a, 1), u.id, "fam1", exp, T0));
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(x, 9), u.id, "fam2", exp, T0));
    assert_int_equal(0, store_refresh_rotate(f->store, a, hash_of(b, 2), exp, T0 + 1, uid));

    /* The thief (or the victim) presents the old token: refused, and the family is ended. */
    uid[0] = '\0';
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, a, hash_of(d, 4), exp, T0 + 2, uid));
    assert_string_equal("", uid);
    assert_int_equal(-1, backend_i64(f->store, "SELECT 1 FROM refresh_tokens WHERE hash = $1", d));
    assert_int_equal(T0 + 2, backend_i64(f->store,
                                         "SELECT revoked_ms FROM refresh_tokens "
                                         "WHERE hash = $1",
                                         b));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, b, hash_of(e, 5), exp, T0 + 3, uid));
    /* Reused again later: still refused, first revocation time kept. */
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, a, hash_of(d, 4), exp, T0 + 4, uid));
    assert_int_equal(T0 + 2, backend_i64(f->store,
                                         "SELECT revoked_ms FROM refresh_tokens "
                                         "WHERE hash = $1",
                                         b));

    /* Another sign-in of the same user is unaffected. */
    assert_int_equal(-1, backend_i64(f->store,
                                     "SELECT revoked_ms FROM refresh_tokens "
                                     "WHERE hash = $1 AND revoked_ms IS NOT NULL",
                                     x));
    assert_int_equal(0, store_refresh_rotate(f->store, x, hash_of(y, 10), exp, T0 + 5, uid));
    assert_string_equal(u.id, uid);
}

static void refresh_expired_is_refused(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN], n[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(a, 1), u.id, "fam1", T0, T0 - 9));
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(b, 2), u.id, "fam2", T0, T0 - 9));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, a, hash_of(n, 3), T0 + 1000, T0, uid));
    assert_int_equal(-1, backend_i64(f->store, "SELECT 1 FROM refresh_tokens WHERE hash = $1", n));
    assert_int_equal(-1, backend_i64(f->store,
                                     "SELECT 1 FROM refresh_tokens "
                                     "WHERE hash = $1 AND rotated_ms IS NOT NULL",
                                     a));
    assert_int_equal(0, store_refresh_rotate(f->store, b, hash_of(n, 3), T0 + 1000, T0 - 1, uid));
}

static void refresh_unknown_is_refused(void **state)
{
    fixture_t *f = *state;
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, hash_of(a, 1), hash_of(b, 2), T0, T0, uid));
    assert_int_equal(0, backend_i64(f->store, "SELECT count(*) FROM refresh_tokens", NULL));
}

static void refresh_revoke_ends_the_session(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN], c[STORE_HASH_LEN], x[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    const int64_t exp = T0 + 100000;
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(a, 1), u.id, "fam1", exp, T0));
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(x, 9), u.id, "fam2", exp, T0));
    assert_int_equal(0, store_refresh_rotate(f->store, a, hash_of(b, 2), exp, T0 + 1, uid));
    assert_int_equal(0, store_refresh_revoke(f->store, b, T0 + 2));
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, b, hash_of(c, 3), exp, T0 + 3, uid));
    assert_int_equal(2, backend_i64(f->store,
                                    "SELECT count(*) FROM refresh_tokens "
                                    "WHERE family_id = 'fam1' AND revoked_ms = 1700000000002",
                                    NULL));
    assert_int_equal(0, store_refresh_revoke(f->store, hash_of(c, 77), T0 + 4)); /* unknown */
    assert_int_equal(1, backend_i64(f->store,
                                    "SELECT count(*) FROM refresh_tokens "
                                    "WHERE revoked_ms IS NULL",
                                    NULL));
}

static void refresh_rotate_is_observed(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN], c[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    observed_t seen = {0, -1};
    const int64_t exp = T0 + 100000;
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(a, 1), u.id, "fam1", exp, T0));
    store_set_commit_observer(f->store, observe_commit, &seen);
    assert_int_equal(0, store_refresh_rotate(f->store, a, hash_of(b, 2), exp, T0, uid));
    assert_int_equal(1, seen.calls);
    assert_true(seen.last_us >= 0);
    /* The reuse commits the family's revocation: observed too. */
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, a, hash_of(c, 3), exp, T0, uid));
    assert_int_equal(2, seen.calls);
    /* Refusals that change nothing commit nothing. */
    assert_int_equal(GV_EUNAUTHORIZED,
                     store_refresh_rotate(f->store, hash_of(c, 50), hash_of(b, 51), exp, T0, uid));
    assert_int_equal(2, seen.calls);
}

static void refresh_rotate_inside_a_transaction_fails(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    const int64_t exp = T0 + 100000;
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(a, 1), u.id, "fam1", exp, T0));
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(GV_EDB, store_refresh_rotate(f->store, a, hash_of(b, 2), exp, T0, uid));
    assert_true(f->store->ops->tx_open(f->store)); /* the caller's one is still open */
    assert_int_equal(0, store_tx_rollback(f->store));
    assert_int_equal(0, store_refresh_rotate(f->store, a, b, exp, T0, uid));
}

/* A failure half-way (the new hash already exists) leaves the old token as it was. */
static void refresh_rotate_failure_changes_nothing(void **state)
{
    fixture_t *f = *state;
    store_user_t u = make_user(f, "ann@example.com");
    unsigned char a[STORE_HASH_LEN], b[STORE_HASH_LEN], x[STORE_HASH_LEN];
    char uid[STORE_ID_MAX];
    const int64_t exp = T0 + 100000;
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(a, 1), u.id, "fam1", exp, T0));
    assert_int_equal(0, store_refresh_insert(f->store, hash_of(x, 9), u.id, "fam2", exp, T0));
    assert_int_equal(GV_EDB, store_refresh_rotate(f->store, a, x, exp, T0, uid));
    assert_int_equal(-1, backend_i64(f->store,
                                     "SELECT 1 FROM refresh_tokens "
                                     "WHERE hash = $1 AND rotated_ms IS NOT NULL",
                                     a));
    assert_false(f->store->ops->tx_open(f->store));
    assert_int_equal(0, store_refresh_rotate(f->store, a, hash_of(b, 2), exp, T0, uid));
}

/* ---- migration ----------------------------------------------------------------------------- */

static void migration_002_applies_on_top_of_001(void **state)
{
    fixture_t *f = *state;
    int applied = -1, version = -1;
    const store_migration_t *list = f->store->ops->migrations;
    size_t n = *f->store->ops->migrations_count;
    assert_true(n >= 2);
    assert_int_equal(2, list[1].version);
    assert_string_equal("accounts", list[1].name);
    assert_int_equal(0, store_migrate_list(f->store, list, 1, &applied));
    assert_int_equal(1, applied);
    assert_int_equal(0, backend_table_exists(f->store, "users"));
    backend_exec(f->store, "INSERT INTO meta VALUES ('k', 'v')");

    assert_int_equal(0, store_migrate(f->store, &applied));
    assert_int_equal((int)n - 1, applied);
    assert_int_equal(0, store_schema_version(f->store, &version));
    assert_int_equal(list[n - 1].version, version);
    assert_int_equal(1, backend_table_exists(f->store, "users"));
    assert_int_equal(1, backend_table_exists(f->store, "magic_links"));
    assert_int_equal(1, backend_table_exists(f->store, "refresh_tokens"));
    assert_int_equal(1, backend_i64(f->store, "SELECT count(*) FROM meta WHERE key = 'k'", NULL));
    store_user_t u = make_user(f, "ann@example.com");
    assert_string_equal("id-ann@example.com", u.id);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_migrated, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(user_ensure_creates_once),
        T(user_get_by_id),
        T(user_get_unknown_is_not_found),
        T(user_set_name),
        T(user_set_admin),
        T(user_overlong_input_refused),
        T(user_db_value_too_long_is_an_error),
        cmocka_unit_test_setup_teardown(accounts_before_migration_fail_then_work, setup_open,
                                        teardown),
        T(link_consume_succeeds_once),
        T(link_code_and_token_are_spent_together),
        T(link_wrong_email_is_refused_and_link_stays_usable),
        T(link_expired_at_its_expiry),
        T(link_insert_for_unknown_user_fails),
        T(link_purge_removes_expired_and_old_used),
        T(link_consumed_once_across_two_stores),
        T(link_consumed_once_by_racing_threads),
        T(link_consumed_once_by_racing_processes),
        T(refresh_rotate_chains),
        T(refresh_reuse_revokes_the_family_only),
        T(refresh_expired_is_refused),
        T(refresh_unknown_is_refused),
        T(refresh_revoke_ends_the_session),
        T(refresh_rotate_is_observed),
        T(refresh_rotate_inside_a_transaction_fails),
        T(refresh_rotate_failure_changes_nothing),
        cmocka_unit_test_setup_teardown(migration_002_applies_on_top_of_001, setup_open, teardown),
    };
    return BACKEND_RUN_BOTH("accounts", tests);
}
