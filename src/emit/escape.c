/* emit: shared helpers (emit_util.h): lenient field access, times, UTF-8, escaping. */
#include "core/safetext.h"
#include "emit/emit_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int fw_emit_num(json_t *o, const char *key, double *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_number(x))
        return 0;
    double d = json_number_value(x);
    if (!isfinite(d))
        return 0;
    *v = d;
    return 1;
}

const char *fw_emit_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

const char *fw_emit_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* Appends s (and a "; " first when buf is not empty) to a malloc'd buffer. */
static char *append(char *buf, const char *s)
{
    size_t old = strlen(buf), add = strlen(s);
    if (!add)
        return buf;
    char *p = realloc(buf, old + add + 3);
    if (!p) {
        free(buf);
        return NULL;
    }
    if (old)
        memcpy(p + old, "; ", 2), old += 2;
    memcpy(p + old, s, add + 1);
    return p;
}

char *fw_emit_text(json_t *v)
{
    char num[64];
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        return strdup(num);
    }
    if (json_is_real(v)) {
        snprintf(num, sizeof num, "%g", json_real_value(v));
        return strdup(num);
    }
    if (json_is_boolean(v))
        return strdup(json_is_true(v) ? "true" : "false");
    if (json_is_object(v))
        return json_dumps(v, JSON_COMPACT);
    char *buf = strdup("");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char *s = fw_emit_text(item);
        if (!s || !buf) {
            free(s);
            free(buf);
            return NULL;
        }
        buf = append(buf, s);
        free(s);
    }
    return buf;
}

const char *fw_emit_when(json_t *o, const char *key, char *buf, size_t n)
{
    double t;
    buf[0] = '\0';
    return fw_emit_num(o, key, &t) ? fw_clock_mmss(t, buf, n) : buf;
}

int fw_emit_value(FILE *out, json_t *v, void (*escape)(FILE *out, const char *s))
{
    char *s = fw_emit_text(v);
    if (!s)
        return -1;
    escape(out, s);
    free(s);
    return 0;
}

const char *fw_emit_clock_ms(long long ms, char sep, char *buf, size_t n)
{
    if (ms < 0)
        ms = 0;
    snprintf(buf, n, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
             sep, ms % 1000);
    return buf;
}

int fw_emit_width(uint32_t cp)
{
    /* combining marks, zero-width space/joiners, variation selectors */
    if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0x2060 || cp == 0xfeff)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) ||                 /* hangul jamo */
        (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) || /* CJK, kana, radicals */
        (cp >= 0xac00 && cp <= 0xd7a3) ||                 /* hangul syllables */
        (cp >= 0xf900 && cp <= 0xfaff) ||                 /* CJK compatibility */
        (cp >= 0xfe30 && cp <= 0xfe4f) ||                 /* CJK compatibility forms */
        (cp >= 0xff00 && cp <= 0xff60) ||                 /* fullwidth forms */
        (cp >= 0xffe0 && cp <= 0xffe6) ||                 /* fullwidth signs */
        (cp >= 0x1f300 && cp <= 0x1f64f) ||               /* emoji */
        (cp >= 0x1f900 && cp <= 0x1f9ff) ||               /* more emoji */
        (cp >= 0x20000 && cp <= 0x3fffd))                 /* CJK extensions */
        return 2;
    return 1;
}

/* s without the code points that act on a display (core/safetext.h), malloc'd; a carriage
 * return stays (the writers make it a space). NULL when out of memory. */
static char *safe_copy(const char *s)
{
    char *c = malloc(strlen(s) + 1);
    if (!c)
        return NULL;
    char *o = c;
    while (*s) {
        uint32_t cp;
        int len = fw_utf8_decode(s, &cp);
        if (!fw_cp_unsafe(cp) || cp == '\r') {
            memcpy(o, s, (size_t)len);
            o += len;
        }
        s += len;
    }
    *o = '\0';
    return c;
}

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

void fw_emit_html_text(FILE *out, const char *s)
{
    char *safe = safe_copy(s);
    html_text(out, safe ? safe : "");
    free(safe);
}

static void md_text(FILE *out, const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    /* what would make the line a list item, a heading or a setext underline */
    const char *d = s;
    while (isdigit((unsigned char)*d))
        d++;
    if (*s == '-' || *s == '+' || *s == '=')
        fputc('\\', out);
    else if (d > s && (*d == '.' || *d == ')')) {
        fwrite(s, 1, (size_t)(d - s), out);
        fputc('\\', out);
        s = d;
    }
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '\r':
        case '\n':
        case '\t':
        case ' ':
            while (s[1] == ' ' || s[1] == '\t' || s[1] == '\r' || s[1] == '\n')
                s++;
            if (s[1])
                fputc(' ', out);
            break;
        case '\\':
        case '`':
        case '*':
        case '_':
        case '[':
        case ']':
        case '|':
        case '#':
        case '~':
            fputc('\\', out);
            fputc(*s, out);
            break;
        default: fputc(*s, out);
        }
    }
}

void fw_emit_md_text(FILE *out, const char *s)
{
    char *safe = safe_copy(s);
    md_text(out, safe ? safe : "");
    free(safe);
}

int fw_emit_finish(FILE *out)
{
    if (fflush(out) != 0 || ferror(out)) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}
