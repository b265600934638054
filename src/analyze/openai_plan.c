/* How each keyframe goes to the model: whole, low first, or its changed regions. */
#include <stdlib.h>
#include <string.h>

#include "analyze/plan.h"
#include "core/error.h"
#include "encode/encode.h"

#define BASES 8 /* whole keyframes whose answers crops may wait for */
#define MIN_WINDOW_IMAGE 64
#define MAX_CONTEXT 1200 /* bytes of the description a crop's prompt carries */

typedef struct base {
    int keyframe; /* -1: free */
    int state;    /* 0 waiting for its answer, 1 answered, -1 failed */
    char *text;
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
    for (int i = 0; i < BASES; i++)
        free(pl->bases[i].text);
    free(pl);
}

int fw_plan_crops(const fw_plan *pl)
{
    return !pl->whole && pl->window == 1;
}

/* t's picture replaced by a smaller encoding of itself (kept in t->hi when keep). */
static int shrink(fw_plan *pl, fw_task *t, int tokens, int keep)
{
    fw_image img;
    fw_error e;
    if (fw_jpeg_refit(t->jpeg, t->size, pl->quality, tokens * 1024, &img, &e))
        return -1;
    if (keep)
        t->hi = (fw_pic){t->jpeg, t->size, t->width, t->height, t->image_tokens};
    else
        free(t->jpeg);
    t->jpeg = img.jpeg;
    t->size = img.size;
    t->width = img.width;
    t->height = img.height;
    t->image_tokens = fw_image_tokens(img.width, img.height);
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

/* t goes as crops of the last whole keyframe: 0, or -1 (it goes whole). */
static int try_crops(fw_plan *pl, fw_task *t, int have_map)
{
    if (!have_map || pl->base_kf < 0 || pl->since + 1 >= pl->refresh || is_whole_reason(t->reason))
        return -1;
    fw_region r[FW_MAX_REGIONS];
    double area;
    int n = fw_change_regions(pl->map, pl->cur, pl->map_w, pl->map_h, r, FW_MAX_REGIONS, &area);
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
    *b = (base){keyframe, 0, NULL};
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

static base *find_base(fw_plan *pl, int keyframe)
{
    for (int i = 0; i < BASES; i++)
        if (pl->bases[i].keyframe == keyframe)
            return &pl->bases[i];
    return NULL;
}

int fw_plan_ready(fw_plan *pl, fw_task *t)
{
    if (t->sent != FW_SENT_CROP || t->context)
        return 1;
    base *b = find_base(pl, t->base);
    if (b && b->state == 0)
        return 0;
    if (b && b->state > 0 && (t->context = context_of(b->text ? b->text : "")))
        return 1;
    drop_crops(t); /* no description to build on: the picture, whole */
    t->sent = FW_SENT_WHOLE;
    return 1;
}

int fw_plan_again(fw_plan *pl, fw_task *t, const fw_answer *a)
{
    (void)pl;
    if (a->error || !(a->flags & (FW_OBS_HEDGED | FW_OBS_UNCERTAIN)))
        return 0;
    if (t->sent == FW_SENT_LOW && t->hi.jpeg) {
        t->spent_tokens += t->image_tokens;
        free(t->jpeg);
        t->jpeg = t->hi.jpeg;
        t->size = t->hi.size;
        t->width = t->hi.width;
        t->height = t->hi.height;
        t->image_tokens = t->hi.tokens;
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
    if (!a->error && !(b->text = strdup(a->text ? a->text : "")))
        b->state = -1;
}
