/* Mailer: the RFC 5322/MIME message it builds (decoded back by an independent QP/base64 decoder
 * here), config validation, and real SMTP exchanges with an in-process SMTP sink on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "auth/mailer.h"
#include "core/buf.h"
#include "core/err.h"

#define FROM "noreply@gavel.example"
#define MSGID "<0123456789abcdef@gavel.example>"
#define NOW_MS 1700000000000LL /* Tue, 14 Nov 2023 22:13:20 UTC */
#define LINK                                                                                       \
    "https://gavel.example.com/signin?email=someone%40example.com&token="                          \
    "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8"

/* ---- helpers: an independent decoder ------------------------------------------------------ */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* qp_decode decodes n bytes of quoted-printable like a conforming reader (RFC 2045 6.7): a
 * soft break joins lines and literal trailing whitespace on a line is dropped, so an encoder
 * that leaves it unencoded fails here. A malformed escape fails the test. */
static void qp_decode(const char *in, size_t n, buf_t *out)
{
    size_t lit_ws = 0; /* literal spaces/tabs at the end of out since the last other byte */
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') {
            out->len -= lit_ws;
            lit_ws = 0;
            assert_int_equal(buf_append(out, "\r\n", 2), 0);
            i++;
            continue;
        }
        if (in[i] != '=') {
            lit_ws = (in[i] == ' ' || in[i] == '\t') ? lit_ws + 1 : 0;
            assert_int_equal(buf_append(out, in + i, 1), 0);
            continue;
        }
        assert_true(i + 2 < n);
        lit_ws = 0;
        if (in[i + 1] == '\r' && in[i + 2] == '\n') {
            i += 2; /* soft line break */
            continue;
        }
        int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
        assert_true(hi >= 0 && lo >= 0);
        char c = (char)(hi * 16 + lo);
        assert_int_equal(buf_append(out, &c, 1), 0);
        i += 2;
    }
    out->len -= lit_ws;
    if (out->data)
        out->data[out->len] = '\0';
}

static size_t b64_decode(const char *in, size_t n, unsigned char *out)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t len = 0;
    for (size_t i = 0; i < n && in[i] != '='; i++) {
        const char *p = strchr(alpha, in[i]);
        assert_non_null(p);
        acc = (acc << 6) | (uint32_t)(p - alpha);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (unsigned char)(acc >> bits);
        }
    }
    return len;
}

/* LF not preceded by CR becomes CRLF: what the encoder promises to deliver. */
static void crlf_normalize(const char *in, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
            assert_int_equal(buf_append(out, "\r", 1), 0);
        assert_int_equal(buf_append(out, in + i, 1), 0);
    }
}

/* header_value returns a malloc'd copy of the (unfolded) value of header name, or NULL. */
static char *header_value(const char *msg, const char *name)
{
    const char *end = strstr(msg, "\r\n\r\n");
    size_t nlen = strlen(name);
    for (const char *p = msg; p && p < end; p = strstr(p, "\r\n") + 2) {
        if (strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
            buf_t v;
            buf_init(&v);
            const char *q = p + nlen + 1;
            while (*q == ' ')
                q++;
            for (; !(q[0] == '\r' && q[2] != ' ' && q[2] != '\t'); q++)
                if (*q != '\r' && *q != '\n')
                    buf_append(&v, q, 1);
            return buf_steal(&v);
        }
    }
    return NULL;
}

static void boundary_of(const char *msg, char *out, size_t cap)
{
    char *ct = header_value(msg, "Content-Type");
    assert_non_null(ct);
    assert_non_null(strstr(ct, "multipart/alternative"));
    const char *b = strstr(ct, "boundary=\"");
    assert_non_null(b);
    b += 10;
    size_t n = strcspn(b, "\"");
    assert_true(n > 0 && n < cap);
    memcpy(out, b, n);
    out[n] = '\0';
    free(ct);
}

