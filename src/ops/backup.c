/* Backup files (see backup.h): the header frame, compression with a SHA-256 on the way, the
 * checked extraction, and the listing of a backup directory. */
#include "ops/backup.h"

#include "core/b64.h"
#include "core/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define BACKUP_MAGIC 0x184D2A5Au /* a zstd skippable frame: decoders pass over it */
#define BACKUP_HEADER_MAX 4096
#define BACKUP_LEVEL 3
#define BACKUP_CHUNK (1u << 20)

int backup_why(char *why, size_t n, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return rc;
}

void backup_dated_path(const char *dir, char *out, size_t n)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, n, "%s/gavel-%s%s", dir, stamp, BACKUP_SUFFIX);
}

void backup_source_of(const char *data_dir, char *out, size_t n)
{
    char host[128] = "", real[PATH_MAX];
    gethostname(host, sizeof(host) - 1);
    snprintf(out, n, "%.120s:%.400s", host, realpath(data_dir, real) ? real : data_dir);
}

/* ---- the header ------------------------------------------------------------------------------ */

/* The header's text; bytes and sha256 have fixed widths so the final values can be written over
 * the placeholders in place. */
static int header_text(const backup_header_t *h, char *out, size_t n)
{
    int len = snprintf(out, n,
                       "gavel-backup\nformat: %d\nschema: %d\ncreated: %s\nsource: %s\n"
                       "method: %s\nbytes: %020llu\nsha256: %-64s\n",
                       h->format, h->schema, h->created, h->source, h->method,
                       (unsigned long long)h->bytes, h->sha256);
    return len > 0 && (size_t)len < n ? len : -1;
}

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t le32_get(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Writes the header frame at the file's start. Its size is returned in *len. 0 or GV_EIO. */
static int header_write(int fd, const backup_header_t *h, size_t *len)
{
    unsigned char buf[8 + BACKUP_HEADER_MAX];
    int n = header_text(h, (char *)buf + 8, BACKUP_HEADER_MAX);
    if (n < 0)
        return GV_EINTERNAL;
    le32(buf, BACKUP_MAGIC);
    le32(buf + 4, (uint32_t)n);
    *len = 8 + (size_t)n;
    return pwrite(fd, buf, *len, 0) == (ssize_t)*len ? 0 : GV_EIO;
}

static int header_field(const char *text, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) != 0 || p[kl] != ':' || p[kl + 1] != ' ')
            continue;
        const char *v = p + kl + 2, *e = strchr(v, '\n');
        size_t l = e ? (size_t)(e - v) : strlen(v);
        while (l > 0 && v[l - 1] == ' ')
            l--;
        if (l >= n)
            return -1;
        memcpy(out, v, l);
        out[l] = '\0';
        return 0;
    }
    return -1;
}

