/* Uploads (serve/multipart.c): the boundary of a Content-Type and a multipart/form-data
 * body read through fw_multipart_read, as submit.c reads an upload from civetweb. The
 * input is the Content-Type line, then the body:
 *
 *   multipart/form-data; boundary=XyZ\n
 *   --XyZ\r\nContent-Disposition: form-data; name="file"; ...
 *
 * The body is read three ways: in one piece, in small pieces of changing sizes, and cut
 * by a read error. The first two must give the same parts, bytes and result (for bodies
 * within the parser's header bound, where how much is buffered cannot matter). */
#include "fuzz_util.h"
#include "serve/multipart.h"

#define STOP_AT (64 << 10) /* a part's bytes past this stop the read, as an upload bound */
#define STOPPED 7          /* what the data callback returns then */
#define SAME_BELOW (16 << 10)

typedef struct source {
    const char *p;
    size_t n, at;
    int pieces;     /* 0: whatever is asked; else sizes 1, 2, 3, 5, 8, 13, ... */
    size_t fail_at; /* a read error once this much was read (0: never) */
    unsigned a, b;  /* the piece sizes */
} source;

static int src_read(void *ctx, char *buf, size_t n)
{
    source *s = ctx;
    if (s->fail_at && s->at >= s->fail_at)
        return -1;
    size_t left = s->n - s->at, k = n < left ? n : left;
    if (s->pieces) {
        unsigned next = s->a + s->b;
        s->a = s->b;
        s->b = next > 4099 ? 1 : next;
        if (k > s->a)
            k = s->a;
    }
    if (s->fail_at && s->at + k > s->fail_at)
        k = s->fail_at - s->at;
    memcpy(buf, s->p + s->at, k);
    s->at += k;
    return (int)k;
}

/* What the callbacks saw, as one text: B name \0 filename \0, the part's bytes, E. */
typedef struct trace {
    char *t;
    size_t n, cap;
    int in_part;
    size_t part_bytes;
    int parts;
} trace;

static void put(trace *tr, const void *p, size_t n)
{
    if (tr->n + n > tr->cap) {
        tr->cap = (tr->n + n) * 2 + 256;
        tr->t = realloc(tr->t, tr->cap);
        if (!tr->t)
            abort();
    }
    memcpy(tr->t + tr->n, p, n);
    tr->n += n;
}

static int on_begin(void *user, const char *name, const char *filename)
{
    trace *tr = user;
    FZ_CHECK("multipart_parts_do_not_nest", !tr->in_part, "begin inside a part");
    FZ_CHECK("multipart_part_has_a_name", name[0] != '\0', "a part without a name");
    FZ_CHECK("multipart_names_fit", strlen(name) < 256 && strlen(filename) < 256, "long name");
    tr->in_part = 1;
    tr->part_bytes = 0;
    tr->parts++;
    put(tr, "B", 1);
    put(tr, name, strlen(name) + 1);
    put(tr, filename, strlen(filename) + 1);
    return 0;
}

static int on_data(void *user, const char *bytes, size_t n)
{
    trace *tr = user;
    FZ_CHECK("multipart_data_inside_a_part", tr->in_part, "data outside a part");
    FZ_CHECK("multipart_data_not_empty", n > 0, "an empty data call");
    size_t keep = tr->part_bytes + n > STOP_AT ? STOP_AT - tr->part_bytes : n;
    put(tr, bytes, keep);
    tr->part_bytes += n;
    return tr->part_bytes > STOP_AT ? STOPPED : 0;
}

static int on_end(void *user)
{
    trace *tr = user;
    FZ_CHECK("multipart_end_after_begin", tr->in_part, "end outside a part");
    tr->in_part = 0;
    put(tr, "E", 1);
    return 0;
}

static int parse(const char *boundary, source *src, trace *tr, char *why, size_t why_n)
{
    fw_multipart_cb cb = {on_begin, on_data, on_end, tr};
    int rc = fw_multipart_read(boundary, src_read, src, &cb, why, why_n);
    FZ_CHECK("multipart_result_known", rc == 0 || rc == -1 || rc == STOPPED, "rc %d", rc);
    FZ_CHECK("multipart_error_says_why", rc != -1 || why[0], "no why");
    FZ_CHECK("multipart_done_has_a_part", rc != 0 || (tr->parts > 0 && !tr->in_part),
             "%d parts, in one: %d", tr->parts, tr->in_part);
    FZ_CHECK("multipart_reads_within_the_body", src->at <= src->n, "read past the end");
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - data) : size;
    char *ctype = fz_cstr(data, ct_len);
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t body_n = nl ? size - ct_len - 1 : 0;

    char boundary[80];
    if (fw_multipart_boundary(ctype, boundary, sizeof boundary) == 0) {
        size_t bn = strlen(boundary);
        FZ_CHECK("multipart_boundary_length", bn >= 1 && bn <= 70, "%zu bytes", bn);
        FZ_CHECK("multipart_boundary_in_the_header", strstr(ctype, boundary) != NULL, "'%s'",
                 boundary);
    } else {
        snprintf(boundary, sizeof boundary, "XyZ"); /* the body is read all the same */
    }

    char why1[256], why2[256], why3[256];
    source whole = {body, body_n, 0, 0, 0, 0, 0};
    source pieces = {body, body_n, 0, 1, 0, 1, 1};
    source cut = {body, body_n, 0, 1, body_n / 2 + 1, 1, 2};
    trace t1 = {0}, t2 = {0}, t3 = {0};
    int rc1 = parse(boundary, &whole, &t1, why1, sizeof why1);
    int rc2 = parse(boundary, &pieces, &t2, why2, sizeof why2);
    if (body_n < SAME_BELOW) {
        FZ_CHECK("multipart_pieces_same_result", rc1 == rc2, "%d '%s' vs %d '%s'", rc1, why1, rc2,
                 why2);
        FZ_CHECK("multipart_pieces_same_parts",
                 t1.n == t2.n && (t1.n == 0 || memcmp(t1.t, t2.t, t1.n) == 0),
                 "%zu vs %zu bytes of trace", t1.n, t2.n);
    }
    int rc3 = parse(boundary, &cut, &t3, why3, sizeof why3);
    (void)rc3;
    free(t1.t);
    free(t2.t);
    free(t3.t);
    free(ctype);
    return 0;
}
