/* Unit tests of backup files (ops/backup.c): backup_create and backup_extract round trips and
 * refusals, backup_read_header, backup_list, backup_prune, backup_method_parse and
 * backup_fsync_dir, against real SQLite, real files and real zstd in a temporary directory; SHA-256
 * and decompression are checked with OpenSSL and libzstd. */
#include "backup_fixture.h"

#include "core/err.h"

#include <time.h>
#include <unistd.h>
#include <zstd.h>

/* ---- editing headers and frames ------------------------------------------------------------ */

/* text with the line of key removed (all of them). */
static void without_field(const char *text, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key), o = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) + 1 : strlen(p);
        if (!(strncmp(p, key, kl) == 0 && p[kl] == ':')) {
            assert_true(o + l < n);
            memcpy(out + o, p, l);
            o += l;
        }
        p += l;
    }
    out[o] = '\0';
}

/* The header frame's size at the start of a backup's bytes. */
static size_t frame_size(const unsigned char *b, size_t n)
{
    assert_true(n >= 8);
    uint32_t magic =
        (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    assert_int_equal(MAGIC, magic);
    return 8 + ((size_t)b[4] | (size_t)b[5] << 8 | (size_t)b[6] << 16 | (size_t)b[7] << 24);
}

/* ---- backup_create and backup_extract: the round trip -------------------------------------- */

/* created is a UTC time in the form 2024-05-01T10:00:00Z, between t0 and t1. */
static void assert_created_now(const char *created, time_t t0, time_t t1)
{
    assert_int_equal(20, strlen(created));
    for (int i = 0; i < 20; i++) {
        char c = created[i];
        if (i == 4 || i == 7)
            assert_int_equal('-', c);
        else if (i == 10)
            assert_int_equal('T', c);
        else if (i == 13 || i == 16)
            assert_int_equal(':', c);
        else if (i == 19)
            assert_int_equal('Z', c);
        else
            assert_true(c >= '0' && c <= '9');
    }
    struct tm tm = {0};
    assert_non_null(strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm));
    time_t t = timegm(&tm);
    assert_true(t >= t0 && t <= t1);
}

static void round_trip(fx_t *f, store_snapshot_method_t method, const char *method_name)
{
    int schema = 0;
    assert_int_equal(0, store_schema_version(f->store, &schema));
    int64_t pages = db_int(store_db(f), "PRAGMA page_count");
    int64_t page_size = db_int(store_db(f), "PRAGMA page_size");
    progress_log_t p = {0};
    backup_header_t h, r, x;
    char why[256] = "", dest[192], sha[65];
    time_t t0 = time(NULL);
    assert_int_equal(0, backup_create(f->store, f->out, "host:/srv/data", method, on_progress, &p,
                                      &h, why, sizeof(why)));
    time_t t1 = time(NULL);

    assert_int_equal(BACKUP_FORMAT, h.format);
    assert_int_equal(1, h.format);
    assert_int_equal(schema, h.schema);
    assert_int_equal(store_schema_known(), h.schema);
    assert_string_equal(method_name, h.method);
    assert_string_equal("host:/srv/data", h.source);
    assert_created_now(h.created, t0, t1);
    assert_int_equal(64, strlen(h.sha256));
    assert_int_equal(64, strspn(h.sha256, "0123456789abcdef"));
    assert_true(p.compress >= 1 && !p.backwards);
    assert_int_equal(h.bytes, p.compress_total); /* the snapshot file's size */
    assert_int_equal(h.bytes, p.last_done[1]);
    if (method == STORE_SNAPSHOT_PAGES) {
        assert_int_equal((uint64_t)(pages * page_size), h.bytes); /* every page, as it was */
        assert_true(p.snapshot >= 1);
        assert_int_equal((uint64_t)pages, p.last_done[0]);
    } else {
        assert_int_equal(0, p.snapshot); /* SQLite reports no progress of VACUUM INTO */
    }
    struct stat st;
    assert_int_equal(0, stat(f->out, &st));
    assert_int_equal((uint64_t)st.st_size, h.file_size);
    assert_int_equal(0600, st.st_mode & 0777);
    char names[512];
    dir_names(f->base, names, sizeof(names));
    assert_string_equal("b.gvbackup,data", names); /* no .partial, no .snapshot */

    assert_int_equal(0, backup_read_header(f->out, &r, why, sizeof(why)));
    assert_same_header(&h, &r, 1);

    /* the file is one .zst stream (the header a skippable frame): libzstd alone decodes it */
    size_t n = 0;
    unsigned char *file = read_all(f->out, &n);
    assert_memory_equal("gavel-backup\nformat: 1\n", file + 8, 23);
    unsigned char *plain = malloc(h.bytes + 1);
    assert_non_null(plain);
    size_t got = ZSTD_decompress(plain, h.bytes + 1, file, n);
    assert_false(ZSTD_isError(got));
    assert_int_equal(h.bytes, got);
    sha256_hex(plain, got, sha);
    assert_string_equal(h.sha256, sha);

    join(dest, sizeof(dest), f->base, "x.db");
    p = (progress_log_t){0};
    assert_int_equal(0, backup_extract(f->out, dest, on_progress, &p, &x, why, sizeof(why)));
    assert_same_header(&h, &x, 0);
    assert_true(p.restore >= 1 && !p.backwards);
    assert_int_equal(h.bytes, p.last_done[2]);
    size_t dn = 0;
    unsigned char *db = read_all(dest, &dn);
    assert_int_equal(h.bytes, dn);
    sha256_hex(db, dn, sha);
    assert_string_equal(h.sha256, sha);
    assert_memory_equal(plain, db, dn);
    assert_int_equal(0, stat(dest, &st));
    assert_int_equal(0600, st.st_mode & 0777);
    assert_true(is_integral(dest));
    assert_int_equal(ROWS, file_int(dest, "SELECT count(*) FROM t"));
    assert_int_equal(ROWS, file_int(dest, "SELECT count(*) FROM t WHERE v = 'row ' || id"));
    assert_int_equal(h.schema, file_int(dest, "SELECT max(version) FROM schema_version"));
    free(db);
    free(plain);
    free(file);
}

