/* analyze/local pieces on fixed inputs: line similarity and the text timeline,
 * colour names and descriptors, the screen normalisation before OCR, text-likeness
 * (rows of letters against texture), the big-text pass's merging, and Tesseract on a
 * blank picture. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <allheaders.h> /* Leptonica, to make it complain */
#include <fcntl.h>
#include <unistd.h>

#include "analyze/local.h"
#include "analyze/ocr.h"

static void similarity_tolerates_ocr_noise_not_new_text(void **state)
{
    (void)state;
    assert_true(fw_text_similarity("Connection timed out", "Connection timed out") == 1.0);
    /* case, spacing, punctuation and look-alikes are OCR noise */
    assert_true(fw_text_similarity("Connection timed out:", "connection  timed out") == 1.0);
    assert_true(fw_text_similarity("Order 4471", "Order 447l") == 1.0);
    assert_true(fw_text_similarity("登录 失败", "登录失败") == 1.0);
    assert_true(fw_text_similarity("ＯＫ", "OK") == 1.0);
    /* a different line is different */
    assert_true(fw_text_similarity("Sign in", "Connection timed out") < 0.5);
    assert_true(fw_text_similarity("登录失败", "订单已发货") < 0.5);
    assert_true(fw_text_similarity("", "") == 1.0);
}

static json_t *diff(const char *const *prev, int np, const char *const *cur, int nc)
{
    json_t *f = json_object();
    fw_text_diff(prev, np, cur, nc, f);
    return f;
}

static const char *item(json_t *f, const char *key, size_t i)
{
    return json_string_value(json_array_get(json_object_get(f, key), i));
}

static void timeline_finds_added_removed_and_edited_lines(void **state)
{
    (void)state;
    const char *prev[] = {"Sign in to continue", "Email", "Hello wor"};
    const char *cur[] = {"Sign in t0 continue", "Hello world", "Connection timed out"};
    json_t *f = diff(prev, 3, cur, 3);
    /* the misread line is the same line; the typed one was edited; Email went */
    assert_int_equal(json_array_size(json_object_get(f, "text_added")), 1);
    assert_string_equal(item(f, "text_added", 0), "Connection timed out");
    assert_int_equal(json_array_size(json_object_get(f, "text_removed")), 1);
    assert_string_equal(item(f, "text_removed", 0), "Email");
    json_t *ch = json_object_get(f, "text_changed");
    assert_int_equal(json_array_size(ch), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 0), "from")),
                        "Hello wor");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 0), "to")),
                        "Hello world");
    json_decref(f);
    /* the first keyframe: everything is new; nothing after: everything went */
    f = diff(NULL, 0, cur, 3);
    assert_int_equal(json_array_size(json_object_get(f, "text_added")), 3);
    assert_int_equal(json_array_size(json_object_get(f, "text_removed")), 0);
    json_decref(f);
    f = diff(cur, 3, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(f, "text_removed")), 3);
    assert_int_equal(json_array_size(json_object_get(f, "text_changed")), 0);
    json_decref(f);
    /* the same screen twice: no change at all */
    f = diff(prev, 3, prev, 3);
    assert_int_equal(json_array_size(json_object_get(f, "text_added")) +
                         json_array_size(json_object_get(f, "text_removed")) +
                         json_array_size(json_object_get(f, "text_changed")),
                     0);
    json_decref(f);
}

static void colours_have_plain_names(void **state)
{
    (void)state;
    assert_string_equal(fw_colour_name(0, 0, 0), "black");
    assert_string_equal(fw_colour_name(255, 255, 255), "white");
    assert_string_equal(fw_colour_name(0xdd, 0xdd, 0xdd), "grey");
    assert_string_equal(fw_colour_name(0x80, 0x80, 0x80), "grey");
    assert_string_equal(fw_colour_name(220, 30, 30), "red");
    assert_string_equal(fw_colour_name(255, 140, 0), "orange");
    assert_string_equal(fw_colour_name(120, 70, 20), "brown");
    assert_string_equal(fw_colour_name(240, 230, 40), "yellow");
    assert_string_equal(fw_colour_name(0, 255, 0), "green");
    assert_string_equal(fw_colour_name(0, 230, 230), "cyan");
    assert_string_equal(fw_colour_name(0x3c, 0x6e, 0xb4), "blue");
    assert_string_equal(fw_colour_name(128, 0, 200), "purple");
    assert_string_equal(fw_colour_name(255, 105, 180), "pink");
}

