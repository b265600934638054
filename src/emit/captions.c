/* emit: WebVTT and SubRip captions, one cue per segment of the report.
 *
 * Timing rules, all in whole milliseconds so that what is written is what was checked:
 * - a segment without a numeric start cannot be placed and is left out, as is one whose
 *   text is empty (after whitespace is collapsed); a negative start counts as 0;
 * - cues are sorted by start (stable); a segment starting less than MIN_CUE_MS after the
 *   previous cue's start joins that cue (texts joined by a space): two cues cannot both be
 *   shown that close without overlapping or being too short to read, and no text is lost;
 * - a missing end is the next cue's start, else video.duration (when after the start),
 *   else start + 2 s;
 * - an end less than MIN_CUE_MS after the start (end <= start included) becomes
 *   start + 1 s;
 * - an end past the next cue's start is cut back to it, so cues never overlap; the join
 *   rule above keeps every cue at least MIN_CUE_MS long.
 *
 * Cue text: C0 controls (CR, LF, tab...) become spaces, runs of spaces collapse, invalid
 * UTF-8 becomes U+FFFD; & < > are written as &amp; &lt; &gt; in both formats (which also
 * makes "-->" and markup impossible); lines hold at most MAX_COLS display columns (wide
 * characters count 2), broken at spaces, or between wide (CJK) characters, or — for a
 * word longer than a line — between any two characters, never inside a UTF-8 sequence
 * or an entity. Nothing is dropped but the spaces where lines break.
 */
#include "emit/emit.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/safetext.h"
#include "emit/emit_util.h"

#define MAX_COLS 42     /* the usual broadcast/Netflix line length */
#define MIN_CUE_MS 100  /* shorter cues cannot be read, and risk rounding to nothing */
#define BAD_END_MS 1000 /* a segment whose end is not after its start shows for 1 s */
#define NO_END_MS 2000  /* a last segment without end or duration shows for 2 s */
#define NO_END (-1LL)

typedef struct cue {
    long long start_ms, end_ms; /* end NO_END until resolved */
    size_t order;               /* position in report.segments, for a stable sort */
    char *text;                 /* normalised, malloc'd */
} cue;

typedef struct unit {
    const char *p; /* in the normalised text */
    int len;       /* bytes */
    int width;     /* display columns; an entity shows as one character */
    int space;
} unit;

/* Copies s with controls as spaces, spaces collapsed and trimmed, valid UTF-8 only. */
static char *normalise(const char *s)
{
    char *out = malloc(strlen(s) * 3 + 1), *o = out; /* U+FFFD is 3 bytes per bad byte */
    if (!out)
        return NULL;
    while (*s) {
        uint32_t cp;
        int n = fw_utf8_decode(s, &cp);
        if (cp < 0x20 || cp == 0x7f || cp == ' ') {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
        } else if (cp == 0xfffd && n == 1) {
            memcpy(o, "\xef\xbf\xbd", 3), o += 3;
        } else {
            memcpy(o, s, (size_t)n), o += n;
        }
        s += n;
    }
    if (o > out && o[-1] == ' ')
        o--;
    *o = '\0';
    return out;
}

static int by_start(const void *a, const void *b)
{
    const cue *x = a, *y = b;
    if (x->start_ms != y->start_ms)
        return x->start_ms < y->start_ms ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static long long to_ms(double s)
{
    return s <= 0 ? 0 : s > 1e12 ? (long long)1e15 : llround(s * 1000);
}

static void free_cues(cue *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].text);
    free(c);
}

/* The cues of the report, placed by the rules above, into *out (malloc'd, *n_out of them).
 * 0, or -1 when out of memory. */
