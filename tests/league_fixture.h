/* Shared by the store and service tests, whatever the backend: default league settings and a
 * quick auction league with its users and managers, made through the store's API. */
#ifndef GAVEL_TESTS_LEAGUE_FIXTURE_H
#define GAVEL_TESTS_LEAGUE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_league.h"

/* The league settings of PRODUCT.md's defaults (fixed lot order). */
static inline store_league_settings_t fixture_settings(void)
{
    return (store_league_settings_t){
        .budget = 500000000,
        .currency = "GBP",
        .roster_size = 3,
        .min_managers = 2,
        .max_managers = 8,
        .lot_seconds = 30,
        .anti_snipe_seconds = 10,
        .min_bid = 1000000,
        .min_increment = 1000000,
        .intermission_seconds = 3,
        .reoffer_unsold = 1,
    };
}

/* Makes the users ids[0..n) (e-mail <id>@example.com) and the football league id of ids[0] for
 * a quick auction (budget 1,000,000, rosters of 2, lots of 600 s that a fake clock never ends,
 * minimum bid and increment 1, fixed lot order) with ids[1..n) as its managers. */
static inline void fixture_auction_league(store_t *s, const char *id, const char *const *ids,
                                          size_t n, int64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        char email[64];
        store_user_t u;
        snprintf(email, sizeof(email), "%s@example.com", ids[i]);
        assert_int_equal(0, store_user_ensure(s, email, ids[i], ids[i] + 4, now_ms, &u, NULL));
    }
    store_league_t lg;
    memset(&lg, 0, sizeof(lg));
    snprintf(lg.id, sizeof(lg.id), "%s", id);
    snprintf(lg.name, sizeof(lg.name), "League %s", id);
    snprintf(lg.sport, sizeof(lg.sport), "football");
    snprintf(lg.competition, sizeof(lg.competition), "AFCON-2025");
    snprintf(lg.commissioner_id, sizeof(lg.commissioner_id), "%s", ids[0]);
    snprintf(lg.status, sizeof(lg.status), "setup");
    snprintf(lg.invite_code, sizeof(lg.invite_code), "INV%.9s", id);
    snprintf(lg.watch_code, sizeof(lg.watch_code), "WAT%.9s", id);
    lg.created_ms = now_ms;
    lg.settings = fixture_settings();
    lg.settings.budget = 1000000;
    lg.settings.roster_size = 2;
    lg.settings.min_managers = 1;
    lg.settings.lot_seconds = 600;
    lg.settings.min_bid = lg.settings.min_increment = 1;
    lg.settings.lot_order_fixed = 1;
    assert_int_equal(0, store_league_create(s, &lg));
    for (size_t i = 1; i < n; i++)
        assert_true(store_member_add(s, id, ids[i], STORE_ROLE_MANAGER, 8, now_ms) >= 0);
}

#endif
