/* How each keyframe goes to the model: whole, low first, or its changed regions. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/openai_msg.h"
#include "analyze/plan.h"
#include "core/error.h"
#include "core/log.h"
#include "core/textnorm.h"
#include "core/utf8.h"
#include "encode/encode.h"

#define BASES 8 /* whole keyframes whose answers crops may wait for */
#define MIN_WINDOW_IMAGE 64
#define MAX_CONTEXT 1200 /* bytes of the description a crop's prompt carries */
#define OCR_SURE 80      /* a line's confidence (0..100) that counts as read by the OCR */

typedef struct base {
    int keyframe; /* -1: free */
    int state;    /* 0 waiting for its answer, 1 answered, -1 failed */
    char *text, *fields;
    double confidence;
    unsigned flags;
} base;

struct fw_plan {
    int whole, window, first, refresh, quality;
    uint8_t map[FW_MAP_MAX], cur[FW_MAP_MAX]; /* the last whole keyframe's, this one's */
    int map_w, map_h;                         /* 0: no whole keyframe yet */
    int base_kf, since;                       /* the last whole keyframe, keyframes since */
    base bases[BASES];
    int next_base;
};

fw_plan *fw_plan_new(const fw_params *p)
{
    fw_plan *pl = calloc(1, sizeof *pl);
    if (!pl)
        return NULL;
    pl->whole = p->whole_frames;
    pl->window = p->window;
    pl->first = p->first_image_tokens;
    pl->refresh = p->refresh > 0 ? p->refresh : 1;
    pl->quality = p->jpeg_quality;
    pl->base_kf = -1;
    for (int i = 0; i < BASES; i++)
        pl->bases[i].keyframe = -1;
    return pl;
}

void fw_plan_free(fw_plan *pl)
{
    if (!pl)
        return;
    for (int i = 0; i < BASES; i++) {
        free(pl->bases[i].text);
        free(pl->bases[i].fields);
    }
    free(pl);
}

int fw_plan_crops(const fw_plan *pl)
{
    return !pl->whole && pl->window == 1;
}

/* t's picture replaced by a smaller encoding of itself (kept in t->hi when keep). */
static int shrink(fw_plan *pl, fw_task *t, int tokens, int keep)
{
    fw_pic pic = fw_task_pic(t), small;
    if (fw_pic_shrink(&pic, pl->quality, tokens, &small))
        return -1;
    if (keep)
        t->hi = pic;
    else
        free(pic.jpeg);
    fw_task_set_pic(t, small);
    return 0;
}

static void drop_crops(fw_task *t)
{
    for (int i = 0; i < t->n_crops; i++)
        free(t->crops[i].pic.jpeg);
    t->n_crops = 0;
    free(t->context);
    t->context = NULL;
    t->image_tokens = t->width > 0 ? fw_image_tokens(t->width, t->height) : t->planned_tokens;
}

/* The regions cut from the full picture (or the one at the budget when it is the full
 * one), each at its own resolution up to the budget's tokens. 0, or -1 (none cut). */
static int cut(fw_plan *pl, fw_task *t, const fw_region *r, int n)
{
    const uint8_t *src = t->full.jpeg ? t->full.jpeg : t->jpeg;
    size_t size = t->full.jpeg ? t->full.size : t->size;
    int cap = t->image_tokens > MIN_WINDOW_IMAGE ? t->image_tokens : MIN_WINDOW_IMAGE;
    int tokens = 0;
    for (int i = 0; i < n; i++) {
        fw_image img;
        fw_error e;
        if (fw_jpeg_crop(src, size, pl->quality, r[i].x, r[i].y, r[i].w, r[i].h, cap * 1024, &img,
                         &e)) {
            drop_crops(t);
            return -1;
        }
        fw_crop *c = &t->crops[t->n_crops++];
        c->pic = (fw_pic){img.jpeg, img.size, img.width, img.height,
                          fw_image_tokens(img.width, img.height)};
        c->at = r[i];
        tokens += c->pic.tokens;
    }
    t->image_tokens = tokens;
    return 0;
}

static int is_whole_reason(const char *reason)
{
    return !reason || !strcmp(reason, "first") || !strcmp(reason, "cut") ||
           !strcmp(reason, "scene");
}

/* A keyframe kept for the time, not for a change. */
static int time_reason(const char *reason)
{
    return reason && (!strcmp(reason, "gap") || !strcmp(reason, "interval") ||
                      !strcmp(reason, "last") || !strcmp(reason, "iframe"));
}

