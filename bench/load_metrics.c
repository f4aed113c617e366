/* gavel-load: the server's GET /metrics (Prometheus text format). Reads a histogram (its
 * cumulative buckets, _sum and _count, summed over any labels other than le) or a gauge out of
 * the text, and computes what happened between two scrapes from the bucket deltas: how many
 * observations, the upper bound of the bucket that holds a rank (p50, p99), the upper bound of
 * the highest bucket that gained an observation (the longest one) and the mean (delta sum /
 * delta count). */
#include "load.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The next line of [p, e): sets *le to its end (without the newline), returns the line after. */
static const char *next_line(const char *p, const char *e, const char **le)
{
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    *le = nl ? nl : e;
    return nl ? nl + 1 : e;
}

/* The value at the end of a sample line "name{labels} value [timestamp]". */
static int sample_value(const char *p, const char *e, double *v)
{
    const char *b = memchr(p, '}', (size_t)(e - p));
    const char *s = b ? b + 1 : p;
    while (s < e && *s != ' ')
        s++; /* a line without labels: skip the name */
    while (s < e && *s == ' ')
        s++;
    if (s >= e)
        return -1;
    char buf[64];
    size_t n = 0;
    while (s + n < e && s[n] != ' ' && n < sizeof(buf) - 1) {
        buf[n] = s[n];
        n++;
    }
    buf[n] = 0;
    char *end;
    *v = strtod(buf, &end); /* "+Inf", "NaN" too */
    return end == buf ? -1 : 0;
}

/* Whether the line [p, e) is a sample of exactly name + suffix (followed by '{' or ' '). */
static int is_sample(const char *p, const char *e, const char *name, const char *suffix)
{
    size_t nl = strlen(name), sl = strlen(suffix);
    if ((size_t)(e - p) <= nl + sl || memcmp(p, name, nl) != 0 || memcmp(p + nl, suffix, sl) != 0)
        return 0;
    char c = p[nl + sl];
    return c == '{' || c == ' ';
}

/* The le label's value of a bucket line. */
static int bucket_le(const char *p, const char *e, double *le)
{
    const char *b = memchr(p, '{', (size_t)(e - p));
    const char *c = b ? memchr(b, '}', (size_t)(e - b)) : NULL;
    if (!b || !c)
        return -1;
    for (const char *q = b + 1; q + 4 <= c; q++) {
        if (memcmp(q, "le=\"", 4) != 0 || (q[-1] != '{' && q[-1] != ','))
            continue;
        q += 4;
        const char *qe = memchr(q, '"', (size_t)(c - q));
        if (!qe || qe == q || qe - q >= 40)
            return -1;
        char buf[48];
        memcpy(buf, q, (size_t)(qe - q));
        buf[qe - q] = 0;
        if (strcmp(buf, "+Inf") == 0) {
            *le = INFINITY;
            return 0;
        }
        char *end;
        *le = strtod(buf, &end);
        return end == buf || *end ? -1 : 0;
    }
    return -1;
}

int lg_pm_hist(const char *text, size_t len, const char *name, lg_pm_hist_t *h)
{
    memset(h, 0, sizeof(*h));
    const char *p = text, *e = text + len, *le;
    int seen_count = 0;
    while (p < e) {
        const char *line = p;
        p = next_line(p, e, &le);
        if (line == le || *line == '#')
            continue;
        double v, bound;
        if (is_sample(line, le, name, "_bucket")) {
            if (bucket_le(line, le, &bound) != 0 || sample_value(line, le, &v) != 0)
                continue;
            int i = 0;
            while (i < h->nb && h->le[i] < bound)
                i++;
            if (i < h->nb && h->le[i] == bound) {
                h->cum[i] += v; /* the same bound under other labels */
                continue;
            }
            if (h->nb == LG_PM_MAXB)
                continue;
            memmove(&h->le[i + 1], &h->le[i], (size_t)(h->nb - i) * sizeof(h->le[0]));
            memmove(&h->cum[i + 1], &h->cum[i], (size_t)(h->nb - i) * sizeof(h->cum[0]));
            h->le[i] = bound;
            h->cum[i] = v;
            h->nb++;
        } else if (is_sample(line, le, name, "_sum")) {
            if (sample_value(line, le, &v) == 0)
                h->sum += v;
        } else if (is_sample(line, le, name, "_count")) {
            if (sample_value(line, le, &v) == 0) {
                h->count += v;
                seen_count = 1;
            }
        }
    }
    h->present = seen_count && h->nb > 0 && isinf(h->le[h->nb - 1]);
    return h->present ? 0 : -1;
}

int lg_pm_gauge(const char *text, size_t len, const char *name, double *v)
{
    const char *p = text, *e = text + len, *le;
    int found = 0;
    while (p < e) {
        const char *line = p;
        p = next_line(p, e, &le);
        double x;
        if (line == le || *line == '#' || !is_sample(line, le, name, "") ||
            sample_value(line, le, &x) != 0)
            continue;
        if (!found || x > *v)
            *v = x; /* several label sets: the largest */
        found = 1;
    }
    return found ? 0 : -1;
}

/* The upper bound of the bucket that holds rank ceil(q * count) of the deltas. */
static double delta_rank_le(const lg_pm_delta_t *d, double q)
{
    double r = q * d->count, rank = (double)(uint64_t)r; /* ceil without libm */
    if (rank < r)
        rank += 1;
    if (rank < 1)
        rank = 1;
    for (int i = 0; i < d->nb; i++)
        if (d->cum[i] >= rank)
            return d->le[i];
    return d->le[d->nb - 1];
}

int lg_pm_delta(const lg_pm_hist_t *a, const lg_pm_hist_t *b, lg_pm_delta_t *d)
{
    memset(d, 0, sizeof(*d));
    d->p50_le = d->p99_le = d->max_le = d->mean = NAN;
    if (!a->present || !b->present || a->nb != b->nb)
        return -1;
    for (int i = 0; i < b->nb; i++) {
        if (a->le[i] != b->le[i])
            return -1; /* not the same buckets: not the same server */
        d->le[i] = b->le[i];
        d->cum[i] = b->cum[i] - a->cum[i];
        if (d->cum[i] < 0)
            return -1; /* a counter went back: restarted */
    }
    d->nb = b->nb;
    d->count = b->count - a->count;
    d->sum = b->sum - a->sum;
    if (d->count < 0)
        return -1;
    d->ok = 1;
    if (d->count > 0) {
        d->p50_le = delta_rank_le(d, 0.50);
        d->p99_le = delta_rank_le(d, 0.99);
        for (int i = 0; i < d->nb; i++)
            if (d->cum[i] > (i ? d->cum[i - 1] : 0))
                d->max_le = d->le[i]; /* the highest bucket that gained an observation */
        d->mean = d->sum / d->count;
    }
    return 0;
}