static void create_pages_round_trips(void **state)
{
    round_trip(*state, STORE_SNAPSHOT_PAGES, "pages");
}

static void create_vacuum_round_trips(void **state)
{
    round_trip(*state, STORE_SNAPSHOT_VACUUM, "vacuum");
}

static void create_keeps_no_control_characters_in_source(void **state)
{
    fx_t *f = *state;
    backup_header_t h, r;
    char why[256], lng[400];
    assert_int_equal(0, backup_create(f->store, f->out,
                                      "h\x01o\tst:/d\na\rt\x7f\x1f"
                                      "a\xc3\xa9\nformat: 2",
                                      STORE_SNAPSHOT_PAGES, NULL, NULL, &h, why, sizeof(why)));
    assert_string_equal("host:/data\xc3\xa9"
                        "format: 2",
                        h.source);
    assert_int_equal(0, backup_read_header(f->out, &r, why, sizeof(why)));
    assert_same_header(&h, &r, 1); /* no line could be smuggled into the header */
    assert_int_equal(1, r.format);

    memset(lng, 'a', sizeof(lng) - 1);
    lng[sizeof(lng) - 1] = '\0';
    assert_int_equal(0, backup_create(f->store, f->out, lng, STORE_SNAPSHOT_PAGES, NULL, NULL, &h,
                                      why, sizeof(why)));
    assert_int_equal(255, strlen(h.source));
    assert_int_equal(0, backup_read_header(f->out, &r, why, sizeof(why)));
    assert_string_equal(h.source, r.source);

    assert_int_equal(0, backup_create(f->store, f->out, NULL, STORE_SNAPSHOT_PAGES, NULL, NULL, &h,
                                      why, sizeof(why)));
    assert_string_equal("", h.source);
    assert_int_equal(0, backup_read_header(f->out, &r, why, sizeof(why)));
    assert_string_equal("", r.source);
}

static void create_replaces_leftovers_of_a_killed_backup(void **state)
{
    fx_t *f = *state;
    char snap[192], part[192], why[256], names[512];
    backup_header_t h;
    snprintf(snap, sizeof(snap), "%s.snapshot", f->out);
    snprintf(part, sizeof(part), "%s.partial", f->out);
    write_all(snap, "stale snapshot", 14);
    write_all(part, "stale partial", 13);
    write_all(f->out, "an older backup", 15);
    assert_int_equal(0, backup_create(f->store, f->out, "s", STORE_SNAPSHOT_PAGES, NULL, NULL, &h,
                                      why, sizeof(why)));
    dir_names(f->base, names, sizeof(names));
    assert_string_equal("b.gvbackup,data", names);
    char dest[192];
    join(dest, sizeof(dest), f->base, "x.db");
    assert_int_equal(0, backup_extract(f->out, dest, NULL, NULL, &h, why, sizeof(why)));
    assert_int_equal(ROWS, file_int(dest, "SELECT count(*) FROM t"));
}

