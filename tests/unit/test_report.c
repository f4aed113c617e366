/* Error reports: the scrubbing of personal data and secrets, the report's log line, the Sentry DSN,
 * auth header and envelope (parsed back with jansson), the rate limit, and a sender whose Sentry
 * never answers (it drops beyond the limit and stops within its grace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../stderr_capture.h"
#include "core/err.h"
#include "core/log.h"
#include "report/crash.h"
#include "report/report.h"
#include "report/sentry.h"

#define JWT "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2ln"
#define MAGIC "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGw"

static char *scrub(const char *in)
{
    static char out[REPORT_TEXT_MAX];
    report_text_scrub(in, out, sizeof(out));
    return out;
}

/* ---- scrubbing ------------------------------------------------------------------------------ */

static void test_scrub_removes_emails_and_tokens(void **state)
{
    (void)state;
    assert_string_equal(scrub("mail to ann@example.com failed"), "mail to [email] failed");
    assert_string_equal(scrub("/api/users/<bob@x.org>/x"), "[email]");
    assert_string_equal(scrub("auth Bearer " JWT " end"), "auth Bearer [redacted] end");
    assert_string_equal(scrub("bearer short"), "bearer [redacted]");
    assert_string_equal(scrub("Basic dXNlcjpwYXNz"), "Basic [redacted]");
    assert_string_equal(scrub("token=" MAGIC), "[redacted]");
    assert_string_equal(scrub("/api/x/" MAGIC "/y"), "[redacted]");
    assert_string_equal(scrub("key 0123456789abcdef0123456789abcdef"), "key [redacted]");
    assert_string_equal(scrub("jwt " JWT), "jwt [redacted]");
    /* 19 characters are not a token; 20 are */
    assert_string_equal(scrub("AAAAAAAAAAAAAAAAAA1"), "AAAAAAAAAAAAAAAAAA1");
    assert_string_equal(scrub("AAAAAAAAAAAAAAAAAAA1"), "[redacted]");
}

static void test_scrub_keeps_ids_names_and_routes(void **state)
{
    (void)state;
    const char *path = "/api/leagues/lg_0123456789abcdef0123/members/usr_fedcba9876543210fedc";
    assert_string_equal(scrub(path), path);
    assert_string_equal(scrub("auction_group_commit_failed now"),
                        "auction_group_commit_failed now");
    assert_string_equal(scrub("/api/leagues/{id}/auction"), "/api/leagues/{id}/auction");
    /* not quite an id: upper-case hex, or 21 digits */
    assert_string_equal(scrub("lg_0123456789ABCDEF0123"), "[redacted]");
    assert_string_equal(scrub("lg_0123456789abcdef01234"), "[redacted]");
}