static int header_int(const char *text, const char *key, long long min, long long max,
                      long long *out)
{
    char v[32], *end;
    if (header_field(text, key, v, sizeof(v)) != 0 || !v[0])
        return -1;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

static int header_parse(const char *text, backup_header_t *h, char *why, size_t wn)
{
    long long format, schema, bytes;
    memset(h, 0, sizeof(*h));
    if (strncmp(text, "gavel-backup\n", 13) != 0 || header_int(text, "format", 1, 1000000, &format))
        return backup_why(why, wn, GV_EINVALID_REQUEST, "not a Gavel backup (no header)");
    if (format != BACKUP_FORMAT)
        return backup_why(why, wn, GV_EINVALID_REQUEST,
                          "backup format %lld is not %d: it was made by a newer gavel", format,
                          BACKUP_FORMAT);
    int bad = header_int(text, "schema", 0, 1000000, &schema) ||
              header_int(text, "bytes", 0, (long long)1 << 50, &bytes) ||
              header_field(text, "created", h->created, sizeof(h->created)) ||
              header_field(text, "source", h->source, sizeof(h->source)) ||
              header_field(text, "method", h->method, sizeof(h->method)) ||
              header_field(text, "sha256", h->sha256, sizeof(h->sha256)) || strlen(h->sha256) != 64;
    for (int i = 0; !bad && i < 64; i++)
        bad = !((h->sha256[i] >= '0' && h->sha256[i] <= '9') ||
                (h->sha256[i] >= 'a' && h->sha256[i] <= 'f'));
    if (bad)
        return backup_why(why, wn, GV_EINVALID_REQUEST, "the backup's header is damaged");
    h->format = (int)format;
    h->schema = (int)schema;
    h->bytes = (uint64_t)bytes;
    return 0;
}

/* Reads the header frame from fd (at its start); leaves fd just after it. */
static int header_read_fd(int fd, backup_header_t *h, char *why, size_t wn)
{
    unsigned char head[8];
    char text[BACKUP_HEADER_MAX + 1];
    ssize_t got = read(fd, head, sizeof(head));
    if (got < 0)
        return backup_why(why, wn, GV_EIO, "cannot read it (%s)", strerror(errno));
    uint32_t len = got == 8 ? le32_get(head + 4) : 0;
    if (got != 8 || le32_get(head) != BACKUP_MAGIC || len > BACKUP_HEADER_MAX)
        return backup_why(why, wn, GV_EINVALID_REQUEST, "not a Gavel backup (no header)");
    got = read(fd, text, len);
    if (got != (ssize_t)len)
        return backup_why(why, wn, GV_EINVALID_REQUEST, "the backup is truncated (in its header)");
    text[len] = '\0';
    return header_parse(text, h, why, wn);
}

int backup_read_header(const char *path, backup_header_t *hdr, char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return backup_why(why, why_len, errno == ENOENT ? GV_ENOT_FOUND : GV_EIO,
                          "cannot open it (%s)", strerror(errno));
    struct stat st;
    int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                 ? header_read_fd(fd, hdr, why, why_len)
                 : backup_why(why, why_len, GV_EINVALID_REQUEST, "not a regular file");
    if (rc == 0)
        hdr->file_size = (uint64_t)st.st_size;
    close(fd);
    return rc;
}

int backup_method_parse(const char *text, store_snapshot_method_t *out)
{
    if (!strcmp(text, "pages"))
        *out = STORE_SNAPSHOT_PAGES;
    else if (!strcmp(text, "vacuum"))
        *out = STORE_SNAPSHOT_VACUUM;
    else
        return GV_EINVALID_REQUEST;
    return 0;
}

/* ---- writing --------------------------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return GV_EIO;
        c += w, n -= (size_t)w;
    }
    return 0;
}

/* The state of one compression: the database in, the backup out, the digest on the way. */
typedef struct {
    int in, out;
    ZSTD_CCtx *z;
    EVP_MD_CTX *md;
    unsigned char *ibuf, *obuf;
    size_t olen;
} packer_t;

static int pack_flush(packer_t *p, ZSTD_inBuffer *in, ZSTD_EndDirective end, size_t *left)
{
    ZSTD_outBuffer o = {p->obuf, p->olen, 0};
    *left = ZSTD_compressStream2(p->z, &o, in, end);
    if (ZSTD_isError(*left))
        return GV_EINTERNAL;
    return write_all(p->out, p->obuf, o.pos);
}

/* Compresses the whole input file after the header; *bytes and sha receive what was read. */
static int pack_run(packer_t *p, uint64_t total, backup_progress_t progress, void *ctx,
                    uint64_t *bytes, char sha[65])
{
    int rc = 0;
    size_t left = 0;
    *bytes = 0;
    for (;;) {
        ssize_t got = read(p->in, p->ibuf, BACKUP_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return GV_EIO;
        if (got == 0)
            break;
        EVP_DigestUpdate(p->md, p->ibuf, (size_t)got);
        *bytes += (uint64_t)got;
        ZSTD_inBuffer in = {p->ibuf, (size_t)got, 0};
        while (rc == 0 && in.pos < in.size)
            rc = pack_flush(p, &in, ZSTD_e_continue, &left);
        if (rc)
            return rc;
        if (progress)
            progress(ctx, "compress", *bytes, total);
    }
    ZSTD_inBuffer none = {NULL, 0, 0};
    do
        rc = pack_flush(p, &none, ZSTD_e_end, &left);
    while (rc == 0 && left != 0);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (rc == 0 && EVP_DigestFinal_ex(p->md, d, &dl) != 1)
        rc = GV_EINTERNAL;
    if (rc == 0)
        hex_encode(d, dl, sha);
    return rc;
}

static int pack_open(packer_t *p)
{
    p->olen = ZSTD_CStreamOutSize();
    p->z = ZSTD_createCCtx();
    p->md = EVP_MD_CTX_new();
    p->ibuf = malloc(BACKUP_CHUNK);
    p->obuf = malloc(p->olen);
    if (!p->z || !p->md || !p->ibuf || !p->obuf)
        return GV_ENOMEM;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(p->z, ZSTD_c_compressionLevel, BACKUP_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(p->z, ZSTD_c_checksumFlag, 1)) ||
        EVP_DigestInit_ex(p->md, EVP_sha256(), NULL) != 1)
        return GV_EINTERNAL;
    return 0;
}

static void pack_close(packer_t *p)
{
    ZSTD_freeCCtx(p->z);
    EVP_MD_CTX_free(p->md);
    free(p->ibuf);
    free(p->obuf);
    if (p->in >= 0)
        close(p->in);
    if (p->out >= 0)
        close(p->out);
}

/* Compresses the snapshot file snap into part behind the header h (its bytes and sha256 filled
 * in at the end), then fsyncs part. */
static int pack_file(const char *snap, const char *part, backup_header_t *h,
                     backup_progress_t progress, void *ctx, char *why, size_t wn)
{
    packer_t p = {.in = open(snap, O_RDONLY | O_CLOEXEC),
                  .out = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    struct stat st;
    int rc = p.in < 0 || p.out < 0 || fstat(p.in, &st) != 0 ? GV_EIO : pack_open(&p);
    size_t hlen = 0;
    memset(h->sha256, '0', 64);
    h->sha256[64] = '\0';
    rc = rc ? rc : header_write(p.out, h, &hlen);
    rc = rc || lseek(p.out, (off_t)hlen, SEEK_SET) < 0 ? (rc ? rc : GV_EIO) : 0;
    rc = rc ? rc : pack_run(&p, (uint64_t)st.st_size, progress, ctx, &h->bytes, h->sha256);
    size_t again = 0;
    rc = rc ? rc : header_write(p.out, h, &again);
    rc = rc ? rc : again != hlen ? GV_EINTERNAL : fsync(p.out) != 0 ? GV_EIO : 0;
    if (rc == 0)
        h->file_size = (uint64_t)lseek(p.out, 0, SEEK_END);
    if (rc)
        backup_why(why, wn, rc, "writing %s failed (%s)", part,
                   rc == GV_EIO ? strerror(errno) : err_name(rc));
    pack_close(&p);
    return rc;
}

#define IOPRIO_CLASS_BE 2
#define IOPRIO_WHO_PROCESS 1 /* with a thread id: that thread */
#define IOPRIO_VALUE(cls, level) (((cls) << 13) | (level))

void backup_yield_priority(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    setpriority(PRIO_PROCESS, (id_t)tid, 10); /* on Linux, PRIO_PROCESS with a tid: one thread */
    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, IOPRIO_VALUE(IOPRIO_CLASS_BE, 7));
}

int backup_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return GV_EIO;
    int rc = fsync(fd) == 0 ? 0 : GV_EIO;
    close(fd);
    return rc;
}

