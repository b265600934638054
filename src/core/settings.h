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
    FW_SETTING_ALIAS = 2   /* another way to set a field listed elsewhere: not reported */
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

/* Parses text into the field the setting names; 0 or FW_EINVAL with a message. */
int fw_setting_parse(const fw_setting *s, fw_params *p, const char *text, fw_error *err);
/* Finds a setting by name, or NULL. */
const fw_setting *fw_setting_find(const char *name);

#endif