static void test_scrub_makes_one_logfmt_value(void **state)
{
    (void)state;
    assert_string_equal(scrub("say \"x=1\" \\ now\tand\nthen"), "say x=1  now and then");
    assert_string_equal(scrub("ctl\x01here caf\xc3\xa9 bad\xff"), "ctl here caf\xc3\xa9 bad?");
    assert_string_equal(scrub(NULL), "");
    char small[16];
    report_text_scrub("abc d\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", small, sizeof(small));
    assert_string_equal(small, "abc d\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    report_text_scrub("abcdefghij \xc3\xa9\xc3\xa9\xc3\xa9", small, sizeof(small));
    assert_string_equal(small, "abcdefghij \xc3\xa9\xc3\xa9"); /* cut between characters */
    report_text_scrub("x ann@example.com", small, 9);
    assert_string_equal(small, "x "); /* "[email]" does not fit: left out, never cut */
}

/* ---- the log line --------------------------------------------------------------------------- */

static void test_report_line(void **state)
{
    (void)state;
    stderr_capture_t cap;
    log_set_format(LOG_FORMAT_LOGFMT);
    report_t r = {.kind = REPORT_HTTP_5XX,
                  .rid = "rid-1\"x",
                  .method = "PATCH",
                  .route = "/api/leagues/{id}",
                  .path = "/api/leagues/ann@example.com",
                  .status = 503,
                  .err = GV_EDB_BUSY,
                  .context = "Bearer " JWT " for bob@example.org"};
    assert_int_equal(stderr_capture_start(&cap), 0);
    report_error(&r);
    char *text = stderr_capture_end(&cap);
    assert_non_null(text);
    assert_non_null(strstr(text, " level=error error report kind=http_5xx rid=rid-1x method=PATCH "
                                 "route=\"/api/leagues/{id}\" path=\"[email]\" status=503 "
                                 "code=unavailable err=DB_BUSY "
                                 "context=\"Bearer [redacted] for [email]\"\n"));
    assert_null(strstr(text, "example"));
    assert_null(strstr(text, "eyJ"));
    free(text);
    report_t inv = {.kind = REPORT_INVARIANT, .context = "lost"};
    assert_int_equal(stderr_capture_start(&cap), 0);
    report_error(&inv);
    text = stderr_capture_end(&cap);
    assert_non_null(strstr(text, "error report kind=invariant rid=- method=- route=\"-\" "
                                 "path=\"-\" status=- code=- err=- context=\"lost\"\n"));
    free(text);
}

/* ---- the DSN -------------------------------------------------------------------------------- */

static void test_dsn_parse(void **state)
{
    (void)state;
    sentry_dsn_t d;
    assert_int_equal(sentry_dsn_parse("https://abc123@o1.ingest.sentry.io/42", &d), 0);
    assert_string_equal(d.key, "abc123");
    assert_string_equal(d.project, "42");
    assert_string_equal(d.url, "https://o1.ingest.sentry.io/api/42/envelope/");
    assert_string_equal(d.text, "https://abc123@o1.ingest.sentry.io/42");
    assert_int_equal(sentry_dsn_parse("http://k@127.0.0.1:9000/sub/path/7", &d), 0);
    assert_string_equal(d.url, "http://127.0.0.1:9000/sub/path/api/7/envelope/");
    assert_int_equal(sentry_dsn_parse("http://k@[::1]:8080/1", &d), 0);
    assert_string_equal(d.url, "http://[::1]:8080/api/1/envelope/");
    static const char *const bad[] = {
        "",
        "sentry",
        "ftp://k@host/1",
        "https://host/1",          /* no key */
        "https://k:secret@host/1", /* a secret key: never */
        "https://@host/1",         /* empty key */
        "https://k@/1",            /* no host */
        "https://k@host",          /* no project */
        "https://k@host/",         /* empty project */
        "https://k@host/abc",      /* project not numeric */
        "https://k@host/1?x=1",    /* query */
        "https://k@host/1#f",      /* fragment */
        "https://k@host:0/1",      /* port 0 */
        "https://k@host:65536/1",  /* port too large */
        "https://k@host:8x/1",     /* port not numeric */
        "https://k@ho st/1",       /* blank in host */
        "https://k@host/a b/1",    /* blank in path */
        "https://k@[::1/1",        /* unclosed IPv6 */
        "https://k@host/1\n",      /* control character */
        "https://k@host@other/1",  /* two keys */
        "https://k@h\xc3\xa9st/1", /* not ASCII */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sentry_dsn_parse(bad[i], &d) != GV_EINVALID_REQUEST)
            fail_msg("accepted %s", bad[i]);
    char why[128];
    assert_int_equal(report_sentry_check("", why, sizeof(why)), 0);
    assert_int_equal(report_sentry_check("https://k@host/1", why, sizeof(why)), 0);
    assert_int_equal(report_sentry_check("https://host/1", why, sizeof(why)), GV_EINVALID_REQUEST);
    assert_non_null(strstr(why, "--sentry-dsn must look like https://"));
}

static void test_auth_header(void **state)
{
    (void)state;
    sentry_dsn_t d;
    char h[200];
    assert_int_equal(sentry_dsn_parse("https://pubkey@host/1", &d), 0);
    assert_int_equal(sentry_auth_header(&d, "1.2.3", h, sizeof(h)), 0);
    assert_string_equal(h, "X-Sentry-Auth: Sentry sentry_version=7, sentry_key=pubkey, "
                           "sentry_client=gavel/1.2.3");
    assert_int_equal(sentry_auth_header(&d, "1.2.3", h, 20), GV_ELIMIT);
}

/* ---- the envelope --------------------------------------------------------------------------- */

static json_t *parse_line(const char *s, size_t n)
{
    json_error_t e;
    json_t *v = json_loadb(s, n, 0, &e);
    if (!v)
        fail_msg("not JSON (%s): %.*s", e.text, (int)n, s);
    return v;
}

static const char *str(json_t *obj, const char *path1, const char *path2)
{
    json_t *v = json_object_get(obj, path1);
    if (path2)
        v = json_object_get(v, path2);
    if (!json_is_string(v))
        fail_msg("%s.%s is not a string", path1, path2 ? path2 : "");
    return json_string_value(v);
}

static void test_envelope(void **state)
{
    (void)state;
    sentry_dsn_t d;
    assert_int_equal(sentry_dsn_parse("http://pub@127.0.0.1:9/5", &d), 0);
    report_t r = {.kind = REPORT_HTTP_5XX,
                  .rid = "rid-7",
                  .method = "POST",
                  .route = "/api/auctions/{id}/bids",
                  .path = "/api/auctions/au_1/bids",
                  .status = 503,
                  .err = GV_EUNAVAILABLE,
                  .context = "busy"};
    sentry_meta_t meta = {.now_ms = 1764529200123LL, .release = "1.2.3", .server_name = "web-1"};
    assert_int_equal(sentry_event_id(meta.event_id), 0);
    buf_t out;
    buf_init(&out);
    assert_int_equal(sentry_envelope_build(&d, &r, &meta, &out), 0);
    char *l1 = out.data, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    char *end = strchr(l3, '\n');
    assert_ptr_equal(end, out.data + out.len - 1); /* three lines, each ended by '\n' */
    json_t *head = parse_line(l1, (size_t)(l2 - l1 - 1));
    json_t *item = parse_line(l2, (size_t)(l3 - l2 - 1));
    json_t *ev = parse_line(l3, (size_t)(end - l3));
    assert_string_equal(str(head, "event_id", NULL), meta.event_id);
    assert_string_equal(str(head, "dsn", NULL), "http://pub@127.0.0.1:9/5");
    assert_string_equal(str(head, "sent_at", NULL), "2025-11-30T19:00:00.123Z");
    assert_string_equal(str(item, "type", NULL), "event");
    assert_int_equal(json_integer_value(json_object_get(item, "length")), end - l3);
    assert_string_equal(str(ev, "event_id", NULL), meta.event_id);
    assert_string_equal(str(ev, "timestamp", NULL), "2025-11-30T19:00:00.123Z");
    assert_string_equal(str(ev, "level", NULL), "error");
    assert_string_equal(str(ev, "platform", NULL), "c");
    assert_string_equal(str(ev, "logger", NULL), "gavel");
    assert_string_equal(str(ev, "message", NULL),
                        "http_5xx 503 unavailable POST /api/auctions/{id}/bids");
    assert_string_equal(str(ev, "tags", "kind"), "http_5xx");
    assert_string_equal(str(ev, "tags", "route"), "/api/auctions/{id}/bids");
    assert_string_equal(str(ev, "tags", "status"), "503");
    assert_string_equal(str(ev, "tags", "code"), "unavailable");
    assert_string_equal(str(ev, "extra", "rid"), "rid-7");
    assert_string_equal(str(ev, "extra", "context"), "busy");
    assert_string_equal(str(ev, "extra", "path"), "/api/auctions/au_1/bids");
    assert_string_equal(str(ev, "extra", "err"), "UNAVAILABLE");
    assert_string_equal(str(ev, "release", NULL), "gavel@1.2.3");
    assert_string_equal(str(ev, "server_name", NULL), "web-1");
    json_decref(head);
    json_decref(item);
    json_decref(ev);
    buf_deinit(&out);
}

static void test_event_ids_are_random_hex(void **state)
{
    (void)state;
    char a[33], b[33];
    assert_int_equal(sentry_event_id(a), 0);
    assert_int_equal(sentry_event_id(b), 0);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    assert_string_not_equal(a, b);
}

/* ---- the rate limit ------------------------------------------------------------------------- */

static void test_rate_limit_slides(void **state)
{
    (void)state;
    sentry_rate_t r = {0};
    for (int i = 0; i < SENTRY_RATE_MAX; i++)
        assert_true(sentry_rate_allow(&r, 1000 + i * 100));
    assert_false(sentry_rate_allow(&r, 1950));
    assert_false(sentry_rate_allow(&r, 1000 + SENTRY_RATE_WINDOW_MS - 1));
    assert_true(sentry_rate_allow(&r, 1000 + SENTRY_RATE_WINDOW_MS)); /* the first left */
    assert_false(sentry_rate_allow(&r, 1000 + SENTRY_RATE_WINDOW_MS + 50));
    assert_true(sentry_rate_allow(&r, 1100 + SENTRY_RATE_WINDOW_MS)); /* the second left */
    assert_true(sentry_rate_allow(&r, 100000));
}

/* ---- a Sentry that never answers ------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_sender_with_a_silent_sink(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0); /* connections complete in the backlog, nothing answers */
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    char dsn_text[80];
    snprintf(dsn_text, sizeof(dsn_text), "http://k@127.0.0.1:%d/1", ntohs(a.sin_port));
    sentry_dsn_t dsn;
    assert_int_equal(sentry_dsn_parse(dsn_text, &dsn), 0);
    assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    sentry_sender_t *s;
    assert_int_equal(sentry_sender_new(&s, &dsn, "test"), 0);
    int64_t t0 = mono_ms();
    int accepted = 0;
    for (int i = 0; i < SENTRY_RATE_MAX + 3; i++)
        accepted += sentry_sender_post(s, strdup("{}\n"), 3) == 0;
    assert_true(mono_ms() - t0 < 500); /* posting never waits for the network */
    assert_int_equal(accepted, SENTRY_RATE_MAX);
    report_stats_t st;
    sentry_sender_stats(s, &st);
    assert_int_equal(st.dropped, 3);
    t0 = mono_ms();
    sentry_sender_stop(s);
    int64_t took = mono_ms() - t0;
    assert_true(took < SENTRY_STOP_GRACE_MS + 1500); /* the transfer in flight is cut */
    sentry_sender_stats(s, &st);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.dropped, 3 + SENTRY_RATE_MAX - 1);
    assert_int_not_equal(sentry_sender_post(s, strdup("late"), 4), 0);
    sentry_sender_free(s);
    sentry_sender_free(NULL);
    close(fd);
    curl_global_cleanup();
}

