/* RFC 4180 CSV reader: a small state machine over a borrowed buffer. The whole text is checked
 * for UTF-8 and its line count first, so a bad file yields no record at all. */
#include "core/csv.h"

#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void csv_limits_defaults(csv_limits_t *lim)
{
    lim->max_fields = CSV_MAX_FIELDS;
    lim->max_field_bytes = CSV_MAX_FIELD_BYTES;
    lim->max_lines = CSV_MAX_LINES;
}

void csv_reader_init(csv_reader_t *r, const char *text, size_t len, const csv_limits_t *lim)
{
    memset(r, 0, sizeof(*r));
    r->text = text != NULL ? text : "";
    r->len = text != NULL ? len : 0;
    r->line = 1;
    if (lim != NULL)
        r->lim = *lim;
    else
        csv_limits_defaults(&r->lim);
    if (r->len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
}

void csv_reader_deinit(csv_reader_t *r)
{
    free(r->buf);
    free(r->offs);
    free(r->lens);
    free(r->fields);
    r->buf = NULL;
    r->offs = r->lens = NULL;
    r->fields = NULL;
}

const char *csv_reader_error(const csv_reader_t *r, size_t *line)
{
    if (line != NULL)
        *line = r->err_line;
    return r->err;
}

__attribute__((format(printf, 3, 4))) static int csv_fail(csv_reader_t *r, size_t line,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    r->err_line = line;
    r->status = GV_EINVALID_REQUEST;
    return r->status;
}

/* Length of the UTF-8 sequence starting at s[0..n), or 0 when it is not strict UTF-8. */
static size_t csv_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c >= 0x01 && c < 0x80)
        return 1;
    size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    if (len == 0 || len > n)
        return 0;
    /* The second byte's range excludes overlongs, surrogates and code points > U+10FFFF. */
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

int csv_utf8_check(const char *s, size_t n, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t step = csv_utf8_seq(u + i, n - i);
        if (step == 0) {
            if (bad != NULL)
                *bad = i;
            return 0;
        }
        i += step;
    }
    return 1;
}

/* Checks the whole text once: UTF-8 (reporting the line of the first bad byte) and the number
 * of physical lines. */
static int csv_check_text(csv_reader_t *r)
{
    const char *t = r->text + r->pos;
    size_t n = r->len - r->pos, bad = 0, lines = 1;
    int ok = csv_utf8_check(t, n, &bad);
    const char *end = t + (ok ? n : bad);
    for (const char *p = t; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        lines++;
    if (!ok)
        return csv_fail(r, lines, "The text is not valid UTF-8 (line %zu).", lines);
    if (n > 0 && t[n - 1] == '\n')
        lines--; /* a final line end does not start another line */
    if (lines > r->lim.max_lines)
        return csv_fail(r, r->lim.max_lines + 1, "The text has more than %zu lines.",
                        r->lim.max_lines);
    r->checked = 1;
    return 0;
}

static int csv_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t next = *cap ? *cap : 16;
    while (next < need)
        next *= 2;
    void *q = realloc(*p, next * elem);
    if (q == NULL)
        return GV_ENOMEM;
    *p = q;
    *cap = next;
    return 0;
}

static int csv_put(csv_reader_t *r, char c)
{
    size_t field_len = r->buf_len - r->offs[r->nfields - 1];
    if (field_len >= r->lim.max_field_bytes)
        return csv_fail(r, r->line, "A field is longer than %zu bytes.", r->lim.max_field_bytes);
    if (csv_grow((void **)&r->buf, &r->buf_cap, r->buf_len + 2, 1) != 0)
        return r->status = GV_ENOMEM;
    r->buf[r->buf_len++] = c;
    return 0;
}

/* Starts a new field in the record. */
static int csv_field_open(csv_reader_t *r)
{
    if (r->nfields >= r->lim.max_fields)
        return csv_fail(r, r->line, "A record has more than %zu fields.", r->lim.max_fields);
    size_t cap = r->fields_cap;
    if (csv_grow((void **)&r->offs, &cap, r->nfields + 1, sizeof(size_t)) != 0)
        return r->status = GV_ENOMEM;
    r->offs[r->nfields++] = r->buf_len;
    r->fields_cap = cap;
    return 0;
}

