/* The local backend: on-screen text (Tesseract) and visual descriptors, on this
 * machine, no server. Workers (one Tesseract engine each) take keyframes from the
 * lane in parallel; the text timeline is computed in keyframe order (ordered()). */
#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/backend.h"
#include "analyze/local.h"
#include "analyze/ocr.h"
#include "core/clock.h"
#include "core/error.h"

#define MAX_WORKERS 64
#define SMALL_FRAME_H 720 /* under this height the picture is enlarged x2 for OCR */
#define THUMB_W 64        /* colour thumbnail for the descriptors */

typedef struct local local;

typedef struct worker {
    local *s;
    pthread_t thread;
    int started;
    fw_ocr *ocr;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *to_grey, *to_thumb;
    uint8_t *grey, *thumb;
    size_t grey_cap;
} worker;

struct local {
    fw_lane *lane;
    char lang[128];
    char model[192];
    int n_workers;
    worker w[MAX_WORKERS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long seq; /* bumped by wake() */
    /* the text timeline: the previous keyframe's lines (ordered() only) */
    char **prev;
    int n_prev;
};

static void worker_free(worker *w)
{
    fw_ocr_close(w->ocr);
    avcodec_free_context(&w->dec);
    av_packet_free(&w->pkt);
    av_frame_free(&w->frame);
    sws_freeContext(w->to_grey);
    sws_freeContext(w->to_thumb);
    free(w->grey);
    free(w->thumb);
    memset(w, 0, sizeof *w);
}

static int worker_init(worker *w, local *s, fw_error *err)
{
    w->s = s;
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    if (!codec)
        return fw_error_set(err, FW_EINTERNAL, "local: libavcodec has no JPEG decoder");
    if (!(w->dec = avcodec_alloc_context3(codec)) || !(w->pkt = av_packet_alloc()) ||
        !(w->frame = av_frame_alloc()) || !(w->thumb = malloc(THUMB_W * THUMB_W * 3)))
        return fw_error_set(err, FW_ENOMEM, "local: out of memory");
    w->dec->thread_count = 1;
    if (avcodec_open2(w->dec, codec, NULL) < 0)
        return fw_error_set(err, FW_EINTERNAL, "local: cannot open the JPEG decoder");
    return fw_ocr_open(&w->ocr, s->lang, err);
}

static int decode(worker *w, const fw_task *t)
{
    w->pkt->data = t->jpeg;
    w->pkt->size = (int)t->size;
    int rc = avcodec_send_packet(w->dec, w->pkt);
    if (rc >= 0)
        rc = avcodec_receive_frame(w->dec, w->frame);
    return rc < 0 ? rc : 0;
}

/* Scales the decoded frame into the grey picture for OCR and the colour thumbnail. */
static int pictures(worker *w, int *gw, int *gh, int *scale, int *tw, int *th)
{
    AVFrame *f = w->frame;
    *scale = f->height < SMALL_FRAME_H ? 2 : 1;
    *gw = f->width * *scale;
    *gh = f->height * *scale;
    size_t need = (size_t)*gw * *gh;
    if (need > w->grey_cap) {
        free(w->grey);
        if (!(w->grey = malloc(need)))
            return FW_ENOMEM;
        w->grey_cap = need;
    }
    *tw = f->width < THUMB_W ? f->width : THUMB_W;
    *th = (int)((double)f->height * *tw / f->width + 0.5);
    *th = *th < 1 ? 1 : *th > THUMB_W ? THUMB_W : *th;
    w->to_grey = sws_getCachedContext(w->to_grey, f->width, f->height, f->format, *gw, *gh,
                                      AV_PIX_FMT_GRAY8, SWS_BICUBIC, NULL, NULL, NULL);
    w->to_thumb = sws_getCachedContext(w->to_thumb, f->width, f->height, f->format, *tw, *th,
                                       AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
    if (!w->to_grey || !w->to_thumb)
        return FW_EINTERNAL;
    uint8_t *gd[4] = {w->grey}, *td[4] = {w->thumb};
    int gs[4] = {*gw}, ts[4] = {*tw * 3};
    sws_scale(w->to_grey, (const uint8_t *const *)f->data, f->linesize, 0, f->height, gd, gs);
    sws_scale(w->to_thumb, (const uint8_t *const *)f->data, f->linesize, 0, f->height, td, ts);
    return 0;
}

/* fields, text and confidence from the OCR lines and the descriptors */
static void compose(const fw_task *t, const fw_ocr_result *r, const worker *w, int tw, int th,
                    double ms, fw_answer *ans)
{
    json_t *fields = json_object(), *lines = json_array();
    size_t cap = 64, len = 0;
    char *joined = NULL, *quoted = NULL;
    double conf = 0;
    for (int i = 0; i < r->n; i++) {
        const fw_ocr_line *l = &r->lines[i];
        json_array_append_new(lines, json_pack("{s:s,s:f,s:[i,i,i,i]}", "text", l->text, "conf",
                                               (double)(int)(l->conf * 10) / 10, "box", l->x, l->y,
                                               l->w, l->h));
        cap += strlen(l->text) + 4;
        conf += l->conf;
    }
    joined = calloc(cap, 1);
    quoted = calloc(cap, 1);
    for (int i = 0; joined && quoted && i < r->n; i++) {
        strcat(joined, r->lines[i].text);
        if (i + 1 < r->n)
            strcat(joined, "\n");
        len +=
            (size_t)snprintf(quoted + len, cap - len, "%s\"%s\"", i ? " " : "", r->lines[i].text);
    }
    fw_look look = {.blur = t->blur,
                    .motion = t->motion,
                    .flat = t->flat,
                    .black = t->black,
                    .reason = t->reason};
    char phrase[256];
    fw_describe(w->thumb, tw, th, &look, fields, phrase, sizeof phrase);
    size_t dlen = strlen(phrase) + (quoted ? strlen(quoted) : 0) + 32;
    char *desc = malloc(dlen);
    if (desc) {
        if (r->n && quoted)
            snprintf(desc, dlen, "screen text: %s; %s", quoted, phrase);
        else
            snprintf(desc, dlen, "%s", phrase);
    }
    json_object_set_new(fields, "description", json_string(desc ? desc : phrase));
    json_object_set_new(fields, "text", json_string(joined ? joined : ""));
    json_object_set_new(fields, "lines", lines);
    json_object_set_new(fields, "picture", json_pack("[i,i]", w->frame->width, w->frame->height));
    json_object_set_new(fields, "ocr_ms", json_integer((json_int_t)ms));
    /* no text-like rows: Tesseract never saw the frame; or it saw only the rows */
    json_object_set_new(fields, "ocr_skipped", json_boolean(r->skipped));
    json_object_set_new(fields, "ocr_blanked", json_real((double)(int)(r->blanked * 100) / 100));
    ans->fields = json_dumps(fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ans->text = desc;
    json_decref(fields);
    free(joined);
    free(quoted);
    /* text: how sure Tesseract is; no text: the descriptors are measurements */
    fw_answer_confidence(ans, t, r->n ? conf / r->n / 100.0 : 1.0);
}

static void analyse(worker *w, fw_task *t)
{
    double t0 = fw_now_s() * 1e3;
    fw_answer ans = {.attempts = 1};
    fw_error err = {0};
    int gw, gh, scale, tw, th;
    fw_ocr_result r = {0};
    if (decode(w, t) != 0) {
        fw_error_set(&err, FW_EDECODE, "keyframe %d: its image cannot be decoded", t->keyframe);
    } else if (pictures(w, &gw, &gh, &scale, &tw, &th) != 0) {
        fw_error_set(&err, FW_ENOMEM, "keyframe %d: out of memory", t->keyframe);
    } else if (fw_ocr_read(w->ocr, w->grey, gw, gh, gw, scale, &r, &err) == 0) {
        compose(t, &r, w, tw, th, fw_now_s() * 1e3 - t0, &ans);
        fw_ocr_result_free(&r);
    }
    av_frame_unref(w->frame);
    if (err.code)
        ans.error = strdup(err.message);
    ans.latency_ms = fw_now_s() * 1e3 - t0;
    fw_analyzer_post(w->s->lane, t, &ans);
}

static void *work(void *arg)
{
    worker *w = arg;
    local *s = w->s;
    fw_error err = {0};
    if (!w->ocr && worker_init(w, s, &err)) {
        fw_analyzer_fail(s->lane, &err);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&s->mu);
        unsigned long seen = s->seq;
        pthread_mutex_unlock(&s->mu);
        fw_task t;
        int got = fw_analyzer_take(s->lane, &t, 1);
        if (got < 0)
            break;
        if (got == 0) {
            pthread_mutex_lock(&s->mu);
            while (s->seq == seen)
                pthread_cond_wait(&s->cv, &s->mu);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        analyse(w, &t);
    }
    return NULL;
}

static void local_close(void *state);

static int local_open(void **state, const fw_params *p, fw_lane *lane, fw_error *err)
{
    *state = NULL;
    local *s = calloc(1, sizeof *s);
    if (!s)
        return fw_error_set(err, FW_ENOMEM, "analyzer: out of memory");
    s->lane = lane;
    snprintf(s->lang, sizeof s->lang, "%s", p->ocr_lang ? p->ocr_lang : FW_OCR_DEFAULT_LANG);
    snprintf(s->model, sizeof s->model, "%s %s", fw_ocr_version(), s->lang);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    s->n_workers = p->ocr_threads > 0 ? p->ocr_threads : cores > 0 ? (int)cores : 1;
    if (s->n_workers > MAX_WORKERS)
        s->n_workers = MAX_WORKERS;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    *state = s;
    /* the first engine now: a missing language is a clear error before decoding */
    int rc = worker_init(&s->w[0], s, err);
    if (rc) {
        local_close(s);
        *state = NULL;
    }
    return rc;
}

static void local_run(void *state)
{
    local *s = state;
    for (int i = 1; i < s->n_workers; i++) {
        s->w[i].s = s;
        s->w[i].started = pthread_create(&s->w[i].thread, NULL, work, &s->w[i]) == 0;
    }
    work(&s->w[0]);
    for (int i = 1; i < s->n_workers; i++)
        if (s->w[i].started) {
            pthread_join(s->w[i].thread, NULL);
            s->w[i].started = 0;
        }
}

static void local_wake(void *state)
{
    local *s = state;
    pthread_mutex_lock(&s->mu);
    s->seq++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static const char *local_model(void *state)
{
    return ((local *)state)->model;
}

/* The text timeline: this keyframe's lines against the previous keyframe's. */
static void local_ordered(void *state, fw_answer *ans)
{
    local *s = state;
    if (ans->error || !ans->fields)
        return; /* a frame that could not be read says nothing about the text */
    json_t *fields = json_loads(ans->fields, 0, NULL);
    json_t *lines = json_object_get(fields, "lines");
    size_t n = json_array_size(lines);
    char **cur = calloc(n + 1, sizeof *cur);
    if (!fields || !cur) {
        json_decref(fields);
        free(cur);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *text = json_string_value(json_object_get(json_array_get(lines, i), "text"));
        cur[i] = strdup(text ? text : "");
    }
    fw_text_diff((const char *const *)s->prev, s->n_prev, (const char *const *)cur, (int)n, fields);
    char *out = json_dumps(fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(fields);
    if (out) {
        free(ans->fields);
        ans->fields = out;
    }
    for (int i = 0; i < s->n_prev; i++)
        free(s->prev[i]);
    free(s->prev);
    s->prev = cur;
    s->n_prev = (int)n;
}

static void local_close(void *state)
{
    local *s = state;
    if (!s)
        return;
    for (int i = 0; i < MAX_WORKERS; i++)
        worker_free(&s->w[i]);
    for (int i = 0; i < s->n_prev; i++)
        free(s->prev[i]);
    free(s->prev);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const fw_backend_ops fw_backend_local = {
    .name = "local",
    .open = local_open,
    .run = local_run,
    .wake = local_wake,
    .model = local_model,
    .ordered = local_ordered,
    .close = local_close,
};
