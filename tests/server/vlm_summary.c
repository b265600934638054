/* The answer of the test model server to a text-only chat (a summary request): made
 * from the moments in the text of the last user message. A moment is a line that
 * starts (after optional blanks) with a timestamp — mm:ss or h:mm:ss, optionally .mmm,
 * optionally a range to a second timestamp with '-' or '–' — then a blank and text.
 *
 *   {"summary": S, "key_moments": [{"time": T, "text": X}, ...]}
 *
 * T is the (start) timestamp as written. With N >= 2 moments S is "N moments from
 * <first T> to <last T>: <first X> ... <last X>", with one "1 moment at <T>: <X>";
 * key_moments are the first moment, every moment whose text mentions an error (see
 * is_error) and the last moment, in order, at most MAX_KEY (the last one always kept).
 * Without moments S is the first SUMMARY_HEAD bytes of the text (never a partial UTF-8
 * character) and key_moments is []. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlm_server.h"

#define MAX_KEY 8
#define SUMMARY_HEAD 200

typedef struct moment {
    char time[32];
    const char *text;
    size_t len;
} moment;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The end of the run of 1..max digits at p, or NULL. */
static const char *digits(const char *p, int min, int max)
{
    int n = 0;
    while (n < max && is_digit(p[n]))
        n++;
    return n >= min && !is_digit(p[n]) ? p + n : NULL;
}

/* The end of a timestamp at p (mm:ss or h:mm:ss, optionally .mmm), or NULL. */
static const char *timestamp(const char *p)
{
    const char *q = digits(p, 1, 3);
    if (!q || *q != ':' || !(q = digits(q + 1, 2, 2)))
        return NULL;
    if (*q == ':' && digits(q + 1, 2, 2))
        q = digits(q + 1, 2, 2);
    if (*q == '.' && digits(q + 1, 1, 3))
        q = digits(q + 1, 1, 3);
    return q;
}

/* Parses one line (without its '\n'); 1 if it is a moment. */
static int parse_moment(const char *line, size_t n, moment *m)
{
    char buf[256];
    if (n == 0)
        return 0;
    size_t head = n < sizeof buf - 1 ? n : sizeof buf - 1; /* the timestamp lies in here */
    memcpy(buf, line, head);
    buf[head] = '\0';
    const char *p = buf;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *start = p, *end = timestamp(p);
    if (!end || end - start >= (long)sizeof m->time)
        return 0;
    snprintf(m->time, sizeof m->time, "%.*s", (int)(end - start), start);
    const char *r = end; /* a range: "-" or the en dash U+2013, blanks allowed around it */
    while (*r == ' ')
        r++;
    if (*r == '-' || strncmp(r, "\xE2\x80\x93", 3) == 0) {
        r += *r == '-' ? 1 : 3;
        while (*r == ' ')
            r++;
        const char *e2 = timestamp(r);
        if (e2)
            end = e2;
    }
    if (*end != ' ' && *end != '\t')
        return 0;
    size_t off = (size_t)(end - buf);
    while (off < n && (line[off] == ' ' || line[off] == '\t'))
        off++;
    size_t stop = n;
    while (stop > off &&
           (line[stop - 1] == ' ' || line[stop - 1] == '\t' || line[stop - 1] == '\r'))
        stop--;
    if (stop == off)
        return 0;
    m->text = line + off;
    m->len = stop - off;
    return 1;
}

static int is_error(const moment *m)
{
    static const char *words[] = {"error", "fail", "timed out", "\xE5\xA4\xB1\xE8\xB4\xA5",
                                  "\xE9\x94\x99\xE8\xAF\xAF"}; /* 失败, 错误 */
    char *low = malloc(m->len + 1);
    for (size_t i = 0; i < m->len; i++) {
        char c = m->text[i];
        low[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    low[m->len] = '\0';
    int hit = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0] && !hit; i++)
        hit = strstr(low, words[i]) != NULL;
    free(low);
    return hit;
}

/* The text of the last user message: its string, or its text parts joined by "\n". */
static char *last_user_text(json_t *messages)
{
    json_t *last = NULL, *m;
    size_t i, j;
    json_array_foreach(messages, i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (role && strcmp(role, "user") == 0)
            last = json_object_get(m, "content");
    }
    if (json_is_string(last))
        return strdup(json_string_value(last));
    size_t n = 0;
    json_t *part;
    json_array_foreach(last, j, part) n += json_string_length(json_object_get(part, "text")) + 1;
    char *text = calloc(1, n + 1);
    int parts = 0;
    json_array_foreach(last, j, part)
    {
        json_t *t = json_object_get(part, "text");
        if (json_is_string(t))
            strcat(strcat(text, parts++ ? "\n" : ""), json_string_value(t));
    }
    return text;
}

static json_t *moment_json(const moment *m)
{
    return json_pack("{s:s, s:s%}", "time", m->time, "text", m->text, m->len);
}

json_t *summary_answer(json_t *messages)
{
    char *text = last_user_text(messages);
    size_t cap = 16, n = 0;
    moment *ms = malloc(cap * sizeof *ms);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (n == cap)
            ms = realloc(ms, (cap *= 2) * sizeof *ms);
        n += (size_t)parse_moment(line, len, &ms[n]);
        line += len + (nl != NULL);
    }
    json_t *keys = json_array(), *ans;
    if (n == 0) {
        size_t head = strlen(text);
        if (head > SUMMARY_HEAD) {
            head = SUMMARY_HEAD;
            while (head > 0 && ((unsigned char)text[head] & 0xC0) == 0x80)
                head--; /* do not split a UTF-8 character */
        }
        ans = json_pack("{s:s%, s:o}", "summary", text, head, "key_moments", keys);
    } else {
        const moment *a = &ms[0], *z = &ms[n - 1];
        size_t sz = a->len + z->len + 2 * sizeof a->time + 64;
        char *sum = malloc(sz);
        if (n == 1)
            snprintf(sum, sz, "1 moment at %s: %.*s", a->time, (int)a->len, a->text);
        else
            snprintf(sum, sz, "%zu moments from %s to %s: %.*s ... %.*s", n, a->time, z->time,
                     (int)a->len, a->text, (int)z->len, z->text);
        json_array_append_new(keys, moment_json(a));
        for (size_t i = 1; i + 1 < n && json_array_size(keys) < MAX_KEY - 1; i++)
            if (is_error(&ms[i]))
                json_array_append_new(keys, moment_json(&ms[i]));
        if (n > 1)
            json_array_append_new(keys, moment_json(z));
        ans = json_pack("{s:s, s:o}", "summary", sum, "key_moments", keys);
        free(sum);
    }
    free(ms);
    free(text);
    return ans;
}