/* The directory part of path ("." when none) into out. */
static void dir_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else if (slash == path)
        snprintf(out, n, "/");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

static void header_init(backup_header_t *h, const char *source, store_snapshot_method_t method)
{
    memset(h, 0, sizeof(*h));
    h->format = BACKUP_FORMAT;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(h->created, sizeof(h->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    size_t k = 0;
    for (const char *c = source ? source : ""; *c && k < sizeof(h->source) - 1; c++)
        if ((unsigned char)*c >= 0x20 && *c != 0x7f)
            h->source[k++] = *c;
    snprintf(h->method, sizeof(h->method), "%s",
             method == STORE_SNAPSHOT_VACUUM ? "vacuum" : "pages");
}

typedef struct {
    backup_progress_t fn;
    void *ctx;
} snap_progress_t;

static void on_snapshot_progress(void *ctx, uint64_t done, uint64_t total)
{
    snap_progress_t *sp = ctx;
    sp->fn(sp->ctx, "snapshot", done, total);
}

int backup_create(store_t *s, const char *out, const char *source, store_snapshot_method_t method,
                  backup_progress_t progress, void *ctx, backup_header_t *hdr, char *why,
                  size_t why_len)
{
    char snap[4200], part[4200], dir[4200];
    if (strlen(out) > 4000)
        return backup_why(why, why_len, GV_EIO, "the file name is too long");
    snprintf(snap, sizeof(snap), "%s.snapshot", out);
    snprintf(part, sizeof(part), "%s.partial", out);
    dir_of(out, dir, sizeof(dir));
    header_init(hdr, source, method);
    snap_progress_t sp = {progress, ctx};
    unlink(snap); /* left by a backup that was killed: never trusted */
    unlink(part);
    int rc =
        store_snapshot(s, snap, method, progress ? on_snapshot_progress : NULL, &sp, &hdr->schema);
    if (rc)
        backup_why(why, why_len, rc, "the snapshot failed (%s: %s)", err_name(rc), store_errmsg(s));
    rc = rc ? rc : pack_file(snap, part, hdr, progress, ctx, why, why_len);
    unlink(snap);
    if (rc == 0 && rename(part, out) != 0)
        rc = backup_why(why, why_len, GV_EIO, "cannot rename %s to %s (%s)", part, out,
                        strerror(errno));
    if (rc == 0 && backup_fsync_dir(dir) != 0)
        rc = backup_why(why, why_len, GV_EIO, "cannot sync the directory %s (%s)", dir,
                        strerror(errno));
    if (rc)
        unlink(part);
    return rc;
}

/* ---- reading --------------------------------------------------------------------------------- */

typedef struct {
    int in, out;
    ZSTD_DCtx *z;
    EVP_MD_CTX *md;
    unsigned char *ibuf, *obuf;
    size_t ilen, olen;
} unpacker_t;

static int unpack_open(unpacker_t *u)
{
    u->ilen = ZSTD_DStreamInSize();
    u->olen = ZSTD_DStreamOutSize();
    u->z = ZSTD_createDCtx();
    u->md = EVP_MD_CTX_new();
    u->ibuf = malloc(u->ilen);
    u->obuf = malloc(u->olen);
    if (!u->z || !u->md || !u->ibuf || !u->obuf)
        return GV_ENOMEM;
    return EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) == 1 ? 0 : GV_EINTERNAL;
}

static void unpack_close(unpacker_t *u)
{
    ZSTD_freeDCtx(u->z);
    EVP_MD_CTX_free(u->md);
    free(u->ibuf);
    free(u->obuf);
    if (u->in >= 0)
        close(u->in);
    if (u->out >= 0)
        close(u->out);
}

/* Decompresses one chunk of input, writing and hashing what comes out. *bytes counts it; more
 * than the header says is refused at once. *frame_left is zstd's hint: 0 at the end of a frame. */
static int unpack_chunk(unpacker_t *u, ZSTD_inBuffer *in, uint64_t limit, uint64_t *bytes,
                        size_t *frame_left, char *why, size_t wn)
{
    while (in->pos < in->size) {
        ZSTD_outBuffer o = {u->obuf, u->olen, 0};
        *frame_left = ZSTD_decompressStream(u->z, &o, in);
        if (ZSTD_isError(*frame_left))
            return backup_why(why, wn, GV_EINVALID_REQUEST, "the backup is damaged (%s)",
                              ZSTD_getErrorName(*frame_left));
        *bytes += o.pos;
        if (*bytes > limit)
            return backup_why(why, wn, GV_EINVALID_REQUEST,
                              "the backup holds more than its header says");
        EVP_DigestUpdate(u->md, u->obuf, o.pos);
        if (write_all(u->out, u->obuf, o.pos) != 0)
            return backup_why(why, wn, GV_EIO, "cannot write the database (%s)", strerror(errno));
    }
    return 0;
}

static int unpack_run(unpacker_t *u, const backup_header_t *h, backup_progress_t progress,
                      void *ctx, char *why, size_t wn)
{
    uint64_t bytes = 0;
    size_t frame_left = 1;
    for (;;) {
        ssize_t got = read(u->in, u->ibuf, u->ilen);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return backup_why(why, wn, GV_EIO, "cannot read the backup (%s)", strerror(errno));
        if (got == 0)
            break;
        ZSTD_inBuffer in = {u->ibuf, (size_t)got, 0};
        int rc = unpack_chunk(u, &in, h->bytes, &bytes, &frame_left, why, wn);
        if (rc)
            return rc;
        if (progress)
            progress(ctx, "restore", bytes, h->bytes);
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    char sha[2 * EVP_MAX_MD_SIZE + 1];
    if (frame_left != 0 || bytes != h->bytes)
        return backup_why(why, wn, GV_EINVALID_REQUEST,
                          "the backup is truncated (%llu of %llu bytes of the database)",
                          (unsigned long long)bytes, (unsigned long long)h->bytes);
    if (EVP_DigestFinal_ex(u->md, d, &dl) != 1)
        return GV_EINTERNAL;
    hex_encode(d, dl, sha);
    if (strcmp(sha, h->sha256) != 0)
        return backup_why(why, wn, GV_EINVALID_REQUEST,
                          "the backup is damaged: its SHA-256 does not match its header");
    return fsync(u->out) == 0
               ? 0
               : backup_why(why, wn, GV_EIO, "cannot sync the database (%s)", strerror(errno));
}

int backup_extract(const char *path, const char *dest, backup_progress_t progress, void *ctx,
                   backup_header_t *hdr, char *why, size_t why_len)
{
    unpacker_t u = {.in = open(path, O_RDONLY | O_CLOEXEC), .out = -1};
    if (u.in < 0)
        return backup_why(why, why_len, errno == ENOENT ? GV_ENOT_FOUND : GV_EIO,
                          "cannot open it (%s)", strerror(errno));
    int rc = header_read_fd(u.in, hdr, why, why_len);
    if (rc == 0) {
        u.out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        rc = u.out < 0
                 ? backup_why(why, why_len, GV_EIO, "cannot create %s (%s)", dest, strerror(errno))
                 : unpack_open(&u);
    }
    rc = rc ? rc : unpack_run(&u, hdr, progress, ctx, why, why_len);
    int made = u.out >= 0;
    unpack_close(&u);
    if (rc && made)
        unlink(dest);
    return rc;
}

/* ---- a directory of backups ------------------------------------------------------------------ */

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int entry_cmp(const void *a, const void *b)
{
    const backup_entry_t *x = a, *y = b;
    int c = strcmp(y->hdr.created, x->hdr.created);
    return c ? c : strcmp(y->name, x->name);
}

static int list_add(backup_entry_t **v, size_t *n, size_t *cap, const char *name,
                    const backup_header_t *h)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        backup_entry_t *nv = realloc(*v, nc * sizeof(**v));
        if (!nv)
            return GV_ENOMEM;
        *v = nv, *cap = nc;
    }
    snprintf((*v)[*n].name, sizeof((*v)[*n].name), "%s", name);
    (*v)[(*n)++].hdr = *h;
    return 0;
}

int backup_list(const char *dir, backup_entry_t **out, size_t *n)
{
    *out = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? GV_ENOT_FOUND : GV_EIO;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[4400], why[160];
        backup_header_t h;
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof((*out)->name) ||
            has_suffix(e->d_name, ".partial") || has_suffix(e->d_name, ".snapshot"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (backup_read_header(path, &h, why, sizeof(why)) == 0)
            rc = list_add(out, n, &cap, e->d_name, &h);
    }
    closedir(d);
    if (rc) {
        free(*out);
        *out = NULL, *n = 0;
        return rc;
    }
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), entry_cmp);
    return 0;
}

int backup_prune(const char *dir, int keep, int *removed)
{
    backup_entry_t *v = NULL;
    size_t n = 0;
    *removed = 0;
    int rc = keep < 1 ? GV_EINTERNAL : backup_list(dir, &v, &n);
    int kept = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!has_suffix(v[i].name, BACKUP_SUFFIX))
            continue; /* a backup the operator put there by hand is theirs to remove */
        if (kept++ < keep)
            continue;
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
        if (unlink(path) == 0)
            (*removed)++;
    }
    free(v);
    return rc;
}
