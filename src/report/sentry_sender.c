/* The Sentry sender: one thread that posts queued envelopes with libcurl, so that the loop only
 * ever appends to a bounded queue; a dead or slow Sentry costs a thread's time, nothing else. */
#include "report/sentry.h"

#include "core/err.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

typedef struct {
    char *data; /* owned */
    size_t len;
} sentry_item_t;

struct sentry_sender_s {
    sentry_dsn_t dsn;
    char auth[320];
    char agent[160];
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cv;
    sentry_item_t queue[SENTRY_QUEUE_MAX]; /* a ring: head, count */
    size_t head, count;
    sentry_rate_t rate;
    int stopping;
    int joined;               /* sentry_sender_stop ran (the loop's thread only) */
    atomic_llong deadline_ms; /* once stopping: when every transfer gives up */
    atomic_ullong sent, dropped, failed;
};

static int64_t sentry_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t sentry_discard(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p, (void)ud;
    return size * nmemb;
}

/* Aborts a transfer once the stop deadline has passed. */
static int sentry_on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const sentry_sender_t *s = ud;
    long long deadline = atomic_load(&s->deadline_ms);
    return deadline && sentry_mono_ms() >= deadline ? 1 : 0;
}

#define SENTRY_SETOPT(c, opt, val)                                                                 \
    do {                                                                                           \
        CURLcode e_ = curl_easy_setopt((c), (opt), (val));                                         \
        if (e_ != CURLE_OK)                                                                        \
            return e_;                                                                             \
    } while (0)

static CURLcode sentry_setup(sentry_sender_t *s, CURL *c, struct curl_slist *hdrs)
{
#if LIBCURL_VERSION_NUM >= 0x075500
    SENTRY_SETOPT(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SENTRY_SETOPT(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SENTRY_SETOPT(c, CURLOPT_URL, s->dsn.url);
    SENTRY_SETOPT(c, CURLOPT_HTTPHEADER, hdrs);
    SENTRY_SETOPT(c, CURLOPT_USERAGENT, s->agent);
    SENTRY_SETOPT(c, CURLOPT_NOSIGNAL, 1L);
    SENTRY_SETOPT(c, CURLOPT_TIMEOUT_MS, (long)SENTRY_TIMEOUT_MS);
    SENTRY_SETOPT(c, CURLOPT_CONNECTTIMEOUT_MS, (long)SENTRY_CONNECT_TIMEOUT_MS);
    SENTRY_SETOPT(c, CURLOPT_WRITEFUNCTION, sentry_discard);
    SENTRY_SETOPT(c, CURLOPT_XFERINFOFUNCTION, sentry_on_progress);
    SENTRY_SETOPT(c, CURLOPT_XFERINFODATA, s);
    SENTRY_SETOPT(c, CURLOPT_NOPROGRESS, 0L);
    return CURLE_OK;
}

/* Posts one envelope; counts it as sent (2xx) or failed. */
static void sentry_post_one(sentry_sender_t *s, CURL *c, const sentry_item_t *it)
{
    long status = 0;
    CURLcode rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->len);
    rc = rc ? rc : curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->data);
    rc = rc ? rc : curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        atomic_fetch_add(&s->sent, 1);
    else
        atomic_fetch_add(&s->failed, 1);
}

/* Takes the next envelope, waiting for one; 0 when the thread should end (stopping and nothing
 * left, or the deadline passed: what is left is dropped). */
static int sentry_take(sentry_sender_t *s, sentry_item_t *out)
{
    uv_mutex_lock(&s->mu);
    while (!s->count && !s->stopping)
        uv_cond_wait(&s->cv, &s->mu);
    int late = s->stopping && sentry_mono_ms() >= atomic_load(&s->deadline_ms);
    int got = s->count && !late;
    if (got) {
        *out = s->queue[s->head];
        s->head = (s->head + 1) % SENTRY_QUEUE_MAX;
        s->count--;
    }
    uv_mutex_unlock(&s->mu);
    return got;
}

static struct curl_slist *sentry_headers(const sentry_sender_t *s)
{
    static const char *const fixed[] = {"Content-Type: application/x-sentry-envelope",
                                        "Expect:", NULL};
    struct curl_slist *h = curl_slist_append(NULL, s->auth);
    for (size_t i = 0; h && fixed[i]; i++) {
        struct curl_slist *more = curl_slist_append(h, fixed[i]);
        if (!more) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = more;
    }
    return h;
}

static void sentry_thread(void *arg)
{
    sentry_sender_t *s = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = c ? sentry_headers(s) : NULL;
    int ready = hdrs && sentry_setup(s, c, hdrs) == CURLE_OK;
    sentry_item_t it;
    while (sentry_take(s, &it)) {
        if (ready)
            sentry_post_one(s, c, &it);
        else
            atomic_fetch_add(&s->failed, 1);
        free(it.data);
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
}

int sentry_sender_new(sentry_sender_t **out, const sentry_dsn_t *dsn, const char *release)
{
    *out = NULL;
    sentry_sender_t *s = calloc(1, sizeof(*s));
    if (!s)
        return GV_ENOMEM;
    s->dsn = *dsn;
    snprintf(s->agent, sizeof(s->agent), "gavel/%s", release);
    if (sentry_auth_header(dsn, release, s->auth, sizeof(s->auth)) != 0 ||
        uv_mutex_init(&s->mu) != 0) {
        free(s);
        return GV_EINVALID_REQUEST;
    }
    if (uv_cond_init(&s->cv) != 0 || uv_thread_create(&s->thread, sentry_thread, s) != 0) {
        uv_mutex_destroy(&s->mu);
        free(s);
        return GV_EINTERNAL;
    }
    *out = s;
    return 0;
}

int sentry_sender_post(sentry_sender_t *s, char *data, size_t len)
{
    uv_mutex_lock(&s->mu);
    int ok = !s->stopping && s->count < SENTRY_QUEUE_MAX &&
             sentry_rate_allow(&s->rate, sentry_mono_ms());
    if (ok) {
        s->queue[(s->head + s->count) % SENTRY_QUEUE_MAX] = (sentry_item_t){data, len};
        s->count++;
        uv_cond_signal(&s->cv);
    }
    uv_mutex_unlock(&s->mu);
    if (ok)
        return 0;
    free(data);
    atomic_fetch_add(&s->dropped, 1);
    return GV_ELIMIT;
}

void sentry_sender_stats(const sentry_sender_t *s, report_stats_t *out)
{
    sentry_sender_t *m = (sentry_sender_t *)s; /* atomics are read-only here */
    out->sent = atomic_load(&m->sent);
    out->dropped = atomic_load(&m->dropped);
    out->failed = atomic_load(&m->failed);
}

void sentry_sender_stop(sentry_sender_t *s)
{
    uv_mutex_lock(&s->mu);
    int joined = s->joined;
    s->stopping = 1;
    if (!joined)
        atomic_store(&s->deadline_ms, sentry_mono_ms() + SENTRY_STOP_GRACE_MS);
    s->joined = 1;
    uv_cond_signal(&s->cv);
    uv_mutex_unlock(&s->mu);
    if (joined)
        return;
    uv_thread_join(&s->thread);
    for (; s->count; s->count--, s->head = (s->head + 1) % SENTRY_QUEUE_MAX) {
        free(s->queue[s->head].data);
        atomic_fetch_add(&s->dropped, 1);
    }
}

void sentry_sender_free(sentry_sender_t *s)
{
    if (!s)
        return;
    sentry_sender_stop(s);
    uv_cond_destroy(&s->cv);
    uv_mutex_destroy(&s->mu);
    free(s);
}
