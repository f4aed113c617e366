/* RFC 4180 CSV reader over a buffer: quoted fields, doubled quotes, CRLF or LF line ends,
 * newlines inside quotes, strict UTF-8 (a leading BOM is skipped) and size limits. Pure: no I/O,
 * no logging; errors say what and on which line. */
#ifndef GAVEL_CORE_CSV_H
#define GAVEL_CORE_CSV_H

#include <stddef.h>

#define CSV_MAX_FIELDS 64
#define CSV_MAX_FIELD_BYTES 4096
#define CSV_MAX_LINES 100000

typedef struct {
    size_t max_fields;      /* fields per record */
    size_t max_field_bytes; /* bytes of one field after unquoting */
    size_t max_lines;       /* physical lines of the whole text */
} csv_limits_t;

/* One record, valid until the next csv_reader_next or csv_reader_deinit. */
typedef struct {
    size_t n;                  /* >= 1: an empty line is one empty field */
    const char *const *fields; /* NUL-terminated, unquoted; never contain NUL */
    const size_t *lens;        /* byte lengths of fields */
    size_t line;               /* physical line the record starts on; 1 = the first line */
} csv_record_t;

/* The reader borrows text for its whole life; it owns the record storage (heap, grown as
 * needed, released by csv_reader_deinit). */
typedef struct {
    const char *text;
    size_t len;
    size_t pos;
    size_t line; /* physical line at pos */
    csv_limits_t lim;
    int checked; /* the whole text passed the UTF-8 and line checks */
    int status;  /* 0 reading, 1 at the end, < 0 the sticky error */
    char *buf;   /* the current record's fields, each followed by a NUL */
    size_t buf_len, buf_cap;
    size_t *offs;        /* where each field of the record starts in buf */
    size_t *lens;        /* the record's field lengths, handed out in csv_record_t */
    const char **fields; /* the record's field pointers, handed out in csv_record_t */
    size_t nfields, fields_cap;
    size_t err_line;
    char err[128];
} csv_reader_t;

/* csv_limits_defaults sets the CSV_MAX_* limits. */
void csv_limits_defaults(csv_limits_t *lim);

/* csv_reader_init readies r to read text[0..len) (borrowed) under lim (copied; NULL: the
 * defaults). Allocates nothing. */
void csv_reader_init(csv_reader_t *r, const char *text, size_t len, const csv_limits_t *lim);

/* csv_reader_deinit frees r's storage. */
void csv_reader_deinit(csv_reader_t *r);

/* csv_reader_next reads the next record into *rec. Returns 1 for a record, 0 at the end (a
 * final line end does not start an empty record), GV_EINVALID_REQUEST for input that is not
 * valid CSV, not UTF-8, or over a limit (csv_reader_error says why and where; the whole text is
 * checked for UTF-8 and its line count before the first record is given), or GV_ENOMEM. An
 * error is sticky: later calls return it again. */
int csv_reader_next(csv_reader_t *r, csv_record_t *rec);

/* csv_reader_error gives the last error's message ("" when none); *line (may be NULL) is the
 * physical line it was found on. */
const char *csv_reader_error(const csv_reader_t *r, size_t *line);

/* csv_utf8_check is 1 when s[0..n) is strict UTF-8 (no overlongs, surrogates, code points above
 * U+10FFFF or NUL bytes); else 0 with *bad (may be NULL) the offset of the first bad byte. */
int csv_utf8_check(const char *s, size_t n, size_t *bad);

#endif