static void create_in_a_missing_directory_leaves_nothing(void **state)
{
    fx_t *f = *state;
    char out[192], why[256] = "", before[512], after[512];
    backup_header_t h;
    join(out, sizeof(out), f->base, "nope/b.gvbackup");
    dir_names(f->base, before, sizeof(before));
    for (int m = STORE_SNAPSHOT_PAGES; m <= STORE_SNAPSHOT_VACUUM; m++) {
        why[0] = '\0';
        int rc = backup_create(f->store, out, "s", (store_snapshot_method_t)m, NULL, NULL, &h, why,
                               sizeof(why));
        assert_true(rc == GV_EIO || rc == GV_EDB);
        assert_true(why[0] != '\0');
        dir_names(f->base, after, sizeof(after));
        assert_string_equal(before, after);
    }
    assert_int_equal(0, store_health(f->store)); /* the store is still usable */
}

static void create_inside_a_transaction_leaves_nothing(void **state)
{
    fx_t *f = *state;
    char why[256] = "", names[512];
    backup_header_t h;
    assert_int_equal(0, store_tx_begin(f->store));
    assert_int_equal(GV_EDB, backup_create(f->store, f->out, "s", STORE_SNAPSHOT_PAGES, NULL, NULL,
                                           &h, why, sizeof(why)));
    assert_non_null(strstr(why, "snapshot failed"));
    assert_int_equal(0, store_tx_rollback(f->store));
    dir_names(f->base, names, sizeof(names));
    assert_string_equal("data", names);
}

static void create_onto_a_directory_leaves_it_untouched(void **state)
{
    fx_t *f = *state;
    char why[256] = "", names[512], inside[192];
    backup_header_t h;
    assert_int_equal(0, mkdir(f->out, 0700));
    join(inside, sizeof(inside), f->out, "keep");
    write_all(inside, "k", 1);
    assert_int_equal(GV_EIO, backup_create(f->store, f->out, "s", STORE_SNAPSHOT_PAGES, NULL, NULL,
                                           &h, why, sizeof(why)));
    assert_non_null(strstr(why, "rename"));
    dir_names(f->base, names, sizeof(names));
    assert_string_equal("b.gvbackup,data", names);
    dir_names(f->out, names, sizeof(names));
    assert_string_equal("keep", names);
}

static void create_refuses_a_snapshot_name_it_cannot_clear(void **state)
{
    fx_t *f = *state;
    char snap[192], why[256] = "", names[512];
    backup_header_t h;
    snprintf(snap, sizeof(snap), "%s.snapshot", f->out);
    assert_int_equal(0, mkdir(snap, 0700));
    assert_int_equal(GV_EIO, backup_create(f->store, f->out, "s", STORE_SNAPSHOT_PAGES, NULL, NULL,
                                           &h, why, sizeof(why)));
    dir_names(f->base, names, sizeof(names));
    assert_string_equal("b.gvbackup.snapshot,data", names);
}

/* ---- backup_extract: refusals -------------------------------------------------------------- */

/* Extracting the bytes b (n) is refused with rc (why containing word unless NULL), leaving no
 * dest behind. */
static void refused(fx_t *f, const void *b, size_t n, int rc, const char *word)
{
    char bad[192], dest[192], why[256] = "";
    backup_header_t h;
    join(bad, sizeof(bad), f->base, "bad.gvbackup");
    join(dest, sizeof(dest), f->base, "bad.db");
    write_all(bad, b, n);
    int got = backup_extract(bad, dest, NULL, NULL, &h, why, sizeof(why));
    if (got != rc)
        fail_msg("extract of %zu bytes: %s (%s), not %s", n, err_name(got), why, err_name(rc));
    if (rc == 0) { /* a control: it extracts */
        assert_int_equal(0, unlink(dest));
        assert_int_equal(0, unlink(bad));
        return;
    }
    assert_false(exists(dest));
    assert_true(why[0] != '\0');
    if (word && !strstr(why, word))
        fail_msg("why '%s' does not say '%s'", why, word);
    assert_int_equal(0, unlink(bad));
}

static void extract_refuses_flipped_bytes(void **state)
{
    fx_t *f = *state;
    size_t n = 0;
    unsigned char *b = read_all(f->out, &n);
    size_t start = frame_size(b, n);
    size_t at[] = {start, start + 4, start + (n - start) / 3, start + (n - start) / 2,
                   n - 5, n - 1};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        b[at[i]] ^= 0x55;
        refused(f, b, n, GV_EINVALID_REQUEST, i == 0 || i == 5 ? "damaged" : NULL);
        b[at[i]] ^= 0x55;
    }
    refused(f, b, n, 0, NULL); /* the control: unflipped, it extracts */
    free(b);
}

