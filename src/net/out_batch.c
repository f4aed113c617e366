/* Output batching: a connection's pieces of one loop turn in one write (see out_batch.h). */
#include "net/out_batch.h"

#include "core/err.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The rest of a batch the kernel did not take at once, handed to uv_write; owns its pieces. */
typedef struct {
    uv_write_t req;
    out_batch_t *batch;
    size_t len; /* bytes handed to uv_write */
    size_t n;
    out_piece_t pieces[];
} out_write_t;

/* ---- the flusher ---------------------------------------------------------------------------- */

static void flusher_unlink(out_batch_t *b)
{
    out_flusher_t *f = b->flusher;
    if (!b->listed)
        return;
    if (b->prev)
        b->prev->next = b->next;
    else
        f->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        f->tail = b->prev;
    b->prev = b->next = NULL;
    b->listed = 0;
}

/* Before the loop polls: the listed batches' owners write their output, first listed first, until
 * the turn's budget is spent; the idle handle stays active while some are left. */
static void flusher_on_idle(uv_idle_t *h)
{
    out_flusher_t *f = h->data;
    uint64_t until = uv_hrtime() + f->budget_ns;
    out_batch_t *b;
    while ((b = f->head) != NULL) {
        flusher_unlink(b);
        f->ops->flush(b->owner);
        if (f->head && uv_hrtime() >= until)
            return;
    }
    uv_idle_stop(h);
}

static void flusher_on_closed(uv_handle_t *h)
{
    out_flusher_t *f = h->data;
    if (f->closed)
        f->closed(f->closed_ctx);
}

void out_flusher_init(out_flusher_t *f, uv_loop_t *loop, const out_ops_t *ops, size_t max_bufs,
                      size_t max_bytes, uint64_t *writes)
{
    assert(max_bufs > 0 && max_bufs <= OUT_BATCH_MAX_BUFS);
    memset(f, 0, sizeof(*f));
    uv_idle_init(loop, &f->idle);
    f->idle.data = f;
    f->ops = ops;
    f->budget_ns = OUT_FLUSH_BUDGET_NS;
    f->max_bufs = max_bufs;
    f->max_bytes = max_bytes;
    f->writes = writes;
}

void out_flusher_close(out_flusher_t *f, void (*closed)(void *ctx), void *ctx)
{
    if (uv_is_closing((uv_handle_t *)&f->idle))
        return;
    f->closed = closed;
    f->closed_ctx = ctx;
    uv_close((uv_handle_t *)&f->idle, flusher_on_closed);
}

/* ---- a batch -------------------------------------------------------------------------------- */

void out_batch_init(out_batch_t *b, out_flusher_t *f, void *owner)
{
    memset(b, 0, sizeof(*b));
    b->flusher = f;
    b->owner = owner;
}

void out_batch_deinit(out_batch_t *b)
{
    assert(!b->listed && b->n == 0);
    free(b->pend);
    b->pend = NULL;
    b->cap = 0;
}

static void pieces_release(out_piece_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].release)
            p[i].release(p[i].ctx);
}

/* Fills bufs with the n pieces of p, the first one from its byte off on. */
static void pieces_bufs(const out_piece_t *p, size_t n, size_t off, uv_buf_t *bufs)
{
    for (size_t i = 0; i < n; i++, off = 0)
        bufs[i] = uv_buf_init((char *)p[i].data + off, (unsigned)(p[i].len - off));
}

int out_batch_push(out_batch_t *b, const char *data, size_t len, void (*release)(void *ctx),
                   void *ctx)
{
    out_piece_t p = {data, len, release, ctx};
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        out_piece_t *grown = realloc(b->pend, cap * sizeof(*grown));
        if (!grown) {
            pieces_release(&p, 1);
            return GV_ENOMEM;
        }
        b->pend = grown;
        b->cap = cap;
    }
    b->pend[b->n++] = p;
    b->bytes += len;
    return 0;
}

int out_batch_full(const out_batch_t *b)
{
    return b->n >= b->flusher->max_bufs || b->bytes >= b->flusher->max_bytes;
}