/* Ends the current field with its NUL. */
static int csv_field_close(csv_reader_t *r)
{
    if (csv_grow((void **)&r->buf, &r->buf_cap, r->buf_len + 1, 1) != 0)
        return r->status = GV_ENOMEM;
    r->buf[r->buf_len++] = '\0';
    return 0;
}

/* A quoted field, pos just after the opening quote; stops after the closing quote. */
static int csv_quoted(csv_reader_t *r)
{
    size_t start_line = r->line;
    for (;;) {
        if (r->pos >= r->len)
            return csv_fail(r, start_line, "A quoted field is not closed.");
        char c = r->text[r->pos++];
        if (c == '"') {
            if (r->pos >= r->len || r->text[r->pos] != '"')
                return 0;
            r->pos++;
        } else if (c == '\n') {
            r->line++;
        }
        if (csv_put(r, c) != 0)
            return r->status;
    }
}

/* An unquoted field: up to a comma, a line end or the end of the text (not consumed). */
static int csv_unquoted(csv_reader_t *r)
{
    while (r->pos < r->len) {
        char c = r->text[r->pos];
        if (c == ',' || c == '\n' || c == '\r')
            return 0;
        if (c == '"')
            return csv_fail(r, r->line, "A quote appears inside an unquoted field.");
        if (csv_put(r, c) != 0)
            return r->status;
        r->pos++;
    }
    return 0;
}

/* After a field: 1 when another field follows, 0 when the record ended (line end consumed). */
static int csv_after_field(csv_reader_t *r)
{
    if (r->pos >= r->len)
        return 0;
    char c = r->text[r->pos];
    if (c == ',') {
        r->pos++;
        return 1;
    }
    if (c == '\r' && r->pos + 1 < r->len && r->text[r->pos + 1] == '\n')
        r->pos++, c = '\n';
    if (c == '\n') {
        r->pos++;
        r->line++;
        return 0;
    }
    if (c == '\r')
        return csv_fail(r, r->line,
                        "A carriage return appears outside quotes without a line feed.");
    /* An unquoted field stops only at the characters above: this follows a closing quote. */
    return csv_fail(r, r->line, "Unexpected text after a closing quote.");
}

static void csv_record_fill(csv_reader_t *r, csv_record_t *rec, size_t line)
{
    for (size_t i = 0; i < r->nfields; i++) {
        size_t end = i + 1 < r->nfields ? r->offs[i + 1] - 1 : r->buf_len - 1;
        r->fields[i] = r->buf + r->offs[i];
        r->lens[i] = end - r->offs[i];
    }
    rec->n = r->nfields;
    rec->fields = r->fields;
    rec->lens = r->lens;
    rec->line = line;
}

static int csv_record_arrays(csv_reader_t *r)
{
    size_t cap_l = 0, cap_f = 0;
    free(r->lens);
    free(r->fields);
    r->lens = NULL;
    r->fields = NULL;
    if (csv_grow((void **)&r->lens, &cap_l, r->fields_cap, sizeof(size_t)) != 0 ||
        csv_grow((void **)&r->fields, &cap_f, r->fields_cap, sizeof(char *)) != 0)
        return r->status = GV_ENOMEM;
    return 0;
}

int csv_reader_next(csv_reader_t *r, csv_record_t *rec)
{
    if (r->status != 0)
        return r->status < 0 ? r->status : 0;
    if (!r->checked && csv_check_text(r) != 0)
        return r->status;
    if (r->pos >= r->len) {
        r->status = 1;
        return 0;
    }
    size_t line = r->line, arrays_cap = r->fields_cap;
    r->nfields = 0;
    r->buf_len = 0;
    int more = 1;
    while (more > 0) {
        if (csv_field_open(r) != 0)
            return r->status;
        int quoted = r->pos < r->len && r->text[r->pos] == '"';
        if (quoted)
            r->pos++;
        if ((quoted ? csv_quoted(r) : csv_unquoted(r)) != 0 || csv_field_close(r) != 0)
            return r->status;
        more = csv_after_field(r);
        if (more < 0)
            return more;
    }
    if ((r->lens == NULL || arrays_cap != r->fields_cap) && csv_record_arrays(r) != 0)
        return r->status;
    csv_record_fill(r, rec, line);
    return 1;
}
