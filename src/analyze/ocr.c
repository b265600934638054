/* OCR with libtesseract's C API: sparse-text segmentation on a normalised picture,
 * words filtered and joined into lines. */
#include <allheaders.h> /* Leptonica: its messages */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>
#include <unistd.h>

#include "analyze/ocr.h"
#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"

/* Word and line filters, tuned on the generated dialogs and the real screen
 * recordings (tests/cli/test_local.c): real words read at 80..96, icon and border
 * junk mostly under 60. */
#define WORD_MIN_CONF 45.0
#define LINE_MIN_CONF 62.0
#define SHORT_MIN_CONF                                                                             \
    85.0 /* a line of under 4 letters/digits and under 2 Chinese characters:                       \
            junk below this */

struct fw_ocr {
    TessBaseAPI *api;
    int trace; /* every word and its confidence to fw_log (FW_LOG_TRACE), for tuning */
    /* Tuning hooks, read from the environment when the engine opens: they exist to
     * measure the steps (bench/ocr.sh, docs/local.md), not as settings.
     * FW_OCR_SAVE=/abs/dir saves each picture Tesseract gets there (PGM): */
    char save_dir[512];
    /* the steps after the normalisation, each of which FW_OCR_OFF (a list such as
     * "texture,deskew") turns off, for bench/ocr.sh's variants: */
    int texture; /* skip pictures and blank regions without text-like rows */
    int big;     /* the big-text pass (fw_ocr_big_picture) ... */
    int big_k;   /* ... at 1/big_k of the picture (FW_OCR_BIG_SCALE, default 4) ... */
    int deskew;  /* ... turning tilted rows level */
};

static char version[64];

static void read_version(void)
{
    snprintf(version, sizeof version, "tesseract %s", TessVersion());
}

const char *fw_ocr_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_version);
    return version;
}

/* Every language of lang has its .traineddata where Tesseract looks ($TESSDATA_PREFIX,
 * else Debian's directory). Checked first: a failing init prints on stderr. */
static int have_data(const char *lang)
{
    const char *env = getenv("TESSDATA_PREFIX");
    const char *dirs[] = {env, "/usr/share/tesseract-ocr/5/tessdata",
                          "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata"};
    char one[64];
    for (const char *p = lang; *p;) {
        size_t n = strcspn(p, "+");
        if (n == 0 || n >= sizeof one)
            return 0;
        memcpy(one, p, n);
        one[n] = '\0';
        int found = 0;
        for (size_t d = env ? 0 : 1; d < sizeof dirs / sizeof *dirs && !found; d++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s.traineddata", dirs[d], one);
            found = access(path, R_OK) == 0;
            if (env)
                break; /* Tesseract looks only there */
        }
        if (!found)
            return 0;
        p += n + (p[n] == '+');
    }
    return 1;
}

/* Leptonica (Tesseract's image library) writes its complaints ("Error in
 * boxClipToRectangle: box outside rectangle") on stderr: they go to the log instead, the
 * engine prints nothing. */
static void lept_message(const char *msg)
{
    size_t n = strcspn(msg, "\n");
    fw_log(FW_LOG_DEBUG, "ocr: leptonica: %.*s", (int)n, msg);
}

static void route_lept(void)
{
    leptSetStderrHandler(lept_message);
}