static void extract_refuses_truncations(void **state)
{
    fx_t *f = *state;
    size_t n = 0;
    unsigned char *b = read_all(f->out, &n);
    size_t start = frame_size(b, n);
    refused(f, b, 3, GV_EINVALID_REQUEST, "not a Gavel backup");
    refused(f, b, 7, GV_EINVALID_REQUEST, "not a Gavel backup");
    refused(f, b, 8, GV_EINVALID_REQUEST, "truncated");
    refused(f, b, start / 2, GV_EINVALID_REQUEST, "truncated");
    refused(f, b, start - 1, GV_EINVALID_REQUEST, "truncated");
    refused(f, b, start, GV_EINVALID_REQUEST, "truncated");
    refused(f, b, start + 1, GV_EINVALID_REQUEST, "truncated");
    refused(f, b, start + (n - start) / 2, GV_EINVALID_REQUEST, NULL);
    refused(f, b, n - 4, GV_EINVALID_REQUEST, "truncated"); /* the checksum missing */
    refused(f, b, n - 1, GV_EINVALID_REQUEST, "truncated");
    free(b);
}

static void extract_refuses_anything_after_the_frame(void **state)
{
    fx_t *f = *state;
    size_t n = 0;
    unsigned char *b = read_all(f->out, &n);
    unsigned char *more = malloc(n + 64);
    assert_non_null(more);
    memcpy(more, b, n);
    memcpy(more + n, "garbage after the end", 21);
    refused(f, more, n + 21, GV_EINVALID_REQUEST, NULL);
    refused(f, more, n + 1, GV_EINVALID_REQUEST, NULL);
    /* a second zstd frame with content: more than the header says */
    size_t z = ZSTD_compress(more + n, 64, "x", 1, 1);
    assert_false(ZSTD_isError(z));
    refused(f, more, n + z, GV_EINVALID_REQUEST, "more than");
    free(more);
    free(b);
}

/* Extracting the backup with key's value in its header replaced by value gives rc. */
static void refused_with_header(fx_t *f, const char *key, const char *value, int rc,
                                const char *word)
{
    size_t n = 0;
    unsigned char *b = read_all(f->out, &n);
    size_t start = frame_size(b, n);
    char text[4200], edited[4300], path[192];
    memcpy(text, b + 8, start - 8);
    text[start - 8] = '\0';
    with_field(text, key, value, edited, sizeof(edited));
    join(path, sizeof(path), f->base, "edited.gvbackup");
    write_frame(path, edited, -1, b + start, n - start);
    size_t en = 0;
    unsigned char *e = read_all(path, &en);
    refused(f, e, en, rc, word);
    free(e);
    free(b);
}

static void extract_refuses_a_size_that_is_not_the_content(void **state)
{
    fx_t *f = *state;
    char v[32];
    snprintf(v, sizeof(v), "%020llu", (unsigned long long)f->h.bytes - 1);
    refused_with_header(f, "bytes", v, GV_EINVALID_REQUEST, "more than its header says");
    snprintf(v, sizeof(v), "%020llu", (unsigned long long)f->h.bytes + 1);
    refused_with_header(f, "bytes", v, GV_EINVALID_REQUEST, "truncated");
    refused_with_header(f, "bytes", "0", GV_EINVALID_REQUEST, "more than its header says");
    snprintf(v, sizeof(v), "%llu", (unsigned long long)f->h.bytes); /* unpadded: still fine */
    refused_with_header(f, "bytes", v, 0, NULL);
}

static void extract_refuses_a_sha256_that_is_not_the_content(void **state)
{
    fx_t *f = *state;
    char sha[65];
    snprintf(sha, sizeof(sha), "%s", f->h.sha256);
    sha[10] = sha[10] == 'a' ? 'b' : 'a';
    refused_with_header(f, "sha256", sha, GV_EINVALID_REQUEST, "SHA-256 does not match");
}

static void extract_refuses_a_newer_format_bad_magic_and_empty_file(void **state)
{
    fx_t *f = *state;
    refused_with_header(f, "format", "2", GV_EINVALID_REQUEST, "newer gavel");
    size_t n = 0;
    unsigned char *b = read_all(f->out, &n);
    b[0] ^= 1;
    refused(f, b, n, GV_EINVALID_REQUEST, "not a Gavel backup");
    refused(f, "", 0, GV_EINVALID_REQUEST, "not a Gavel backup");
    refused(f, "SQLite format 3\0 and so on", 26, GV_EINVALID_REQUEST, "not a Gavel backup");
    free(b);
}

