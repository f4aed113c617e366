/* The error table's lookups: name, HTTP status, API code and message per GV_E* code. */
#include "core/err.h"

#include <stddef.h>

typedef struct {
    int code;
    int status;
    const char *name;
    const char *api_code;
    const char *message;
} err_entry_t;

static const err_entry_t err_table[] = {
#define GV_ERR_ROW(name, val, status, code, msg) {val, status, #name, code, msg},
    GV_ERR_MAP(GV_ERR_ROW)
#undef GV_ERR_ROW
};

static const err_entry_t *err_find(int code)
{
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].code == code)
            return &err_table[i];
    return NULL;
}

const char *err_name(int code)
{
    const err_entry_t *e = err_find(code);
    return code == 0 ? "OK" : e ? e->name : "UNKNOWN";
}

int err_http_status(int code)
{
    const err_entry_t *e = err_find(code);
    return code == 0 ? 200 : e ? e->status : 500;
}

const char *err_api_code(int code)
{
    const err_entry_t *e = err_find(code);
    return e ? e->api_code : "internal";
}

const char *err_message(int code)
{
    const err_entry_t *e = err_find(code);
    return e ? e->message : "Something went wrong on our side.";
}