static void describe_names_the_main_colours(void **state)
{
    (void)state;
    /* 10x10: 70% grey, 30% blue, sharp, kept after a cut */
    uint8_t rgb[10 * 10 * 3];
    for (int i = 0; i < 100; i++) {
        uint8_t *p = rgb + i * 3;
        int blue = i >= 70;
        p[0] = blue ? 0x3c : 0xdd;
        p[1] = blue ? 0x6e : 0xdd;
        p[2] = blue ? 0xb4 : 0xdd;
    }
    fw_look look = {.blur = 500, .motion = 40, .reason = "cut"};
    json_t *f = json_object();
    char phrase[128];
    fw_describe(rgb, 10, 10, &look, f, phrase, sizeof phrase);
    assert_string_equal(phrase, "mostly grey, bright, sharp, after a cut");
    json_t *c = json_object_get(f, "colours");
    assert_int_equal(json_array_size(c), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "name")), "blue");
    assert_true(json_is_true(json_object_get(f, "sharp")));
    json_decref(f);
    /* black, flat and blurred frames say so */
    memset(rgb, 0, sizeof rgb);
    look = (fw_look){.blur = 0, .flat = 1, .black = 1, .reason = "first"};
    f = json_object();
    fw_describe(rgb, 10, 10, &look, f, phrase, sizeof phrase);
    assert_string_equal(phrase, "a black frame");
    json_decref(f);
    memset(rgb, 200, sizeof rgb);
    for (int i = 0; i < 50; i++)
        rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = 90;
    look = (fw_look){.blur = 5, .reason = "change"};
    f = json_object();
    fw_describe(rgb, 10, 10, &look, f, phrase, sizeof phrase);
    assert_string_equal(phrase, "mostly grey, blurry");
    assert_true(json_is_false(json_object_get(f, "sharp")));
    json_decref(f);
}

/* A 200x120 picture: light grey ground, a 50-px dark blue title bar (rows 10..59)
 * with a light 4-px stroke, and a dark 4-px stroke on the grey (rows 90..93). */
static void draw(uint8_t *p)
{
    memset(p, 220, 200 * 120);
    for (int y = 10; y < 60; y++)
        memset(p + y * 200 + 20, 100, 160);
    for (int y = 33; y < 37; y++)
        memset(p + y * 200 + 40, 250, 60);
    for (int y = 90; y < 94; y++)
        memset(p + y * 200 + 40, 30, 60);
}

static void normalise_makes_both_polarities_dark_on_white(void **state)
{
    (void)state;
    uint8_t *src = malloc(200 * 120), *dst = malloc(200 * 120);
    draw(src);
    assert_int_equal(fw_ocr_normalise(src, 200, 120, 200, 7, dst), 0);
    /* strokes of either polarity are dark */
    assert_true(dst[35 * 200 + 70] < 80);
    assert_true(dst[91 * 200 + 70] < 80);
    /* grounds and the bar itself are white, its edges too (not a stroke) */
    assert_true(dst[5 * 200 + 5] > 230);
    assert_true(dst[25 * 200 + 150] > 230);
    assert_true(dst[10 * 200 + 150] > 200);
    assert_true(dst[110 * 200 + 100] > 230);
    free(src);
    free(dst);
}

/* A 640x360 white picture covered by a rule-110 cellular automaton of 4-px cells (the
 * busy bench file's last shot, without its noise), from a fixed first row. */
static void draw_automaton(uint8_t *p)
{
    enum { W = 640, H = 360, C = 4, N = W / C };
    uint8_t row[N], next[N];
    for (int i = 0; i < N; i++)
        row[i] = (uint8_t)((i * 2654435761u) >> 13 & 1); /* a fixed, irregular row */
    for (int y = 0; y < H / C; y++) {
        for (int i = 0; i < N; i++) {
            int v = row[i] ? 30 : 235;
            for (int dy = 0; dy < C; dy++)
                memset(p + (size_t)(y * C + dy) * W + i * C, v, C);
        }
        for (int i = 0; i < N; i++) {
            int l = row[(i + N - 1) % N], c = row[i], r = row[(i + 1) % N];
            next[i] = (110 >> (l << 2 | c << 1 | r)) & 1;
        }
        memcpy(row, next, sizeof row);
    }
}

/* Dark marks on white, x0 + i * pitch: hollow 12x16 boxes (letters with a bowl) or
 * filled 10x10 cells (a game of life's). */
static void draw_marks(uint8_t *p, int w, int x0, int y0, int n, int pitch, int hollow)
{
    int mw = hollow ? 12 : 10, mh = hollow ? 16 : 10;
    for (int i = 0; i < n; i++)
        for (int y = 0; y < mh; y++)
            for (int x = 0; x < mw; x++) {
                int edge = x < 2 || x >= mw - 2 || y < 2 || y >= mh - 2;
                if (!hollow || edge)
                    p[(size_t)(y0 + y) * w + x0 + i * pitch + x] = 20;
            }
}

