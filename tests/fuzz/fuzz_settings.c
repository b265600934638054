/* Settings from outside (core/settings_json.c, core/settings.c): a JSON object of settings
 * as HTTP options and queue messages carry it (fw_params_from_json), and the same input
 * read as "name=value" lines (fw_params_set, as a query or a command line gives them).
 * Nothing is set unless every member is valid; what is set reads back through
 * fw_params_to_json and fw_params_get. */
#include "core/settings.h"
#include "framewise.h"
#include "fuzz_params.h"
#include "fuzz_util.h"

#define MAX_LINES 32

static void from_json(const char *text)
{
    const fw_params def = fw_params_default();
    fw_params p = def;
    char *strings = NULL;
    fw_error err = {0};
    int rc = fw_params_from_json(&p, text, &strings, &err);
    if (rc) {
        FZ_CHECK("settings_error_is_einval", rc == FW_EINVAL && err.message[0], "rc %d: '%s'", rc,
                 err.message);
        FZ_CHECK("settings_error_sets_nothing", fz_params_same(&p, &def), "changed on '%s'",
                 err.message);
        FZ_CHECK("settings_error_keeps_no_strings", strings == NULL, "strings on error");
        return;
    }
    fw_error verr;
    fw_params_validate(&p, &verr); /* a combination may be refused: that is its own error */
    fz_params_round_trip(&p, "json");
    free(strings);
}

/* Each line "name=value" set on its own; a refused one changes nothing. A setting that was
 * set reads back (fw_params_get) as text that sets it to the same value. */
static void from_lines(char *text)
{
    fw_params p = fw_params_default();
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line && n < MAX_LINES;
         line = strtok_r(NULL, "\n", &save), n++) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *name = line, *value = eq + 1;
        fw_params was = p;
        fw_error err = {0};
        if (fw_params_set(&p, name, strcmp(value, "(null)") ? value : NULL, &err)) {
            FZ_CHECK("settings_set_error_changes_nothing", fz_params_same(&p, &was),
                     "'%s' changed on '%s'", name, err.message);
            continue;
        }
        char got[4096];
        if (fw_params_get(&p, name, got, sizeof got, &err))
            continue; /* FW_ENOMEM: a long string */
        const fw_setting *s = fw_setting_find(name);
        if (s->type == FW_SET_STRING && (!got[0] || (s->flags & FW_SETTING_SECRET)))
            continue; /* "" is unset or empty; a secret reads as "***" */
        fw_params again = fw_params_default();
        fw_error e2 = {0};
        int rc = fw_params_set(&again, name, got, &e2);
        fw_params one = fw_params_default();
        fw_params_set(&one, name, strcmp(value, "(null)") ? value : NULL, &e2);
        FZ_CHECK("settings_get_reads_back", rc == 0 && fz_params_same(&again, &one),
                 "%s=%s read back as '%s'", name, value, got);
    }
    fz_params_round_trip(&p, "lines");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstr(data, size);
    from_json(text);
    from_lines(text); /* last: it cuts text into lines */
    free(text);
    return 0;
}
