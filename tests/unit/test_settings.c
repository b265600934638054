/* The settings table: defaults, parsing, ranges; every error code's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

static void parse_rejects_with_the_option_named(void **state)
{
    (void)state;
    fw_params p = fw_params_default();
    fw_error err;
    assert_int_equal(fw_setting_parse(fw_setting_find("fps"), &p, "0", &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "--fps"));
    assert_int_equal(fw_setting_parse(fw_setting_find("fps"), &p, "1x", &err), FW_EINVAL);
    assert_int_equal(fw_setting_parse(fw_setting_find("budget"), &p, "2.5", &err), FW_EINVAL);
    assert_int_equal(fw_setting_parse(fw_setting_find("policy"), &p, "best", &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "best"));
    assert_true(p.fps == 1.0); /* unchanged on error */
    p.motion_threshold = 300;
    assert_int_equal(fw_params_validate(&p, &err), FW_EINVAL);
    assert_non_null(strstr(err.message, "motion-threshold"));
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
        cmocka_unit_test(parse_rejects_with_the_option_named),
        cmocka_unit_test(every_error_code_has_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
