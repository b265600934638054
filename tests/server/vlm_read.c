/* The test model server reads text (--read-text): Tesseract on the grey picture it
 * received, at the resolution it received, as blocks and as scattered labels, dark on
 * light and light on dark. Lines read with
 * confidence are what a model would quote; words found but not read with confidence are text too
 * small to read, as a model says when the picture is too coarse. Engines are pooled across threads.
 */
#include "vlm_read.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>

#define POOL 8
#define SURE 70  /* a line's confidence (0..100) that counts as read */
#define GUESS 35 /* below it, what Tesseract found is not taken for words */

int vlm_read_deadline_ms = 20000;

static struct {
    pthread_mutex_t mu;
    TessBaseAPI *free_list[POOL];
    int n_free;
} P = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

static TessBaseAPI *engine_take(void)
{
    pthread_mutex_lock(&P.mu);
    TessBaseAPI *api = P.n_free > 0 ? P.free_list[--P.n_free] : NULL;
    pthread_mutex_unlock(&P.mu);
    if (api)
        return api;
    api = TessBaseAPICreate();
    if (api && TessBaseAPIInit3(api, NULL, "eng") != 0) {
        TessBaseAPIDelete(api);
        return NULL;
    }
    return api;
}

static void engine_give(TessBaseAPI *api)
{
    pthread_mutex_lock(&P.mu);
    if (P.n_free < POOL) {
        P.free_list[P.n_free++] = api;
        api = NULL;
    }
    pthread_mutex_unlock(&P.mu);
    if (api) {
        TessBaseAPIEnd(api);
        TessBaseAPIDelete(api);
    }
}

void vlm_read_end(void)
{
    pthread_mutex_lock(&P.mu);
    for (int i = 0; i < P.n_free; i++) {
        TessBaseAPIEnd(P.free_list[i]);
        TessBaseAPIDelete(P.free_list[i]);
    }
    P.n_free = 0;
    pthread_mutex_unlock(&P.mu);
}

/* Letters or digits in s, and s trimmed of its line end. */
static int alnums(char *s)
{
    int n = 0;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    for (const char *c = s; *c; c++)
        n += isalnum((unsigned char)*c) != 0;
    return n;
}

/* s lowercased, letters and digits only, words one space apart. */
static void norm(const char *s, char *out, size_t n)
{
    size_t o = 0;
    int space = 0;
    for (; *s && o + 2 < n; s++) {
        if (isalnum((unsigned char)*s)) {
            if (space && o)
                out[o++] = ' ';
            out[o++] = (char)tolower((unsigned char)*s);
            space = 0;
        } else
            space = 1;
    }
    out[o] = '\0';
}

/* 1 when text (lines) has line already, compared as norm() makes them. */
static int has_line(const char *text, const char *line)
{
    char mine[512], raw[512], other[512];
    norm(line, mine, sizeof mine);
    while (*text) {
        size_t len = strcspn(text, "\n");
        snprintf(raw, sizeof raw, "%.*s", (int)len, text);
        norm(raw, other, sizeof other);
        if (strcmp(other, mine) == 0)
            return 1;
        text += len + (text[len] == '\n');
    }
    return 0;
}

/* 1 when a line not read with confidence still looks like words (mostly letters and
 * digits), not the shapes Tesseract finds in a photo. */
static int wordlike(const char *line)
{
    int alnum = 0, other = 0;
    for (const char *c = line; *c; c++)
        if (isalnum((unsigned char)*c))
            alnum++;
        else if (!isspace((unsigned char)*c))
            other++;
    return alnum >= 4 && alnum >= 3 * other;
}

/* One pass of Tesseract in page segmentation mode psm: its confident lines added to text
 * (those it has not got already). */
static void pass(TessBaseAPI *api, int psm, char *text, size_t n, int *unreadable)
{
    TessBaseAPISetPageSegMode(api, (TessPageSegMode)psm);
    ETEXT_DESC *monitor = TessMonitorCreate(); /* a busy picture must not hold a slot */
    if (monitor)
        TessMonitorSetDeadlineMSecs(monitor, vlm_read_deadline_ms);
    int rc = TessBaseAPIRecognize(api, monitor);
    TessMonitorDelete(monitor);
    if (rc != 0)
        return;
    TessResultIterator *it = TessBaseAPIGetIterator(api);
    if (!it)
        return;
    TessPageIterator *pi = TessResultIteratorGetPageIterator(it);
    do {
        char *line = TessResultIteratorGetUTF8Text(it, RIL_TEXTLINE);
        float conf = TessResultIteratorConfidence(it, RIL_TEXTLINE);
        if (line && alnums(line) >= 2) {
            size_t l = strlen(text);
            if (conf < SURE)
                *unreadable |= wordlike(line) && conf >= GUESS;
            else if (!has_line(text, line) && l + strlen(line) + 2 < n)
                snprintf(text + l, n - l, "%s%s", l ? "\n" : "", line);
        }
        TessDeleteText(line);
    } while (TessPageIteratorNext(pi, RIL_TEXTLINE));
    TessResultIteratorDelete(it);
}

int vlm_read(const uint8_t *grey, int w, int h, int stride, char *text, size_t n, int *unreadable)
{
    text[0] = '\0';
    *unreadable = 0;
    TessBaseAPI *api = engine_take();
    if (!api)
        return -1;
    TessBaseAPISetImage(api, grey, w, h, 1, stride);
    pass(api, PSM_AUTO, text, n, unreadable);        /* blocks of text */
    pass(api, PSM_SPARSE_TEXT, text, n, unreadable); /* and scattered labels (buttons) */
    uint8_t *neg = malloc((size_t)w * h);            /* light text on dark (title bars, toasts) */
    if (neg) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                neg[(size_t)y * w + x] = (uint8_t)(255 - grey[(size_t)y * stride + x]);
        TessBaseAPISetImage(api, neg, w, h, 1, w);
        int ignored = 0; /* the negative of dark text is no evidence of small text */
        pass(api, PSM_SPARSE_TEXT, text, n, &ignored);
        free(neg);
    }
    TessBaseAPIClear(api);
    engine_give(api);
    return 0;
}
