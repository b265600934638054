/* Safety lexicons (gate/gate.c): a lexicon file (one term a line, "term<TAB>category",
 * "# category: NAME", comments) loaded as a story loads each file, then matched. The
 * input is the file; it is also matched as a text. Every term of the file must be found
 * in a text that is the term itself. */
#include <jansson.h>

#include "core/textnorm.h"
#include "fuzz_util.h"
#include "gate/gate.h"

#define MAX_LINES 64 /* terms checked one by one */

static const char *const texts[] = {"The user taps Login; an error 'connection timed out' appears.",
                                    "屏幕上显示：密码错误，请重试。",
                                    "ＦＵＬＬ ＷＩＤＴＨ  text\twith\nbreaks", "", NULL};

static void check_hits(json_t *hits, const fw_lexicon *lx, const char *text)
{
    if (!hits)
        return;
    FZ_CHECK("lexicon_hits_an_array", json_is_array(hits) && json_array_size(hits) > 0,
             "hits for '%.80s'", text);
    FZ_CHECK("lexicon_hits_at_most_terms", (int)json_array_size(hits) <= fw_lexicon_count(lx),
             "%zu hits, %d terms", json_array_size(hits), fw_lexicon_count(lx));
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h)
    {
        FZ_CHECK("lexicon_hit_has_term_and_category",
                 json_is_string(json_object_get(h, "term")) &&
                     json_is_string(json_object_get(h, "category")),
                 "hit %zu", i);
    }
}

/* 1 when hits list term. */
static int has_term(json_t *hits, const char *term)
{
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h)
    {
        if (strcmp(json_string_value(json_object_get(h, "term")), term) == 0)
            return 1;
    }
    return 0;
}

/* 1 when the folded text is nothing but white space (a term the lexicon leaves out). */
static int folds_to_nothing(const char *s)
{
    char *f = fw_text_fold(s);
    if (!f)
        abort();
    int empty = f[strspn(f, " \t\r\n")] == '\0';
    free(f);
    return empty;
}

/* The terms as fw_lexicon_load reads the lines: each found in itself. */
static void check_each_term(const fw_lexicon *lx, const uint8_t *data, size_t size)
{
    size_t at = 0;
    for (int no = 1; at < size && no <= MAX_LINES; no++) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;
        char *line = fz_cstr(data + at, len), *term = line; /* a NUL ends the line's text */
        at += len + 1;
        if (no == 1 && strncmp(term, "\xEF\xBB\xBF", 3) == 0)
            term += 3;
        term[strcspn(term, "\r\n")] = '\0';
        char *tab = strchr(term, '\t');
        if (tab)
            *tab = '\0';
        if (term[0] != '#' && term[strspn(term, " ")] && !folds_to_nothing(term)) {
            json_t *hits = fw_lexicon_match(lx, term);
            FZ_CHECK("lexicon_term_found_in_itself", hits && has_term(hits, term),
                     "line %d: '%.80s'", no, term);
            json_decref(hits);
        }
        free(line);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fz_scratch("lexicon.txt", data, size, path, sizeof path);
    fw_lexicon *lx = NULL;
    fw_error err = {0};
    int rc = fw_lexicon_load(&lx, path, &err);
    if (rc) {
        FZ_CHECK("lexicon_error_is_einval", rc == FW_EINVAL, "rc %d: %s", rc, err.message);
        FZ_CHECK("lexicon_error_names_the_line",
                 strncmp(err.message, path, strlen(path)) == 0 && err.message[strlen(path)] == ':',
                 "'%s'", err.message);
        FZ_CHECK("lexicon_refuses_only_non_utf8", !fz_utf8_ok((const char *)data, size),
                 "'%s' for UTF-8 text", err.message);
        fw_lexicon_free(lx);
        return 0;
    }
    FZ_CHECK("lexicon_loaded", lx != NULL, "no lexicon for a file that loaded");
    for (int i = 0; texts[i]; i++) {
        json_t *hits = fw_lexicon_match(lx, texts[i]);
        check_hits(hits, lx, texts[i]);
        json_decref(hits);
    }
    char *self = fz_cstr(data, size);
    json_t *hits = fw_lexicon_match(lx, self);
    check_hits(hits, lx, self);
    json_decref(hits);
    free(self);
    check_each_term(lx, data, size);
    fw_lexicon_free(lx);
    return 0;
}
