/* libFuzzer target: arbitrary bytes as URL paths through static_path_resolve on a temporary web
 * root with escaping symlinks next to a secret; a success must name a path under the root. */
#include "core/err.h"
#include "net/static.h"

#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../tmpdir.h"

static char fz_base[PATH_MAX]; /* temp dir: secret.txt and web/ */
static char fz_root[PATH_MAX]; /* real path of web/ */

static void fz_cleanup(void)
{
    if (fz_base[0])
        tmpdir_remove(fz_base);
}

static void fz_file(const char *rel, const char *text)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/%s", fz_base, rel);
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static void fz_link(const char *target, const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof(p), "%s/%s", fz_base, rel);
    if (symlink(target, p) != 0)
        abort();
}

static void fz_setup(void)
{
    char tmpl[] = "/tmp/gavel-fuzz-static-XXXXXX", p[PATH_MAX * 2];
    if (!mkdtemp(tmpl) || !realpath(tmpl, fz_base))
        abort();
    atexit(fz_cleanup);
    snprintf(p, sizeof(p), "%s/web", fz_base);
    if (mkdir(p, 0755) != 0 || !realpath(p, fz_root))
        abort();
    snprintf(p, sizeof(p), "%s/web/assets", fz_base);
    if (mkdir(p, 0755) != 0)
        abort();
    fz_file("secret.txt", "secret");
    fz_file("web/index.html", "index");
    fz_file("web/assets/app-3f2a9c1b.js", "js");
    fz_link("..", "web/up");
    fz_link("../secret.txt", "web/secret");
    fz_link("/", "web/slash");
    fz_link("loop", "web/loop");
    fz_link("../index.html", "web/assets/index-link.html");
}

static int fz_under_root(const char *p)
{
    size_t n = strlen(fz_root);
    return strncmp(p, fz_root, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

static int fz_known_code(int rc)
{
    return rc == 0 || rc == GV_ENOT_FOUND || rc == GV_ETRAVERSAL || rc == GV_EINVALID_REQUEST ||
           rc == GV_EIO;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fz_root[0])
        fz_setup();
    char *url = malloc(size + 1);
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    char out[PATH_MAX];
    int rc = static_path_resolve(fz_root, url, out, sizeof(out));
    if (!fz_known_code(rc))
        abort();
    if (rc == 0 && (strnlen(out, sizeof(out)) >= sizeof(out) || !fz_under_root(out) ||
                    strstr(out, "secret") != NULL)) {
        fprintf(stderr, "escaped the root: url=%s out=%s\n", url, out);
        abort();
    }
    /* the other parsers of the module see the same bytes; they must only not crash */
    (void)static_content_type(url);
    (void)static_asset_is_hashed(url);
    (void)static_gzip_accepted(url);
    (void)static_etag_match(url, "\"1f-abc-9\"");
    free(url);
    return 0;
}
