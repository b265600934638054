#include "serve/multipart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BLOCK (64 << 10)
#define MAX_HEADERS (16 << 10) /* a part's headers: a name, a file name, a type */

int fw_multipart_boundary(const char *ct, char *out, size_t size)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return -1;
    const char *b = strcasestr(ct, "boundary=");
    if (!b)
        return -1;
    b += 9;
    int quoted = *b == '"';
    b += quoted;
    size_t n = strcspn(b, quoted ? "\"" : "; \t");
    if (n == 0 || n > 70 || n >= size) /* RFC 2046: 1 to 70 characters */
        return -1;
    memcpy(out, b, n);
    out[n] = '\0';
    return 0;
}

typedef struct reader {
    char *buf;
    size_t len, cap;
    int eof;
    int (*read)(void *ctx, char *buf, size_t n);
    void *ctx;
} reader;

/* Reads more into the buffer: 1 when something came, 0 at the end, -1 on error. */
static int fill(reader *r)
{
    if (r->eof)
        return 0;
    if (r->cap - r->len < BLOCK) {
        char *grown = realloc(r->buf, r->cap + BLOCK);
        if (!grown)
            return -1;
        r->buf = grown, r->cap += BLOCK;
    }
    int n = r->read(r->ctx, r->buf + r->len, r->cap - r->len);
    if (n < 0)
        return -1;
    if (n == 0)
        r->eof = 1;
    r->len += (size_t)n;
    return n > 0;
}

static void consume(reader *r, size_t n)
{
    if (!n)
        return;
    memmove(r->buf, r->buf + n, r->len - n);
    r->len -= n;
}

/* name="value" out of a Content-Disposition line. */
static void disposition_param(const char *line, const char *param, char *out, size_t size)
{
    out[0] = '\0';
    char key[32];
    snprintf(key, sizeof key, "; %s=\"", param);
    const char *p = strcasestr(line, key);
    if (!p)
        return;
    p += strlen(key);
    size_t n = strcspn(p, "\"");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

/* Parses the headers at the start of the buffer (ending with an empty line). */
static int part_headers(reader *r, char *name, char *filename, size_t size, char *why,
                        size_t why_size)
{
    char *end;
    while (!(end = r->len ? memmem(r->buf, r->len, "\r\n\r\n", 4) : NULL)) {
        if (r->len > MAX_HEADERS || fill(r) <= 0) {
            snprintf(why, why_size, "a part's headers are cut or too long");
            return -1;
        }
    }
    *end = '\0';
    name[0] = filename[0] = '\0';
    for (char *line = r->buf; line && *line;) {
        char *next = strstr(line, "\r\n");
        if (next)
            *next = '\0';
        if (strncasecmp(line, "Content-Disposition:", 20) == 0) {
            disposition_param(line, "name", name, size);
            disposition_param(line, "filename", filename, size);
        }
        line = next ? next + 2 : NULL;
    }
    consume(r, (size_t)(end - r->buf) + 4);
    if (!name[0]) {
        snprintf(why, why_size, "a part has no name (Content-Disposition: form-data; name=...)");
        return -1;
    }
    return 0;
}

/* A part's bytes up to the delimiter; then what follows it ("--": the end). */
static int part_body(reader *r, const char *delim, size_t dn, const fw_multipart_cb *cb, int *last,
                     char *why, size_t why_size)
{
    for (;;) {
        char *hit = r->len ? memmem(r->buf, r->len, delim, dn) : NULL;
        size_t safe = hit ? (size_t)(hit - r->buf) : r->len > dn ? r->len - dn : 0;
        if (safe) {
            int rc = cb->data ? cb->data(cb->user, r->buf, safe) : 0;
            if (rc)
                return rc;
            consume(r, safe);
        }
        if (hit) {
            while (r->len < dn + 2)
                if (fill(r) <= 0) {
                    snprintf(why, why_size, "the body ends inside a boundary");
                    return -1;
                }
            *last = memcmp(r->buf + dn, "--", 2) == 0;
            if (!*last && memcmp(r->buf + dn, "\r\n", 2) != 0) {
                snprintf(why, why_size, "a boundary is not followed by a line end");
                return -1;
            }
            consume(r, dn + 2);
            return 0;
        }
        int got = fill(r);
        if (got <= 0) {
            snprintf(why, why_size, "the body ends before its closing boundary");
            return -1;
        }
    }
}

static int parse(reader *r, const char *boundary, const fw_multipart_cb *cb, char *why,
                 size_t why_size)
{
    char delim[80];
    size_t dn = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    /* the first boundary has no line end before it (a preamble may come first); it and
     * the line end after it must be in the buffer */
    char *first;
    while (!(first = r->len ? memmem(r->buf, r->len, delim + 2, dn - 2) : NULL) ||
           r->len - (size_t)(first - r->buf) < dn) {
        if (r->len > MAX_HEADERS || fill(r) <= 0) {
            snprintf(why, why_size, "no opening boundary");
            return -1;
        }
    }
    size_t at = (size_t)(first - r->buf) + dn - 2;
    if (memcmp(r->buf + at, "\r\n", 2) != 0) {
        snprintf(why, why_size, "no part after the opening boundary");
        return -1;
    }
    consume(r, at + 2);
    for (int last = 0; !last;) {
        char name[256], filename[256];
        int rc = part_headers(r, name, filename, sizeof name, why, why_size);
        if (!rc && cb->begin)
            rc = cb->begin(cb->user, name, filename);
        if (!rc)
            rc = part_body(r, delim, dn, cb, &last, why, why_size);
        if (!rc && cb->end)
            rc = cb->end(cb->user);
        if (rc)
            return rc;
    }
    return 0;
}

int fw_multipart_read(const char *boundary, int (*read)(void *ctx, char *buf, size_t n), void *ctx,
                      const fw_multipart_cb *cb, char *why, size_t why_size)
{
    reader r = {.read = read, .ctx = ctx};
    why[0] = '\0';
    int rc = parse(&r, boundary, cb, why, why_size);
    if (rc == -1 && !why[0])
        snprintf(why, why_size, "the body cannot be read");
    free(r.buf);
    return rc;
}