/* ---- the fatal-signal handler -------------------------------------------------------------- */

/* In a child: no core file, stderr into the pipe, the sanitizer's own SIGSEGV handler (if any)
 * replaced by the default, the handler installed, one buffered log line, then a real fault: a
 * write to a page that forbids it. */
static void crash_child(int fd, log_format_t format)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    dup2(fd, STDERR_FILENO);
    signal(SIGSEGV, SIG_DFL);
    log_set_format(format);
    log_set_buffered(1);
    log_info("last words before the crash");
    if (crash_handler_install(format, "v1.2-3\"x") != 0)
        _exit(3);
    volatile char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        _exit(4);
    page[8] = 1;
    _exit(5); /* not reached: the fault kills the child */
}

/* Runs crash_child and returns what it wrote; *status is its wait status. */
static char *crash_run(log_format_t format, int *status, pid_t *pid)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    *pid = fork();
    assert_true(*pid >= 0);
    if (*pid == 0) {
        close(p[0]);
        crash_child(p[1], format);
    }
    close(p[1]);
    static char text[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(text) - 1 && (r = read(p[0], text + n, sizeof(text) - 1 - n)) > 0)
        n += (size_t)r;
    text[n] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(*pid, status, 0), *pid);
    return text;
}

static void test_crash_line_on_a_real_fault(void **state)
{
    (void)state;
    int status;
    pid_t pid;
    char *text = crash_run(LOG_FORMAT_LOGFMT, &status, &pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSEGV); /* the fault ran again, under SIG_DFL */
    char *first = strstr(text, "last words before the crash\n");
    char *last = strstr(text, " level=error error report kind=fatal_signal signal=SIGSEGV pid=");
    assert_non_null(first);
    assert_non_null(last);
    assert_true(first < last); /* what the log buffered comes first */
    char want[64];
    snprintf(want, sizeof(want), "pid=%ld version=v1.2-3_x\n", (long)pid);
    assert_non_null(strstr(last, want));
    /* the timestamp is now, in the logger's format */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char day[16];
    strftime(day, sizeof(day), "%Y-%m-%dT", &tm);
    char *ts = last - 24;
    assert_memory_equal(ts - 3, "ts=", 3);
    assert_memory_equal(ts, day, 11);
    assert_true(ts[13] == ':' && ts[19] == '.' && ts[23] == 'Z');
}

