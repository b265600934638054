/* The settings table: defaults, parsing, ranges; settings by name and as JSON, with one
 * validator whose messages name the setting; every error code's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/settings.h"

static void defaults_are_the_seed_numbers_and_valid(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    assert_int_equal(p.policy, FW_POLICY_AUTO);
    assert_true(p.fps == 1.0);
    assert_true(p.motion_threshold == 30.0);
    assert_int_equal(p.budget, 0);
    fw_error err;
    assert_int_equal(fw_params_validate(&p, &err), 0);
}

static void parse_accepts_numbers_in_range_and_names(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_error err;
    assert_int_equal(fw_setting_parse(fw_setting_find("fps"), &p, "2.5", &err), 0);
    assert_true(p.fps == 2.5);
    assert_int_equal(fw_setting_parse(fw_setting_find("budget"), &p, "12", &err), 0);
    assert_int_equal(p.budget, 12);
    assert_int_equal(fw_setting_parse(fw_setting_find("policy"), &p, "iframe", &err), 0);
    assert_int_equal(p.policy, FW_POLICY_IFRAME);
}

static void parse_rejects_naming_the_setting_without_dashes(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_error err;
    assert_int_equal(fw_setting_parse(fw_setting_find("fps"), &p, "0", &err), FW_EINVAL);
    assert_string_equal(err.message, "fps: must be >= 0.001, not 0");
    assert_int_equal(fw_setting_parse(fw_setting_find("fps"), &p, "1x", &err), FW_EINVAL);
    assert_string_equal(err.message, "fps: '1x' is not a number");
    assert_int_equal(fw_setting_parse(fw_setting_find("budget"), &p, "2.5", &err), FW_EINVAL);
    assert_string_equal(err.message, "budget: must be a whole number, not 2.5");
    assert_int_equal(fw_setting_parse(fw_setting_find("policy"), &p, "best", &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "policy: unknown policy 'best'"));
    assert_true(p.fps == 1.0); /* unchanged on error */
    p.motion_threshold = 300;
    assert_int_equal(fw_params_validate(&p, &err), FW_EINVAL);
    assert_string_equal(err.message, "motion-threshold: must be <= 255, not 300");
    p = fw_params_default();
    p.url = "ftp://x";
    assert_int_equal(fw_params_validate(&p, &err), FW_EINVAL);
    assert_string_equal(err.message, "url: 'ftp://x' is not an http:// or https:// URL");
}

static void a_url_list_is_checked_url_by_url(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_error err;
    assert_int_equal(fw_params_set(&p, "url", "http://a:1/v1,https://b:2/v1", &err), 0);
    assert_int_equal(fw_params_validate(&p, &err), 0);
    assert_int_equal(fw_params_set(&p, "url", "http://a:1/v1,ftp://b", &err), FW_EINVAL);
    assert_string_equal(err.message, "url: 'ftp://b' is not an http:// or https:// URL");
    assert_int_equal(fw_params_set(&p, "url", "http://a:1/v1,,http://c", &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "has an empty URL in its list"));
    char many[2048] = "http://h0";
    for (int i = 1; i < 17; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), ",http://h%d", i);
    assert_int_equal(fw_params_set(&p, "url", many, &err), FW_EINVAL);
    assert_string_equal(err.message, "url: 17 servers listed, at most 16");
}

static void set_by_name_uses_the_one_validator(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_error err;
    assert_int_equal(fw_params_set(&p, "max-gap", "4", &err), 0);
    assert_true(p.max_gap_s == 4.0);
    assert_int_equal(fw_params_set(&p, "max-gap", "-1", &err), FW_EINVAL);
    assert_string_equal(err.message, "max-gap: must be >= 0, not -1");
    assert_true(p.max_gap_s == 4.0);
    assert_int_equal(fw_params_set(&p, "nope", "1", &err), FW_EINVAL);
    assert_string_equal(err.message, "unknown setting 'nope'");
    assert_int_equal(fw_params_set(&p, NULL, "1", &err), FW_EINVAL);
    /* an alias, a 0|1 switch by name, a string and its unsetting */
    assert_int_equal(fw_params_set(&p, "max-image-tokens", "450", &err), 0);
    assert_int_equal(p.max_pixels, 450 * 1024);
    assert_int_equal(fw_params_set(&p, "logprobs", "false", &err), 0);
    assert_int_equal(p.logprobs, 0);
    assert_int_equal(fw_params_set(&p, "fps", "true", &err), FW_EINVAL);
    assert_int_equal(fw_params_set(&p, "model", "qwen", &err), 0);
    assert_string_equal(p.model, "qwen");
    assert_int_equal(fw_params_set(&p, "model", NULL, &err), 0);
    assert_null(p.model);
    assert_int_equal(fw_params_set(&p, "fps", NULL, &err), FW_EINVAL);
    assert_string_equal(err.message, "fps: needs a value");
    assert_int_equal(fw_params_set(&p, "backend", "magic", &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "backend: unknown backend 'magic'"));
    assert_null(p.backend);
}

