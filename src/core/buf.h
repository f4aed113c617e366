/* Growable byte buffers and a bump arena for per-request memory. */
#ifndef GAVEL_CORE_BUF_H
#define GAVEL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data; /* owned; always NUL-terminated when cap > 0 */
    size_t len;
    size_t cap;
} buf_t;

/* buf_init makes b empty without allocating. */
void buf_init(buf_t *b);

/* buf_deinit frees b's storage and leaves it empty. */
void buf_deinit(buf_t *b);

/* buf_reserve ensures room for `extra` more bytes plus a NUL; 0 or GV_ENOMEM. */
int buf_reserve(buf_t *b, size_t extra);

/* buf_append copies n bytes of p to the end of b; 0 or GV_ENOMEM. */
int buf_append(buf_t *b, const void *p, size_t n);

/* buf_puts appends a NUL-terminated string; 0 or GV_ENOMEM. */
int buf_puts(buf_t *b, const char *s);

/* buf_printf appends formatted text; 0 or GV_ENOMEM. */
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* buf_consume drops the first n bytes (n <= len), moving the rest to the front. */
void buf_consume(buf_t *b, size_t n);

/* buf_steal hands b's storage to the caller (free() it) and leaves b empty; NULL if empty. */
char *buf_steal(buf_t *b);

typedef struct arena_chunk_s arena_chunk_t;

typedef struct {
    arena_chunk_t *head; /* owned chunk list, newest first */
} arena_t;

/* arena_init makes an empty arena; arena_deinit frees every allocation made from it. */
void arena_init(arena_t *a);
void arena_deinit(arena_t *a);

/* arena_alloc returns n bytes aligned to 16 that live until arena_deinit, or NULL. */
void *arena_alloc(arena_t *a, size_t n);

/* arena_strndup copies n bytes of s into the arena and NUL-terminates them; NULL on failure. */
char *arena_strndup(arena_t *a, const char *s, size_t n);

#endif
