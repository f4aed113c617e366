/* Temporary directories for tests and fuzz targets: make one under /tmp, remove a whole tree. */
#ifndef GAVEL_TESTS_TMPDIR_H
#define GAVEL_TESTS_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static inline int tmpdir_remove_entry(const char *path, const struct stat *st, int flag,
                                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* tmpdir_make creates /tmp/gavel-TAG-XXXXXX into buf (size n). 0 or -1. */
static inline int tmpdir_make(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/gavel-%s-XXXXXX", tag);
    return mkdtemp(buf) ? 0 : -1;
}

/* tmpdir_remove deletes path and everything below it (symlinks are not followed). 0 or -1. */
static inline int tmpdir_remove(const char *path)
{
    return nftw(path, tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
