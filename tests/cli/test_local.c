/* framewise analyze with the local backend (Tesseract OCR + descriptors) through the
 * CLI: strings drawn at known times in English and Chinese are found within one
 * keyframe of their appearance and enter the text timeline; a frame without text is
 * an observation without text; OCR never holds up decoding; openai+local attaches the
 * OCR to the model's answer; the real screen recording's typed messages are read; big
 * tilted title words are read in both polarities; texture is not read.
 * Run one test per process: test_local NAME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwtest.h"

#define FWT_FONT_CJK "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#define FWT_FONT_BOLD "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

/* The strings of the screen clip and when they appear (and, for one, go). */
typedef struct shown {
    const char *text;
    double from, to; /* seconds; to 0: until the end */
} shown;

static const shown screen[] = {
    {"Welcome back", 1, 0},     {"Connection timed out", 3, 6}, /* white on dark red: the other
                                                                   polarity */
    {"登录失败，请重试", 5, 0}, {"Order 4471 shipped", 7, 0},   {"订单已发货", 9, 0},
};
#define N_SHOWN 5

/* 11 s of a grey "screen" at 640x360 on which the strings appear: under 720 px high,
 * so the OCR enlarges it x2. */
static const char *screen_clip(void)
{
    char args[4096];
    snprintf(args, sizeof args,
             "-f lavfi -i color=c=0xdddddd:s=640x360:r=10:d=11 -vf \""
             "drawtext=fontfile=%s:text='%s':x=40:y=30:fontsize=26:fontcolor=black:"
             "enable='gte(t,%g)',"
             "drawtext=fontfile=%s:text='%s':x=40:y=90:fontsize=24:fontcolor=white:box=1:"
             "boxcolor=0xaa2222:boxborderw=8:enable='between(t,%g,%g)',"
             "drawtext=fontfile=%s:text='%s':x=40:y=160:fontsize=30:fontcolor=black:"
             "enable='gte(t,%g)',"
             "drawtext=fontfile=%s:text='%s':x=40:y=230:fontsize=26:fontcolor=0x202060:"
             "enable='gte(t,%g)',"
             "drawtext=fontfile=%s:text='%s':x=360:y=230:fontsize=30:fontcolor=black:"
             "enable='gte(t,%g)'\" -c:v libx264 -preset ultrafast -pix_fmt yuv420p",
             FWT_FONT, screen[0].text, screen[0].from, FWT_FONT, screen[1].text, screen[1].from,
             screen[1].to, FWT_FONT_CJK, screen[2].text, screen[2].from, FWT_FONT, screen[3].text,
             screen[3].from, FWT_FONT_CJK, screen[4].text, screen[4].from);
    return fwt_video("screen.mp4", args);
}

/* s without spaces (OCR spacing around CJK and punctuation varies), in buf. */
static const char *squeeze(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    for (; s && *s && j + 1 < n; s++)
        if (*s != ' ' && *s != '\n')
            buf[j++] = *s;
    buf[j] = '\0';
    return buf;
}

static int has_text(const char *haystack, const char *needle)
{
    char a[8192], b[512];
    return strstr(squeeze(haystack, a, sizeof a), squeeze(needle, b, sizeof b)) != NULL;
}

/* The OCR text of an observation (fields.text, or fields.ocr.text with openai+local). */
static const char *ocr_text(json_t *ob)
{
    json_t *f = json_object_get(ob, "fields");
    json_t *ocr = json_object_get(f, "ocr");
    return json_string_value(json_object_get(json_is_object(ocr) ? ocr : f, "text"));
}

static int in_list(json_t *list, const char *text)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (has_text(json_string_value(v), text)) return 1;
    return 0;
}

