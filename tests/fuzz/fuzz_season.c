/* libFuzzer target: the season's readers of client text: a scoring-rules patch (JSON) merged
 * for both sports, and the ISO-8601 time parser. Checks: an accepted patch gives rules within
 * 0..SCORING_VALUE_MAX and thresholds >= 1, a refused one names a field, merging the resulting
 * overrides again changes nothing; a parsed time formats back to an instant within its day. */
#include "core/err.h"
#include "season/scoring.h"
#include "season/season.h"
#include "fuzz_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void fz_rules_ok(const scoring_rules_t *r)
{
    const int64_t v[] = {r->win,
                         r->draw,
                         r->loss,
                         r->goal,
                         r->run,
                         r->wicket,
                         r->catch_,
                         r->stumping,
                         r->run_out,
                         r->half_century.points,
                         r->century.points,
                         r->five_wickets.points};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        if (v[i] < 0 || v[i] > SCORING_VALUE_MAX)
            abort();
    if (r->sport == SCORING_CRICKET && (r->half_century.threshold < 1 || r->century.threshold < 1 ||
                                        r->five_wickets.threshold < 1))
        abort();
}

static void fz_patch(const char *sport, const json_t *patch)
{
    scoring_rules_t r, again;
    char field[64];
    json_t *over = json_object();
    int rc = scoring_overrides_merge(sport, over, patch, &r, field, sizeof(field));
    if (rc == 0) {
        fz_rules_ok(&r);
        json_t *copy = json_deep_copy(over);
        if (scoring_overrides_merge(sport, copy, NULL, &again, field, sizeof(field)) != 0 ||
            memcmp(&r, &again, sizeof(r)) != 0)
            abort(); /* the stored overrides alone give the same rules */
        json_decref(copy);
    } else if (rc != GV_EINVALID_REQUEST || !field[0]) {
        abort();
    }
    json_decref(over);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    json_t *patch = json_loadb(text, size, 0, NULL);
    if (json_is_object(patch)) {
        fz_patch("football", patch);
        fz_patch("cricket", patch);
    }
    json_decref(patch);
    int64_t ms;
    if (season_parse_time(text, &ms) == 0 && (ms < 0 || ms > 253402300800000LL + 86400000LL))
        abort(); /* 1970 .. 9999 plus a zone offset */
    free(text);
    return 0;
}
