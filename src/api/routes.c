/* The route table: every endpoint of the API in one place. */
#include "api/app.h"

int api_routes_register(app_t *app)
{
    int rc = api_ops_register(app);
    rc = rc ? rc : router_add(&app->router, HTTP_M_GET, "/ws", ws_http_get, app, 0);
    rc = rc ? rc : api_auth_register(app);
    rc = rc ? rc : api_client_errors_register(app);
    rc = rc ? rc : api_catalogue_register(app);
    rc = rc ? rc : api_league_register(app);
    rc = rc ? rc : api_auction_register(app);
    rc = rc ? rc : api_season_register(app);
    if (!rc && app->site) {
        app->router.fallback = static_handle;
        app->router.fallback_ctx = app->site;
    }
    return rc;
}