int fw_ocr_open(fw_ocr **out, const char *lang, fw_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, route_lept);
    *out = NULL;
    if (!lang || !*lang)
        lang = FW_OCR_DEFAULT_LANG;
    for (const char *c = lang; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' || *c == '+' ||
              (*c >= '0' && *c <= '9')))
            return fw_error_set(err, FW_EINVAL,
                                "ocr-lang: '%s' is not a list of Tesseract "
                                "languages such as eng+chi_sim",
                                lang);
    if (!have_data(lang))
        return fw_error_set(err, FW_EINVAL,
                            "ocr-lang: no Tesseract data for '%s' (Debian packages "
                            "tesseract-ocr-LANG, e.g. tesseract-ocr-eng tesseract-ocr-chi-sim)",
                            lang);
    fw_ocr *o = calloc(1, sizeof *o);
    if (!o || !(o->api = TessBaseAPICreate())) {
        free(o);
        return fw_error_set(err, FW_ENOMEM, "ocr: out of memory");
    }
    /* Tesseract prints warnings (resolution, missing data) on stderr: keep them out */
    char *vars[] = {"debug_file"}, *vals[] = {"/dev/null"};
    if (TessBaseAPIInit4(o->api, NULL, lang, OEM_LSTM_ONLY, NULL, 0, vars, vals, 1, 0) != 0) {
        fw_ocr_close(o);
        return fw_error_set(err, FW_EINVAL,
                            "ocr-lang: no Tesseract data for '%s' (Debian packages "
                            "tesseract-ocr-LANG, e.g. tesseract-ocr-eng tesseract-ocr-chi-sim)",
                            lang);
    }
    TessBaseAPISetPageSegMode(o->api, PSM_SPARSE_TEXT);
    o->trace = fw_log_on(FW_LOG_TRACE);
    const char *save = getenv("FW_OCR_SAVE");
    if (save && save[0] == '/')
        snprintf(o->save_dir, sizeof o->save_dir, "%s", save);
    const char *off = getenv("FW_OCR_OFF");
    o->texture = !(off && strstr(off, "texture"));
    o->big = !(off && strstr(off, "big"));
    o->deskew = !(off && strstr(off, "deskew"));
    const char *k = getenv("FW_OCR_BIG_SCALE");
    o->big_k = k && atoi(k) >= 2 && atoi(k) <= 8 ? atoi(k) : FW_OCR_BIG_SCALE;
    *out = o;
    return 0;
}

void fw_ocr_close(fw_ocr *o)
{
    if (!o)
        return;
    if (o->api) {
        TessBaseAPIEnd(o->api);
        TessBaseAPIDelete(o->api);
    }
    free(o);
}

void fw_ocr_result_free(fw_ocr_result *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->lines[i].text);
    free(r->lines);
    memset(r, 0, sizeof *r);
}

static int is_cjk(unsigned cp)
{
    return (cp >= 0x2e80 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0xff00 && cp <= 0xffef) || (cp >= 0x20000 && cp <= 0x2fa1f);
}

static int is_alnum_cp(unsigned cp)
{
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           (cp >= 0xc0 && cp < 0x2000 && cp != 0xd7 && cp != 0xf7);
}

/* Chinese characters that are single strokes: what edges, rails and horizons in a
 * natural scene are read as ("一", "二", "丨", ...). A line of only these is junk. */
static int is_stroke(unsigned cp)
{
    return cp == 0x4e00 || cp == 0x4e8c || cp == 0x4e09 || cp == 0x4e28 || cp == 0x4e3f ||
           cp == 0x4e36 || cp == 0x5341 || cp == 0x4e85;
}

static unsigned last_cp(const char *s)
{
    unsigned cp = 0;
    while (*s)
        cp = fw_utf8_next(&s);
    return cp;
}

typedef struct line_acc {
    char text[1024];
    size_t len;
    double conf_sum, weight;
    int x0, y0, x1, y1;
    int alnum, cjk, strokes;
} line_acc;

static void acc_word(line_acc *l, const char *word, double conf, int x0, int y0, int x1, int y1)
{
    int alnum = 0, cjk = 0, strokes = 0, chars = 0;
    unsigned first = 0;
    for (const char *s = word; *s;) {
        unsigned cp = fw_utf8_next(&s);
        if (!chars)
            first = cp;
        alnum += is_alnum_cp(cp);
        cjk += is_cjk(cp);
        strokes += is_stroke(cp);
        chars++;
    }
    if (!alnum && !cjk && (l->len == 0 || conf < 80)) /* stray punctuation: borders, icons */
        return;
    size_t wl = strlen(word);
    if (l->len + wl + 2 >= sizeof l->text)
        return;
    if (l->len) {
        /* Tesseract spaces every Chinese character; the text had none between them */
        if (!(is_cjk(last_cp(l->text)) && is_cjk(first)))
            l->text[l->len++] = ' ';
    } else {
        l->x0 = x0, l->y0 = y0, l->x1 = x1, l->y1 = y1;
    }
    memcpy(l->text + l->len, word, wl + 1);
    l->len += wl;
    l->conf_sum += conf * chars;
    l->weight += chars;
    l->alnum += alnum;
    l->cjk += cjk;
    l->strokes += strokes;
    l->x0 = x0 < l->x0 ? x0 : l->x0;
    l->y0 = y0 < l->y0 ? y0 : l->y0;
    l->x1 = x1 > l->x1 ? x1 : l->x1;
    l->y1 = y1 > l->y1 ? y1 : l->y1;
}

