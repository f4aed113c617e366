/* The replay of every auction's log against its derived rows, for gavel check and restore. */
#include "cli/cli.h"

#include "auction/hub.h"
#include "auction/service.h"
#include "core/clock.h"
#include "core/err.h"

#include <uv.h>

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int cli_replay(store_t *st, FILE *report, int *bad)
{
    uv_loop_t loop;
    gv_clock_t clock;
    *bad = 0;
    if (uv_loop_init(&loop) != 0)
        return GV_ENOMEM;
    clock_real_init(&clock);
    hub_t *hub = hub_new();
    auction_service_t *svc = NULL;
    auction_deps_t deps = {.loop = &loop, .store = st, .hub = hub, .clock = &clock};
    int rc = hub ? auction_service_new(&svc, &deps) : GV_ENOMEM;
    rc = rc ? rc : auction_service_verify(svc, report, bad);
    if (svc) {
        auction_service_stop(svc);
        uv_walk(&loop, close_walk, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        auction_service_free(svc);
    }
    hub_free(hub);
    uv_loop_close(&loop);
    return rc;
}
