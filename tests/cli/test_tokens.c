/* Fewer image tokens, nothing readable lost: crops of what changed, a low first ask asked
 * again when it hedges, windows at per-image budgets — against the model-server double
 * reading the text of what it receives (--read-text: Tesseract at the size it gets), so a
 * line too small at the resolution sent is missing from its answer. Run one test per
 * process: test_tokens NAME. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwtest.h"

static json_t *analyze(const fwt_vlm *s, const char *video, const char *opts)
{
    char all[1024];
    snprintf(all, sizeof all, "--url %s --summary extractive --no-cache --format json %s", s->url,
             opts);
    return fwt_analyze(video, all);
}

static json_t *observations(json_t *rep)
{
    return json_object_get(rep, "observations");
}

static json_int_t stat(json_t *rep, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(rep, "stats"), name));
}

static json_int_t sent_count(json_t *rep, const char *name)
{
    json_t *sent = json_object_get(json_object_get(rep, "stats"), "sent");
    return json_integer_value(json_object_get(sent, name));
}

static const char *sent_of(json_t *o)
{
    const char *s = json_string_value(json_object_get(o, "sent"));
    return s ? s : "";
}

static const char *text_of(json_t *o)
{
    const char *t = json_string_value(json_object_get(json_object_get(o, "fields"), "text"));
    return t ? t : "";
}

/* s lowercased, letters and digits only, words one space apart, appended to out. */
static void norm_append(const char *s, char *out, size_t n)
{
    size_t o = strlen(out);
    int space = o > 0;
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

/* Every observation's text, normalised, as one string. */
static void corpus_of(json_t *rep, char *out, size_t n)
{
    out[0] = '\0';
    size_t i;
    json_t *o;
    json_array_foreach(observations(rep), i, o) norm_append(text_of(o), out, n);
}

/* Every text line of whole's answers is in eco's (fails naming the first that is not);
 * returns how many lines whole had. */
static int expect_lines_read(json_t *whole, json_t *eco)
{
    static char corpus[16384];
    corpus_of(eco, corpus, sizeof corpus);
    int lines = 0;
    size_t i;
    json_t *o;
    json_array_foreach(observations(whole), i, o)
    {
        char *text = strdup(text_of(o));
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            char want[512] = "";
            norm_append(line, want, sizeof want);
            if (!strstr(corpus, want))
                fail_msg("keyframe %zu: '%s' is not in the economical run: '%s'", i, line, corpus);
            lines++;
        }
        free(text);
    }
    return lines;
}

static int reads(json_t *rep, const char *needle)
{
    size_t i;
    json_t *o;
    json_array_foreach(observations(rep), i, o) if (strstr(text_of(o), needle)) return 1;
    return 0;
}

/* A 20-px error line appears in a corner of a 1080p dashboard: the crop of that corner
 * reads it at native resolution; the whole frame at 160 tokens does not. */
static void a_small_error_line_is_read_from_its_crop(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--read-text");
    const char *clip = fwt_clip("errline", 10);
    json_t *eco = analyze(&s, clip, "");
    json_t *low = analyze(&s, clip, "--whole-frames --max-image-tokens 160");
    json_t *whole = analyze(&s, clip, "--whole-frames"); /* (at 420 tokens it can be read) */
    fwt_vlm_stop(&s);
    assert_true(json_array_size(observations(eco)) >= 2);
    json_t *last = json_array_get(observations(eco), json_array_size(observations(eco)) - 1);
    assert_string_equal(sent_of(last), "crop");
    assert_non_null(strstr(text_of(last), "Error connection timed out code 504"));
    json_t *region = json_array_get(json_object_get(last, "regions"), 0);
    assert_true(json_real_value(json_object_get(region, "x")) > 0.5); /* bottom right */
    assert_true(json_real_value(json_object_get(region, "y")) > 0.8);
    assert_true(json_integer_value(json_object_get(last, "image_tokens")) < 100);
    assert_false(reads(low, "timed out"));
    /* and the whole run cost more */
    assert_true(stat(eco, "image_tokens") * 3 < stat(whole, "image_tokens"));
    json_decref(eco);
    json_decref(low);
    json_decref(whole);
}

/* A support session (typing, a toast, a dialog): every text line the whole-frame run's
 * answers hold is in the economical run's answers, for a fraction of the image tokens. */
