/* libFuzzer target: what a cluster's node receives from the other nodes over the bus
 * (api_forward_dispatch), against the real application (tests/fuzz/fuzz_app.h: a seeded store,
 * the auction service). Forwarded bids and controls for the seeded auction are decided as a node
 * running it would; answers, frames of events, presence, league-room words and rate-limit takes
 * are read and applied or dropped.
 *
 * Input: one byte choosing the channel ("ev", "del", "pr", "lg", "rl", this node's "node:fz-node",
 * another "node:other", an unknown one), then the message, with placeholders replaced (fz_expand:
 * "@A" the auction's id, "@0".."@5" tokens). Checks: nothing crashes, leaks or trips a sanitizer;
 * the state is put back after each input. */
#include "fuzz_app.h"

#include "api/forward.h"

#define FZ_MAX_MESSAGE (64 * 1024)

static const char *const fz_channels[] = {"ev", "del",          "pr",         "lg",
                                          "rl", "node:fz-node", "node:other", "x"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_app_init("fuzz_forward", NULL, NULL, NULL);
    snprintf(fz_app.app.cfg.node_id, sizeof(fz_app.app.cfg.node_id), "fz-node");
    fz_ok(api_forward_start(&fz_app.app), "api_forward_start");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = 0;
    char *text = fz_expand(data + 1, size - 1, FZ_MAX_MESSAGE, &len);
    api_forward_dispatch(&fz_app.app, fz_channels[data[0] % 8], text, len);
    fz_app_settle();
    free(text);
    if (!auction_service_find(fz_app.app.auctions, fz_app.auction))
        fz_app.stamp[0] = ~fz_app.stamp[0]; /* dropped from memory only: rebuilt all the same */
    fz_app_reset();
    return 0;
}
