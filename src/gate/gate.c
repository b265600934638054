#include "gate/gate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/sidefile.h"
#include "core/textnorm.h"
#include "core/utf8.h"

typedef struct term {
    char *shown;  /* as written in the file */
    char *folded; /* as matched */
    char *category;
    int word_start, word_end; /* needs a word boundary before / after */
} term;

struct fw_lexicon {
    term *t;
    int n, cap;
};

const char *fw_gate_reason(const char *text, const char *error, double confidence,
                           double min_confidence)
{
    if (error)
        return "failed";
    if (!text || !text[strspn(text, " \t\r\n")])
        return "empty";
    return confidence < min_confidence ? "low_confidence" : NULL;
}

/* Folded, with runs of white space as one space and none at the ends. */
static char *normalise(const char *s)
{
    char *f = fw_text_fold(s);
    if (!f)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; f[i]; i++) {
        int space = f[i] == ' ' || f[i] == '\t' || f[i] == '\n' || f[i] == '\r';
        if (space && (j == 0 || f[j - 1] == ' '))
            continue;
        f[j++] = space ? ' ' : f[i];
    }
    while (j > 0 && f[j - 1] == ' ')
        j--;
    f[j] = '\0';
    return f;
}

static uint32_t first_cp(const char *s)
{
    return *s ? fw_utf8_next(&s) : 0;
}

/* The code point that ends just before s + len. */
static uint32_t last_cp(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    size_t i = len - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    const char *p = s + i;
    return fw_utf8_next(&p);
}

int fw_lexicon_add(fw_lexicon **plx, const char *shown, const char *category)
{
    if (!*plx && !(*plx = calloc(1, sizeof **plx)))
        return FW_ENOMEM;
    fw_lexicon *lx = *plx;
    if (lx->n == lx->cap) {
        int cap = lx->cap ? lx->cap * 2 : 64;
        term *t = realloc(lx->t, (size_t)cap * sizeof *t);
        if (!t)
            return FW_ENOMEM;
        lx->t = t;
        lx->cap = cap;
    }
    term *t = &lx->t[lx->n];
    t->shown = strdup(shown);
    t->folded = normalise(shown);
    t->category = strdup(category ? category : "sensitive");
    if (!t->shown || !t->folded || !t->category) {
        free(t->shown);
        free(t->folded);
        free(t->category);
        return FW_ENOMEM;
    }
    if (!t->folded[0]) { /* nothing to match */
        free(t->shown);
        free(t->folded);
        free(t->category);
        return 0;
    }
    t->word_start = fw_cp_is_word(first_cp(t->folded));
    t->word_end = fw_cp_is_word(last_cp(t->folded, strlen(t->folded)));
    lx->n++;
    return 0;
}

static int valid_utf8(const char *s)
{
    while (*s) {
        uint32_t cp;
        int len = fw_utf8_decode(s, &cp);
        if (cp == 0xFFFD && len == 1) /* an invalid byte; a written U+FFFD is three */
            return 0;
        s += len;
    }
    return 1;
}

int fw_lexicon_load(fw_lexicon **lx, const char *path, fw_error *err)
{
    char *text;
    size_t len;
    int rc = fw_side_read(path, "lexicon", FW_SIDE_MAX_LEXICON, &text, &len, err);
    if (rc)
        return rc;
    FILE *f = len ? fmemopen(text, len, "r") : NULL;
    if (len && !f) {
        free(text);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    char *buf = NULL, category[128] = "sensitive";
    size_t cap = 0;
    int no = 0;
    while (!rc && f && getline(&buf, &cap, f) >= 0) {
        char *line = buf;
        if (++no == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
            line += 3; /* a byte-order mark */
        line[strcspn(line, "\r\n")] = '\0';
        if (!valid_utf8(line)) {
            rc = fw_error_set(err, FW_EINVAL, "%s:%d: not UTF-8 text", path, no);
            break;
        }
        if (line[0] == '#') {
            const char *c = strstr(line, "category:");
            if (c) {
                c += 9;
                c += strspn(c, " ");
                snprintf(category, sizeof category, "%s", c);
            }
            continue;
        }
        char *tab = strchr(line, '\t');
        if (tab)
            *tab++ = '\0';
        if (line[strspn(line, " ")] && fw_lexicon_add(lx, line, tab && *tab ? tab : category))
            rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    free(buf);
    if (f)
        fclose(f);
    free(text);
    if (!rc && !*lx && fw_lexicon_add(lx, "", NULL)) /* an empty file is a lexicon too */
        rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    return rc;
}

int fw_lexicon_count(const fw_lexicon *lx)
{
    return lx ? lx->n : 0;
}

/* 1 when the text's code point before at (or after end) is not a word character. */
static int boundary_before(const char *text, size_t at)
{
    return at == 0 || !fw_cp_is_word(last_cp(text, at));
}

static int boundary_after(const char *text, size_t end)
{
    return !text[end] || !fw_cp_is_word(first_cp(text + end));
}

json_t *fw_lexicon_match(const fw_lexicon *lx, const char *text)
{
    if (!lx || !lx->n || !text || !*text)
        return NULL;
    char *f = normalise(text);
    json_t *out = NULL;
    for (int i = 0; f && i < lx->n; i++) {
        const term *t = &lx->t[i];
        size_t len = strlen(t->folded);
        for (const char *p = strstr(f, t->folded); p; p = strstr(p + 1, t->folded)) {
            size_t at = (size_t)(p - f);
            if ((t->word_start && !boundary_before(f, at)) ||
                (t->word_end && !boundary_after(f, at + len)))
                continue;
            if (!out)
                out = json_array();
            json_array_append_new(
                out, json_pack("{s:s, s:s}", "term", t->shown, "category", t->category));
            break;
        }
    }
    free(f);
    return out;
}

void fw_lexicon_free(fw_lexicon *lx)
{
    if (!lx)
        return;
    for (int i = 0; i < lx->n; i++) {
        free(lx->t[i].shown);
        free(lx->t[i].folded);
        free(lx->t[i].category);
    }
    free(lx->t);
    free(lx);
}