/* Keeps the line when it is confident and has something to read. */
static int flush_line(line_acc *l, int mul, int div, fw_ocr_result *out, int *cap)
{
    double conf = l->weight > 0 ? l->conf_sum / l->weight : 0;
    int keep = l->len > 0 && conf >= LINE_MIN_CONF && (l->alnum >= 2 || l->cjk >= 1);
    /* what texture and edges are read as: a few letters, or stroke-like characters */
    if (l->cjk < 2 && l->alnum < 4 && conf < SHORT_MIN_CONF)
        keep = 0;
    if (l->cjk > 0 && l->cjk == l->strokes && l->alnum < 4)
        keep = 0;
    if (keep) {
        if (out->n == *cap) {
            int n = *cap ? *cap * 2 : 16;
            fw_ocr_line *nl = realloc(out->lines, (size_t)n * sizeof *nl);
            if (!nl)
                return FW_ENOMEM;
            out->lines = nl;
            *cap = n;
        }
        fw_ocr_line *d = &out->lines[out->n];
        if (!(d->text = strdup(l->text)))
            return FW_ENOMEM;
        d->conf = conf;
        d->x = l->x0 * mul / div;
        d->y = l->y0 * mul / div;
        d->w = (l->x1 - l->x0) * mul / div;
        d->h = (l->y1 - l->y0) * mul / div;
        out->n++;
    }
    memset(l, 0, sizeof *l);
    return 0;
}

static void save_picture(const char *dir, const uint8_t *p, int w, int h)
{
    static int seq;
    char path[600];
    snprintf(path, sizeof path, "%s/ocr-%03d.pgm", dir, __atomic_fetch_add(&seq, 1, 0));
    FILE *f = fopen(path, "wb");
    if (f) {
        fprintf(f, "P5\n%d %d\n255\n", w, h);
        fwrite(p, 1, (size_t)w * h, f);
        fclose(f);
    }
}

/* Tesseract on one prepared picture: its lines, boxes times mul / div, added to out. */
static int recognise(fw_ocr *o, const uint8_t *pic, int w, int h, int mul, int div,
                     fw_ocr_result *out, int *cap, fw_error *err)
{
    if (o->save_dir[0])
        save_picture(o->save_dir, pic, w, h);
    TessBaseAPISetImage(o->api, pic, w, h, 1, w);
    int rc = 0;
    if (TessBaseAPIRecognize(o->api, NULL) != 0) {
        rc = fw_error_set(err, FW_EINTERNAL, "ocr: Tesseract could not read the picture");
        goto done;
    }
    TessResultIterator *ri = TessBaseAPIGetIterator(o->api);
    if (!ri) /* nothing on the page */
        goto done;
    const TessPageIterator *pi = TessResultIteratorGetPageIteratorConst(ri);
    line_acc line = {0};
    do {
        if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE) && line.len &&
            (rc = flush_line(&line, mul, div, out, cap)))
            break;
        char *word = TessResultIteratorGetUTF8Text(ri, RIL_WORD);
        int x0, y0, x1, y1;
        if (word && TessPageIteratorBoundingBox(pi, RIL_WORD, &x0, &y0, &x1, &y1)) {
            double conf = TessResultIteratorConfidence(ri, RIL_WORD);
            if (o->trace)
                fw_log(FW_LOG_TRACE, "ocr: %5.1f %s%s", conf, word,
                       TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE) ? "  (line)" : "");
            if (conf >= WORD_MIN_CONF && word[0])
                acc_word(&line, word, conf, x0, y0, x1, y1);
        }
        TessDeleteText(word);
    } while (TessResultIteratorNext(ri, RIL_WORD));
    if (!rc)
        rc = flush_line(&line, mul, div, out, cap);
    TessResultIteratorDelete(ri);
    if (rc)
        rc = fw_error_set(err, FW_ENOMEM, "ocr: out of memory");