/* t goes as crops of the last whole keyframe (or as it, unchanged): 0, or -1 (it goes
 * whole). */
static int try_crops(fw_plan *pl, fw_task *t, int have_map)
{
    if (!have_map || pl->base_kf < 0 || pl->since + 1 >= pl->refresh || is_whole_reason(t->reason))
        return -1;
    fw_region r[FW_MAX_REGIONS];
    double area;
    int n = fw_change_regions(pl->map, pl->cur, pl->map_w, pl->map_h, r, FW_MAX_REGIONS, &area);
    if (fw_log_on(FW_LOG_TRACE))
        fw_log(FW_LOG_TRACE, "plan: keyframe %d vs %d: %d region(s), %.1f %% of the picture",
               t->keyframe, pl->base_kf, n, area * 100);
    if (n == 0 && time_reason(t->reason)) { /* the same picture: the same answer */
        t->sent = FW_SENT_SAME;
        t->base = pl->base_kf;
        pl->since++;
        return 0;
    }
    if (n == 0 || area > FW_CROP_AREA || cut(pl, t, r, n))
        return -1;
    t->sent = FW_SENT_CROP;
    t->base = pl->base_kf;
    pl->since++;
    return 0;
}

static void add_base(fw_plan *pl, int keyframe)
{
    base *b = &pl->bases[pl->next_base];
    pl->next_base = (pl->next_base + 1) % BASES;
    free(b->text);
    free(b->fields);
    *b = (base){keyframe, 0, NULL, NULL, 0, 0};
}

void fw_plan_task(fw_plan *pl, fw_task *t)
{
    t->sent = FW_SENT_WHOLE;
    if (pl->whole)
        return;
    if (pl->window > 1) { /* K pictures at about two whole ones' cost */
        int cap = 2 * t->image_tokens / pl->window;
        cap = cap < MIN_WINDOW_IMAGE ? MIN_WINDOW_IMAGE : cap;
        if (t->image_tokens > cap)
            shrink(pl, t, cap, 0);
        return;
    }
    int w = FW_MAP_W, h = fw_map_height(t->width, t->height);
    fw_error e;
    int have_map = !fw_jpeg_map(t->jpeg, t->size, w, h, pl->cur, &e) &&
                   (!pl->map_w || (pl->map_w == w && pl->map_h == h));
    if (!try_crops(pl, t, have_map && pl->map_w))
        return;
    /* whole: the new base of the crops after it */
    if (have_map) {
        memcpy(pl->map, pl->cur, (size_t)w * h * 3);
        pl->map_w = w;
        pl->map_h = h;
    } else
        pl->map_w = pl->map_h = 0; /* no map to compare with: the next goes whole too */
    pl->base_kf = t->keyframe;
    pl->since = 0;
    add_base(pl, t->keyframe);
    if (pl->first > 0 && pl->first < t->image_tokens && !shrink(pl, t, pl->first, 1))
        t->sent = FW_SENT_LOW;
}

/* text, cut at MAX_CONTEXT bytes on a character boundary (malloc'd; NULL: no memory). */
static char *context_of(const char *text)
{
    size_t n = strlen(text);
    if (n > MAX_CONTEXT) {
        n = MAX_CONTEXT;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, text, n);
        c[n] = '\0';
    }
    return c;
}

/* s folded (fw_text_fold: case, full-width forms), its words (letters, digits, CJK) one
 * space apart, into out. */
static void norm(const char *s, char *out, size_t n)
{
    char *folded = fw_text_fold(s);
    size_t o = 0;
    int space = 0;
    for (const char *c = folded ? folded : ""; *c && o + 6 < n;) {
        uint32_t cp = fw_utf8_next(&c);
        if (!fw_cp_is_word(cp) && !fw_cp_is_cjk(cp)) {
            space = 1;
            continue;
        }
        if (space && o)
            out[o++] = ' ';
        o += (size_t)fw_utf8_put(cp, out + o);
        space = 0;
    }
    out[o] = '\0';
    free(folded);
}

/* 1 when the OCR (its fields) read a line with confidence that answer a does not hold in
 * its text or description: the picture was too coarse for the model. */