static void test_crash_line_as_json(void **state)
{
    (void)state;
    int status;
    pid_t pid;
    char *text = crash_run(LOG_FORMAT_JSON, &status, &pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    json_t *buffered = parse_line(text, (size_t)(nl - text));
    assert_string_equal(str(buffered, "msg", NULL), "last words before the crash");
    json_decref(buffered);
    char *end = strchr(nl + 1, '\n');
    assert_non_null(end);
    assert_int_equal(end[1], '\0');
    json_t *o = parse_line(nl + 1, (size_t)(end - nl - 1));
    assert_string_equal(str(o, "level", NULL), "error");
    assert_string_equal(str(o, "msg", NULL), "error report");
    assert_string_equal(str(o, "kind", NULL), "fatal_signal");
    assert_string_equal(str(o, "signal", NULL), "SIGSEGV");
    assert_string_equal(str(o, "version", NULL), "v1.2-3_x");
    assert_int_equal(atol(str(o, "pid", NULL)), pid);
    assert_int_equal(strlen(str(o, "ts", NULL)), 24);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrub_removes_emails_and_tokens),
        cmocka_unit_test(test_scrub_keeps_ids_names_and_routes),
        cmocka_unit_test(test_scrub_makes_one_logfmt_value),
        cmocka_unit_test(test_report_line),
        cmocka_unit_test(test_dsn_parse),
        cmocka_unit_test(test_auth_header),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_event_ids_are_random_hex),
        cmocka_unit_test(test_rate_limit_slides),
        cmocka_unit_test(test_sender_with_a_silent_sink),
        cmocka_unit_test(test_crash_line_on_a_real_fault),
        cmocka_unit_test(test_crash_line_as_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
