/* testutil.c — shared helpers for the cmocka unit tests. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jt/util.h"

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap + 1);
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

yajl_val tu_load_vectors(const char *name)
{
    const char *dir = getenv("JT_VECTORS");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/vectors", name);
    char *text = tu_read_file(path, NULL);
    if (!text) {
        print_error("cannot read vector file %s\n", path);
        fail();
    }
    char err[256];
    yajl_val v = yajl_tree_parse(text, err, sizeof err);
    free(text);
    if (!v) {
        print_error("cannot parse %s: %s\n", path, err);
        fail();
    }
    return v;
}

yajl_val tu_get(yajl_val obj, const char *key)
{
    const char *path[] = {key, NULL};
    return obj ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

const char *tu_str(yajl_val obj, const char *key)
{
    yajl_val v = tu_get(obj, key);
    return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

uint8_t *tu_unhex(const char *hex, size_t *len)
{
    size_t hl = strlen(hex);
    uint8_t *p = malloc(hl / 2 + 1);
    size_t n = 0;
    if (jt_hex_decode(hex, hl, p, hl / 2 + 1, &n) != JT_OK) {
        print_error("bad hex in test data: %s\n", hex);
        fail();
    }
    if (len)
        *len = n;
    return p;
}

const char *tu_hex(const uint8_t *p, size_t n)
{
    static char bufs[4][4096];
    static int i;
    char *b = bufs[i++ & 3];
    if (n > 2047)
        n = 2047;
    if (jt_hex_encode(p, n, b, sizeof bufs[0]) != JT_OK)
        b[0] = '\0';
    return b;
}

void tu_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                tu_rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}
