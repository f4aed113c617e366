/* libFuzzer target: json_parse_object and json_depth_ok on arbitrary bytes (request bodies).
 * Checks the documented outcomes and that an accepted object survives a dump/reload round trip. */
#include "core/err.h"
#include "json/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy without a terminating NUL, so reads past the end are caught. */
    char *text = malloc(size ? size : 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    int deep_ok = json_depth_ok(text, size, JSON_MAX_DEPTH);
    if (json_depth_ok(text, size, 1 << 20) != 1)
        abort(); /* no input nests a million levels within its length */
    json_t *obj = (json_t *)1;
    int rc = json_parse_object(text, size, &obj);
    if (rc == 0) {
        if (!obj || !json_is_object(obj) || !deep_ok)
            abort();
        char *dump = json_dumps(obj, JSON_COMPACT);
        json_t *again = NULL;
        if (!dump || json_parse_object(dump, strlen(dump), &again) != 0 || !json_equal(obj, again))
            abort();
        json_decref(again);
        free(dump);
        json_decref(obj);
    } else if (obj != NULL ||
               (rc != GV_EINVALID_JSON && rc != GV_ENUMBER_RANGE && rc != GV_EINVALID_REQUEST)) {
        abort();
    }
    free(text);
    return 0;
}
