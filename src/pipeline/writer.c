#include "pipeline/writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "encode/encode.h"
#include "select/select.h"

typedef struct item {
    AVFrame *frame; /* NULL marks the end */
    fw_keyframe kf;
    fw_sig sig;
    int is_cut;
} item;

/* A kept frame waiting for the end of the video (only with a budget). */
typedef struct held {
    long id;
    fw_keyframe kf;
    uint8_t *jpeg;
    fw_image full; /* the full-resolution JPEG, when asked for and different */
} held;

struct fw_writer {
    fw_writer_fn fn;
    void *user;
    int rotation;
    fw_encoder *full_enc; /* full-resolution pictures too (NULL: not asked for) */
    char path[512];
    fw_encoder *enc;
    fw_budget *budget;
    held *held;
    int n_held;
    int n_emitted;
    long pushed;
    /* the queue */
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    item q[FW_WRITER_QUEUE];
    int head, count;
    pthread_t thread;
    int started, joined;
    /* the first error, set by the writer thread */
    int failed;
    fw_error err;
};

static int emit(fw_writer *w, fw_keyframe *kf, const fw_image *full, fw_error *err)
{
    kf->index = w->n_emitted++;
    if (w->fn && w->fn(w->user, kf, full && full->jpeg ? full : NULL))
        return fw_error_set(err, FW_ECANCELED, "%s: stopped while reporting keyframe %d", w->path,
                            kf->index);
    return 0;
}

/* Encodes one kept frame, then reports it or (with a budget) holds it. */
static int write_one(fw_writer *w, item *it, fw_error *err)
{
    fw_image img = {0}, full = {0};
    if (w->fn) {
        int rc = fw_encode_jpeg(w->enc, it->frame, w->rotation, &img, err);
        if (rc)
            return rc;
        /* the picture as displayed (rotation applied) */
        int rw = w->rotation % 180 ? it->frame->height : it->frame->width;
        int rh = w->rotation % 180 ? it->frame->width : it->frame->height;
        if (w->full_enc && (img.width != rw || img.height != rh) &&
            (rc = fw_encode_jpeg(w->full_enc, it->frame, w->rotation, &full, err))) {
            free(img.jpeg);
            return rc;
        }
    }
    uint8_t *jpeg = img.jpeg;
    it->kf.jpeg = img.jpeg;
    it->kf.jpeg_size = img.size;
    it->kf.width = img.width;
    it->kf.height = img.height;
    it->kf.image_tokens = img.width > 0 ? fw_image_tokens(img.width, img.height) : 0;
    if (!w->budget) {
        int rc = emit(w, &it->kf, &full, err);
        free(jpeg);
        free(full.jpeg);
        return rc;
    }
    held *h = &w->held[w->n_held++];
    h->id = (long)it->kf.frame;
    h->kf = it->kf;
    h->jpeg = jpeg;
    h->full = full;
    int protect = strcmp(it->kf.reason, "first") == 0;
    long drop = fw_budget_add(w->budget, h->id, &it->sig, it->is_cut, protect);
    for (int i = 0; drop >= 0 && i < w->n_held; i++)
        if (w->held[i].id == drop) {
            free(w->held[i].jpeg);
            free(w->held[i].full.jpeg);
            memmove(&w->held[i], &w->held[i + 1], (size_t)(w->n_held - i - 1) * sizeof *w->held);
            w->n_held--;
            break;
        }
    return 0;
}

static void *writer_main(void *arg)
{
    fw_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->count == 0)
            pthread_cond_wait(&w->not_empty, &w->mu);
        item it = w->q[w->head];
        int failed = w->failed;
        pthread_mutex_unlock(&w->mu);
        if (!it.frame)
            return NULL;
        fw_error err = {0};
        int rc = failed ? 0 : write_one(w, &it, &err); /* after an error: drain only */
        av_frame_free(&it.frame);
        pthread_mutex_lock(&w->mu);
        if (rc && !w->failed) {
            w->failed = rc;
            w->err = err;
        }
        w->head = (w->head + 1) % FW_WRITER_QUEUE;
        w->count--;
        pthread_cond_signal(&w->not_full);
        pthread_mutex_unlock(&w->mu);
    }
}

