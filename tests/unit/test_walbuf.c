/* The gavel-walbuf VFS (store/store_sqlite_walbuf.c) against an oracle: thousands of seeded random
 * writes (appends, overwrites inside and outside what is gathered, writes past the end, writes
 * larger than a piece), reads, sizes, syncs and truncates on a WAL file opened through it, each
 * checked against a byte array the test keeps itself; at the end the file on disk must equal the
 * array byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store_sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../tmpdir.h"

#define MODEL_CAP (8u << 20)

typedef struct {
    unsigned char *bytes; /* what the file must hold */
    size_t len;
} model_t;

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33) % n;
}

static void model_write(model_t *m, const unsigned char *in, size_t n, size_t off)
{
    assert_true(off + n <= MODEL_CAP);
    if (off > m->len)
        memset(m->bytes + m->len, 0, off - m->len); /* a hole reads as zeros */
    memcpy(m->bytes + off, in, n);
    if (off + n > m->len)
        m->len = off + n;
}

static void check_read(sqlite3_file *f, const model_t *m, size_t off, size_t n)
{
    unsigned char *got = malloc(n);
    assert_non_null(got);
    assert_int_equal(SQLITE_OK, f->pMethods->xRead(f, got, (int)n, (sqlite3_int64)off));
    assert_memory_equal(got, m->bytes + off, n);
    free(got);
}

/* Where the next write goes: at the end (the WAL's way), inside the last 300 KB, anywhere, or a
 * little past the end. */
static size_t pick_offset(const model_t *m)
{
    switch (rnd(4)) {
    case 0:
    case 1:
        return m->len;
    case 2:
        return m->len > 300000 ? m->len - rnd(300000) : rnd((uint32_t)m->len + 1);
    default:
        return rnd(2) ? rnd((uint32_t)m->len + 1) : m->len + rnd(9000);
    }
}

static void one_op(sqlite3_file *f, model_t *m, unsigned char *scratch)
{
    uint32_t what = rnd(100);
    if (what < 70) {
        size_t n = rnd(10) == 0 ? 100000 + rnd(200000) : 1 + rnd(8000); /* some over a piece */
        size_t off = pick_offset(m);
        if (off + n > MODEL_CAP - 1)
            return;
        for (size_t i = 0; i < n; i++)
            scratch[i] = (unsigned char)rnd(256);
        assert_int_equal(SQLITE_OK, f->pMethods->xWrite(f, scratch, (int)n, (sqlite3_int64)off));
        model_write(m, scratch, n, off);
    } else if (what < 85) {
        if (m->len == 0)
            return;
        size_t off = rnd((uint32_t)m->len), n = 1 + rnd((uint32_t)(m->len - off));
        check_read(f, m, off, n < 200000 ? n : 200000);
    } else if (what < 92) {
        sqlite3_int64 size = -1;
        assert_int_equal(SQLITE_OK, f->pMethods->xFileSize(f, &size));
        assert_int_equal((sqlite3_int64)m->len, size);
    } else if (what < 98) {
        assert_int_equal(SQLITE_OK, f->pMethods->xSync(f, SQLITE_SYNC_NORMAL));
    } else {
        size_t to = m->len ? rnd((uint32_t)m->len) : 0;
        assert_int_equal(SQLITE_OK, f->pMethods->xTruncate(f, (sqlite3_int64)to));
        m->len = to;
    }
}

static void test_random_operations_match_the_oracle(void **state)
{
    (void)state;
    char base[64] = "/tmp/gavel-walbuf-XXXXXX", db[128], wal[136];
    assert_non_null(mkdtemp(base));
    snprintf(db, sizeof(db), "%s/t.db", base);
    snprintf(wal, sizeof(wal), "%s-wal", db);
    FILE *touch = fopen(db, "w"); /* the unix VFS gives a log its database's file mode */
    assert_non_null(touch);
    fclose(touch);

    assert_int_equal(SQLITE_OK, store_sqlite_walbuf_vfs());
    sqlite3_vfs *vfs = sqlite3_vfs_find(STORE_SQLITE_WALBUF_VFS);
    assert_non_null(vfs);
    sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
    assert_non_null(f);
    int out_flags = 0;
    assert_int_equal(SQLITE_OK,
                     vfs->xOpen(vfs, wal, f,
                                SQLITE_OPEN_WAL | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                &out_flags));
    model_t m = {malloc(MODEL_CAP), 0};
    unsigned char *scratch = malloc(MODEL_CAP);
    assert_non_null(m.bytes);
    assert_non_null(scratch);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        rng_state = seed;
        for (int i = 0; i < 3000; i++)
            one_op(f, &m, scratch);
        if (m.len)
            check_read(f, &m, 0, m.len);
    }
    assert_int_equal(SQLITE_OK, f->pMethods->xClose(f));
    free(f);

    FILE *fp = fopen(wal, "rb"); /* what reached the disk, read without SQLite */
    assert_non_null(fp);
    unsigned char *disk = malloc(MODEL_CAP + 1);
    assert_non_null(disk);
    size_t got = fread(disk, 1, MODEL_CAP + 1, fp);
    fclose(fp);
    assert_int_equal(got, m.len);
    assert_memory_equal(disk, m.bytes, m.len);
    free(disk);
    free(scratch);
    free(m.bytes);
    assert_int_equal(0, tmpdir_remove(base));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_operations_match_the_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
