/* libFuzzer target: arbitrary bytes from a client, over one connection, into the real server:
 * llhttp and the connection's limits, the router with every route of the API, the real handlers
 * on a real SQLite store (seeded with users, leagues and a running auction: tests/fuzz/fuzz_app.h),
 * deferred answers after the group commit, the static fallback, and the WebSocket hand-over with
 * the API's message handlers (GET /ws with upgrade headers, then masked frames).
 *
 * Input: the bytes the client sends, split into pieces of varying size. Placeholders are
 * replaced first (fz_expand): "@A" by the seeded auction's id and "@F" by a fixture's (both random
 * per process), "@0".."@4" by the access tokens of usr_fzadmin, usr_fzcomm, usr_fzmgr, usr_fzspec
 * and usr_fzout, "@5" by an expired one, so "Authorization: Bearer @2" authenticates a manager
 * (inside a body this changes its length: one more mismatch to fuzz). A time mark "@+N;" (N: 1 to
 * 9 digits) is not sent: there the client waits until the server has answered what came before,
 * then N ms of fake time pass and the auction timers then due run (lots close, the next ones
 * open), so one input can bid, let the lot end and read the results. tests/fuzz/fuzz_http.dict
 * lists the placeholders with the routes.
 *
 * Checks: everything the server sends parses as HTTP/1.1 responses (status line, header lines,
 * Content-Length matching the body), no 5xx but 503 (also seen through the server's per-response
 * observer), every 4xx/5xx carries the API's JSON error body, the connection ends within a bounded
 * number of loop turns, and nothing crashes, leaks or trips a sanitizer. After each input the
 * seeded state is put back (fz_app_reset). */
#include "fuzz_app.h"

#define FZ_MAX_INPUT (256 * 1024)
#define FZ_MAX_SEGMENTS 16

/* The length of a time mark "@+N;" at d[0..n), 0 when there is none; its N in *ms. */
static size_t fz_time_mark(const uint8_t *d, size_t n, int64_t *ms)
{
    size_t i = 2;
    if (n < 4 || d[0] != '@' || d[1] != '+')
        return 0;
    for (*ms = 0; i < n && i < 11 && d[i] >= '0' && d[i] <= '9'; i++)
        *ms = *ms * 10 + (d[i] - '0');
    return i > 2 && i < n && d[i] == ';' ? i + 1 : 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_app_init("fuzz_http", NULL, NULL, NULL);
    return 0;
}

/* Splits data at its time marks into segs (the last one takes the rest when there are more than
 * FZ_MAX_SEGMENTS), each expanded into texts[i]. Returns the number of segments; 0 when the
 * input is too large. */
static size_t fz_segments(const uint8_t *data, size_t size, fz_segment_t *segs, char **texts)
{
    size_t n = 0, start = 0, total = 0;
    int64_t step = 0;
    for (;;) {
        int64_t ms = 0;
        size_t mark = 0, j = start, len = 0;
        while (j < size &&
               !(n + 1 < FZ_MAX_SEGMENTS && (mark = fz_time_mark(data + j, size - j, &ms)) != 0))
            j++;
        texts[n] = fz_expand(data + start, j - start, FZ_MAX_INPUT, &len);
        if (!texts[n] || (total += len) > FZ_MAX_INPUT) {
            free(texts[n]);
            while (n > 0)
                free(texts[--n]);
            return 0;
        }
        segs[n] = (fz_segment_t){texts[n], len, step};
        n++;
        if (j >= size)
            return n;
        step = ms;
        start = j + mark;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_segment_t segs[FZ_MAX_SEGMENTS];
    char *texts[FZ_MAX_SEGMENTS];
    size_t n = fz_segments(data, size, segs, texts);
    buf_t out;
    buf_init(&out);
    if (n && fz_app_exchange(segs, n, &out))
        fz_responses_check(out.data, out.len);
    buf_deinit(&out);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    fz_app_reset();
    return 0;
}
