/* Text that reaches a terminal or a page: see safetext.h. */
#include "core/safetext.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

int fw_safe_text(char *s)
{
    if (!s)
        return 0;
    char *out = s;
    int removed = 0;
    while (*s) {
        uint32_t cp;
        int len = fw_utf8_decode(s, &cp);
        if (fw_cp_unsafe(cp)) {
            removed++;
        } else if (cp == 0xfffd && len == 1) { /* an invalid byte (0x9b is an 8-bit CSI) */
            *out++ = '?';
        } else {
            memmove(out, s, (size_t)len);
            out += len;
        }
        s += len;
    }
    *out = '\0';
    return removed;
}

int fw_safe_json(json_t *v)
{
    int n = 0;
    if (json_is_string(v)) {
        const char *text = json_string_value(v);
        size_t len = json_string_length(v);
        char *copy = malloc(len + 1);
        if (!copy)
            return 0;
        size_t j = 0;
        for (size_t i = 0; i < len; i++) /* a NUL inside is a C0 control too */
            if (text[i])
                copy[j++] = text[i];
        copy[j] = '\0';
        n = (int)(len - j) + fw_safe_text(copy);
        if (n)
            json_string_setn(v, copy, strlen(copy));
        free(copy);
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach(v, key, item) n += fw_safe_json(item);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) n += fw_safe_json(item);
    }
    return n;
}

char *fw_safe_json_text(const char *text, int *changed)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!v)
        return NULL;
    int n = fw_safe_json(v);
    if (changed)
        *changed = n > 0;
    char *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return out;
}