void out_batch_flush_later(out_batch_t *b)
{
    out_flusher_t *f = b->flusher;
    if (b->listed)
        return;
    assert(!uv_is_closing((uv_handle_t *)&f->idle));
    if (!f->head)
        uv_idle_start(&f->idle, flusher_on_idle);
    b->listed = 1;
    b->next = NULL;
    b->prev = f->tail;
    if (f->tail)
        f->tail->next = b;
    else
        f->head = b;
    f->tail = b;
}

/* Drops the first done bytes of b's queued pieces: they were written. */
static void batch_consume(out_batch_t *b, size_t done)
{
    size_t i = 0;
    b->bytes -= done;
    done += b->off;
    while (i < b->n && done >= b->pend[i].len)
        done -= b->pend[i++].len;
    pieces_release(b->pend, i);
    if (i > 0 && i < b->n)
        memmove(b->pend, b->pend + i, (b->n - i) * sizeof(*b->pend));
    b->n -= i;
    b->off = done;
}

void out_batch_drop(out_batch_t *b)
{
    pieces_release(b->pend, b->n);
    b->n = b->off = b->bytes = 0;
}

static void batch_on_write(uv_write_t *req, int status)
{
    out_write_t *w = (out_write_t *)req;
    out_batch_t *b = w->batch;
    b->inflight_bytes -= w->len;
    b->writes--;
    pieces_release(w->pieces, w->n);
    free(w);
    b->flusher->ops->written(b->owner, status); /* may free b */
}

/* Hands all of b's queued pieces to one uv_write (queued after any in flight), whose request
 * then owns them; bufs has room for them. 0 or GV_E* (the pieces are dropped). */
static int batch_write_rest(out_batch_t *b, uv_stream_t *s, uv_buf_t *bufs)
{
    size_t n = b->n;
    out_write_t *w = malloc(sizeof(*w) + n * sizeof(out_piece_t));
    if (!w) {
        out_batch_drop(b);
        return GV_ENOMEM;
    }
    w->batch = b;
    w->len = b->bytes;
    w->n = n;
    memcpy(w->pieces, b->pend, n * sizeof(out_piece_t));
    pieces_bufs(w->pieces, n, b->off, bufs);
    b->n = b->off = b->bytes = 0;
    (*b->flusher->writes)++;
    if (uv_write(&w->req, s, bufs, (unsigned)n, batch_on_write) < 0) {
        pieces_release(w->pieces, n);
        free(w);
        return GV_EIO;
    }
    b->writes++;
    b->inflight_bytes += w->len;
    b->flusher->ops->hold(b->owner);
    return 0;
}

int out_batch_write(out_batch_t *b, uv_stream_t *s)
{
    uv_buf_t bufs[OUT_BATCH_MAX_BUFS];
    if (b->n == 0)
        return 0;
    assert(b->n <= b->flusher->max_bufs && s);
    if (b->writes == 0) {
        pieces_bufs(b->pend, b->n, b->off, bufs);
        int n = uv_try_write(s, bufs, (unsigned)b->n);
        (*b->flusher->writes)++;
        if (n < 0 && n != UV_EAGAIN) {
            out_batch_drop(b);
            return GV_EIO;
        }
        if (n > 0)
            batch_consume(b, (size_t)n);
        if (b->n == 0)
            return 0;
    }
    return batch_write_rest(b, s, bufs);
}

void out_batch_abandon(out_batch_t *b, uv_stream_t *s)
{
    uv_buf_t bufs[OUT_BATCH_MAX_BUFS];
    flusher_unlink(b);
    if (b->n && s && b->writes == 0) {
        pieces_bufs(b->pend, b->n, b->off, bufs);
        uv_try_write(s, bufs, (unsigned)b->n);
        (*b->flusher->writes)++;
    }
    out_batch_drop(b);
}

size_t out_batch_count(const out_batch_t *b)
{
    return b->n;
}

size_t out_batch_unsent(const out_batch_t *b)
{
    return b->bytes + b->inflight_bytes;
}

int out_batch_idle(const out_batch_t *b)
{
    return b->n == 0 && b->writes == 0;
}