/* part_decode finds MIME part idx (0-based), checks its content type, decodes its QP body. */
static void part_decode(const char *msg, int idx, const char *type, buf_t *out)
{
    char boundary[128], delim[140];
    boundary_of(msg, boundary, sizeof(boundary));
    snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    const char *p = strstr(msg, delim);
    for (int i = 0; i < idx && p; i++)
        p = strstr(p + 1, delim);
    assert_non_null(p);
    const char *headers = p + strlen(delim) + 2;
    const char *body = strstr(headers, "\r\n\r\n");
    assert_non_null(body);
    char want[128];
    snprintf(want, sizeof(want), "Content-Type: %s; charset=utf-8", type);
    assert_non_null(strstr(headers, want));
    assert_true(strstr(headers, "Content-Transfer-Encoding: quoted-printable") < body);
    body += 4;
    const char *end = strstr(body, delim);
    assert_non_null(end);
    qp_decode(body, (size_t)(end - body), out);
}

static void assert_crlf_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            assert_true(i > 0 && s[i - 1] == '\r');
        if (s[i] == '\r')
            assert_true(i + 1 < n && s[i + 1] == '\n');
    }
}

static void assert_lines_at_most(const char *s, size_t max)
{
    for (const char *line = s; *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > max)
            fail_msg("line of %zu chars > %zu: %.*s", len, max, (int)len, line);
        line = eol ? eol + 2 : line + len;
    }
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void format(buf_t *out, const char *to, const char *subject, const char *text,
                   const char *html)
{
    buf_init(out);
    assert_int_equal(mailer_format(out, FROM, to, subject, text, html, NOW_MS, MSGID), 0);
}

/* ---- mailer_format --------------------------------------------------------------------- */

static void test_format_headers_crlf(void **state)
{
    (void)state;
    buf_t m;
    format(&m, "ann@example.com", "Your Gavel sign-in link", "Hi\nthere\n", "<p>Hi</p>\n");
    assert_crlf_only(m.data, m.len);
    assert_lines_at_most(m.data, 78);
    const char *names[] = {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version"};
    const char *values[] = {FROM,
                            "ann@example.com",
                            "Your Gavel sign-in link",
                            "Tue, 14 Nov 2023 22:13:20 +0000",
                            MSGID,
                            "1.0"};
    for (size_t i = 0; i < 6; i++) {
        char *v = header_value(m.data, names[i]);
        assert_non_null(v);
        assert_string_equal(v, values[i]);
        free(v);
    }
    /* headers end with an empty line, the message ends with the close delimiter */
    assert_non_null(strstr(m.data, "\r\n\r\n"));
    assert_true(m.len > 4 && memcmp(m.data + m.len - 4, "--\r\n", 4) == 0);
    buf_deinit(&m);
}

static void test_format_date_leap_day(void **state)
{
    (void)state;
    buf_t m;
    buf_init(&m);
    /* 2024-02-29T23:59:59Z, a Thursday */
    assert_int_equal(mailer_format(&m, FROM, "a@b.c", "s", "t", "h", 1709251199000LL, MSGID), 0);
    char *d = header_value(m.data, "Date");
    assert_string_equal(d, "Thu, 29 Feb 2024 23:59:59 +0000");
    free(d);
    buf_deinit(&m);
}

static void test_format_header_injection_refused(void **state)
{
    (void)state;
    buf_t m;
    buf_init(&m);
    assert_int_equal(buf_puts(&m, "keep"), 0);
    const char *bad_to[] = {"a@b.c\r\nBcc: victim@x.y", "a@b.c\nBcc: v@x.y", "a@b.c\r"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(mailer_format(&m, FROM, bad_to[i], "s", "t", "h", NOW_MS, MSGID),
                         GV_EINVALID_REQUEST);
    assert_int_equal(mailer_format(&m, FROM, "a@b.c", "hi\r\nBcc: v@x.y", "t", "h", NOW_MS, MSGID),
                     GV_EINVALID_REQUEST);
    assert_int_equal(mailer_format(&m, FROM, "a@b.c", "hi\nthere", "t", "h", NOW_MS, MSGID),
                     GV_EINVALID_REQUEST);
    assert_int_equal(mailer_format(&m, "x@y.z\r\nTo: v@x.y", "a@b.c", "s", "t", "h", NOW_MS, MSGID),
                     GV_EINVALID_REQUEST);
    assert_int_equal(mailer_format(&m, FROM, "a@b.c", "s", "t", "h", NOW_MS, "<a@b>\r\nX: y"),
                     GV_EINVALID_REQUEST);
    /* nothing was written */
    assert_int_equal(m.len, 4);
    assert_string_equal(m.data, "keep");
    buf_deinit(&m);
}

/* subject_decode joins the RFC 2047 encoded-words of the Subject header. */
static void subject_decode(const char *msg, buf_t *out)
{
    char *v = header_value(msg, "Subject");
    assert_non_null(v);
    const char *p = v;
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        p += 10;
        const char *end = strstr(p, "?=");
        assert_non_null(end);
        unsigned char word[128];
        size_t n = b64_decode(p, (size_t)(end - p), word);
        /* each word holds whole characters: it never starts with a continuation byte */
        assert_true(n > 0 && (word[0] & 0xC0) != 0x80);
        assert_int_equal(buf_append(out, word, n), 0);
        p = end + 2;
    }
    free(v);
}

static void test_format_subject_non_ascii_encoded(void **state)
{
    (void)state;
    const char *subjects[] = {
        "Enchères: votre lien de connexion",
        ("Długi temat z polskimi znakami: zażółć gęślą jaźń, i jeszcze trochę więcej tekstu "
         "żeby przekroczyć limit — ✓ 日本語のテキストも"),
        /* 2-byte characters from offset 0: every 39-byte cut falls inside one */
        "éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
        "a✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓", /* 3-byte, shifted by one */
    };
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        buf_t m, dec;
        format(&m, "a@b.c", subjects[i], "t", "h");
        buf_init(&dec);
        const char *hdr = strstr(m.data, "Subject:");
        const char *body = strstr(m.data, "\r\n\r\n");
        for (const char *p = m.data; p < body; p++)
            assert_true((unsigned char)*p < 0x80); /* headers are 7-bit */
        assert_non_null(strstr(hdr, "=?UTF-8?B?"));
        assert_lines_at_most(m.data, 78);
        subject_decode(m.data, &dec);
        assert_int_equal(dec.len, strlen(subjects[i]));
        assert_memory_equal(dec.data, subjects[i], dec.len);
        buf_deinit(&dec);
        buf_deinit(&m);
    }
}

