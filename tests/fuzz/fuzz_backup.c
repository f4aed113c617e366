/* libFuzzer target: backup files, as arbitrary bytes, through the reader of src/ops/backup.c —
 * the header frame's parser (backup_read_header) and the checked extraction (backup_extract:
 * zstd, the size and SHA-256 checks) — as `gavel restore` and `gavel backup list` meet them.
 *
 * Checks on every input: each call answers 0 or one of its documented codes; a refused extraction
 * leaves no file behind; an accepted one wrote exactly the header's number of bytes, and its
 * header agrees with backup_read_header's. Inputs whose header claims more than 16 MiB are only
 * parsed (a small zstd frame can claim gigabytes of zeros). Files live in a temporary directory
 * made once per process (tmpfs when there is one). */
#include "core/err.h"
#include "ops/backup.h"

#include "../tmpdir.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_EXTRACT_MAX (16u << 20)

static char fz_dir[64], fz_in[128], fz_out[128];

static void fz_cleanup(void)
{
    tmpdir_remove(fz_dir);
}

static void fz_init(void)
{
    if (fz_dir[0])
        return;
    snprintf(fz_dir, sizeof(fz_dir), "/dev/shm/gavel-fzbk-XXXXXX");
    if (!mkdtemp(fz_dir) && tmpdir_make(fz_dir, sizeof(fz_dir), "fzbk") != 0)
        abort();
    snprintf(fz_in, sizeof(fz_in), "%s/in.gvbackup", fz_dir);
    snprintf(fz_out, sizeof(fz_out), "%s/out.db", fz_dir);
    atexit(fz_cleanup);
}

static void fz_write(const uint8_t *data, size_t size)
{
    FILE *f = fopen(fz_in, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_init();
    fz_write(data, size);
    backup_header_t h, h2;
    char why[512];
    int rc = backup_read_header(fz_in, &h, why, sizeof(why));
    if (rc != 0 && rc != GV_EINVALID_REQUEST)
        abort();
    if (rc == 0 && (h.format != BACKUP_FORMAT || strlen(h.sha256) != 64 || h.file_size != size))
        abort();
    if (rc != 0 || h.bytes > FZ_EXTRACT_MAX)
        return 0;
    unlink(fz_out);
    rc = backup_extract(fz_in, fz_out, NULL, NULL, &h2, why, sizeof(why));
    struct stat st;
    int exists = stat(fz_out, &st) == 0;
    if (rc != 0 && rc != GV_EINVALID_REQUEST)
        abort();
    if (rc != 0 && exists)
        abort(); /* a refused extraction leaves nothing */
    if (rc == 0 && (!exists || (uint64_t)st.st_size != h.bytes || h2.bytes != h.bytes ||
                    strcmp(h2.sha256, h.sha256) != 0))
        abort();
    return 0;
}
