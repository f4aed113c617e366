/* The periodic Football-Data.org sync: a timer on the loop picks the competition that is due
 * (fd_sched: period, rate limit, Retry-After, backoff), one request at a time runs on libuv's
 * thread pool (fd_fetch), and its answer is applied on the loop to every league of that
 * competition with season_import_football_data (partial). */
#include "season/fd_sync.h"

#include "core/err.h"
#include "season/fd_fetch.h"
#include "season/season.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FD_TOKEN_MAX 255
#define FD_URL_MAX 400
#define FD_CATALOGUE_MAX 256 /* football competitions read from the catalogue per look */

typedef struct fd_job_s fd_job_t;

struct fd_sync_s {
    uv_loop_t *loop;
    store_t *store;
    const gv_clock_t *clock;
    char *token;    /* owned; wiped when freed */
    char *base_url; /* owned; no trailing '/' */
    long timeout_s;
    fd_sync_hooks_t hooks;
    fd_sched_t sched;
    uv_timer_t timer;
    int timer_open; /* 1 from uv_timer_init until fd_sync_stop closes it */
    int stopping;
    atomic_int cancel; /* read by the worker: give up the request in flight */
    fd_job_t *job;     /* the request in flight or being applied, NULL when none */
    fd_sync_stats_t stats;
};

/* The leagues a competition's answer goes to: every football league of a competition that maps
 * to the provider's (store_leagues_each), with or without an auction yet. */
typedef struct {
    store_t *store;
    fd_key_t key;
    int first_only; /* stop at the first league found */
    char (*ids)[STORE_ID_MAX];
    size_t n, cap;
} fd_leagues_t;

/* One request, then its answer applied one league per loop turn (an import is a transaction of
 * some milliseconds: bids and other I/O are served between two leagues). The job owns its
 * result and league list. The sync outlives it (fd_sync_stop frees a job that is applying;
 * fd_sync_free is only called once the loop has run the after-callback of the one in flight),
 * so the worker may read the sync's token and cancel flag, which do not change meanwhile. */
struct fd_job_s {
    uv_work_t req;
    fd_sync_t *sync;
    fd_key_t key;
    char url[FD_URL_MAX + 64];
    int64_t started_ms; /* monotonic */
    int fetched;        /* the worker is done: the answer is being applied */
    fd_fetch_result_t res;
    fd_round_t round; /* summed while applying */
    fd_leagues_t leagues;
    size_t next; /* the next league to apply */
};

static int64_t fd_mono_ms(const fd_sync_t *s)
{
    return clock_mono_us(s->clock) / 1000;
}

/* Now rounded up: a wait that starts now ends no earlier than asked, as fd_mono_ms reads it. */
static int64_t fd_mono_ms_up(const fd_sync_t *s)
{
    return (clock_mono_us(s->clock) + 999) / 1000;
}

static void fd_tick(fd_sync_t *s);
static void fd_on_timer(uv_timer_t *t);
static void fd_job_free(fd_job_t *job);

/* ---- configuration -------------------------------------------------------------------------- */

static int fd_printable(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
            return 0;
    return 1;
}

static int fd_url_ok(const char *url)
{
    size_t skip = !strncasecmp(url, "http://", 7) ? 7 : !strncasecmp(url, "https://", 8) ? 8 : 0;
    if (!skip || strlen(url) > FD_URL_MAX || !fd_printable(url))
        return 0;
    size_t auth = strcspn(url + skip, "/?#");
    return auth > 0 && !memchr(url + skip, '@', auth) && !strpbrk(url + skip, "?#");
}