static void assert_qp_roundtrip(const char *text, const char *html)
{
    buf_t m, got, want;
    format(&m, "a@b.c", "s", text, html);
    assert_crlf_only(m.data, m.len);
    assert_lines_at_most(m.data, 76 + 2); /* QP lines <= 76; headers checked elsewhere */
    const char *src[] = {text, html};
    const char *types[] = {"text/plain", "text/html"};
    for (int i = 0; i < 2; i++) {
        buf_init(&got);
        buf_init(&want);
        part_decode(m.data, i, types[i], &got);
        crlf_normalize(src[i], strlen(src[i]), &want);
        assert_int_equal(got.len, want.len);
        if (want.len)
            assert_memory_equal(got.data, want.data, want.len);
        buf_deinit(&got);
        buf_deinit(&want);
    }
    /* every body line is within the QP limit */
    const char *body = strstr(m.data, "\r\n\r\n") + 4;
    assert_lines_at_most(body, 76);
    buf_deinit(&m);
}

static void test_format_qp_roundtrip_long_link(void **state)
{
    (void)state;
    const char *text = "Hello Zoë,\n\nSign in to Gavel with this link:\n\n" LINK "\n\n"
                       "a=b==c ==== =3D =\n"
                       "trailing space \ntab\tend\t\n"
                       ".leading dot\n.\n"
                       "crlf line\r\n"
                       "==================================================================="
                       "==========\n"
                       "last line without newline";
    const char *html = "<p>Sign in:</p><p><a href=\"" LINK "\">Sign in to Gavel</a></p>\n"
                       "<p style=\"color:#333\">If you did not ask for it, ignore it.</p>";
    assert_qp_roundtrip(text, html);
    /* the link is split by soft breaks in the raw message but intact after decoding */
    buf_t m, got;
    format(&m, "a@b.c", "s", text, html);
    assert_null(strstr(m.data, LINK));
    buf_init(&got);
    part_decode(m.data, 0, "text/plain", &got);
    assert_non_null(strstr(got.data, LINK));
    buf_deinit(&got);
    buf_deinit(&m);
}

