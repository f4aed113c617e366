/* libFuzzer target: Cricsheet scorecards (season/cricsheet.c) from arbitrary JSON text. Checks: a
 * parsed card has distinct, non-empty names within the cap, no negative count, and a match id
 * that starts with its date; a refused one says why; nothing leaks. */
#include "core/err.h"
#include "season/cricsheet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void fz_card_ok(const cricsheet_card_t *c)
{
    if (c->n > CRICSHEET_PLAYERS_MAX || strlen(c->match_id) < 10 || c->match_id[4] != '-')
        abort();
    for (size_t i = 0; i < c->n; i++) {
        const cricsheet_line_t *l = &c->lines[i];
        if (!l->name[0] || l->runs < 0 || l->wickets < 0 || l->catches < 0 || l->stumpings < 0 ||
            l->run_outs < 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->lines[j].name, l->name))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    if (!root)
        return 0;
    cricsheet_card_t card;
    int rc = cricsheet_parse(root, &card);
    if (rc == 0)
        fz_card_ok(&card);
    else if (rc != GV_ENOMEM && (rc != GV_EINVALID_REQUEST || !card.why[0]))
        abort();
    cricsheet_free(&card);
    json_decref(root);
    return 0;
}