static void texture_has_no_text_like_rows_and_letters_do(void **state)
{
    (void)state;
    enum { W = 640, H = 360 };
    uint8_t *p = malloc(W * H), *grey = malloc(W * H);
    fw_ocr_text t;
    /* the automaton, normalised as OCR sees it: many components, no row of letters;
     * all of it blanked */
    draw_automaton(grey);
    assert_int_equal(fw_ocr_normalise(grey, W, H, W, 7, p), 0);
    assert_int_equal(fw_ocr_find_text(p, W, H, &t), 0);
    assert_true(t.n_components > 1000);
    assert_int_equal(t.n_rows, 0);
    assert_int_equal(t.n_blanked, t.n_tiles);
    for (int i = 0; i < W * H; i++)
        assert_int_equal(p[i], 255);
    fw_ocr_text_free(&t);
    /* two lines of letters: two rows, their boxes, nothing blanked */
    memset(p, 255, W * H);
    draw_marks(p, W, 40, 50, 9, 16, 1);
    draw_marks(p, W, 40, 120, 5, 16, 1);
    assert_int_equal(fw_ocr_find_text(p, W, H, &t), 0);
    assert_int_equal(t.n_rows, 2);
    assert_int_equal(t.n_blanked, 0);
    assert_int_equal(t.rows[0].n, 9);
    assert_int_equal(t.rows[0].x0, 40);
    assert_int_equal(t.rows[0].x1, 40 + 8 * 16 + 12);
    assert_int_equal(t.rows[0].h, 16);
    assert_true(t.rows[0].slope == 0);
    assert_int_equal(t.rows[1].n, 5);
    fw_ocr_text_free(&t);
    /* filled cells side by side sit like letters but are no strokes */
    memset(p, 255, W * H);
    draw_marks(p, W, 40, 50, 9, 14, 0);
    assert_int_equal(fw_ocr_find_text(p, W, H, &t), 0);
    assert_int_equal(t.n_chains, 1);
    assert_int_equal(t.n_rows, 0);
    fw_ocr_text_free(&t);
    free(p);
    free(grey);
}

static fw_ocr_line line(const char *text, double conf, int x, int y, int w, int h)
{
    return (fw_ocr_line){strdup(text), conf, x, y, w, h};
}

static void big_line_replaces_the_fragments_it_says_more_than(void **state)
{
    (void)state;
    fw_ocr_result r = {0};
    int cap = 0;
    /* what the first pass read: a title in two broken pieces and a line below */
    fw_ocr_line first[] = {line("comp!", 92, 100, 40, 60, 30), line("ete", 97, 170, 40, 40, 30),
                           line("Order shipped", 90, 20, 200, 200, 20)};
    for (int i = 0; i < 3; i++)
        assert_int_equal(fw_ocr_merge_line(&r, &cap, &first[i]), 0);
    /* the big-text pass read the title whole: it replaces both pieces, in their place */
    fw_ocr_line title = line("Level Complete", 96, 30, 35, 190, 40);
    assert_int_equal(fw_ocr_merge_line(&r, &cap, &title), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.lines[0].text, "Level Complete");
    assert_string_equal(r.lines[1].text, "Order shipped");
    /* a shorter reading of a line already there is dropped */
    fw_ocr_line part = line("Order", 95, 20, 198, 60, 24);
    assert_int_equal(fw_ocr_merge_line(&r, &cap, &part), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.lines[1].text, "Order shipped");
    /* one where nothing was is added in reading order */
    fw_ocr_line top = line("SALE", 90, 300, 5, 80, 30);
    assert_int_equal(fw_ocr_merge_line(&r, &cap, &top), 0);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.lines[0].text, "SALE");
    fw_ocr_result_free(&r);
}

static void ocr_of_a_blank_picture_is_empty_not_an_error(void **state)
{
    (void)state;
    fw_ocr *o;
    fw_error err = {0};
    assert_int_equal(fw_ocr_open(&o, NULL, &err), 0);
    uint8_t *p = malloc(320 * 240);
    memset(p, 200, 320 * 240);
    fw_ocr_result r;
    assert_int_equal(fw_ocr_read(o, p, 320, 240, 320, 1, &r, &err), 0);
    assert_int_equal(r.n, 0);
    fw_ocr_result_free(&r);
    /* a missing language is named */
    fw_ocr *bad;
    assert_int_not_equal(fw_ocr_open(&bad, "xyz_nope", &err), 0);
    assert_non_null(strstr(err.message, "xyz_nope"));
    fw_ocr_close(o);
    free(p);
}

/* Leptonica's complaints (a box outside the picture, seen on 1080p frames) do not reach
 * stderr once an OCR engine is open: the engine prints nothing. */
static void leptonica_says_nothing_on_stderr(void **state)
{
    (void)state;
    fw_ocr *o;
    fw_error err = {0};
    assert_int_equal(fw_ocr_open(&o, NULL, &err), 0);
    char path[] = "/tmp/fwtest-lept-XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    BOX *box = boxCreate(500, 500, 10, 10);
    BOX *clipped = boxClipToRectangle(box, 100, 100); /* outside: Leptonica complains */
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_null(clipped);
    boxDestroy(&box);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    assert_int_equal(size, 0);
    fw_ocr_close(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(similarity_tolerates_ocr_noise_not_new_text),
        cmocka_unit_test(timeline_finds_added_removed_and_edited_lines),
        cmocka_unit_test(colours_have_plain_names),
        cmocka_unit_test(describe_names_the_main_colours),
        cmocka_unit_test(normalise_makes_both_polarities_dark_on_white),
        cmocka_unit_test(texture_has_no_text_like_rows_and_letters_do),
        cmocka_unit_test(big_line_replaces_the_fragments_it_says_more_than),
        cmocka_unit_test(ocr_of_a_blank_picture_is_empty_not_an_error),
        cmocka_unit_test(leptonica_says_nothing_on_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