static void test_format_qp_roundtrip_random(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    char text[600];
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 2) % sizeof(text);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) % 20;
            /* bias towards the interesting bytes: line ends, '=', spaces, dots, high bytes */
            const char pick[] = {'\n', '\r', '=', ' ', '\t', '.', 'a', '-'};
            text[i] = r < 8 ? pick[r] : (char)(1 + (seed >> 8) % 255);
        }
        text[n] = '\0';
        assert_qp_roundtrip(text, text);
    }
}

static void test_format_boundary_only_delimiters(void **state)
{
    (void)state;
    buf_t m;
    char boundary[128], hostile[512];
    format(&m, "a@b.c", "s", "t", "h");
    boundary_of(m.data, boundary, sizeof(boundary));
    buf_deinit(&m);
    /* the same message id gives the same boundary: put it, as a delimiter, in both bodies */
    snprintf(hostile, sizeof(hostile), "x\n--%s\nContent-Type: text/evil\n\n--%s--\n%s", boundary,
             boundary, boundary);
    format(&m, "a@b.c", "s", hostile, hostile);
    char again[128];
    boundary_of(m.data, again, sizeof(again));
    assert_string_equal(again, boundary);
    /* once in the Content-Type parameter, then exactly the three delimiters */
    assert_int_equal(count_of(m.data, boundary), 4);
    char delim[140];
    snprintf(delim, sizeof(delim), "\r\n--%s\r\n", boundary);
    assert_int_equal(count_of(m.data, delim), 2);
    snprintf(delim, sizeof(delim), "\r\n--%s--\r\n", boundary);
    assert_int_equal(count_of(m.data, delim), 1);
    buf_deinit(&m);
    assert_qp_roundtrip(hostile, hostile);
}

/* ---- mailer_new / mailer_send validation ------------------------------------------------ */

