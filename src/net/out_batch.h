/* Output batching: what a connection queues during one loop turn goes out in one write before the
 * loop next waits for I/O (or at once when the batch is full), in order. One uv_try_write takes
 * what the kernel accepts; the rest goes to one uv_write whose request holds the pieces until its
 * callback. Shared by the HTTP and WebSocket layers. */
#ifndef GAVEL_NET_OUT_BATCH_H
#define GAVEL_NET_OUT_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define OUT_BATCH_MAX_BUFS 64 /* the largest batch a flusher may be set up with, in pieces */

/* One piece of output; release(ctx) runs once when its bytes are no longer needed (NULL: none). */
typedef struct {
    const char *data;
    size_t len;
    void (*release)(void *ctx);
    void *ctx;
} out_piece_t;

/* What a flusher calls on the owner (a connection) of one of its batches. */
typedef struct {
    void (*flush)(void *owner);               /* before the poll: write the batch now */
    void (*hold)(void *owner);                /* a uv_write took the batch: keep owner alive */
    void (*written)(void *owner, int status); /* that uv_write ended: drop the hold */
} out_ops_t;

typedef struct out_batch_s out_batch_t;

/* The longest a flusher writes in one loop turn, by default (ns). */
#define OUT_FLUSH_BUDGET_NS 2000000

/* Server-wide: the batches with output queued, in the order they were listed, and the idle handle
 * that writes them: for at most budget_ns a turn, the rest in the next turns, so that a fan-out to
 * thousands of sockets never holds the loop (and the bids behind it) for long. */
typedef struct {
    uv_idle_t idle; /* active while head is not empty */
    out_batch_t *head, *tail;
    uint64_t budget_ns;
    const out_ops_t *ops;
    size_t max_bufs, max_bytes; /* a batch this large is full */
    uint64_t *writes;           /* counts socket writes (uv_try_write and uv_write) */
    void (*closed)(void *ctx);
    void *closed_ctx;
} out_flusher_t;

/* Per connection: pieces queued, not yet written (pend[0] from its byte off on), and the count
 * of what went to uv_write and is not done. */
struct out_batch_s {
    out_flusher_t *flusher;
    void *owner;
    out_piece_t *pend;
    size_t n, cap, off, bytes;
    size_t inflight_bytes;
    int writes; /* uv_write requests in flight */
    int listed; /* on the flusher's list */
    out_batch_t *prev, *next;
};

/* Sets f up on loop (budget_ns OUT_FLUSH_BUDGET_NS); ops and *writes must outlive it; max_bufs is
 * at most OUT_BATCH_MAX_BUFS. */
void out_flusher_init(out_flusher_t *f, uv_loop_t *loop, const out_ops_t *ops, size_t max_bufs,
                      size_t max_bytes, uint64_t *writes);

/* Closes f's handle (nothing may be listed on f afterwards); closed(ctx) runs from a later loop
 * phase. A second call is a no-op. */
void out_flusher_close(out_flusher_t *f, void (*closed)(void *ctx), void *ctx);

/* Sets b up, empty, for owner (passed to f's ops). */
void out_batch_init(out_batch_t *b, out_flusher_t *f, void *owner);

/* Frees b's list; b must hold nothing and not be listed (out_batch_abandon first). */
void out_batch_deinit(out_batch_t *b);

/* Queues len bytes of data, taking ownership: release(ctx) runs once they are written or dropped
 * (at once on a failure). 0 or GV_ENOMEM. */
int out_batch_push(out_batch_t *b, const char *data, size_t len, void (*release)(void *ctx),
                   void *ctx);

/* 1 when b reached its flusher's limits: the owner should write it now. */
int out_batch_full(const out_batch_t *b);

/* Lists b (last) to be written (ops->flush) before the loop next waits for I/O. The idle handle
 * runs after the timers and write callbacks of a turn, before its poll, and while it is active poll
 * does not block: output queued anywhere (an I/O, check or prepare callback) goes out at the
 * latest early in the next turn, or, behind more than a turn's budget of writes, in the turns
 * after in the order listed. */
void out_batch_flush_later(out_batch_t *b);

/* Writes b's queued pieces on s: one uv_try_write of them all (not while a uv_write is in flight:
 * order), the rest with one uv_write. 0, or GV_EIO / GV_ENOMEM with the pieces dropped. */
int out_batch_write(out_batch_t *b, uv_stream_t *s);

/* The owner goes away: unlists b; what is queued goes out if the kernel takes it at once (s may
 * be NULL: none), the rest is dropped. */
void out_batch_abandon(out_batch_t *b, uv_stream_t *s);

/* Releases b's queued pieces unsent. */
void out_batch_drop(out_batch_t *b);

/* Pieces queued, not yet handed to the socket. */
size_t out_batch_count(const out_batch_t *b);

/* Bytes not yet taken by the kernel: queued, plus in uv_write requests not done. */
size_t out_batch_unsent(const out_batch_t *b);

/* 1 when nothing is queued or in flight. */
int out_batch_idle(const out_batch_t *b);

#endif