static int misses_ocr_text(const char *ocr, const fw_answer *a)
{
    json_t *f = ocr ? json_loads(ocr, 0, NULL) : NULL, *said = NULL;
    if (!f)
        return 0;
    said = json_loads(a->fields ? a->fields : "{}", 0, NULL);
    char have[4096], raw[4096], want[512];
    const char *text = json_string_value(json_object_get(said, "text"));
    snprintf(raw, sizeof raw, "%s %s", text ? text : "", a->text ? a->text : "");
    norm(raw, have, sizeof have);
    int missing = 0;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(f, "lines"), i, l)
    {
        const char *s = json_string_value(json_object_get(l, "text"));
        if (!s || json_number_value(json_object_get(l, "conf")) < OCR_SURE)
            continue;
        norm(s, want, sizeof want);
        if (strlen(want) >= 3 && !strstr(have, want)) {
            missing = 1;
            break;
        }
    }
    json_decref(said);
    json_decref(f);
    return missing;
}

static base *find_base(fw_plan *pl, int keyframe)
{
    for (int i = 0; i < BASES; i++)
        if (pl->bases[i].keyframe == keyframe)
            return &pl->bases[i];
    return NULL;
}

int fw_plan_ready(fw_plan *pl, fw_task *t)
{
    if ((t->sent != FW_SENT_CROP && t->sent != FW_SENT_SAME) || t->context)
        return 1;
    base *b = find_base(pl, t->base);
    if (b && b->state == 0)
        return 0;
    if (t->sent == FW_SENT_SAME) { /* its base's answer, or (none) the picture whole */
        if (!b || b->state < 0)
            t->sent = FW_SENT_WHOLE;
        return 1;
    }
    if (b && b->state > 0 && (t->context = context_of(b->text ? b->text : "")))
        return 1;
    drop_crops(t); /* no description to build on: the picture, whole */
    t->sent = FW_SENT_WHOLE;
    return 1;
}

int fw_plan_again(fw_plan *pl, fw_task *t, const fw_answer *a)
{
    (void)pl;
    if (a->error || (!(a->flags & (FW_OBS_HEDGED | FW_OBS_UNCERTAIN)) &&
                     !(t->sent == FW_SENT_LOW && misses_ocr_text(t->ocr, a))))
        return 0;
    if (t->sent == FW_SENT_LOW && t->hi.jpeg) {
        t->spent_tokens += t->image_tokens;
        free(t->jpeg);
        fw_task_set_pic(t, t->hi);
        t->hi.jpeg = NULL;
        t->sent = FW_SENT_AGAIN;
        return 1;
    }
    if (t->sent == FW_SENT_CROP) { /* the regions were not enough: the whole picture */
        t->spent_tokens += t->image_tokens;
        drop_crops(t);
        t->sent = FW_SENT_AGAIN;
        return 1;
    }
    return 0;
}

void fw_plan_answered(fw_plan *pl, const fw_task *t, const fw_answer *a)
{
    base *b = find_base(pl, t->keyframe);
    if (!b || b->state != 0)
        return;
    b->state = a->error ? -1 : 1;
    b->confidence = a->confidence;
    b->flags = a->flags;
    if (!a->error && (!(b->text = strdup(a->text ? a->text : "")) ||
                      !(b->fields = strdup(a->fields ? a->fields : "{}"))))
        b->state = -1;
}

int fw_plan_same(fw_plan *pl, fw_task *t, fw_answer *ans)
{
    base *b = find_base(pl, t->base);
    memset(ans, 0, sizeof *ans);
    json_t *f = b && b->state > 0 ? json_loads(b->fields, 0, NULL) : NULL;
    if (!json_is_object(f)) {
        json_decref(f);
        f = json_object();
    }
    json_object_set_new(f, "source", json_string("unchanged"));
    ans->fields = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(f);
    ans->text = b && b->state > 0 ? strdup(b->text) : NULL;
    if (!ans->fields || !ans->text) {
        free(ans->fields);
        free(ans->text);
        memset(ans, 0, sizeof *ans);
        t->sent = FW_SENT_WHOLE;
        return -1;
    }
    ans->confidence = b->confidence; /* the same picture: as sure, as blurred */
    ans->flags = b->flags;
    t->image_tokens = 0;
    return 0;
}

/* ---- text from OCR (openai+local) ---- */

#define OCR_SURE 80   /* a line's confidence (0..100) that counts as read */
#define OCR_COVER 0.5 /* the part of each region that its read lines must cover */
#define OCR_AREA 0.1  /* larger changes are pictures, whatever text they hold */
#define MAX_OCR_TEXT 1024