static void test_new_validation(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    mailer_t *m = (mailer_t *)&loop; /* must be reset to NULL on failure */
    struct {
        const char *url, *from;
        int want;
    } cases[] = {
        {"http://mail.example.com", FROM, GV_EINVALID_REQUEST},
        {"ftp://mail.example.com", FROM, GV_EINVALID_REQUEST},
        {"smtpx://mail.example.com", FROM, GV_EINVALID_REQUEST},
        {"smtp://", FROM, GV_EINVALID_REQUEST},
        {"smtp://user:secret@mail.example.com", FROM, GV_EINVALID_REQUEST},
        {"smtp://mail.example.com\r\n", FROM, GV_EINVALID_REQUEST},
        {NULL, FROM, GV_EINVALID_REQUEST},
        {"smtp://mail.example.com", NULL, GV_EINVALID_REQUEST},
        {"smtp://mail.example.com", "", GV_EINVALID_REQUEST},
        {"smtp://mail.example.com", "noreply", GV_EINVALID_REQUEST},
        {"smtp://mail.example.com", "noreply@", GV_EINVALID_REQUEST},
        {"smtp://mail.example.com", "a@b.c\r\nBcc: x@y.z", GV_EINVALID_REQUEST},
        {"smtp://mail.example.com", "a@b.c>\r\nRCPT TO:<x@y.z", GV_EINVALID_REQUEST},
        {"smtp://mail.example.com", "Gavel <a@b.c>", GV_EINVALID_REQUEST},
        {"smtp://mail.example.com:2525", FROM, 0},
        {"SMTP://mail.example.com", FROM, 0},
        {"SmTpS://mail.example.com:465/", FROM, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mailer_config_t cfg = {.smtp_url = cases[i].url, .from = cases[i].from};
        int rc = mailer_new(&m, &loop, &cfg);
        if (rc != cases[i].want)
            fail_msg("case %zu (%s, %s): got %d", i, cases[i].url ? cases[i].url : "NULL",
                     cases[i].from ? cases[i].from : "NULL", rc);
        if (rc)
            assert_null(m);
        mailer_free(m);
        m = NULL;
    }
    mailer_config_t bad = {.smtp_url = "smtp://h", .from = FROM, .max_attempts = -1};
    assert_int_equal(mailer_new(&m, &loop, &bad), GV_EINVALID_REQUEST);
    bad.max_attempts = 11;
    assert_int_equal(mailer_new(&m, &loop, &bad), GV_EINVALID_REQUEST);
    bad.max_attempts = 0;
    bad.timeout_s = -5;
    assert_int_equal(mailer_new(&m, &loop, &bad), GV_EINVALID_REQUEST);
    mailer_free(NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

typedef struct {
    int calls;
    int status;
    char detail[256];
} done_t;

static void on_done(int status, const char *detail, void *ctx)
{
    done_t *d = ctx;
    d->calls++;
    d->status = status;
    snprintf(d->detail, sizeof(d->detail), "%s", detail ? detail : "(null)");
}

static void test_send_rejects_injection(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    mailer_t *m;
    mailer_config_t cfg = {.smtp_url = "smtp://127.0.0.1:1", .from = FROM};
    assert_int_equal(mailer_new(&m, &loop, &cfg), 0);
    done_t d = {0};
    assert_int_equal(mailer_send(m, "a@b.c\r\nBcc: v@x.y", "s", "t", "h", on_done, &d),
                     GV_EINVALID_REQUEST);
    assert_int_equal(mailer_send(m, "a@b.c>\nRCPT TO:<v@x.y", "s", "t", "h", on_done, &d),
                     GV_EINVALID_REQUEST);
    assert_int_equal(mailer_send(m, "a@b.c", "s\r\nBcc: v@x.y", "t", "h", on_done, &d),
                     GV_EINVALID_REQUEST);
    assert_int_equal(mailer_send(m, "not-an-address", "s", "t", "h", on_done, &d),
                     GV_EINVALID_REQUEST);
    /* no CR/LF, but would break out of the envelope's <...> */
    assert_int_equal(mailer_send(m, "a@b.c>,<v@x.y", "s", "t", "h", on_done, &d),
                     GV_EINVALID_REQUEST);
    /* an error return never calls done and queues nothing */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(d.calls, 0);
    mailer_free(m);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- an SMTP sink: a real socket server in a thread ------------------------------------- */

typedef struct {
    int lfd;
    int port;
    int rcpt_code; /* 250, or 554 to refuse every recipient */
    atomic_int stop;
    int sessions;
    char mail_from[256];
    char rcpt[256];
    buf_t data; /* the last DATA, dot-unstuffed */
    buf_t raw;  /* every byte the client sent */
    pthread_t thread;
} sink_t;

typedef struct {
    int fd;
    char buf[4096];
    size_t len;
    buf_t *raw;
} reader_t;

/* read_line reads one CRLF-terminated line (without CRLF) into line; -1 on EOF or error. */
static int read_line(reader_t *r, char *line, size_t cap)
{
    for (;;) {
        char *eol = memmem(r->buf, r->len, "\r\n", 2);
        if (eol) {
            size_t n = (size_t)(eol - r->buf);
            size_t keep = n < cap - 1 ? n : cap - 1;
            memcpy(line, r->buf, keep);
            line[keep] = '\0';
            memmove(r->buf, eol + 2, r->len - n - 2);
            r->len -= n + 2;
            return (int)keep;
        }
        if (r->len == sizeof(r->buf))
            return -1;
        ssize_t got = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
        if (got <= 0)
            return -1;
        buf_append(r->raw, r->buf + r->len, (size_t)got);
        r->len += (size_t)got;
    }
}

static void say(int fd, const char *s)
{
    ssize_t n = send(fd, s, strlen(s), MSG_NOSIGNAL);
    (void)n;
}

static void sink_data(sink_t *s, reader_t *r)
{
    char line[2048];
    s->data.len = 0;
    say(r->fd, "354 go ahead\r\n");
    while (read_line(r, line, sizeof(line)) >= 0) {
        if (strcmp(line, ".") == 0) {
            say(r->fd, "250 queued\r\n");
            return;
        }
        const char *l = line[0] == '.' ? line + 1 : line; /* RFC 5321 4.5.2 */
        buf_puts(&s->data, l);
        buf_puts(&s->data, "\r\n");
    }
}

static void sink_session(sink_t *s, int fd)
{
    reader_t r = {.fd = fd, .raw = &s->raw};
    char line[2048];
    say(fd, "220 sink ESMTP\r\n");
    while (read_line(&r, line, sizeof(line)) >= 0) {
        if (strncasecmp(line, "EHLO", 4) == 0)
            say(fd, "250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n");
        else if (strncasecmp(line, "HELO", 4) == 0 || strncasecmp(line, "RSET", 4) == 0 ||
                 strncasecmp(line, "NOOP", 4) == 0)
            say(fd, "250 ok\r\n");
        else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            snprintf(s->mail_from, sizeof(s->mail_from), "%s", line + 10);
            say(fd, "250 ok\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            snprintf(s->rcpt, sizeof(s->rcpt), "%s", line + 8);
            say(fd, s->rcpt_code == 250 ? "250 ok\r\n" : "554 no\r\n");
        } else if (strcasecmp(line, "DATA") == 0)
            sink_data(s, &r);
        else if (strcasecmp(line, "QUIT") == 0) {
            say(fd, "221 bye\r\n");
            break;
        } else
            say(fd, "502 not implemented\r\n");
    }
}

static void *sink_main(void *arg)
{
    sink_t *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        s->sessions++;
        sink_session(s, fd);
        close(fd);
    }
    return NULL;
}

/* bound_socket makes a TCP socket bound to 127.0.0.1 on an ephemeral port. */
static int bound_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void sink_start(sink_t *s, int rcpt_code)
{
    memset(s, 0, sizeof(*s));
    s->rcpt_code = rcpt_code;
    buf_init(&s->data);
    buf_init(&s->raw);
    s->lfd = bound_socket(&s->port);
    assert_int_equal(listen(s->lfd, 8), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, sink_main, s), 0);
}

static void sink_stop(sink_t *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

static bool raw_has(const sink_t *s, const char *lit)
{
    return s->raw.len && memmem(s->raw.data, s->raw.len, lit, strlen(lit)) != NULL;
}

static void sink_free(sink_t *s)
{
    buf_deinit(&s->data);
    buf_deinit(&s->raw);
}

/* send_one sends one mail through a fresh mailer on a real loop and runs it to completion. */
static void send_one(mailer_config_t *cfg, const char *text, done_t *d)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    mailer_t *m;
    assert_int_equal(mailer_new(&m, &loop, cfg), 0);
    const char *html = "<p><a href=\"" LINK "\">Sign in to Gavel</a></p>";
    assert_int_equal(
        mailer_send(m, "bidder@example.org", "Your Gavel sign-in link — ✓", text, html, on_done, d),
        0);
    assert_int_equal(d->calls, 0); /* never called synchronously */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    mailer_free(m);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_smtp_delivers(void **state)
{
    (void)state;
    sink_t s;
    sink_start(&s, 250);
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s.port);
    mailer_config_t cfg = {.smtp_url = url, .from = FROM, .timeout_s = 5};
    const char *text = "Sign in to Gavel with this link:\n\n" LINK "\n.\n..two dots\n.x\nbye\n";
    done_t d = {0};
    send_one(&cfg, text, &d);
    sink_stop(&s);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, 0);
    assert_string_equal(d.detail, "(null)");
    assert_int_equal(s.sessions, 1);
    assert_string_equal(s.mail_from, "<" FROM ">");
    assert_string_equal(s.rcpt, "<bidder@example.org>");
    /* curl dot-stuffed the lines that start with '.' (RFC 5321 4.5.2) */
    assert_true(raw_has(&s, "\r\n..\r\n"));
    assert_true(raw_has(&s, "\r\n...two dots\r\n"));
    assert_true(raw_has(&s, "\r\n..x\r\n"));
    /* the received message, after SMTP dot-unstuffing, is intact */
    char *to = header_value(s.data.data, "To");
    assert_string_equal(to, "bidder@example.org");
    free(to);
    buf_t subj, body, want;
    buf_init(&subj);
    subject_decode(s.data.data, &subj);
    assert_string_equal(subj.data, "Your Gavel sign-in link — ✓");
    char *mid = header_value(s.data.data, "Message-ID");
    assert_int_equal(strlen(mid), 2 + 32 + 1 + strlen("gavel.example"));
    assert_non_null(strstr(mid, "@gavel.example>"));
    free(mid);
    buf_init(&body);
    buf_init(&want);
    part_decode(s.data.data, 0, "text/plain", &body);
    crlf_normalize(text, strlen(text), &want);
    assert_string_equal(body.data, want.data); /* lines "." and ".x" survived the transport */
    buf_deinit(&body);
    part_decode(s.data.data, 1, "text/html", &body);
    assert_non_null(strstr(body.data, "href=\"" LINK "\""));
    buf_deinit(&body);
    buf_deinit(&want);
    buf_deinit(&subj);
    sink_free(&s);
}

static void test_smtp_nothing_listening_unavailable(void **state)
{
    (void)state;
    int port;
    int fd = bound_socket(&port); /* bound, never listening: connections are refused */
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
    /* a password that curl's error text would contain if it were ever let through */
    mailer_config_t cfg = {.smtp_url = url,
                           .from = FROM,
                           .user = "mailuser",
                           .password = "127.0.0.1",
                           .max_attempts = 2,
                           .timeout_s = 2};
    done_t d = {0};
    send_one(&cfg, "text " LINK, &d);
    close(fd);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, GV_EUNAVAILABLE);
    assert_non_null(strstr(d.detail, "after 2 attempts"));
    assert_null(strstr(d.detail, "127.0.0.1"));
    assert_null(strstr(d.detail, "mailuser"));
    assert_null(strstr(d.detail, "bidder"));
    assert_null(strstr(d.detail, "token"));
}

