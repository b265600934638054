/* Settings from and to JSON objects ({"max-gap": 5, "policy": "auto", ...}), through the
 * settings table: the form HTTP options, queue messages and presets take. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/settings.h"

int fw_setting_from_json(const fw_setting *s, fw_params *p, const json_t *v, fw_error *err)
{
    if (s->type == FW_SET_STRING || s->type == FW_SET_POLICY) {
        if (json_is_null(v) && s->type == FW_SET_STRING)
            return fw_setting_parse(s, p, NULL, err);
        if (!json_is_string(v))
            return fw_error_set(err, FW_EINVAL, "%s: must be a string%s", s->name,
                                s->type == FW_SET_STRING ? " or null" : "");
        if (strlen(json_string_value(v)) != json_string_length(v))
            return fw_error_set(err, FW_EINVAL, "%s: must not hold a NUL character", s->name);
        return fw_setting_parse(s, p, json_string_value(v), err);
    }
    if (json_is_boolean(v) && fw_setting_is_flag(s))
        return fw_setting_set_number(s, p, json_is_true(v), err);
    if (!json_is_number(v))
        return fw_error_set(err, FW_EINVAL, "%s: must be a number%s", s->name,
                            fw_setting_is_flag(s) ? " or a boolean" : "");
    return fw_setting_set_number(s, p, json_number_value(v), err);
}

/* Copies the string values of root's string settings into one block and points q's fields
 * at the copies. 0, or FW_ENOMEM. */
static int keep_strings(json_t *root, fw_params *q, char **block, fw_error *err)
{
    size_t total = 0, used = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        const fw_setting *s = fw_setting_find(key);
        if (json_is_string(v) && s->type == FW_SET_STRING) /* not a policy's name */
            total += json_string_length(v) + 1;
    }
    *block = NULL;
    if (total == 0)
        return 0;
    if (!(*block = malloc(total)))
        return fw_error_set(err, FW_ENOMEM, "settings: out of memory");
    json_object_foreach(root, key, v)
    {
        const fw_setting *s = fw_setting_find(key);
        if (!json_is_string(v) || s->type != FW_SET_STRING)
            continue;
        char *copy = *block + used;
        memcpy(copy, json_string_value(v), json_string_length(v) + 1);
        used += json_string_length(v) + 1;
        *(const char **)((char *)q + s->offset) = copy;
    }
    return 0;
}

int fw_params_from_json(fw_params *p, const char *json, char **strings, fw_error *err)
{
    if (strings)
        *strings = NULL;
    json_error_t je;
    json_t *root = json ? json_loads(json, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!root)
        return fw_error_set(err, FW_EINVAL, "settings: not JSON: %s", json ? je.text : "no text");
    int rc = 0;
    if (!json_is_object(root))
        rc = fw_error_set(err, FW_EINVAL, "settings: not a JSON object");
    fw_params q = *p; /* nothing is set unless every member is valid */
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        const fw_setting *s = fw_setting_find(key);
        if (rc)
            break;
        if (!s)
            rc = fw_error_set(err, FW_EINVAL, "unknown setting '%s'", key);
        else if (json_is_string(v) && s->type == FW_SET_STRING && !strings)
            rc =
                fw_error_set(err, FW_EINVAL, "%s: a string needs somewhere to live (strings)", key);
        else
            rc = fw_setting_from_json(s, &q, v, err);
    }
    char *block = NULL;
    if (!rc && !(rc = keep_strings(root, &q, &block, err))) {
        *p = q;
        if (strings)
            *strings = block;
    }
    json_decref(root);
    return rc;
}

/* The setting's value as JSON text to f: numbers in their shortest exact form (jansson
 * would write 0.2 as 0.20000000000000001), null for an unset string. 0, or -1 when a
 * string is not UTF-8. */
static int write_value(FILE *f, const fw_setting *s, const fw_params *p)
{
    const char *field = (const char *)p + s->offset;
    if (s->type == FW_SET_STRING || s->type == FW_SET_POLICY) {
        const char *str = s->type == FW_SET_POLICY ? fw_policy_name(*(const fw_policy *)field)
                                                   : *(const char *const *)field;
        json_t *j = str ? json_string(str) : json_null();
        char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
        json_decref(j);
        if (!text)
            return -1;
        fputs(text, f);
        free(text);
        return 0;
    }
    char num[40];
    double v = s->type == FW_SET_DOUBLE ? *(const double *)field : *(const int *)field;
    fw_setting_number_text(v, num, sizeof num);
    fputs(isfinite(v) ? num : "null", f);
    return 0;
}

char *fw_params_to_json(const fw_params *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    int rc = 0, first = 1;
    fputc('{', f);
    for (const fw_setting *s = fw_settings; !rc && s->name; s++) {
        if (s->flags & (FW_SETTING_ALIAS | FW_SETTING_SECRET))
            continue;
        fprintf(f, "%s\"%s\":", first ? "" : ",", s->name);
        first = 0;
        rc = write_value(f, s, p);
    }
    fputc('}', f);
    if (fclose(f) || rc) {
        free(text);
        return NULL;
    }
    return text;
}
