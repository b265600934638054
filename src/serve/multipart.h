/* multipart: a streaming multipart/form-data reader (RFC 7578). The body is pulled
 * through read() in blocks and each part's bytes go to the callbacks as they come, so
 * an upload is never held in memory and a callback can stop it at any byte (a size
 * bound). */
#ifndef FW_SERVE_MULTIPART_H
#define FW_SERVE_MULTIPART_H

#include <stddef.h>

typedef struct fw_multipart_cb {
    /* A part begins: its field name and file name ("" when none). A positive value stops
     * (every callback: it is what fw_multipart_read returns). */
    int (*begin)(void *user, const char *name, const char *filename);
    /* Some of its bytes. */
    int (*data)(void *user, const char *bytes, size_t n);
    /* It ended. */
    int (*end)(void *user);
    void *user;
} fw_multipart_cb;

/* The boundary of a Content-Type "multipart/form-data; boundary=..." into out: 0, or -1. */
int fw_multipart_boundary(const char *content_type, char *out, size_t size);

/* Reads the whole body. read(ctx, buf, n) returns bytes read, 0 at the end, < 0 on error.
 * Returns 0 at the closing boundary; a callback's non-zero value when it stopped; -1 for
 * a malformed body (why says what) or a read error. */
int fw_multipart_read(const char *boundary, int (*read)(void *ctx, char *buf, size_t n), void *ctx,
                      const fw_multipart_cb *cb, char *why, size_t why_size);

#endif
