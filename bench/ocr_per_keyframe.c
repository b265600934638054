/* OCR time per keyframe on the local backend's path (grey, x2 under 720 px high,
 * screen normalisation, Tesseract sparse text, filtering), as `framewise analyze`
 * runs it. Run with OMP_THREAD_LIMIT=1, as the CLI does.
 *
 *   fwbench_ocr PICTURE [N] [THREADS] [LANG]
 *     N reads of one picture by THREADS workers, one engine each.
 *     Prints: median ms of one read, wall ms per keyframe (wall / N), lines, then the lines.
 *   fwbench_ocr --each [LANG] < LIST
 *     One read of each picture named on stdin (one path a line) by one engine.
 *     Prints per picture: "== PATH MS CPU_MS LINES SKIPPED", then its lines (CPU_MS:
 *     the thread's CPU time, which another program on the cores does not inflate).
 */
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/ocr.h"
#include "core/clock.h"
#include "source/source.h"

typedef struct picture {
    uint8_t *grey;
    int w, h, scale;
} picture;

/* The first frame of path as the local backend's grey picture (x2 under 720 px high). */
static int load(const char *path, picture *p)
{
    fw_error err = {0};
    fw_source *src;
    AVFrame *f;
    fw_frame_info fi;
    if (fw_source_open(&src, path, 1, 0, NULL, &err) || fw_source_next(src, &f, &fi, &err) != 1) {
        fprintf(stderr, "fwbench_ocr: %s\n", err.message);
        return 1;
    }
    p->scale = f->height < 720 ? 2 : 1;
    p->w = f->width * p->scale;
    p->h = f->height * p->scale;
    p->grey = malloc((size_t)p->w * p->h);
    struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, p->w, p->h,
                                            AV_PIX_FMT_GRAY8, SWS_BICUBIC, NULL, NULL, NULL);
    uint8_t *dst[4] = {p->grey};
    int ls[4] = {p->w};
    sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, ls);
    sws_freeContext(sws);
    fw_source_close(src);
    return 0;
}

typedef struct job {
    const picture *pic;
    int n;
    fw_ocr *ocr; /* opened before the clock starts */
    double *ms;  /* n */
    fw_ocr_result first;
} job;

static void *work(void *arg)
{
    job *j = arg;
    fw_error err = {0};
    for (int i = 0; i < j->n; i++) {
        fw_ocr_result r;
        double t0 = fw_now_s() * 1e3;
        if (fw_ocr_read(j->ocr, j->pic->grey, j->pic->w, j->pic->h, j->pic->w, j->pic->scale, &r,
                        &err)) {
            fprintf(stderr, "fwbench_ocr: %s\n", err.message);
            exit(1);
        }
        j->ms[i] = fw_now_s() * 1e3 - t0;
        if (i == 0)
            j->first = r;
        else
            fw_ocr_result_free(&r);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int each(const char *lang)
{
    fw_error err = {0};
    fw_ocr *o;
    if (fw_ocr_open(&o, lang, &err)) {
        fprintf(stderr, "fwbench_ocr: %s\n", err.message);
        return 1;
    }
    char path[4096];
    while (fgets(path, sizeof path, stdin)) {
        path[strcspn(path, "\n")] = '\0';
        picture p;
        if (!path[0] || load(path, &p))
            continue;
        fw_ocr_result r;
        double t0 = fw_now_s() * 1e3, c0 = cpu_ms();
        if (fw_ocr_read(o, p.grey, p.w, p.h, p.w, p.scale, &r, &err)) {
            fprintf(stderr, "fwbench_ocr: %s\n", err.message);
            return 1;
        }
        printf("== %s %.1f %.1f %d %d\n", path, fw_now_s() * 1e3 - t0, cpu_ms() - c0, r.n,
               r.skipped);
        for (int i = 0; i < r.n; i++)
            printf("%s\n", r.lines[i].text);
        fflush(stdout);
        fw_ocr_result_free(&r);
        free(p.grey);
    }
    fw_ocr_close(o);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fwbench_ocr PICTURE [N] [THREADS] [LANG]\n"
                        "       fwbench_ocr --each [LANG] < LIST\n");
        return 2;
    }
    av_log_set_level(AV_LOG_ERROR);
    if (!strcmp(argv[1], "--each"))
        return each(argc > 2 ? argv[2] : NULL);
    int n = argc > 2 ? atoi(argv[2]) : 6, threads = argc > 3 ? atoi(argv[3]) : 1;
    const char *lang = argc > 4 ? argv[4] : NULL;
    if (n < 1 || threads < 1 || threads > 16 || n % threads) {
        fprintf(stderr, "fwbench_ocr: N must be a multiple of THREADS (1..16)\n");
        return 2;
    }
    fw_error err = {0};
    picture pic;
    if (load(argv[1], &pic))
        return 1;
    double *ms = calloc((size_t)n, sizeof *ms);
    job jobs[16];
    pthread_t th[16];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){.pic = &pic, .n = n / threads, .ms = ms + t * (n / threads)};
        if (fw_ocr_open(&jobs[t].ocr, lang, &err)) {
            fprintf(stderr, "fwbench_ocr: %s\n", err.message);
            return 1;
        }
    }
    double t0 = fw_now_s() * 1e3;
    for (int t = 0; t < threads; t++)
        pthread_create(&th[t], NULL, work, &jobs[t]);
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    double wall = fw_now_s() * 1e3 - t0;
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("%.1f %.1f %d\n", ms[n / 2], wall / n, jobs[0].first.n);
    for (int i = 0; i < jobs[0].first.n; i++)
        printf("%s\n", jobs[0].first.lines[i].text);
    for (int t = 0; t < threads; t++) {
        fw_ocr_result_free(&jobs[t].first);
        fw_ocr_close(jobs[t].ocr);
    }
    free(ms);
    free(pic.grey);
    return 0;
}
