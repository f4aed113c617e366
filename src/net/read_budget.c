/* See read_budget.h. */
#include "net/read_budget.h"

static void read_budget_on_check(uv_check_t *h)
{
    read_budget_t *rb = h->data;
    rb->first_ns = 0;
}

void read_budget_init(read_budget_t *rb, uv_loop_t *loop, uint64_t budget_ns)
{
    rb->budget_ns = budget_ns;
    rb->first_ns = 0;
    rb->closed = NULL;
    rb->closed_ctx = NULL;
    uv_check_init(loop, &rb->check);
    rb->check.data = rb;
    uv_check_start(&rb->check, read_budget_on_check);
    uv_unref((uv_handle_t *)&rb->check);
}

int read_budget_spent(read_budget_t *rb, uint64_t *put_off)
{
    if (rb->budget_ns == 0)
        return 0;
    uint64_t now = uv_hrtime();
    if (rb->first_ns == 0) {
        rb->first_ns = now;
        return 0;
    }
    if (now - rb->first_ns < rb->budget_ns)
        return 0;
    if (put_off)
        (*put_off)++;
    return 1;
}

static void read_budget_on_closed(uv_handle_t *h)
{
    read_budget_t *rb = h->data;
    if (rb->closed)
        rb->closed(rb->closed_ctx);
}

void read_budget_close(read_budget_t *rb, void (*closed)(void *ctx), void *ctx)
{
    if (uv_is_closing((uv_handle_t *)&rb->check))
        return;
    rb->closed = closed;
    rb->closed_ctx = ctx;
    uv_close((uv_handle_t *)&rb->check, read_budget_on_closed);
}