static void test_smtp_rcpt_refused_retries_each_attempt(void **state)
{
    (void)state;
    sink_t s;
    sink_start(&s, 554);
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s.port);
    mailer_config_t cfg = {.smtp_url = url, .from = FROM, .max_attempts = 2, .timeout_s = 2};
    done_t d = {0};
    send_one(&cfg, "text " LINK, &d);
    sink_stop(&s);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, GV_EUNAVAILABLE);
    assert_int_equal(s.sessions, 2);
    assert_int_equal(s.data.len, 0); /* never got to DATA */
    assert_null(strstr(d.detail, "bidder"));
    assert_null(strstr(d.detail, "token"));
    sink_free(&s);
}

static void test_smtp_credentials_never_sent_without_tls(void **state)
{
    (void)state;
    sink_t s;
    sink_start(&s, 250); /* offers no STARTTLS */
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", s.port);
    mailer_config_t cfg = {.smtp_url = url,
                           .from = FROM,
                           .user = "mailuser",
                           .password = "hunter2-secret",
                           .max_attempts = 1,
                           .timeout_s = 2};
    done_t d = {0};
    send_one(&cfg, "text " LINK, &d);
    sink_stop(&s);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, GV_EUNAVAILABLE);
    assert_int_equal(s.sessions, 1);
    assert_false(raw_has(&s, "AUTH"));
    assert_false(raw_has(&s, "MAIL FROM"));
    assert_null(strstr(d.detail, "hunter2"));
    sink_free(&s);
}

static int teardown_curl(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_headers_crlf),
        cmocka_unit_test(test_format_date_leap_day),
        cmocka_unit_test(test_format_header_injection_refused),
        cmocka_unit_test(test_format_subject_non_ascii_encoded),
        cmocka_unit_test(test_format_qp_roundtrip_long_link),
        cmocka_unit_test(test_format_qp_roundtrip_random),
        cmocka_unit_test(test_format_boundary_only_delimiters),
        cmocka_unit_test(test_new_validation),
        cmocka_unit_test(test_send_rejects_injection),
        cmocka_unit_test(test_smtp_delivers),
        cmocka_unit_test(test_smtp_nothing_listening_unavailable),
        cmocka_unit_test(test_smtp_rcpt_refused_retries_each_attempt),
        cmocka_unit_test(test_smtp_credentials_never_sent_without_tls),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_curl);
}
