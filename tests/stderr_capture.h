/* Capturing what a test writes to stderr (file descriptor 2) into a temporary file. */
#ifndef GAVEL_TESTS_STDERR_CAPTURE_H
#define GAVEL_TESTS_STDERR_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    FILE *tmp;
    int saved; /* the real stderr */
} stderr_capture_t;

/* stderr_capture_start sends fd 2 to a temporary file. 0 or -1. */
static inline int stderr_capture_start(stderr_capture_t *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    c->saved = c->tmp ? dup(STDERR_FILENO) : -1;
    if (c->saved < 0 || dup2(fileno(c->tmp), STDERR_FILENO) < 0)
        return -1;
    return 0;
}

/* stderr_capture_end puts fd 2 back and returns what was written (malloc'ed, NUL-terminated;
 * free() it), or NULL. */
static inline char *stderr_capture_end(stderr_capture_t *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    long n = fseek(c->tmp, 0, SEEK_END) == 0 ? ftell(c->tmp) : -1;
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    rewind(c->tmp);
    if (text && fread(text, 1, (size_t)n, c->tmp) != (size_t)n) {
        free(text);
        text = NULL;
    }
    if (text)
        text[n] = '\0';
    fclose(c->tmp);
    return text;
}

#endif