static void every_line_of_the_whole_frames_is_read_for_less(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--read-text");
    const char *clip = fwt_clip("session", 10);
    json_t *eco = analyze(&s, clip, "");
    json_t *whole = analyze(&s, clip, "--whole-frames");
    fwt_vlm_stop(&s);
    assert_int_equal(json_array_size(observations(eco)), json_array_size(observations(whole)));
    assert_true(expect_lines_read(whole, eco) >=
                8); /* the typed message, the dialog, its buttons were read */
    assert_true(sent_count(eco, "crops") >= 3);
    assert_int_equal(sent_count(whole, "crops"), 0);
    assert_true(stat(eco, "image_tokens") * 3 < stat(whole, "image_tokens"));
    json_decref(eco);
    json_decref(whole);
}

/* A 1080p slide of 30-px text: at 160 tokens the double finds words it cannot read and
 * says so; the frame is asked again at the budget, which reads every line. */
static void a_hedged_low_answer_is_asked_again_at_the_budget(void **state)
{
    (void)state;
    const char *clip = fwt_video(
        "slide-1080p.mp4",
        "-f lavfi -i color=c=white:s=1920x1080:r=10:d=2 -vf "
        "\"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text='Quarterly "
        "report':fontsize=64:x=80:y=60,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/"
        "DejaVuSans.ttf:text='Churn is down to two percent':fontsize=30:x=80:y=360\" "
        "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    fwt_vlm s;
    fwt_vlm_start(&s, "--read-text");
    json_t *rep = analyze(&s, clip, "");
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    json_t *o = json_array_get(observations(rep), 0);
    assert_string_equal(sent_of(o), "again");
    assert_non_null(strstr(text_of(o), "Churn is down to two percent"));
    /* both asks are counted: 160's picture (153 tokens) and the budget's (420) */
    assert_int_equal(json_integer_value(json_object_get(o, "image_tokens")), 153 + 420);
    assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 2);
    assert_int_equal(sent_count(rep, "asked_again"), 1);
    assert_int_equal(stat(rep, "requests"), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "chat_requests")), 2);
    json_decref(st);
    json_decref(rep);
}

/* Cuts go whole (a new picture is never a crop of the last one); a local change of the
 * same brightness (a red panel turning green) goes as its region. */
static void cuts_go_whole_and_local_changes_as_crops(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    json_t *cut = analyze(&s, fwt_clip("iso_cut", 25), "");
    json_t *local = analyze(&s, fwt_clip("iso_local", 25), "");
    fwt_vlm_stop(&s);
    size_t i;
    json_t *o;
    assert_int_equal(json_array_size(observations(cut)), 2);
    json_array_foreach(observations(cut), i, o) assert_string_not_equal(sent_of(o), "crop");
    assert_int_equal(sent_count(cut, "crops"), 0);
    assert_int_equal(json_array_size(observations(local)), 2);
    o = json_array_get(observations(local), 1);
    assert_string_equal(sent_of(o), "crop");
    assert_non_null(strstr(json_string_value(json_object_get(o, "text")), "green"));
    json_decref(cut);
    json_decref(local);
}

/* --window 4: each picture at about half a whole frame's budget, so four cost about two. */
static void a_window_costs_about_two_whole_frames(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    json_t *rep = analyze(&s, fwt_clip("cards", 5), "--window 4");
    json_t *whole = analyze(&s, fwt_clip("cards", 5), "--window 4 --whole-frames");
    fwt_vlm_stop(&s);
    size_t i;
    json_t *o;
    json_int_t budget = 0;
    json_array_foreach(observations(whole), i, o)
    {
        json_int_t t = json_integer_value(json_object_get(o, "image_tokens"));
        budget = t > budget ? t : budget;
    }
    assert_true(budget > 64);
    json_array_foreach(observations(rep), i, o)
    {
        assert_null(json_object_get(o, "error"));
        assert_true(json_integer_value(json_object_get(o, "image_tokens")) <= 2 * budget / 4);
    }
    assert_int_equal(stat(rep, "requests"), stat(whole, "requests"));
    json_decref(rep);
    json_decref(whole);
}

/* openai+local: the typed message is text the OCR read, so those keyframes are answered
 * from it with no request ("source": "ocr"); the dialog (a new window) and a cut still go
 * to the model; every line of the whole-frame run is still read. */