static void get_gives_text_that_sets_the_same_value(void **state)
{
    (void)state;
    fw_params p = fw_params_default(), q = fw_params_default();
    fw_error err;
    p.area_threshold = 0.1 + 0.2; /* not 0.3: needs all 17 digits */
    p.temperature = 1.0 / 3;
    p.url = "http://127.0.0.1:8080/v1";
    for (int i = 0; fw_params_name(i); i++) {
        const char *name = fw_params_name(i);
        char a[256], b[256];
        assert_int_equal(fw_params_get(&p, name, a, sizeof a, &err), 0);
        if (strcmp(name, "api-key") == 0)
            continue;
        if (fw_setting_find(name)->type == FW_SET_STRING && a[0] == '\0')
            assert_int_equal(fw_params_set(&q, name, NULL, &err), 0);
        else if (fw_params_set(&q, name, a, &err))
            fail_msg("%s: '%s' does not set back: %s", name, a, err.message);
        assert_int_equal(fw_params_get(&q, name, b, sizeof b, &err), 0);
        assert_string_equal(a, b);
    }
    assert_true(q.area_threshold == p.area_threshold && q.temperature == p.temperature);
    char buf[8];
    assert_int_equal(fw_params_get(&p, "policy", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "auto");
    assert_int_equal(fw_params_get(&p, "url", buf, sizeof buf, &err), FW_ENOMEM);
    assert_int_equal(fw_params_get(&p, "nope", buf, sizeof buf, &err), FW_EINVAL);
    assert_int_equal(fw_params_get(&p, "api-key", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "");
    p.api_key = "s3cret";
    assert_int_equal(fw_params_get(&p, "api-key", buf, sizeof buf, &err), 0);
    assert_string_equal(buf, "***");
}

static void names_walk_the_whole_table(void **state)
{
    (void)state;
    int n = 0;
    while (fw_params_name(n))
        assert_non_null(fw_setting_find(fw_params_name(n++)));
    const fw_setting *s = fw_settings;
    while (s->name)
        s++;
    assert_int_equal(n, s - fw_settings);
    assert_string_equal(fw_params_name(0), "policy");
    assert_null(fw_params_name(-1));
}

static void from_json_sets_by_type_all_or_nothing(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_error err;
    char *strings = NULL;
    assert_int_equal(fw_params_from_json(&p,
                                         "{\"max-gap\": 5, \"policy\": \"scene\", \"fps\": 2.5, "
                                         "\"logprobs\": false, \"url\": \"http://h:1/v1\", "
                                         "\"prompt\": \"Qu\\u00e9 ves? 画面\", \"model\": null}",
                                         &strings, &err),
                     0);
    assert_true(p.max_gap_s == 5.0 && p.fps == 2.5);
    assert_int_equal(p.policy, FW_POLICY_SCENE);
    assert_int_equal(p.logprobs, 0);
    assert_string_equal(p.url, "http://h:1/v1");
    assert_string_equal(p.prompt, "Qué ves? 画面");
    assert_null(p.model);
    assert_non_null(strings);
    /* one bad member: nothing set, the member named */
    static const struct {
        const char *json, *message;
    } bad[] = {
        {"{\"max-gap\": 3, \"fps\": -1}", "fps: must be >= 0.001, not -1"},
        {"{\"max-gap\": 3, \"bogus\": 1}", "unknown setting 'bogus'"},
        {"{\"max-gap\": \"3\"}", "max-gap: must be a number"},
        {"{\"budget\": 2.5}", "budget: must be a whole number, not 2.5"},
        {"{\"fps\": true}", "fps: must be a number"},
        {"{\"url\": 5}", "url: must be a string or null"},
        {"{\"policy\": null}", "policy: must be a string"},
        {"{\"url\": \"ftp://x\"}", "url: 'ftp://x' is not an http:// or https:// URL"},
        {"{\"max-gap\": 3, \"max-gap\": 4}", NULL},
        {"[1]", "settings: not a JSON object"},
        {"{\"max-gap\": ", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fw_params q = p;
        char *more = NULL;
        if (fw_params_from_json(&q, bad[i].json, &more, &err) != FW_EINVAL)
            fail_msg("%s: accepted", bad[i].json);
        if (bad[i].message)
            assert_string_equal(err.message, bad[i].message);
        assert_null(more);
        assert_memory_equal(&q, &p, sizeof p);
    }
    /* no place for strings: fine without string members, refused with them */
    assert_int_equal(fw_params_from_json(&p, "{\"budget\": 7, \"model\": null}", NULL, &err), 0);
    assert_int_equal(p.budget, 7);
    assert_int_equal(fw_params_from_json(&p, "{\"model\": \"m\"}", NULL, &err), FW_EINVAL);
    /* a policy's name is not a string setting: nothing to keep (ASan sees a leak if kept) */
    assert_int_equal(fw_params_from_json(&p, "{\"policy\": \"scene\"}", NULL, &err), 0);
    char *none = (char *)1;
    assert_int_equal(fw_params_from_json(&p, "{\"policy\": \"iframe\"}", &none, &err), 0);
    assert_null(none);
    free(strings);
}

static void to_json_then_from_json_gives_the_same_params(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    p.policy = FW_POLICY_MOTION;
    p.area_threshold = 0.1 + 0.2;
    p.max_rate = 1.0 / 3;
    p.cut_threshold = 1.0 / 7;
    p.budget = 40;
    p.max_pixels = 448 * 1024;
    p.prompt = "say \"what\"\n\\ 画面にある文字";
    p.embed_url = "https://e.example/v1";
    p.api_key = "s3cret";
    char *text = fw_params_to_json(&p);
    assert_non_null(text);
    assert_null(strstr(text, "s3cret"));
    assert_null(strstr(text, "api-key"));
    assert_null(strstr(text, "max-image-tokens"));
    assert_non_null(strstr(text, "\"area-threshold\":0.30000000000000004"));
    assert_non_null(strstr(text, "\"temperature\":0.2,"));
    fw_params q = fw_params_default();
    char *strings = NULL;
    fw_error err;
    if (fw_params_from_json(&q, text, &strings, &err))
        fail_msg("%s: %s", text, err.message);
    q.api_key = p.api_key; /* the one thing left out */
    for (const fw_setting *s = fw_settings; s->name; s++) {
        const char *a = (const char *)&p + s->offset, *b = (const char *)&q + s->offset;
        if (s->type != FW_SET_STRING)
            assert_memory_equal(a, b, s->type == FW_SET_DOUBLE ? sizeof(double) : sizeof(int));
        else if (*(const char *const *)a || *(const char *const *)b)
            assert_string_equal(*(const char *const *)a, *(const char *const *)b);
    }
    char *again = fw_params_to_json(&q);
    assert_string_equal(text, again);
    free(again);
    free(text);
    free(strings);
}

/* Every FW_E* code of framewise.h, read from the header itself, has its own message. */
static void every_error_code_has_a_message(void **state)
{
    (void)state;
    FILE *f = fopen(FW_SOURCE_DIR "/include/framewise.h", "r");
    assert_non_null(f);
    char line[512];
    int last = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        int code;
        char name[32];
        if (sscanf(line, " FW_E%31[A-Z] = %d", name, &code) == 2) {
            last = code < last ? code : last;
            n++;
        }
    }
    fclose(f);
    assert_true(n >= 10 && last <= FW_ENET);
    for (int c = FW_OK; c >= last; c--)
        if (strcmp(fw_strerror(c), "unknown error") == 0)
            fail_msg("code %d has no message", c);
    assert_string_equal(fw_strerror(42), "unknown error");
    assert_string_equal(fw_strerror(last - 1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_seed_numbers_and_valid),
        cmocka_unit_test(parse_accepts_numbers_in_range_and_names),
        cmocka_unit_test(parse_rejects_naming_the_setting_without_dashes),
        cmocka_unit_test(a_url_list_is_checked_url_by_url),
        cmocka_unit_test(set_by_name_uses_the_one_validator),
        cmocka_unit_test(get_gives_text_that_sets_the_same_value),
        cmocka_unit_test(names_walk_the_whole_table),
        cmocka_unit_test(from_json_sets_by_type_all_or_nothing),
        cmocka_unit_test(to_json_then_from_json_gives_the_same_params),
        cmocka_unit_test(every_error_code_has_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