static void strings_found_within_one_keyframe_in_both_languages(void **state)
{
    (void)state;
    json_t *rep = fwt_analyze(screen_clip(), "");
    json_t *obs = json_object_get(rep, "observations");
    size_t n = json_array_size(obs);
    assert_true(n >= N_SHOWN);
    for (int k = 0; k < N_SHOWN; k++) {
        /* the first keyframe at or after the string's appearance, or the next one */
        size_t i = 0;
        while (i < n && json_real_value(json_object_get(json_array_get(obs, i), "time")) <
                            screen[k].from - 0.05)
            i++;
        assert_true(i < n);
        int found = -1;
        for (size_t j = i; j < n && j <= i + 1 && found < 0; j++)
            if (has_text(ocr_text(json_array_get(obs, j)), screen[k].text))
                found = (int)j;
        if (found < 0)
            fail_msg("'%s' (from %.1f s) not read at keyframe %zu (%s) or the next", screen[k].text,
                     screen[k].from, i, ocr_text(json_array_get(obs, i)));
        /* the timeline says it appeared there */
        json_t *f = json_object_get(json_array_get(obs, (size_t)found), "fields");
        assert_true(in_list(json_object_get(f, "text_added"), screen[k].text));
        /* no keyframe before its appearance has it */
        for (size_t j = 0; j < i; j++)
            assert_false(has_text(ocr_text(json_array_get(obs, j)), screen[k].text));
    }
    /* the red box goes at 6 s: removed at the first keyframe after that */
    int removed = 0;
    size_t i;
    json_t *ob;
    json_array_foreach(obs, i, ob)
    {
        json_t *f = json_object_get(ob, "fields");
        if (in_list(json_object_get(f, "text_removed"), screen[1].text)) {
            assert_true(json_real_value(json_object_get(ob, "time")) >= screen[1].to);
            removed++;
        }
    }
    assert_int_equal(removed, 1);
    /* the report's timeline lists the same changes */
    json_t *tl = json_object_get(rep, "timeline");
    assert_true(json_array_size(tl) >= N_SHOWN);
    json_t *first = json_array_get(tl, 0);
    assert_true(in_list(json_object_get(first, "added"), screen[0].text));
    /* observations name the backend and the OCR engine */
    ob = json_array_get(obs, 0);
    assert_string_equal(json_string_value(json_object_get(ob, "backend")), "local");
    assert_non_null(strstr(json_string_value(json_object_get(ob, "model")), "tesseract"));
    json_decref(rep);
}

static void frame_without_text_is_an_observation_without_text(void **state)
{
    (void)state;
    const char *clip = fwt_video(
        "plain.mp4", "-f lavfi -i color=c=0x2040c0:s=320x240:r=10:d=1 -f lavfi -i "
                     "testsrc2=s=320x240:r=10:d=1 -filter_complex '[0][1]concat=n=2:v=1[v]' "
                     "-map '[v]' -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    json_t *rep = fwt_analyze(clip, "");
    json_t *obs = json_object_get(rep, "observations");
    assert_true(json_array_size(obs) >= 1);
    json_t *ob = json_array_get(obs, 0);
    assert_null(json_object_get(ob, "error"));
    json_t *f = json_object_get(ob, "fields");
    assert_int_equal(json_array_size(json_object_get(f, "lines")), 0);
    assert_string_equal(json_string_value(json_object_get(f, "text")), "");
    const char *text = json_string_value(json_object_get(ob, "text"));
    assert_null(strstr(text, "screen text"));
    assert_non_null(strstr(text, "blue")); /* the descriptors still say what it looks like */
    json_t *colours = json_object_get(f, "colours");
    assert_string_equal(json_string_value(json_object_get(json_array_get(colours, 0), "name")),
                        "blue");
    assert_true(json_real_value(json_object_get(ob, "confidence")) > 0.5);
    json_t *st = json_object_get(rep, "stats");
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "requests")), 0);
    json_decref(rep);
}

/* 40 states of text, one every 0.4 s, sampled at that rate and read by one OCR worker:
 * the decoder finishes long before the OCR does, and every state still gets its
 * observation, in order. */