int fw_writer_open(fw_writer **out, const fw_params *p, int rotation, fw_writer_fn fn, void *user,
                   int want_full, const char *path, fw_error *err)
{
    *out = NULL;
    fw_writer *w = calloc(1, sizeof *w);
    if (!w)
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", path);
    w->fn = fn;
    w->user = user;
    w->rotation = rotation;
    snprintf(w->path, sizeof w->path, "%s", path);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->not_empty, NULL);
    pthread_cond_init(&w->not_full, NULL);
    int rc = fw_encoder_open(&w->enc, p->jpeg_quality, p->max_pixels, err);
    if (!rc && fn && want_full && p->max_pixels > 0)
        rc = fw_encoder_open(&w->full_enc, p->jpeg_quality, 0, err);
    if (!rc && p->budget > 0) {
        w->budget = fw_budget_new(p->budget);
        w->held = calloc((size_t)p->budget + 1, sizeof *w->held);
        if (!w->budget || !w->held)
            rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", path);
    }
    if (!rc && pthread_create(&w->thread, NULL, writer_main, w) != 0)
        rc = fw_error_set(err, FW_EINTERNAL, "%s: cannot start the writer thread", path);
    if (rc) {
        fw_writer_close(w);
        return rc;
    }
    w->started = 1;
    *out = w;
    return 0;
}

static int enqueue(fw_writer *w, AVFrame *frame, const fw_keyframe *kf, const fw_sig *sig,
                   int is_cut)
{
    pthread_mutex_lock(&w->mu);
    while (w->count == FW_WRITER_QUEUE)
        pthread_cond_wait(&w->not_full, &w->mu);
    item *it = &w->q[(w->head + w->count) % FW_WRITER_QUEUE];
    it->frame = frame;
    if (kf)
        it->kf = *kf;
    if (sig)
        it->sig = *sig;
    it->is_cut = is_cut;
    w->count++;
    int failed = w->failed;
    pthread_cond_signal(&w->not_empty);
    pthread_mutex_unlock(&w->mu);
    return failed;
}

int fw_writer_push(fw_writer *w, const AVFrame *frame, const fw_keyframe *kf, const fw_sig *sig,
                   int is_cut, fw_error *err)
{
    w->pushed++;
    if (!w->fn) /* nobody wants keyframes (scenes only): nothing to encode */
        return 0;
    AVFrame *ref = av_frame_clone(frame);
    if (!ref)
        return fw_error_set(err, FW_ENOMEM, "%s: out of memory", w->path);
    if (enqueue(w, ref, kf, sig, is_cut)) {
        pthread_mutex_lock(&w->mu);
        *err = w->err;
        int rc = w->failed;
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    return 0;
}

long fw_writer_pushed(const fw_writer *w)
{
    return w->pushed;
}

static void join(fw_writer *w)
{
    if (w->started && !w->joined) {
        enqueue(w, NULL, NULL, NULL, 0);
        pthread_join(w->thread, NULL);
        w->joined = 1;
    }
}

int fw_writer_finish(fw_writer *w, fw_error *err)
{
    join(w);
    if (w->failed) {
        *err = w->err;
        return w->failed;
    }
    for (int i = 0; i < w->n_held; i++) {
        w->held[i].kf.jpeg = w->held[i].jpeg;
        int rc = emit(w, &w->held[i].kf, &w->held[i].full, err);
        if (rc)
            return rc;
    }
    return 0;
}

void fw_writer_close(fw_writer *w)
{
    if (!w)
        return;
    join(w);
    for (int i = 0; i < w->n_held; i++) {
        free(w->held[i].jpeg);
        free(w->held[i].full.jpeg);
    }
    free(w->held);
    fw_budget_free(w->budget);
    fw_encoder_close(w->enc);
    fw_encoder_close(w->full_enc);
    pthread_cond_destroy(&w->not_empty);
    pthread_cond_destroy(&w->not_full);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
