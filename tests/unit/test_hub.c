/* Hub bookkeeping: joining is idempotent, leaving and kicking remove exactly what they name,
 * closing a connection leaves every room, presence follows, and empty rooms go away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "auction/hub.h"
#include "core/err.h"

/* The hub only stores and compares connection pointers here (no frame is sent to an empty
 * room), so distinct addresses stand in for connections. */
static char conn_storage[4];
#define CONN(i) ((ws_conn_t *)(void *)&conn_storage[i])

static void test_join_leave(void **state)
{
    (void)state;
    hub_t *h = hub_new();
    assert_int_equal(hub_join(h, "league:a", CONN(0), "u0"), 0);
    assert_int_equal(hub_join(h, "league:a", CONN(0), "u0"), 0); /* idempotent */
    assert_int_equal(hub_join(h, "league:a", CONN(1), "u1"), 0);
    assert_int_equal(hub_join(h, "league:b", CONN(1), "u1"), 0);
    assert_int_equal(hub_room_size(h, "league:a"), 2);
    assert_int_equal(hub_room_size(h, "league:b"), 1);
    assert_true(hub_user_present(h, "league:a", "u1"));
    hub_leave(h, "league:a", CONN(1));
    assert_int_equal(hub_room_size(h, "league:a"), 1);
    assert_false(hub_user_present(h, "league:a", "u1"));
    assert_int_equal(hub_room_size(h, "league:b"), 1); /* other rooms untouched */
    hub_leave(h, "league:zzz", CONN(1));               /* unknown room: no-op */
    hub_leave_conn(h, CONN(1));
    assert_int_equal(hub_room_size(h, "league:b"), 0);
    assert_int_equal(hub_publish(h, "league:b", "{}", 2), 0); /* the empty room is gone */
    hub_free(h);
}

static void test_kick_and_close(void **state)
{
    (void)state;
    hub_t *h = hub_new();
    hub_join(h, "r", CONN(0), "alice");
    hub_join(h, "r", CONN(1), "alice"); /* two tabs */
    hub_join(h, "r", CONN(2), "bob");
    hub_join(h, "s", CONN(0), "alice");
    assert_int_equal(hub_kick(h, "r", "alice"), 2);
    assert_int_equal(hub_room_size(h, "r"), 1);
    assert_true(hub_user_present(h, "r", "bob"));
    assert_int_equal(hub_room_size(h, "s"), 1); /* kicked from r only */
    hub_close_room(h, "r");
    assert_int_equal(hub_room_size(h, "r"), 0);
    assert_int_equal(hub_kick(h, "r", "bob"), 0);
    hub_free(h); /* frees what is left (room s), checked by LeakSanitizer */
}

static void test_limits(void **state)
{
    (void)state;
    hub_t *h = hub_new();
    char long_name[HUB_ROOM_MAX + 1];
    for (int i = 0; i < HUB_ROOM_MAX; i++)
        long_name[i] = 'x';
    long_name[HUB_ROOM_MAX] = '\0';
    assert_int_equal(hub_join(h, long_name, CONN(0), "u"), GV_ELIMIT);
    for (int i = 0; i < 1000; i++) {
        char room[32];
        snprintf(room, sizeof(room), "auction:%d", i);
        assert_int_equal(hub_join(h, room, CONN(i % 4), "u"), 0);
    }
    assert_int_equal(hub_room_size(h, "auction:999"), 1);
    hub_leave_conn(h, CONN(3));
    assert_int_equal(hub_room_size(h, "auction:999"), 0);
    assert_int_equal(hub_room_size(h, "auction:998"), 1);
    hub_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_leave),
        cmocka_unit_test(test_kick_and_close),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
