/* libFuzzer target: the season's importers (fixture CSV, cricket stats CSV, Football-Data JSON)
 * on arbitrary bytes, against a real SQLite store (migrated, catalogue loaded) with one football
 * and one cricket league. Checks: the answer is 0 or a 4xx-class code with a report; without
 * partial, a refused import writes nothing (the league's fixture count is unchanged); the
 * report's counts never exceed what the input could hold. */
#include "core/err.h"
#include "core/log.h"
#include "league/catalogue.h"
#include "season/season.h"
#include "store/store.h"

#include "../tmpdir.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_T0 1767225600000LL

static store_t *fz_store;
static char fz_dir[64];
static store_league_t fz_football, fz_cricket;

static void fz_cleanup(void)
{
    store_close(fz_store);
    tmpdir_remove(fz_dir);
}

static void fz_league(store_league_t *lg, const char *id, const char *sport, const char *comp,
                      const char *codes)
{
    memset(lg, 0, sizeof(*lg));
    snprintf(lg->id, sizeof(lg->id), "%s", id);
    snprintf(lg->name, sizeof(lg->name), "Fuzz");
    snprintf(lg->sport, sizeof(lg->sport), "%s", sport);
    snprintf(lg->competition, sizeof(lg->competition), "%s", comp);
    snprintf(lg->commissioner_id, sizeof(lg->commissioner_id), "usr_fz");
    snprintf(lg->status, sizeof(lg->status), "setup");
    snprintf(lg->invite_code, sizeof(lg->invite_code), "%sINVITE", codes);
    snprintf(lg->watch_code, sizeof(lg->watch_code), "%sWATCH", codes);
    lg->created_ms = FZ_T0;
    lg->settings = (store_league_settings_t){.budget = 500,
                                             .currency = "GBP",
                                             .roster_size = 1,
                                             .min_managers = 1,
                                             .max_managers = 8,
                                             .lot_seconds = 30,
                                             .min_bid = 1,
                                             .min_increment = 1};
    if (store_league_create(fz_store, lg) != 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    int applied = 0;
    store_user_t u;
    catalogue_report_t rep;
    log_threshold = LOG_OFF;
    if (tmpdir_make(fz_dir, sizeof(fz_dir), "fuzz-season") || store_open(&fz_store, fz_dir) ||
        store_migrate(fz_store, &applied))
        abort();
    atexit(fz_cleanup);
    catalogue_report_init(&rep);
    if (catalogue_load_shipped(fz_store, FZ_T0, &rep) ||
        store_user_ensure(fz_store, "fz@example.com", "usr_fz", "fz", FZ_T0, &u, NULL))
        abort();
    catalogue_report_deinit(&rep);
    fz_league(&fz_football, "lg_fzf", "football", "AFCON-2025", "FZF");
    fz_league(&fz_cricket, "lg_fzc", "cricket", "NZENG-ODI-2025", "FZC");
    return 0;
}

static int fz_count(void *ctx, const store_fixture_t *f)
{
    (void)f;
    (*(size_t *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int which = data[0] % 3, flags = data[0] & 4 ? SEASON_PARTIAL : 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1, before = 0, after = 0;
    season_report_t r;
    season_report_init(&r);
    store_fixtures_each(fz_store, fz_football.id, fz_count, &before);
    int rc = which == 0
                 ? season_import_fixtures(fz_store, &fz_football, text, len, flags, FZ_T0, &r)
             : which == 1
                 ? season_import_football_data(fz_store, &fz_football, text, len, flags, FZ_T0, &r)
                 : season_import_stats(fz_store, &fz_cricket, text, len, flags, FZ_T0, &r);
    store_fixtures_each(fz_store, fz_football.id, fz_count, &after);
    if (rc != 0 && rc != GV_EINVALID_REQUEST)
        abort();
    if (rc == GV_EINVALID_REQUEST && (after != before || r.error_count == 0))
        abort(); /* a refused import writes nothing and says why */
    if ((size_t)(r.created + r.updated + r.skipped) > len)
        abort();
    json_decref(season_report_json(&r));
    season_report_deinit(&r);
    return 0;
}