static void extract_never_overwrites_dest(void **state)
{
    fx_t *f = *state;
    char dest[192], link_dest[192], why[256] = "";
    backup_header_t h;
    join(dest, sizeof(dest), f->base, "x.db");
    write_all(dest, "precious", 8);
    assert_int_equal(GV_EIO, backup_extract(f->out, dest, NULL, NULL, &h, why, sizeof(why)));
    size_t n = 0;
    unsigned char *b = read_all(dest, &n);
    assert_int_equal(8, n);
    assert_memory_equal("precious", b, 8);
    free(b);
    /* a dangling symbolic link is not followed */
    join(link_dest, sizeof(link_dest), f->base, "link.db");
    assert_int_equal(0, symlink("nowhere.db", link_dest));
    assert_int_equal(GV_EIO, backup_extract(f->out, link_dest, NULL, NULL, &h, why, sizeof(why)));
    char nowhere[192];
    join(nowhere, sizeof(nowhere), f->base, "nowhere.db");
    assert_false(exists(nowhere));
    join(dest, sizeof(dest), f->base, "no/dir/x.db");
    assert_int_equal(GV_EIO, backup_extract(f->out, dest, NULL, NULL, &h, why, sizeof(why)));
}

static void extract_of_a_missing_backup_is_not_found(void **state)
{
    fx_t *f = *state;
    char from[192], dest[192], why[256] = "";
    backup_header_t h;
    join(from, sizeof(from), f->base, "missing.gvbackup");
    join(dest, sizeof(dest), f->base, "x.db");
    assert_int_equal(GV_ENOT_FOUND, backup_extract(from, dest, NULL, NULL, &h, why, sizeof(why)));
    assert_false(exists(dest));
    assert_true(why[0] != '\0');
}

/* ---- backup_read_header -------------------------------------------------------------------- */

static int read_text(fx_t *f, const char *text, long frame_len, backup_header_t *h, char *why,
                     size_t wn)
{
    char path[192];
    join(path, sizeof(path), f->base, "h.gvbackup");
    write_frame(path, text, frame_len, NULL, 0);
    return backup_read_header(path, h, why, wn);
}

static void read_header_reads_a_hand_made_one(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char why[256] = "";
    assert_int_equal(0, read_text(f, HEADER, -1, &h, why, sizeof(why)));
    assert_int_equal(1, h.format);
    assert_int_equal(8, h.schema);
    assert_string_equal("2024-05-01T10:00:00Z", h.created);
    assert_string_equal("host:/srv/data", h.source);
    assert_string_equal("pages", h.method);
    assert_int_equal(4096, h.bytes);
    assert_string_equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        h.sha256);
    assert_int_equal(8 + strlen(HEADER), h.file_size);
    /* the order of the fields and unknown ones do not matter; the frame may be 4096 bytes */
    char text[4200];
    size_t l = strlen(HEADER);
    memcpy(text, HEADER, l);
    memcpy(text + l, "later: ", 7);
    memset(text + l + 7, 'x', 4096 - l - 8);
    text[4095] = '\n';
    text[4096] = '\0';
    assert_int_equal(0, read_text(f, text, -1, &h, why, sizeof(why)));
    assert_int_equal(4096 + 8, h.file_size);
}

static void read_header_refuses_missing_fields(void **state)
{
    fx_t *f = *state;
    const char *keys[] = {"format", "schema", "created", "source", "method", "bytes", "sha256"};
    char text[4200], why[256];
    backup_header_t h;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        without_field(HEADER, keys[i], text, sizeof(text));
        assert_null(strstr(text, keys[i]));
        why[0] = '\0';
        if (read_text(f, text, -1, &h, why, sizeof(why)) != GV_EINVALID_REQUEST)
            fail_msg("a header without %s is accepted", keys[i]);
        assert_true(why[0] != '\0');
    }
    assert_int_equal(GV_EINVALID_REQUEST, read_text(f, HEADER + 1, -1, &h, why, sizeof(why)));
    assert_int_equal(GV_EINVALID_REQUEST, read_text(f, "", -1, &h, why, sizeof(why)));
}

