/* gate on fixed inputs: the confidence gate, and lexicon matching in English and
 * Chinese with folding (case, full-width forms, spaces) and word boundaries; the
 * shipped lexicons; lexicon files that cannot be used. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwtest.h"
#include "gate/gate.h"

static void confidence_gate_says_why(void **state)
{
    (void)state;
    assert_null(fw_gate_reason("A login form", NULL, 0.8, 0.3));
    assert_string_equal(fw_gate_reason("A login form", "HTTP 500", 0.8, 0.3), "failed");
    assert_string_equal(fw_gate_reason(" \n", NULL, 0.8, 0.3), "empty");
    assert_string_equal(fw_gate_reason("", NULL, 0.8, 0.3), "empty");
    assert_string_equal(fw_gate_reason("blurry", NULL, 0.29, 0.3), "low_confidence");
    assert_null(fw_gate_reason("exactly", NULL, 0.3, 0.3));
}

/* The terms found, joined by commas ("" for none). */
static const char *found(const fw_lexicon *lx, const char *text)
{
    static char out[512];
    out[0] = '\0';
    json_t *hits = fw_lexicon_match(lx, text), *h;
    size_t i;
    json_array_foreach(hits, i, h)
    {
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s%s", n ? "," : "",
                 json_string_value(json_object_get(h, "term")));
    }
    json_decref(hits);
    return out;
}

static void lexicon_matches_whole_words_and_chinese_substrings(void **state)
{
    (void)state;
    fw_lexicon *lx = NULL;
    assert_int_equal(fw_lexicon_add(&lx, "gun", "weapons"), 0);
    assert_int_equal(fw_lexicon_add(&lx, "kill yourself", "self-harm"), 0);
    assert_int_equal(fw_lexicon_add(&lx, "毒品", "drugs"), 0);
    assert_int_equal(fw_lexicon_add(&lx, "Ｃａｓｉｎｏ", NULL), 0);
    assert_int_equal(fw_lexicon_count(lx), 4);
    /* Latin: case and width folded, whole words only */
    assert_string_equal(found(lx, "a GUN on the table"), "gun");
    assert_string_equal(found(lx, "ａ　Ｇｕｎ！"), "gun");
    assert_string_equal(found(lx, "gun."), "gun");
    assert_string_equal(found(lx, "it had begun"), "");
    assert_string_equal(found(lx, "gunther"), "");
    assert_string_equal(found(lx, "gun2"), "");
    assert_string_equal(found(lx, "枪gun枪"), "gun"); /* Chinese characters are not letters */
    assert_string_equal(found(lx, "Don't KILL   yourself"), "kill yourself");
    assert_string_equal(found(lx, "kill yourselves"), "");
    assert_string_equal(found(lx, "online casino bonus"), "Ｃａｓｉｎｏ");
    /* Chinese: substrings, no word boundaries in the script */
    assert_string_equal(found(lx, "这里有毒品交易"), "毒品");
    assert_string_equal(found(lx, "这里有毒"), "");
    /* each term once, several terms */
    assert_string_equal(found(lx, "gun, gun and 毒品"), "gun,毒品");
    json_t *hits = fw_lexicon_match(lx, "GUN");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 0), "category")),
                        "weapons");
    json_decref(hits);
    hits = fw_lexicon_match(lx, "casino");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 0), "category")),
                        "sensitive");
    json_decref(hits);
    assert_null(fw_lexicon_match(lx, ""));
    assert_null(fw_lexicon_match(NULL, "gun"));
    fw_lexicon_free(lx);
}

static void lexicon_files_set_categories_and_report_bad_files(void **state)
{
    (void)state;
    const char *dir = fwt_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/lex.txt", dir);
    FILE *f = fopen(path, "w");
    fputs(
        "# a comment\n\n# category: brand\nAcme Corp\nwidget\tproduct\n# category: 违禁\n违禁品\n",
        f);
    fclose(f);
    fw_lexicon *lx = NULL;
    fw_error err = {0};
    assert_int_equal(fw_lexicon_load(&lx, path, &err), 0);
    assert_int_equal(fw_lexicon_count(lx), 3);
    json_t *hits = fw_lexicon_match(lx, "ACME corp sells a Widget and 违禁品");
    assert_int_equal(json_array_size(hits), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 0), "category")),
                        "brand");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 1), "category")),
                        "product");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 2), "category")),
                        "违禁");
    json_decref(hits);
    fw_lexicon_free(lx);

    lx = NULL;
    snprintf(path, sizeof path, "%s/missing.txt", dir);
    assert_int_equal(fw_lexicon_load(&lx, path, &err), FW_EOPEN);
    assert_non_null(strstr(err.message, "missing.txt"));
    snprintf(path, sizeof path, "%s/latin1.txt", dir);
    f = fopen(path, "w");
    fputs("ok\ncaf\xe9\n", f);
    fclose(f);
    assert_int_equal(fw_lexicon_load(&lx, path, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "latin1.txt:2"));
    fw_lexicon_free(lx);
}

static void shipped_lexicons_flag_both_scripts_and_spare_everyday_text(void **state)
{
    (void)state;
    fw_lexicon *lx = NULL;
    fw_error err = {0};
    assert_int_equal(fw_lexicon_load(&lx, FW_SOURCE_DIR "/presets/lexicons/safety-en.txt", &err),
                     0);
    assert_int_equal(fw_lexicon_load(&lx, FW_SOURCE_DIR "/presets/lexicons/safety-zh.txt", &err),
                     0);
    assert_true(fw_lexicon_count(lx) > 60);
    assert_string_equal(found(lx, "BUY COCAINE HERE"), "cocaine");
    assert_string_equal(found(lx, "网上赌博，稳赚不赔"), "稳赚不赔,赌博");
    /* everyday screens and descriptions are not flagged */
    static const char *const clean[] = {
        "Sign in | Email | Password | Login failed: connection timed out",
        "请检查网络连接",
        "A person opens the box and takes out a phone; the screen shows the boot logo.",
        "Dashboard | 3 new orders | Revenue today",
        "The process was killed by the system; restart the service",
        "It had begun to rain over the harbour",
    };
    for (size_t i = 0; i < sizeof clean / sizeof *clean; i++)
        if (found(lx, clean[i])[0])
            fail_msg("'%s' flagged: %s", clean[i], found(lx, clean[i]));
    fw_lexicon_free(lx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(confidence_gate_says_why),
        cmocka_unit_test(lexicon_matches_whole_words_and_chinese_substrings),
        cmocka_unit_test_teardown(lexicon_files_set_categories_and_report_bad_files, fwt_teardown),
        cmocka_unit_test(shipped_lexicons_flag_both_scripts_and_spare_everyday_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