done:
    TessBaseAPIClear(o->api);
    return rc;
}

/* Text-like structure of a normalised picture (texture blanked in place); 0 rows: none. */
static int find_text(fw_ocr *o, uint8_t *pic, int w, int h, fw_ocr_text *t, fw_error *err)
{
    if (fw_ocr_find_text(pic, w, h, t))
        return fw_error_set(err, FW_ENOMEM, "ocr: out of memory");
    if (o->trace)
        fw_log(FW_LOG_TRACE,
               "ocr: %dx%d: %d components, %d chains, %d text-like rows, %d of %d "
               "tiles textured, %d blanked",
               w, h, t->n_components, t->n_chains, t->n_rows, t->n_textured, t->n_tiles,
               t->n_blanked);
    return 0;
}

/* The big-text pass (fw_ocr_big_picture): only rows of tall letters, read on the
 * picture shrunk o->big_k times, turned level; its lines merged into out's.
 * *ran: Tesseract ran. */
static int read_big(fw_ocr *o, const uint8_t *grey, int w, int h, int stride, int scale,
                    fw_ocr_result *out, int *cap, int *ran, fw_error *err)
{
    fw_ocr_big b;
    int rc = fw_ocr_big_picture(grey, w, h, stride, o->big_k, o->deskew, &b);
    *ran = 0;
    if (rc)
        return fw_error_set(err, FW_ENOMEM, "ocr: out of memory");
    if (o->trace)
        fw_log(FW_LOG_TRACE,
               "ocr: big text %dx%d: %d components, %d chains, %d text-like rows, %d "
               "tall, tilt %.1f degrees",
               b.w, b.h, b.text.n_components, b.text.n_chains, b.text.n_rows, b.n_tall, b.deg);
    fw_ocr_result big = {0};
    int big_cap = 0;
    if (b.n_tall > 0) {
        *ran = 1;
        rc = recognise(o, b.pic, b.w, b.h, 1, 1, &big, &big_cap, err);
    }
    for (int i = 0; !rc && i < big.n; i++) {
        fw_ocr_big_unturn(&b, &big.lines[i], scale);
        rc = fw_ocr_merge_line(out, cap, &big.lines[i]);
        big.lines[i].text = NULL; /* taken */
        if (rc)
            rc = fw_error_set(err, FW_ENOMEM, "ocr: out of memory");
    }
    fw_ocr_result_free(&big);
    fw_ocr_big_free(&b);
    return rc;
}

int fw_ocr_read(fw_ocr *o, const uint8_t *grey, int w, int h, int stride, int scale,
                fw_ocr_result *out, fw_error *err)
{
    memset(out, 0, sizeof *out);
    out->scale = scale;
    int cap = 0, rc = 0, skipped = 1;
    uint8_t *norm = malloc((size_t)w * h);
    if (!norm || fw_ocr_normalise(grey, w, h, stride, FW_OCR_MORPH_RADIUS, norm)) {
        free(norm);
        return fw_error_set(err, FW_ENOMEM, "ocr: out of memory");
    }
    fw_ocr_text t = {0};
    if (o->texture && (rc = find_text(o, norm, w, h, &t, err)))
        goto done;
    out->blanked = t.n_tiles ? (double)t.n_blanked / t.n_tiles : 0;
    if (!o->texture || t.n_rows > 0) {
        skipped = 0;
        if ((rc = recognise(o, norm, w, h, 1, scale, out, &cap, err)))
            goto done;
    }
    if (o->big) {
        int ran = 0;
        if ((rc = read_big(o, grey, w, h, stride, scale, out, &cap, &ran, err)))
            goto done;
        skipped &= !ran;
    }
    out->skipped = o->texture && skipped;
done:
    fw_ocr_text_free(&t);
    free(norm);
    if (rc)
        fw_ocr_result_free(out);
    return rc;
}