/* The area of a and b's intersection (fractions of the picture). */
static double overlap(const fw_region *a, double x, double y, double w, double h)
{
    double x0 = a->x > x ? a->x : x, y0 = a->y > y ? a->y : y;
    double x1 = a->x + a->w < x + w ? a->x + a->w : x + w;
    double y1 = a->y + a->h < y + h ? a->y + a->h : y + h;
    return x1 > x0 && y1 > y0 ? (x1 - x0) * (y1 - y0) : 0;
}

/* How much of region r the confident lines cover (each grown by the regions' own margin
 * of one map block), and their text appended to text. */
static double covered(const fw_region *r, json_t *lines, double pw, double ph, char *text, size_t n)
{
    const double mx = 4.0 / FW_MAP_W, my = mx * pw / ph; /* one block, as a fraction */
    double cover = 0;
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        json_t *box = json_object_get(l, "box");
        const char *s = json_string_value(json_object_get(l, "text"));
        if (!s || json_array_size(box) != 4 ||
            json_number_value(json_object_get(l, "conf")) < OCR_SURE)
            continue;
        double x = json_number_value(json_array_get(box, 0)) / pw - mx;
        double y = json_number_value(json_array_get(box, 1)) / ph - my;
        double w = json_number_value(json_array_get(box, 2)) / pw + 2 * mx;
        double h = json_number_value(json_array_get(box, 3)) / ph + 2 * my;
        cover += overlap(r, x, y, w, h);
        /* its text, when the line itself is mostly in the region */
        double own = (w - 2 * mx) * (h - 2 * my);
        size_t len = strlen(text);
        if (own > 0 && overlap(r, x + mx, y + my, w - 2 * mx, h - 2 * my) >= own / 2 &&
            len + strlen(s) + 8 < n)
            snprintf(text + len, n - len, "%s%s", len ? "\n" : "", s);
    }
    return r->w * r->h > 0 ? cover / (r->w * r->h) : 0;
}

/* The observation made from the text: the context, and what the screen says now
 * ("... On screen now: \"a\", \"b\"."). */
static int ocr_answer(const fw_task *t, const char *text, fw_answer *ans)
{
    size_t n = strlen(t->context) + 4 * strlen(text) + 64, len;
    char *desc = malloc(n);
    if (!desc)
        return -1;
    len = (size_t)snprintf(desc, n, "%s%sOn screen now: \"", t->context, *t->context ? " " : "");
    for (const char *c = text; *c && len + 8 < n; c++)
        len += (size_t)(*c == '\n' ? snprintf(desc + len, n - len, "\", \"")
                                   : snprintf(desc + len, n - len, "%c", *c));
    snprintf(desc + len, n - len, "\".");
    json_t *f = json_pack("{s:s, s:s, s:s, s:[], s:b, s:s}", "description", desc, "actions", "",
                          "text", text, "objects", "uncertain", 0, "source", "ocr");
    ans->fields = f ? json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(f);
    ans->text = desc;
    return ans->fields ? 0 : -1;
}

int fw_plan_from_ocr(fw_plan *pl, fw_task *t, const char *ocr_fields, fw_answer *ans)
{
    (void)pl;
    if (t->sent != FW_SENT_CROP || !t->context || !ocr_fields)
        return 0;
    json_t *f = json_loads(ocr_fields, 0, NULL);
    json_t *pic = json_object_get(f, "picture");
    double pw = json_number_value(json_array_get(pic, 0)),
           ph = json_number_value(json_array_get(pic, 1));
    char text[MAX_OCR_TEXT] = "";
    double area = 0;
    int text_only = pw > 0 && ph > 0;
    for (int i = 0; text_only && i < t->n_crops; i++) {
        area += t->crops[i].at.w * t->crops[i].at.h;
        text_only = covered(&t->crops[i].at, json_object_get(f, "lines"), pw, ph, text,
                            sizeof text) >= OCR_COVER;
    }
    json_decref(f);
    if (!text_only || area > OCR_AREA || !text[0])
        return 0;
    memset(ans, 0, sizeof *ans);
    if (ocr_answer(t, text, ans)) {
        free(ans->text);
        free(ans->fields);
        memset(ans, 0, sizeof *ans);
        return 0;
    }
    ans->confidence = 0.9; /* read with confidence; what is around it, from the context */
    ans->attempts = 0;
    drop_crops(t);
    t->image_tokens = 0;
    t->sent = FW_SENT_NONE;
    return 1;
}