static void read_header_refuses_bad_values(void **state)
{
    fx_t *f = *state;
    static const struct {
        const char *key, *value;
    } bad[] = {
        {"format", "x"},
        {"format", "1x"},
        {"format", ""},
        {"format", "0"},
        {"format", "2"},
        {"schema", "eight"},
        {"schema", "-1"},
        {"schema", ""},
        {"bytes", "-1"},
        {"bytes", "12abc"},
        {"bytes", "99999999999999999999"},
        {"created", "2024-05-01T10:00:00Z and a great deal more than fits"},
        {"method", "a method name far too long"},
        {"sha256", "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
        {"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"},
        {"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550"},
        {"sha256", "e3b0c44298fc1c149afbf4c8996fb924 7ae41e4649b934ca495991b7852b855"},
        {"sha256", ""},
    };
    char text[4200], why[256], src[300];
    backup_header_t h;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        with_field(HEADER, bad[i].key, bad[i].value, text, sizeof(text));
        if (read_text(f, text, -1, &h, why, sizeof(why)) != GV_EINVALID_REQUEST)
            fail_msg("%s: '%s' is accepted", bad[i].key, bad[i].value);
    }
    memset(src, 's', 256);
    src[256] = '\0';
    with_field(HEADER, "source", src, text, sizeof(text));
    assert_int_equal(GV_EINVALID_REQUEST, read_text(f, text, -1, &h, why, sizeof(why)));
    src[255] = '\0';
    with_field(HEADER, "source", src, text, sizeof(text));
    assert_int_equal(0, read_text(f, text, -1, &h, why, sizeof(why)));
    assert_string_equal(src, h.source);
}

static void read_header_refuses_bad_frames(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char why[256] = "", text[4200];
    assert_int_equal(GV_EINVALID_REQUEST, read_text(f, HEADER, 4097, &h, why, sizeof(why)));
    assert_non_null(strstr(why, "not a Gavel backup"));
    assert_int_equal(GV_EINVALID_REQUEST, read_text(f, HEADER, 0xffffffffL, &h, why, sizeof(why)));
    assert_int_equal(GV_EINVALID_REQUEST,
                     read_text(f, HEADER, (long)strlen(HEADER) + 1, &h, why, sizeof(why)));
    assert_non_null(strstr(why, "truncated"));
    assert_int_equal(GV_EINVALID_REQUEST, read_text(f, HEADER, 4096, &h, why, sizeof(why)));
    /* a frame shorter than its text ends in the middle of a field */
    assert_int_equal(GV_EINVALID_REQUEST,
                     read_text(f, HEADER, (long)strlen(HEADER) - 10, &h, why, sizeof(why)));
    /* a NUL inside the frame ends the text there */
    snprintf(text, sizeof(text), "%s", HEADER);
    char *nul = strstr(text, "sha256");
    assert_non_null(nul);
    char path[192];
    join(path, sizeof(path), f->base, "nul.gvbackup");
    unsigned char frame[4300];
    size_t tl = strlen(text);
    for (int i = 0; i < 4; i++) {
        frame[i] = (unsigned char)(MAGIC >> (8 * i));
        frame[4 + i] = (unsigned char)(tl >> (8 * i));
    }
    memcpy(frame + 8, text, tl);
    frame[8 + (size_t)(nul - text)] = '\0';
    write_all(path, frame, 8 + tl);
    assert_int_equal(GV_EINVALID_REQUEST, backup_read_header(path, &h, why, sizeof(why)));
}

static void read_header_of_a_directory_or_missing_file(void **state)
{
    fx_t *f = *state;
    backup_header_t h;
    char why[256] = "", path[192];
    assert_int_equal(GV_EINVALID_REQUEST, backup_read_header(f->data, &h, why, sizeof(why)));
    assert_true(why[0] != '\0');
    join(path, sizeof(path), f->base, "missing.gvbackup");
    why[0] = '\0';
    assert_int_equal(GV_ENOT_FOUND, backup_read_header(path, &h, why, sizeof(why)));
    assert_true(why[0] != '\0');
    join(path, sizeof(path), f->base, "missing/b.gvbackup");
    assert_int_equal(GV_ENOT_FOUND, backup_read_header(path, &h, why, sizeof(why)));
}

/* ---- backup_list, backup_prune, backup_method_parse, backup_fsync_dir ---------------------- */

/* A backup named name in dir as far as its header goes, created at created. */
static void fake_backup(const char *dir, const char *name, const char *created)
{
    char path[256], text[4200];
    join(path, sizeof(path), dir, name);
    with_field(HEADER, "created", created, text, sizeof(text));
    write_frame(path, text, -1, "payload", 7);
}