static void ocr_never_holds_up_decoding(void **state)
{
    (void)state;
    const char *clip =
        fwt_video("counter.mp4",
                  "-f lavfi -i color=c=white:s=640x360:r=10:d=16 -vf \"drawtext=fontfile=" FWT_FONT
                  ":text='Step %{eif\\:floor(t/0.4)\\:d}':x=40:y=40:fontsize=40:"
                  "fontcolor=black\" -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    json_t *rep = fwt_analyze(clip, "--ocr-threads 1 --policy interval --fps 2.5");
    json_t *st = json_object_get(rep, "stats");
    json_t *sec = json_object_get(st, "seconds");
    double decode = json_real_value(json_object_get(sec, "decode"));
    double total = json_real_value(json_object_get(sec, "total"));
    json_t *obs = json_object_get(rep, "observations");
    size_t n = json_array_size(obs);
    assert_int_equal(n, 40);
    assert_int_equal(json_integer_value(json_object_get(st, "keyframes")), (json_int_t)n);
    if (!(decode < 0.5 * total))
        fail_msg("decoding took %.2f s of %.2f s: it waited for the OCR", decode, total);
    double last = -1;
    size_t i;
    json_t *ob;
    json_array_foreach(obs, i, ob)
    {
        assert_int_equal(json_integer_value(json_object_get(ob, "keyframe")), (json_int_t)i);
        double t = json_real_value(json_object_get(ob, "time"));
        assert_true(t > last);
        last = t;
    }
    /* the step shown is read */
    int read = 0;
    json_array_foreach(obs, i, ob)
    {
        char want[32];
        double t = json_real_value(json_object_get(ob, "time"));
        snprintf(want, sizeof want, "Step %d", (int)(t / 0.4 + 1e-6));
        read += has_text(ocr_text(ob), want);
    }
    if (read < (int)n * 9 / 10)
        fail_msg("only %d of %zu steps read", read, n);
    json_decref(rep);
}

static void openai_plus_local_attaches_the_ocr(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    char opts[256];
    snprintf(opts, sizeof opts, "--backend openai+local --url %s --summary extractive", s.url);
    json_t *rep = fwt_analyze(screen_clip(), opts);
    json_t *obs = json_object_get(rep, "observations");
    size_t n = json_array_size(obs);
    json_t *st = fwt_vlm_stats(&s);
    /* one request a keyframe, and one more for each low first ask that lacked a line the
     * OCR read (this double reads no text), none for a change the OCR read */
    json_t *sent = json_object_get(json_object_get(rep, "stats"), "sent");
    assert_int_equal(json_integer_value(json_object_get(st, "chat_requests")),
                     (json_int_t)n + json_integer_value(json_object_get(sent, "asked_again")) -
                         json_integer_value(json_object_get(sent, "none")));
    json_decref(st);
    fwt_vlm_stop(&s);
    int welcome = 0;
    size_t i;
    json_t *ob;
    json_array_foreach(obs, i, ob)
    {
        assert_string_equal(json_string_value(json_object_get(ob, "backend")), "openai+local");
        json_t *f = json_object_get(ob, "fields");
        /* the model's answer (the double names the colour it sees) stays the
         * observation; the OCR rides along */
        const char *text = json_string_value(json_object_get(ob, "text"));
        assert_non_null(strstr(text, "white"));
        assert_null(strstr(text, "screen text"));
        assert_true(json_is_object(json_object_get(f, "ocr")));
        assert_true(json_is_array(json_object_get(json_object_get(f, "ocr"), "text_added")));
        welcome += has_text(ocr_text(ob), screen[0].text);
    }
    assert_true(welcome >= 1);
    /* the timeline comes from the OCR part */
    assert_true(
        in_list(json_object_get(json_array_get(json_object_get(rep, "timeline"), 0), "added"),
                screen[0].text));
    json_decref(rep);
}

static void missing_ocr_language_is_one_line(void **state)
{
    (void)state;
    const char *clip = fwt_video("tiny.mp4", "-f lavfi -i color=c=white:s=160x120:r=5:d=1 "
                                             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    fwt_run r;
    fwt_fw(&r, "analyze '%s' --ocr-lang xyz_nope -o '%s/out'", clip, fwt_tmpdir());
    /* the engine names the setting; the CLI says it as its flag */
    fwt_expect_usage_error(&r, "analyze: --ocr-lang: no Tesseract data for 'xyz_nope'");
    fwt_fw(&r, "analyze '%s' --ocr-lang 'eng;rm' -o '%s/out'", clip, fwt_tmpdir());
    fwt_expect_usage_error(&r, NULL);
}

/* GNOME's message-board demo: three messages typed into a box, then posted. */
static void message_board_typed_messages_are_read(void **state)
{
    (void)state;
    const char *clip = fwt_real("message-board.ogv");
    fwt_skip_without(clip);
    json_t *rep = fwt_analyze(clip, "");
    json_t *obs = json_object_get(rep, "observations");
    char all[16384] = "";
    size_t len = 0, i;
    json_t *ob;
    json_array_foreach(obs, i, ob)
    {
        assert_null(json_object_get(ob, "error"));
        const char *t = ocr_text(ob);
        len += (size_t)snprintf(all + len, sizeof all - len, "%s\n", t ? t : "");
        if (len >= sizeof all)
            break;
    }
    static const char *const typed[] = {"Hello world!", "This is the message board.",
                                        "You can create it yourself", "WebKitGTK+ in only",
                                        "fifteen minutes."};
    for (size_t k = 0; k < sizeof typed / sizeof *typed; k++)
        if (!has_text(all, typed[k]))
            fail_msg("'%s' not read; the OCR said:\n%s", typed[k], all);
    json_decref(rep);
}

/* The 60 values of the timer slide's 40-px counter, each kept by auto (tests/clips.sh):
 * the OCR reads at least 58 of them. */
static void timer_slide_values_are_read(void **state)
{
    (void)state;
    json_t *rep = fwt_analyze(fwt_clip("timer", 10), "--preset none --summary none --no-cache");
    int seen[61] = {0}, distinct = 0;
    size_t i;
    json_t *ob;
    json_array_foreach(json_object_get(rep, "observations"), i, ob)
    {
        const char *t = ocr_text(ob);
        for (const char *p = t ? strstr(t, "Seconds") : NULL; p; p = strstr(p + 1, "Seconds")) {
            int v = -1;
            if (sscanf(p, "Seconds%*[: ]%d", &v) == 1 && v >= 0 && v <= 60 && !seen[v]++)
                distinct++;
        }
    }
    if (distinct < 58)
        fail_msg("%d distinct timer values read (want >= 58)", distinct);
    json_decref(rep);
}

/* The motion-graphics clip of tests/clips.sh: every card's words (56-px bold, white on
 * colour and dark on white), kept once they settled, are read by analyze. */
static void motion_graphics_card_words_are_read(void **state)
{
    (void)state;
    fwt_state st[8];
    int n = fwt_clip_states("cards", st, 8);
    json_t *rep = fwt_analyze(fwt_clip("cards", 25), "--preset none --summary none --no-cache");
    char all[8192] = "";
    size_t len = 0, i;
    json_t *ob;
    json_array_foreach(json_object_get(rep, "observations"), i, ob)
    {
        const char *t = ocr_text(ob);
        len += (size_t)snprintf(all + len, sizeof all - len, "%s\n", t ? t : "");
        if (len >= sizeof all)
            break;
    }
    for (int k = 0; k < n; k++) {
        char words[64], *sp;
        snprintf(words, sizeof words, "%s", st[k].label);
        if ((sp = strchr(words, ' ')))
            *sp = '\0'; /* each word is a line of its own */
        if (!has_text(all, words) || !has_text(all, sp ? sp + 1 : words))
            fail_msg("card '%s' not read; the OCR said:\n%s", st[k].label, all);
    }
    json_decref(rep);
}

/* Title cards of motion graphics: 480x352, one second each, big words white on
 * saturated colours or dark on white, the whole card turned by up to 10 degrees. */
typedef struct card {
    const char *bg, *fg, *font;
    int size, deg;
    const char *text;
} card;

static const card titles[] = {
    {"0xd62828", "white", FWT_FONT_BOLD, 48, 10, "SUMMER SALE"},
    {"0x1d4ed8", "white", FWT_FONT_BOLD, 56, -10, "Big News"},
    {"0xf77f00", "white", FWT_FONT_BOLD, 80, 5, "OPEN"},
    {"0x7b2cbf", "white", FWT_FONT, 48, -5, "Watch Live"},
    {"0x008080", "white", FWT_FONT_BOLD, 40, 0, "Free Delivery"},
    {"white", "0x222222", FWT_FONT_BOLD, 72, -10, "GAME OVER"},
};
#define N_TITLES 6

static void title_words_read_in_both_polarities_and_tilted(void **state)
{
    (void)state;
    char args[4096];
    size_t len = 0;
    for (int i = 0; i < N_TITLES; i++) {
        const card *c = &titles[i];
        len += (size_t)snprintf(args + len, sizeof args - len,
                                "-f lavfi -i \"color=c=%s:s=480x352:r=10:d=1,drawtext=fontfile=%s:"
                                "text='%s':fontsize=%d:fontcolor=%s:x=(w-text_w)/2:"
                                "y=(h-text_h)/2,rotate=a=%d*PI/180:c=%s\" ",
                                c->bg, c->font, c->text, c->size, c->fg, c->deg, c->bg);
    }
    snprintf(args + len, sizeof args - len,
             "-filter_complex '[0][1][2][3][4][5]concat=n=6:v=1[v]' -map '[v]' -c:v libx264 "
             "-preset ultrafast -pix_fmt yuv420p");
    json_t *rep = fwt_analyze(fwt_video("titles.mp4", args), "");
    json_t *obs = json_object_get(rep, "observations");
    /* every word of every card, read on a keyframe of that card's second */
    for (int i = 0; i < N_TITLES; i++) {
        char words[64], *save = NULL;
        snprintf(words, sizeof words, "%s", titles[i].text);
        for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            int read = 0;
            size_t k;
            json_t *ob;
            json_array_foreach(obs, k, ob)
            {
                double t = json_real_value(json_object_get(ob, "time"));
                if (t >= i && t < i + 1 && has_text(ocr_text(ob), w))
                    read = 1;
            }
            if (!read)
                fail_msg("'%s' of card %d (%s on %s, %d degrees) not read", w, i, titles[i].fg,
                         titles[i].bg, titles[i].deg);
        }
    }
    json_decref(rep);
}

/* A cellular automaton (rule 110, 4-px cells) and a Mandelbrot zoom with noise, at
 * 1280x720: thousands of blobs and no text. Tesseract once read 30 s of "FF." "Fr,"
 * from each automaton keyframe; now none is given to it, and of the fractal only
 * its few text-like rows are. */
static void texture_without_text_is_skipped_quickly(void **state)
{
    (void)state;
    const char *clip = fwt_video(
        "texture.mp4",
        "-f lavfi -i 'cellauto=s=320x180:r=10:rule=110:random_fill_ratio=0.5:seed=7,"
        "scale=1280:720:flags=neighbor,noise=alls=3:allf=t' -f lavfi -i "
        "'mandelbrot=s=640x360:r=10,scale=1280:720,noise=alls=3:allf=t' -filter_complex "
        "'[0]trim=duration=1[a];[1]trim=duration=1[b];[a][b]concat=n=2:v=1[v]' -map '[v]' "
        "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    json_t *rep = fwt_analyze(clip, "");
    json_t *obs = json_object_get(rep, "observations");
    int automaton = 0, fractal = 0;
    size_t i;
    json_t *ob;
    json_array_foreach(obs, i, ob)
    {
        json_t *f = json_object_get(ob, "fields");
        double t = json_real_value(json_object_get(ob, "time"));
        assert_int_equal(json_array_size(json_object_get(f, "lines")), 0);
        if (t < 1) {
            assert_true(json_is_true(json_object_get(f, "ocr_skipped")));
            automaton++;
        } else {
            assert_true(json_real_value(json_object_get(f, "ocr_blanked")) > 0.5);
            fractal++;
        }
    }
    assert_true(automaton >= 1);
    assert_true(fractal >= 1);
    json_decref(rep);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(strings_found_within_one_keyframe_in_both_languages,
                                  fwt_teardown),
        cmocka_unit_test_teardown(frame_without_text_is_an_observation_without_text, fwt_teardown),
        cmocka_unit_test_teardown(ocr_never_holds_up_decoding, fwt_teardown),
        cmocka_unit_test_teardown(openai_plus_local_attaches_the_ocr, fwt_teardown),
        cmocka_unit_test_teardown(missing_ocr_language_is_one_line, fwt_teardown),
        cmocka_unit_test_teardown(message_board_typed_messages_are_read, fwt_teardown),
        cmocka_unit_test_teardown(timer_slide_values_are_read, fwt_teardown),
        cmocka_unit_test_teardown(motion_graphics_card_words_are_read, fwt_teardown),
        cmocka_unit_test_teardown(title_words_read_in_both_polarities_and_tilted, fwt_teardown),
        cmocka_unit_test_teardown(texture_without_text_is_skipped_quickly, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