static void text_changes_are_read_by_the_ocr_without_a_request(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--read-text");
    const char *clip = fwt_clip("session", 10);
    json_t *eco = analyze(&s, clip, "--backend openai+local");
    json_t *whole = analyze(&s, clip, "--backend openai+local --whole-frames");
    json_t *cut = analyze(&s, fwt_clip("iso_cut", 25), "--backend openai+local");
    fwt_vlm_stop(&s);
    int typed = 0, dialog = 0;
    size_t i;
    json_t *o;
    json_array_foreach(observations(eco), i, o)
    {
        json_t *f = json_object_get(o, "fields");
        const char *source = json_string_value(json_object_get(f, "source"));
        double t = json_real_value(json_object_get(o, "time"));
        if (t > 1 && t < 7) { /* typing */
            assert_string_equal(sent_of(o), "none");
            assert_string_equal(source, "ocr");
            assert_int_equal(json_integer_value(json_object_get(o, "image_tokens")), 0);
            assert_non_null(strstr(json_string_value(json_object_get(o, "text")), "On screen now"));
            typed++;
        }
        if (t > 11 && t < 14) { /* the dialog: a picture change */
            assert_string_not_equal(sent_of(o), "none");
            assert_null(source);
            dialog++;
        }
    }
    assert_int_equal(typed, 3);
    assert_int_equal(dialog, 1);
    assert_int_equal(sent_count(eco, "none"), 3);
    assert_int_equal(stat(eco, "requests") + 3, json_array_size(observations(eco)));
    json_array_foreach(observations(cut), i, o) assert_string_not_equal(sent_of(o), "none");
    expect_lines_read(whole, eco);
    json_decref(eco);
    json_decref(whole);
    json_decref(cut);
}

/* openai+local: a low first ask whose answer lacks a line the OCR read with confidence is
 * asked again at the budget; one that has every line is not. */
static void a_low_answer_missing_the_ocr_text_is_asked_again(void **state)
{
    (void)state;
    const char *clip = fwt_clip("errline", 10);
    fwt_vlm blind, reader;
    fwt_vlm_start(&blind, "%s", ""); /* reads no text at all */
    fwt_vlm_start(&reader, "--read-text");
    json_t *b = analyze(&blind, clip, "--backend openai+local");
    json_t *r = analyze(&reader, clip, "--backend openai+local");
    fwt_vlm_stop(&blind);
    fwt_vlm_stop(&reader);
    json_t *first = json_array_get(observations(b), 0);
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_object_get(json_object_get(first, "fields"), "ocr"), "text")),
                           "Orders today 1204")); /* the OCR read it */
    assert_string_equal(sent_of(first), "again");
    first = json_array_get(observations(r), 0);
    assert_non_null(strstr(text_of(first), "Orders today 1204")); /* read at 160 tokens */
    assert_string_equal(sent_of(first), "low");
    json_decref(b);
    json_decref(r);
}

/* A still screen kept every few seconds (--max-gap): the keyframes after the first are the
 * same picture and get its answer with no request. */
static void an_unchanged_keyframe_gets_the_last_answer_with_no_request(void **state)
{
    (void)state;
    const char *clip =
        fwt_video("still-12s.mp4", "-f lavfi -i color=c=0x2050c0:s=640x360:r=10:d=12 "
                                   "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
    fwt_vlm s;
    fwt_vlm_start(&s, "%s", "");
    json_t *rep = analyze(&s, clip, "--max-gap 4");
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    size_t n = json_array_size(observations(rep)), i;
    assert_true(n >= 3);
    const char *first =
        json_string_value(json_object_get(json_array_get(observations(rep), 0), "text"));
    json_t *o;
    json_array_foreach(observations(rep), i, o) if (i > 0)
    {
        assert_string_equal(sent_of(o), "same");
        assert_string_equal(json_string_value(json_object_get(o, "text")), first);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(o, "fields"), "source")),
            "unchanged");
        assert_int_equal(json_integer_value(json_object_get(o, "image_tokens")), 0);
    }
    assert_int_equal(json_integer_value(json_object_get(st, "chat_requests")), 1);
    assert_int_equal(sent_count(rep, "same"), (json_int_t)n - 1);
    json_decref(st);
    json_decref(rep);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(a_small_error_line_is_read_from_its_crop, fwt_teardown),
        cmocka_unit_test_teardown(every_line_of_the_whole_frames_is_read_for_less, fwt_teardown),
        cmocka_unit_test_teardown(a_hedged_low_answer_is_asked_again_at_the_budget, fwt_teardown),
        cmocka_unit_test_teardown(cuts_go_whole_and_local_changes_as_crops, fwt_teardown),
        cmocka_unit_test_teardown(a_window_costs_about_two_whole_frames, fwt_teardown),
        cmocka_unit_test_teardown(text_changes_are_read_by_the_ocr_without_a_request, fwt_teardown),
        cmocka_unit_test_teardown(a_low_answer_missing_the_ocr_text_is_asked_again, fwt_teardown),
        cmocka_unit_test_teardown(an_unchanged_keyframe_gets_the_last_answer_with_no_request,
                                  fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