static void list_names(const char *dir, char *out, size_t n)
{
    backup_entry_t *v = NULL;
    size_t k = 0;
    assert_int_equal(0, backup_list(dir, &v, &k));
    out[0] = '\0';
    for (size_t i = 0; i < k; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", v[i].name);
    if (k == 0)
        assert_null(v);
    free(v);
}

static void list_is_newest_first_then_by_name(void **state)
{
    fx_t *f = *state;
    char dir[192], sub[256], path[256], names[1024];
    join(dir, sizeof(dir), f->base, "backups");
    assert_int_equal(0, mkdir(dir, 0700));
    list_names(dir, names, sizeof(names));
    assert_string_equal("", names);
    fake_backup(dir, "a.gvbackup", "2024-03-01T00:00:00Z");
    fake_backup(dir, "b.gvbackup", "2024-05-01T00:00:00Z");
    fake_backup(dir, "c.gvbackup", "2024-05-01T00:00:00Z");
    fake_backup(dir, "by-hand.bak", "2024-04-01T00:00:00Z");
    fake_backup(dir, "z.gvbackup", "2023-12-31T23:59:59Z");
    fake_backup(dir, ".hidden.gvbackup", "2025-01-01T00:00:00Z");
    join(path, sizeof(path), dir, "notes.gvbackup");
    write_all(path, "not a backup\n", 13);
    join(path, sizeof(path), dir, "empty");
    write_all(path, "", 0);
    join(sub, sizeof(sub), dir, "sub.gvbackup");
    assert_int_equal(0, mkdir(sub, 0700));
    join(path, sizeof(path), dir, "manual");
    copy_file(f->out, path); /* a real backup, named by hand, created now: the newest */
    list_names(dir, names, sizeof(names));
    assert_string_equal("manual,c.gvbackup,b.gvbackup,by-hand.bak,a.gvbackup,z.gvbackup", names);

    backup_entry_t *v = NULL;
    size_t k = 0;
    assert_int_equal(0, backup_list(dir, &v, &k));
    assert_int_equal(6, k);
    assert_same_header(&f->h, &v[0].hdr, 1);
    for (size_t i = 1; i < k; i++)
        assert_int_equal(8 + strlen(HEADER) + 7, v[i].hdr.file_size);
    free(v);
}

static void list_of_a_missing_directory_or_a_file(void **state)
{
    fx_t *f = *state;
    char dir[192];
    backup_entry_t *v = (backup_entry_t *)f;
    size_t k = 7;
    join(dir, sizeof(dir), f->base, "missing");
    assert_int_equal(GV_ENOT_FOUND, backup_list(dir, &v, &k));
    assert_null(v);
    assert_int_equal(0, k);
    v = (backup_entry_t *)f;
    assert_int_equal(GV_EIO, backup_list(f->out, &v, &k));
    assert_null(v);
    assert_int_equal(0, k);
}

/* While a backup is being written, its .partial file (header in place, content not yet) is no
 * backup: a listing then (backup list, restore --from latest) must not offer it. */
typedef struct {
    const char *dir;
    int calls, partial_listed, listed;
} list_during_t;

static void list_while_compressing(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    list_during_t *l = ctx;
    (void)done;
    (void)total;
    if (strcmp(phase, "compress") != 0)
        return;
    backup_entry_t *v = NULL;
    size_t k = 0;
    assert_int_equal(0, backup_list(l->dir, &v, &k));
    for (size_t i = 0; i < k; i++)
        if (strstr(v[i].name, ".partial"))
            l->partial_listed = 1;
    l->listed = (int)k;
    l->calls++;
    free(v);
}

static void list_during_a_backup_offers_only_finished_ones(void **state)
{
    fx_t *f = *state;
    char dir[192], out[256], why[256];
    backup_header_t h;
    join(dir, sizeof(dir), f->base, "backups");
    assert_int_equal(0, mkdir(dir, 0700));
    fake_backup(dir, "gavel-20240501T000000Z.gvbackup", "2024-05-01T00:00:00Z");
    join(out, sizeof(out), dir, "gavel-20990101T000000Z.gvbackup");
    list_during_t l = {.dir = dir};
    assert_int_equal(0, backup_create(f->store, out, "s", STORE_SNAPSHOT_PAGES,
                                      list_while_compressing, &l, &h, why, sizeof(why)));
    assert_true(l.calls >= 1);
    assert_false(l.partial_listed);
    assert_int_equal(1, l.listed);
}

static void prune_removes_only_suffixed_backups_beyond_keep(void **state)
{
    fx_t *f = *state;
    char dir[192], path[256], names[1024];
    int removed = -1;
    join(dir, sizeof(dir), f->base, "backups");
    assert_int_equal(0, mkdir(dir, 0700));
    fake_backup(dir, "g1.gvbackup", "2024-01-01T00:00:00Z");
    fake_backup(dir, "g2.gvbackup", "2024-02-01T00:00:00Z");
    fake_backup(dir, "g3.gvbackup", "2024-03-01T00:00:00Z");
    fake_backup(dir, "g4.gvbackup", "2024-04-01T00:00:00Z");
    fake_backup(dir, "g5.gvbackup", "2024-05-01T00:00:00Z");
    fake_backup(dir, "old-by-hand.bak", "2020-01-01T00:00:00Z");
    fake_backup(dir, "new-by-hand.bak", "2025-01-01T00:00:00Z");
    fake_backup(dir, ".g0.gvbackup", "2019-01-01T00:00:00Z");
    join(path, sizeof(path), dir, "junk.gvbackup");
    write_all(path, "not a backup", 12);

    assert_int_equal(0, backup_prune(dir, 2, &removed));
    assert_int_equal(3, removed);
    dir_names(dir, names, sizeof(names));
    assert_string_equal(".g0.gvbackup,g4.gvbackup,g5.gvbackup,junk.gvbackup,new-by-hand.bak,"
                        "old-by-hand.bak",
                        names);
    assert_int_equal(0, backup_prune(dir, 2, &removed));
    assert_int_equal(0, removed);
    assert_int_equal(0, backup_prune(dir, 1, &removed));
    assert_int_equal(1, removed);
    dir_names(dir, names, sizeof(names));
    assert_string_equal(".g0.gvbackup,g5.gvbackup,junk.gvbackup,new-by-hand.bak,old-by-hand.bak",
                        names);

    assert_true(backup_prune(dir, 0, &removed) < 0);
    assert_int_equal(0, removed);
    assert_true(backup_prune(dir, -3, &removed) < 0);
    dir_names(dir, names, sizeof(names));
    assert_string_equal(".g0.gvbackup,g5.gvbackup,junk.gvbackup,new-by-hand.bak,old-by-hand.bak",
                        names);
    join(path, sizeof(path), f->base, "missing");
    assert_int_equal(GV_ENOT_FOUND, backup_prune(path, 1, &removed));
}

static void method_parse_knows_two_names(void **state)
{
    (void)state;
    store_snapshot_method_t m = STORE_SNAPSHOT_VACUUM;
    assert_int_equal(0, backup_method_parse("pages", &m));
    assert_int_equal(STORE_SNAPSHOT_PAGES, m);
    assert_int_equal(0, backup_method_parse("vacuum", &m));
    assert_int_equal(STORE_SNAPSHOT_VACUUM, m);
    const char *bad[] = {"", "PAGES", "Vacuum", "pages ", "page", "vacuumx", "copy"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m = STORE_SNAPSHOT_VACUUM;
        assert_int_equal(GV_EINVALID_REQUEST, backup_method_parse(bad[i], &m));
        assert_int_equal(STORE_SNAPSHOT_VACUUM, m);
    }
}

static void fsync_dir_needs_a_directory(void **state)
{
    fx_t *f = *state;
    char path[192];
    assert_int_equal(0, backup_fsync_dir(f->base));
    join(path, sizeof(path), f->base, "missing");
    assert_int_equal(GV_EIO, backup_fsync_dir(path));
    assert_int_equal(GV_EIO, backup_fsync_dir(f->out));
}

int main(void)
{
#define T(name, set) cmocka_unit_test_setup_teardown(name, set, teardown)
    const struct CMUnitTest tests[] = {
        T(create_pages_round_trips, setup),
        T(create_vacuum_round_trips, setup),
        T(create_keeps_no_control_characters_in_source, setup),
        T(create_replaces_leftovers_of_a_killed_backup, setup),
        T(create_in_a_missing_directory_leaves_nothing, setup),
        T(create_inside_a_transaction_leaves_nothing, setup),
        T(create_onto_a_directory_leaves_it_untouched, setup),
        T(create_refuses_a_snapshot_name_it_cannot_clear, setup),
        T(extract_refuses_flipped_bytes, setup_backup),
        T(extract_refuses_truncations, setup_backup),
        T(extract_refuses_anything_after_the_frame, setup_backup),
        T(extract_refuses_a_size_that_is_not_the_content, setup_backup),
        T(extract_refuses_a_sha256_that_is_not_the_content, setup_backup),
        T(extract_refuses_a_newer_format_bad_magic_and_empty_file, setup_backup),
        T(extract_never_overwrites_dest, setup_backup),
        T(extract_of_a_missing_backup_is_not_found, setup_backup),
        T(read_header_reads_a_hand_made_one, setup),
        T(read_header_refuses_missing_fields, setup),
        T(read_header_refuses_bad_values, setup),
        T(read_header_refuses_bad_frames, setup),
        T(read_header_of_a_directory_or_missing_file, setup_backup),
        T(list_is_newest_first_then_by_name, setup_backup),
        T(list_of_a_missing_directory_or_a_file, setup_backup),
        T(list_during_a_backup_offers_only_finished_ones, setup),
        T(prune_removes_only_suffixed_backups_beyond_keep, setup),
        T(method_parse_knows_two_names, setup),
        T(fsync_dir_needs_a_directory, setup_backup),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