static int build_cues(const fw_doc *d, cue **out, size_t *n_out)
{
    size_t cap = fw_doc_count(d, "segments") + 1, n = 0, i = 0;
    cue *c = calloc(cap, sizeof *c);
    if (!c)
        return -1;
    fw_doc_it it;
    fw_doc_begin(&it, d, "segments");
    for (json_t *seg; n < cap && (seg = fw_doc_next(&it)); i++) {
        double start, end;
        if (!fw_emit_num(seg, "start", &start))
            continue;
        char *text = normalise(fw_emit_str(seg, "text"));
        if (!text) {
            fw_doc_end(&it);
            free_cues(c, n);
            return -1;
        }
        if (!*text) {
            free(text);
            continue;
        }
        c[n] = (cue){to_ms(start), fw_emit_num(seg, "end", &end) ? to_ms(end) : NO_END, i, text};
        n++;
    }
    fw_doc_end(&it);
    qsort(c, n, sizeof *c, by_start);
    /* join cues that start too close to the previous one */
    size_t m = 0;
    for (i = 0; i < n; i++) {
        if (m > 0 && c[i].start_ms - c[m - 1].start_ms < MIN_CUE_MS) {
            cue *p = &c[m - 1];
            size_t lp = strlen(p->text), li = strlen(c[i].text);
            char *t = realloc(p->text, lp + li + 2);
            if (!t) {
                /* slots m..i-1 were moved down or joined: free the rest once each */
                for (size_t k = i; k < n; k++)
                    free(c[k].text);
                free_cues(c, m);
                return -1;
            }
            t[lp] = ' ';
            memcpy(t + lp + 1, c[i].text, li + 1);
            p->text = t;
            if (c[i].end_ms > p->end_ms)
                p->end_ms = c[i].end_ms;
            free(c[i].text);
            continue;
        }
        c[m++] = c[i];
    }
    double duration = -1;
    fw_emit_num(json_object_get(d->head, "video"), "duration", &duration);
    long long dur_ms = duration > 0 ? to_ms(duration) : -1;
    for (i = 0; i < m; i++) {
        long long next = i + 1 < m ? c[i + 1].start_ms : -1;
        if (c[i].end_ms == NO_END)
            c[i].end_ms = next >= 0                ? next
                          : dur_ms > c[i].start_ms ? dur_ms
                                                   : c[i].start_ms + NO_END_MS;
        if (c[i].end_ms - c[i].start_ms < MIN_CUE_MS)
            c[i].end_ms = c[i].start_ms + BAD_END_MS;
        if (next >= 0 && c[i].end_ms > next)
            c[i].end_ms = next;
    }
    *out = c;
    *n_out = m;
    return 0;
}

/* A line may break before unit j: at a space, or next to a wide character (unless j is
 * a zero-width mark that belongs to the character before it). */
static int can_break(const unit *u, size_t j)
{
    if (u[j].space || u[j - 1].space)
        return 1;
    return u[j].width > 0 && (u[j].width == 2 || u[j - 1].width == 2);
}

static void put_units(FILE *out, const unit *u, size_t from, size_t to)
{
    while (to > from && u[to - 1].space)
        to--;
    for (size_t k = from; k < to; k++) {
        char ch = u[k].len == 1 ? u[k].p[0] : 0;
        if (ch == '&')
            fputs("&amp;", out);
        else if (ch == '<')
            fputs("&lt;", out);
        else if (ch == '>')
            fputs("&gt;", out);
        else
            fwrite(u[k].p, 1, (size_t)u[k].len, out);
    }
    fputc('\n', out);
}

/* Writes the escaped, wrapped text of one cue (one or more non-empty lines). */
static int put_text(FILE *out, const char *text)
{
    size_t cap = strlen(text), n = 0;
    unit *u = malloc((cap + 1) * sizeof *u);
    if (!u)
        return -1;
    for (const char *s = text; *s;) {
        uint32_t cp;
        int len = fw_utf8_decode(s, &cp);
        int space =
            cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'; /* a blank line ends a cue */
        if (!fw_cp_unsafe(cp) || space)
            u[n++] = (unit){space ? " " : s, space ? 1 : len, space ? 1 : fw_emit_width(cp), space};
        s += len;
    }
    size_t i = 0;
    while (i < n) {
        while (i < n && u[i].space)
            i++;
        if (i >= n)
            break;
        size_t j = i, brk = i;
        int w = 0;
        while (j < n && w + u[j].width <= MAX_COLS) {
            w += u[j++].width;
            if (j < n && can_break(u, j))
                brk = j;
        }
        size_t end = j >= n ? n : brk > i ? brk : j > i ? j : i + 1;
        put_units(out, u, i, end);
        i = end;
    }
    free(u);
    return 0;
}

static int emit(const fw_doc *d, FILE *out, int vtt)
{
    if (!out) {
        errno = EINVAL;
        return -1;
    }
    errno = 0;
    size_t n;
    cue *c;
    if (build_cues(d, &c, &n)) {
        errno = ENOMEM;
        return -1;
    }
    if (vtt)
        fputs("WEBVTT\n\n", out);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char a[32], b[32];
        char sep = vtt ? '.' : ',';
        if (!vtt)
            fprintf(out, "%zu\n", i + 1);
        fprintf(out, "%s --> %s\n", fw_emit_clock_ms(c[i].start_ms, sep, a, sizeof a),
                fw_emit_clock_ms(c[i].end_ms, sep, b, sizeof b));
        rc = put_text(out, c[i].text);
        fputc('\n', out);
    }
    free_cues(c, n);
    if (rc) {
        errno = ENOMEM;
        return -1;
    }
    return fw_emit_finish(out);
}

int fw_emit_vtt(const fw_doc *d, FILE *out)
{
    return emit(d, out, 1);
}

int fw_emit_srt(const fw_doc *d, FILE *out)
{
    return emit(d, out, 0);
}
