/* The settings table: every fw_params field declared once (name, type, default,
 * range, help). Defaults, validation, CLI long options and --help come from it. */
#ifndef FW_CORE_SETTINGS_H
#define FW_CORE_SETTINGS_H

#include <stddef.h>

#include "framewise.h"

typedef enum fw_setting_type {
    FW_SET_DOUBLE,
    FW_SET_INT,
    FW_SET_POLICY,
    FW_SET_STRING, /* const char * (the caller's string; NULL by default) */
    FW_SET_TOKENS  /* an image-token count written into the int field as pixels (x 1024) */
} fw_setting_type;

/* Flags of a setting. */
enum {
    FW_SETTING_SECRET = 1, /* never printed (reports show only whether it is set) */
    FW_SETTING_ALIAS = 2,  /* another way to set a field listed elsewhere: not reported */
    FW_SETTING_LIST = 4    /* a comma-separated list: each time the option is given on the
                              command line adds to it */
};

typedef struct fw_setting {
    const char *name; /* long option name, e.g. "motion-threshold" */
    fw_setting_type type;
    size_t offset; /* offsetof(fw_params, field) */
    double def, min, max;
    const char *arg;  /* placeholder in --help, e.g. "T" */
    const char *help; /* one line */
    int flags;        /* FW_SETTING_* */
} fw_setting;

/* The table, terminated by an entry whose name is NULL. */
extern const fw_setting fw_settings[];

/* Every message below names the setting ("max-gap: must be >= 0, not -1"), never a
 * command-line flag: a front end adds its own spelling ("--max-gap"). On an error the
 * field is left as it was. */

/* Parses text into the field the setting names (a string setting keeps the pointer;
 * NULL unsets it; "true"/"false" for 0|1 settings); 0 or FW_EINVAL with a message. */
int fw_setting_parse(const fw_setting *s, fw_params *p, const char *text, fw_error *err);
/* Sets a number setting (whole for int settings, in range); 0 or FW_EINVAL. */
int fw_setting_set_number(const fw_setting *s, fw_params *p, double v, fw_error *err);
/* Sets the setting from a JSON value by its type: a number (true/false for 0|1 settings),
 * a string (its pointer is kept: v must outlive p's use) or null for a string setting;
 * 0 or FW_EINVAL. */
struct json_t;
int fw_setting_from_json(const fw_setting *s, fw_params *p, const struct json_t *v, fw_error *err);
/* 1 for an int setting whose range is 0..1 (an on/off switch). */
int fw_setting_is_flag(const fw_setting *s);
/* v as the shortest "%g" text that reads back as v exactly. */
void fw_setting_number_text(double v, char *out, size_t n);
/* Finds a setting by name, or NULL. */
const fw_setting *fw_setting_find(const char *name);

#endif
