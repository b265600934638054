/* Shared by the fuzz targets: the libFuzzer entry point, property checks that abort() with
 * a message (what libFuzzer and the replay program report as a crash), NUL-terminated
 * copies of the input, and a scratch file for the parsers that read a path.
 *
 * A property may be skipped by name, FWFUZZ_SKIP="name,name" in the environment: a run
 * can then look past a known bug that is being fixed. make test never sets it. */
#ifndef FW_FUZZ_UTIL_H
#define FW_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when FWFUZZ_SKIP lists name. */
static inline int fz_skipped(const char *name)
{
    const char *list = getenv("FWFUZZ_SKIP");
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* Aborts, naming the property, unless it holds (or is skipped). */
#define FZ_CHECK(name, cond, ...)                                                                  \
    do {                                                                                           \
        if (!(cond) && !fz_skipped(name)) {                                                        \
            fprintf(stderr, "fuzz: property '%s' violated: ", name);                               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* data[0..n) as a malloc'd C string (an embedded NUL ends it early); aborts when out of
 * memory, which a fuzzer's inputs never cause. */
static inline char *fz_cstr(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* 1 when s[0..n) is UTF-8 as JSON takes it (no overlong forms, no surrogates, at most
 * U+10FFFF). */
static inline int fz_utf8_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        size_t len = c < 0x80                ? 1
                     : c >= 0xc2 && c < 0xe0 ? 2
                     : c >= 0xe0 && c < 0xf0 ? 3
                     : c >= 0xf0 && c < 0xf5 ? 4
                                             : 0;
        if (!len || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((u[i + k] & 0xc0) != 0x80)
                return 0;
        if ((c == 0xe0 && u[i + 1] < 0xa0) || (c == 0xed && u[i + 1] >= 0xa0) ||
            (c == 0xf0 && u[i + 1] < 0x90) || (c == 0xf4 && u[i + 1] >= 0x90))
            return 0;
        i += len;
    }
    return 1;
}

/* A scratch file of this process, TMPDIR (or /tmp)/fwfuzz-PID-what, holding data[0..n);
 * its path into path. Removed at exit. Aborts when it cannot be written. */
static inline char *fz_scratch_name(void)
{
    static char name[4096];
    return name;
}
static inline void fz_scratch_remove(void)
{
    unlink(fz_scratch_name());
}
static inline void fz_scratch(const char *what, const uint8_t *data, size_t n, char *path,
                              size_t size)
{
    char *name = fz_scratch_name();
    if (!name[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(name, 4096, "%s/fwfuzz-%ld-%s", tmp && *tmp ? tmp : "/tmp", (long)getpid(), what);
        atexit(fz_scratch_remove);
    }
    FILE *f = fopen(name, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f))
        abort();
    snprintf(path, size, "%s", name);
}

#endif