int fd_sync_config_check(const fd_sync_config_t *cfg, char *why, size_t n)
{
    const char *bad = NULL;
    size_t tl = cfg->token ? strlen(cfg->token) : 0;
    if (tl == 0 || tl > FD_TOKEN_MAX || !fd_printable(cfg->token))
        bad = "the Football-Data token must be 1-255 printable characters without blanks";
    else if (!cfg->base_url || !fd_url_ok(cfg->base_url))
        bad = "the Football-Data URL must be http(s)://host[:port][/path] without credentials";
    else if (cfg->every_s < 1 || cfg->window_s < 1 || cfg->timeout_s < 1)
        bad = "the sync period, window and timeout must be at least 1 s";
    else if (cfg->max_requests < 1 || cfg->max_requests > FD_RATE_MAX)
        bad = "the sync's requests per window must be 1-1000";
    if (bad)
        snprintf(why, n, "%s", bad);
    return bad ? GV_EINVALID_REQUEST : 0;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

int fd_sync_new(fd_sync_t **out, uv_loop_t *loop, store_t *store, const gv_clock_t *clock,
                const fd_sync_config_t *cfg, const fd_sync_hooks_t *hooks)
{
    char why[160];
    *out = NULL;
    if (fd_sync_config_check(cfg, why, sizeof(why)) != 0)
        return GV_EINVALID_REQUEST;
    if (fd_fetch_global_init() != 0)
        return GV_EINTERNAL;
    fd_sync_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GV_ENOMEM;
    s->token = strdup(cfg->token);
    s->base_url = strdup(cfg->base_url);
    if (!s->token || !s->base_url) {
        fd_sync_free(s);
        return GV_ENOMEM;
    }
    for (size_t n = strlen(s->base_url); n > 0 && s->base_url[n - 1] == '/'; n--)
        s->base_url[n - 1] = '\0';
    s->loop = loop, s->store = store, s->clock = clock, s->hooks = *hooks;
    s->timeout_s = (long)cfg->timeout_s;
    atomic_init(&s->cancel, 0);
    fd_sched_init(&s->sched, cfg->every_s * 1000, cfg->max_requests, cfg->window_s * 1000);
    *out = s;
    return 0;
}

int fd_sync_start(fd_sync_t *s)
{
    if (uv_timer_init(s->loop, &s->timer) != 0)
        return GV_EINTERNAL;
    s->timer.data = s;
    s->timer_open = 1;
    return uv_timer_start(&s->timer, fd_on_timer, 0, 0) == 0 ? 0 : GV_EINTERNAL;
}

void fd_sync_stop(fd_sync_t *s)
{
    if (!s || s->stopping)
        return;
    s->stopping = 1;
    atomic_store(&s->cancel, 1);
    if (s->job && s->job->fetched) { /* being applied: the rest is dropped */
        fd_job_free(s->job);
        s->job = NULL;
    } else if (s->job) { /* not started yet: it never will; running: it sees the flag */
        uv_cancel((uv_req_t *)&s->job->req);
    }
    if (s->timer_open && !uv_is_closing((uv_handle_t *)&s->timer))
        uv_close((uv_handle_t *)&s->timer, NULL);
    s->timer_open = 0;
}

void fd_sync_free(fd_sync_t *s)
{
    if (!s)
        return;
    if (s->job && s->job->fetched) /* stopped by closing the loop, not by fd_sync_stop */
        fd_job_free(s->job);
    if (s->token)
        OPENSSL_cleanse(s->token, strlen(s->token));
    free(s->token);
    free(s->base_url);
    free(s);
}

const fd_sync_stats_t *fd_sync_stats(const fd_sync_t *s)
{
    static const fd_sync_stats_t none;
    return s ? &s->stats : &none;
}

/* ---- leagues -------------------------------------------------------------------------------- */

#define FD_FOUND 1 /* fd_league_row's "stop here" */

static int fd_league_row(void *ctx, const store_league_t *lg)
{
    fd_leagues_t *l = ctx;
    fd_key_t k;
    if (fd_competition_map(lg->competition, &k) != 0 || k.season != l->key.season ||
        strcmp(k.code, l->key.code) != 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        void *ids = realloc(l->ids, cap * sizeof(*l->ids));
        if (!ids)
            return GV_ENOMEM;
        l->ids = ids, l->cap = cap;
    }
    snprintf(l->ids[l->n++], STORE_ID_MAX, "%s", lg->id);
    return l->first_only ? FD_FOUND : 0;
}

/* Fills l (free l->ids) with the leagues of key, or only the first when first_only. 0 or GV_E*. */
static int fd_leagues_collect(fd_sync_t *s, const fd_key_t *key, int first_only, fd_leagues_t *l)
{
    memset(l, 0, sizeof(*l));
    l->store = s->store;
    l->key = *key;
    l->first_only = first_only;
    int rc = store_leagues_each(s->store, "football", fd_league_row, l);
    return rc == FD_FOUND ? 0 : rc;
}

/* The provider competitions of the catalogue's football competitions become the schedule's. */
static void fd_refresh(fd_sync_t *s, int64_t now_ms)
{
    store_competition_t *comps = calloc(FD_CATALOGUE_MAX, sizeof(*comps));
    fd_key_t *keys = calloc(FD_CATALOGUE_MAX, sizeof(*keys));
    size_t n = 0, m = 0;
    if (comps && keys &&
        store_competitions_list(s->store, "football", comps, FD_CATALOGUE_MAX, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            if (fd_competition_map(comps[i].code, &keys[m]) == 0)
                m++;
        fd_sched_set(&s->sched, keys, m, now_ms); /* over FD_COMPS_MAX: the first ones */
    }
    free(comps);
    free(keys);
}

/* ---- requests ------------------------------------------------------------------------------- */

static void fd_job_free(fd_job_t *job)
{
    fd_fetch_result_deinit(&job->res);
    free(job->leagues.ids);
    free(job);
}

static void fd_job_work(uv_work_t *w)
{
    fd_job_t *job = w->data;
    const fd_sync_t *s = job->sync;
    fd_fetch_req_t req = {.url = job->url,
                          .token = s->token,
                          .timeout_s = s->timeout_s,
                          .max_bytes = FD_FETCH_MAX_BYTES,
                          .cancel = &s->cancel};
    fd_fetch_run(&req, clock_now_ms(s->clock), &job->res);
}

static void fd_apply_league(fd_sync_t *s, fd_job_t *job, const char *league_id)
{
    store_league_t lg;
    season_report_t rep;
    fd_round_t *r = &job->round;
    season_report_init(&rep);
    int rc = store_league_get(s->store, league_id, &lg);
    rc = rc ? rc
            : season_import_football_data(s->store, &lg, job->res.body.data, job->res.body.len,
                                          SEASON_PARTIAL, clock_now_ms(s->clock), &rep);
    if (rc != GV_ENOT_FOUND) { /* else deleted meanwhile */
        r->leagues++;
        r->errors += rc ? 1 : (int)rep.error_count;
    }
    if (!rc) {
        r->created += rep.created, r->updated += rep.updated, r->skipped += rep.skipped;
        s->stats.row_errors += rep.error_count;
        s->stats.created += (uint64_t)rep.created, s->stats.updated += (uint64_t)rep.updated;
        if (rep.created + rep.updated > 0 && s->hooks.changed)
            s->hooks.changed(s->hooks.ctx, league_id);
    }
    season_report_deinit(&rep);
}

/* The round is over: count it, tell the schedule and the hook, then look for the next one. */
static void fd_job_finish(fd_sync_t *s, fd_job_t *job)
{
    fd_round_t *r = &job->round;
    s->job = NULL;
    s->stats.requests[r->outcome]++;
    /* judged after applying: a wait the provider asked for starts no earlier than now */
    fd_sched_done(&s->sched, &job->key, r->outcome, r->retry_ms, fd_mono_ms_up(s));
    if (s->hooks.round)
        s->hooks.round(s->hooks.ctx, r);
    fd_job_free(job);
    fd_tick(s);
}

static void fd_arm(fd_sync_t *s, int64_t delay_ms)
{
    uv_update_time(s->loop); /* the timer counts from now, not from the loop turn's start */
    uv_timer_start(&s->timer, fd_on_timer, (uint64_t)(delay_ms < 0 ? 0 : delay_ms), 0);
}

/* Applies the answer to one more league, then yields to the loop until the next turn. */
static void fd_apply_step(fd_sync_t *s)
{
    fd_job_t *job = s->job;
    if (job->next < job->leagues.n)
        fd_apply_league(s, job, job->leagues.ids[job->next++]);
    if (job->next < job->leagues.n)
        fd_arm(s, 0);
    else
        fd_job_finish(s, job);
}

static void fd_job_after(uv_work_t *w, int status)
{
    fd_job_t *job = w->data;
    fd_sync_t *s = job->sync;
    if (s->stopping || status != 0) { /* cancelled: the answer is dropped */
        s->job = NULL;
        fd_job_free(job);
        return;
    }
    job->fetched = 1;
    job->round = (fd_round_t){.key = job->key,
                              .outcome = job->res.outcome,
                              .http_status = job->res.status,
                              .retry_ms = job->res.retry_ms,
                              .duration_ms = fd_mono_ms(s) - job->started_ms,
                              .reason = job->res.reason};
    if (job->res.outcome == FD_OK && fd_leagues_collect(s, &job->key, 0, &job->leagues) != 0)
        job->round.errors++;
    fd_apply_step(s);
}

/* Queues the request of competition i. 0 or GV_E* (nothing queued). */
static int fd_job_start(fd_sync_t *s, size_t i, int64_t now_ms)
{
    fd_job_t *job = calloc(1, sizeof(*job));
    if (!job)
        return GV_ENOMEM;
    job->sync = s;
    job->key = s->sched.comps[i].key;
    job->started_ms = now_ms;
    job->req.data = job;
    buf_init(&job->res.body);
    snprintf(job->url, sizeof(job->url), "%s/v4/competitions/%s/matches?season=%d", s->base_url,
             job->key.code, job->key.season);
    if (uv_queue_work(s->loop, &job->req, fd_job_work, fd_job_after) != 0) {
        free(job);
        return GV_EINTERNAL;
    }
    fd_sched_sent(&s->sched, i, now_ms);
    s->job = job;
    return 0;
}

/* A request that could not even be queued counts as a failed one. */
static void fd_job_refused(fd_sync_t *s, size_t i, int64_t now_ms)
{
    fd_round_t r = {.key = s->sched.comps[i].key,
                    .outcome = FD_FAILED,
                    .retry_ms = -1,
                    .reason = "internal: the request could not be queued"};
    s->stats.requests[FD_FAILED]++;
    fd_sched_done(&s->sched, &r.key, FD_FAILED, -1, now_ms);
    if (s->hooks.round)
        s->hooks.round(s->hooks.ctx, &r);
}

/* Starts the request that is due, if any may go now, else sleeps until one may. */
static void fd_tick(fd_sync_t *s)
{
    if (s->stopping || s->job || !s->timer_open)
        return;
    int64_t now = fd_mono_ms(s);
    fd_refresh(s, now);
    for (;;) {
        int64_t wake = 0;
        int i = fd_sched_pick(&s->sched, now, &wake);
        if (i < 0) {
            fd_arm(s, wake - now);
            return;
        }
        fd_leagues_t l;
        int rc = fd_leagues_collect(s, &s->sched.comps[i].key, 1, &l);
        free(l.ids);
        if (rc || l.n == 0) /* nobody needs it (or the store is busy): look again in a period */
            fd_sched_skip(&s->sched, (size_t)i, now);
        else if (fd_job_start(s, (size_t)i, now) == 0)
            return;
        else
            fd_job_refused(s, (size_t)i, now);
    }
}

static void fd_on_timer(uv_timer_t *t)
{
    fd_sync_t *s = t->data;
    if (s->job && s->job->fetched)
        fd_apply_step(s);
    else
        fd_tick(s);
}
