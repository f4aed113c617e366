/* Reading in turns: a server's reads in one loop turn stop once a budget of time has passed since
 * its first read of that turn. The sockets left unread stay readable (libuv polls level-triggered)
 * and are read in the next turns, so a burst of input from thousands of sockets cannot hold the
 * loop, and the commits, timers and writes queued behind it, for longer than the budget. Shared by
 * the HTTP and WebSocket layers: their alloc callbacks ask read_budget_spent and, when it says
 * yes, mark the connection (put_off) and give libuv no buffer, which it answers with one
 * UV_ENOBUFS read that the read callback ignores for a marked connection. */
#ifndef GAVEL_NET_READ_BUDGET_H
#define GAVEL_NET_READ_BUDGET_H

#include <stdint.h>
#include <uv.h>

/* The longest a server reads (and handles what it read) in one loop turn, by default (ns). */
#define READ_BUDGET_NS 2000000

typedef struct {
    uv_check_t check;   /* after each poll: the next turn starts a new budget */
    uint64_t budget_ns; /* 0: no budget, every ready socket is read */
    uint64_t first_ns;  /* the turn's first read; 0: none yet */
    void (*closed)(void *ctx);
    void *closed_ctx;
} read_budget_t;

/* read_budget_init starts rb on loop (its check handle does not keep the loop alive). */
void read_budget_init(read_budget_t *rb, uv_loop_t *loop, uint64_t budget_ns);

/* read_budget_spent answers, at an alloc callback, whether this turn's budget is used up; the
 * first call of a turn starts its clock. When it answers 1 it adds one to *put_off (the caller's
 * count of reads put off; NULL: not counted). */
int read_budget_spent(read_budget_t *rb, uint64_t *put_off);

/* read_budget_close closes the check handle; closed(ctx) runs when it is closed. */
void read_budget_close(read_budget_t *rb, void (*closed)(void *ctx), void *ctx);

#endif
