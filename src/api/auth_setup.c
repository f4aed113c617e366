/* Start-up of the accounts subsystem: the JWT secret, the rate limiters, the mailer and the
 * periodic purge of expired sign-in links. */
#include "api/app.h"

#include "core/random.h"
#include "store/store_catalogue.h"

#include <openssl/crypto.h>
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTH_SECRET_FILE "jwt.secret"
#define AUTH_SECRET_META "jwt_secret" /* meta key of the secret a PostgreSQL store shares */
#define AUTH_SECRET_BYTES 32
#define AUTH_PURGE_MS (10 * 60 * 1000)
#define AUTH_RL_KEYS 100000

/* Reads the 32-byte secret file, creating it (mode 0600, exclusive) on first start. */
static int auth_secret_file(app_t *app)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", app->cfg.data_dir, AUTH_SECRET_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        unsigned char key[AUTH_SECRET_BYTES];
        if (random_bytes(key, sizeof(key)) != 0)
            return GV_EINTERNAL;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int ok = fd >= 0 && write(fd, key, sizeof(key)) == (ssize_t)sizeof(key) && fsync(fd) == 0;
        if (fd >= 0)
            close(fd);
        if (!ok)
            return GV_EIO;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return GV_EIO;
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 ? read(fd, app->jwt_key, sizeof(app->jwt_key)) : -1;
    close(fd);
    if (n != AUTH_SECRET_BYTES || (st.st_mode & 077)) {
        log_error("jwt secret file unusable path=%s (want %d bytes, mode 0600)", path,
                  AUTH_SECRET_BYTES);
        return GV_EIO;
    }
    app->jwt_key_len = (size_t)n;
    return 0;
}

/* The secret every node on one PostgreSQL store shares: the database's, made by the first node
 * that starts (a per-node file would make one node's tokens invalid on the others). */
static int auth_secret_shared(app_t *app)
{
    unsigned char key[AUTH_SECRET_BYTES];
    char mine[2 * AUTH_SECRET_BYTES + 1], theirs[sizeof(app->jwt_key) + 1];
    if (random_bytes(key, sizeof(key)) != 0)
        return GV_EINTERNAL;
    for (size_t i = 0; i < sizeof(key); i++)
        snprintf(mine + 2 * i, 3, "%02x", key[i]);
    OPENSSL_cleanse(key, sizeof(key));
    int rc = store_meta_claim(app->store, AUTH_SECRET_META, mine, theirs, sizeof(theirs));
    OPENSSL_cleanse(mine, sizeof(mine));
    size_t n = rc == 0 ? strlen(theirs) : 0;
    if (rc == 0 && n < 32) {
        log_error("jwt secret in the database unusable (want 32 to %zu bytes)",
                  sizeof(app->jwt_key));
        rc = GV_EIO;
    }
    if (rc == 0) {
        memcpy(app->jwt_key, theirs, n);
        app->jwt_key_len = n;
    }
    OPENSSL_cleanse(theirs, sizeof(theirs));
    return rc;
}

static int auth_secret_load(app_t *app)
{
    const char *env = getenv("GAVEL_JWT_SECRET");
    if ((!env || !*env) && app->cfg.store[0])
        return auth_secret_shared(app);
    if (!env || !*env)
        return auth_secret_file(app);
    size_t n = strlen(env);
    if (n < 32 || n > sizeof(app->jwt_key)) {
        log_error("GAVEL_JWT_SECRET must be 32 to %zu bytes", sizeof(app->jwt_key));
        return GV_EINVALID_REQUEST;
    }
    memcpy(app->jwt_key, env, n);
    app->jwt_key_len = n;
    return 0;
}

/* A limiter of `burst` per `period_s`; a scale that would leave less than one request of burst
 * keeps one (the rate itself still scales). */
static rl_t *auth_limiter(double burst, double period_s, double scale)
{
    double b = scale > 0 && burst * scale < 1 ? 1 / scale : burst;
    return rl_new(b, burst / period_s, scale, AUTH_RL_KEYS);
}

static int auth_limiters(app_t *app)
{
    double k = app->cfg.rate_limit_scale;
    app_limits_t *l = &app->rl;
    l->link_email = auth_limiter(5, 60, k);
    l->link_ip = auth_limiter(60, 60, k); /* loose per IP: a whole pub signs in at once */
    l->verify_ip = auth_limiter(60, 60, k);
    l->verify_fail = auth_limiter(10, 900, k);
    l->refresh_ip = auth_limiter(60, 60, k);
    l->league_user = auth_limiter(10, 3600, k);
    l->bid_user = auth_limiter(20, 1, k);
    l->report_ip = auth_limiter(30, 60, k);
    int ok = l->link_email && l->link_ip && l->verify_ip && l->verify_fail && l->refresh_ip &&
             l->league_user && l->bid_user && l->report_ip;
    return ok ? 0 : GV_ENOMEM;
}

static int auth_mailer(app_t *app)
{
    const config_t *c = &app->cfg;
    if (c->dev && !c->smtp_url[0])
        return 0; /* development mode without SMTP: links go to the response and the log */
    if (!c->smtp_url[0] || !c->mail_from[0] || !c->public_url[0]) {
        log_error("production mode needs --smtp-url, --mail-from and --public-url "
                  "(or run with --dev for development)");
        return GV_EINVALID_REQUEST;
    }
    mailer_config_t mc = {.smtp_url = c->smtp_url,
                          .from = c->mail_from,
                          .user = getenv("GAVEL_SMTP_USER"),
                          .password = getenv("GAVEL_SMTP_PASSWORD"),
                          .max_attempts = 3,
                          .timeout_s = 10};
    int rc = mailer_new(&app->mailer, app->loop, &mc);
    if (rc)
        log_error("mail settings invalid (--smtp-url must be smtp:// or smtps://)");
    return rc;
}

static void auth_purge(uv_timer_t *t)
{
    app_t *app = t->data;
    int purged = 0;
    int rc = store_magic_link_purge(app->store, clock_now_ms(&app->clock), &purged);
    if (rc)
        log_warn("sign-in link purge failed err=%s", err_name(rc));
    else if (purged)
        log_info("sign-in links purged count=%d", purged);
}

int api_auth_start(app_t *app)
{
    int rc = auth_secret_load(app);
    rc = rc ? rc : auth_limiters(app);
    rc = rc ? rc : auth_mailer(app);
    if (rc)
        return rc;
    uv_timer_init(app->loop, &app->purge_timer);
    app->purge_timer.data = app;
    uv_timer_start(&app->purge_timer, auth_purge, 1000, AUTH_PURGE_MS);
    uv_unref((uv_handle_t *)&app->purge_timer);
    return 0;
}

void api_auth_stop(app_t *app)
{
    rl_t **all[] = {&app->rl.link_email,  &app->rl.link_ip,    &app->rl.verify_ip,
                    &app->rl.verify_fail, &app->rl.refresh_ip, &app->rl.league_user,
                    &app->rl.bid_user,    &app->rl.report_ip};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        rl_free(*all[i]);
        *all[i] = NULL;
    }
    mailer_free(app->mailer);
    app->mailer = NULL;
    OPENSSL_cleanse(app->jwt_key, sizeof(app->jwt_key));
}
