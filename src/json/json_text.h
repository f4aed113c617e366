/* Serialising JSON values to text that is complete or absent: jansson's json_dumps can leave an
 * object key out when an allocation fails mid-dump (it does not check every piece it writes),
 * and such text must never be stored, logged as an event or sent. */
#ifndef GAVEL_JSON_JSON_TEXT_H
#define GAVEL_JSON_JSON_TEXT_H

#include <jansson.h>

/* json_text serialises v with jansson's flags (JSON_COMPACT, ...) into a new NUL-terminated
 * string (free() it), or NULL when v is NULL or any piece could not be written. */
char *json_text(const json_t *v, size_t flags);

#endif
