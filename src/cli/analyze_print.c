/* analyze's summary on the terminal, read from the report. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* At most max bytes of s on one line, cut at a UTF-8 character boundary. */
static void print_cut(const char *s, size_t max)
{
    size_t n = 0;
    s = s ? s : "";
    while (s[n] && n < max)
        n++;
    if (s[n])
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    for (size_t i = 0; i < n; i++)
        putchar(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
    fputs(s[n] ? "...\n" : "\n", stdout);
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* One line per change: "  00:12.400  + \"text\"" (~ edited, - gone). */
static void print_timeline(json_t *timeline)
{
    size_t i, j;
    json_t *e, *s;
    json_array_foreach(timeline, i, e)
    {
        char clock[32];
        const char *t = cli_clock(num(e, "time"), clock, sizeof clock);
        int first = 1;
#define LEAD (first ? (first = 0, t) : "         ")
        json_array_foreach(json_object_get(e, "added"), j, s)
            printf("  %s  + \"%s\"\n", LEAD, json_string_value(s));
        json_array_foreach(json_object_get(e, "changed"), j, s)
            printf("  %s  ~ \"%s\" -> \"%s\"\n", LEAD, str(s, "from"), str(s, "to"));
        json_array_foreach(json_object_get(e, "removed"), j, s)
            printf("  %s  - \"%s\"\n", LEAD, json_string_value(s));
#undef LEAD
    }
}

static void print_review(json_t *review)
{
    size_t i;
    json_t *v;
    char a[32];
    if (!json_is_true(json_object_get(review, "required")))
        return;
    printf("review required:\n");
    json_array_foreach(json_object_get(review, "reasons"), i, v)
    {
        printf("  %s  \"%s\" (%s) in: ", cli_clock(num(v, "time"), a, sizeof a), str(v, "term"),
               str(v, "category"));
        print_cut(str(v, "text"), 70);
    }
}

static void print_story(json_t *root)
{
    size_t i;
    json_t *v;
    char a[32], b[32];
    json_t *segs = json_object_get(root, "segments");
    if (json_array_size(segs))
        printf("segments: %zu\n", json_array_size(segs));
    json_array_foreach(segs, i, v)
    {
        printf("  %s-%s  ", cli_clock(num(v, "start"), a, sizeof a),
               cli_clock(num(v, "end"), b, sizeof b));
        print_cut(str(v, "text"), 90);
    }
    json_t *events = json_object_get(root, "events");
    if (json_array_size(events))
        printf("events:\n");
    json_array_foreach(events, i, v)
    {
        printf("  %s  %s (%.2f): ", cli_clock(num(v, "time"), a, sizeof a), str(v, "name"),
               num(v, "score"));
        print_cut(str(v, "evidence"), 80);
    }
    json_t *sum = json_object_get(root, "summary");
    const char *text = str(sum, "text");
    if (text && *text) {
        printf("summary (%s):\n  ", str(sum, "method"));
        for (const char *c = text; *c; c++) /* indent every line */
            fputs(*c == '\n' ? "\n  " : (char[2]){*c, 0}, stdout);
        putchar('\n');
    }
    print_review(json_object_get(root, "review"));
}

/* The observations, the text timeline and the story of a report. */
static void print_body(json_t *root)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(root, "observations"), i, o)
    {
        char clock[32];
        const char *err = str(o, "error");
        printf("  %s  ", cli_clock(num(o, "time"), clock, sizeof clock));
        if (err) {
            printf("[failed] ");
            print_cut(err, 100);
        } else
            print_cut(str(o, "text"), 100);
    }
    json_t *timeline = json_object_get(root, "timeline");
    if (json_array_size(timeline)) {
        printf("text timeline:\n");
        print_timeline(timeline);
    }
    print_story(root);
}

static void print_stats(json_t *root)
{
    json_t *s = json_object_get(root, "stats"), *sec = json_object_get(s, "seconds");
    json_int_t keyframes = json_integer_value(json_object_get(s, "keyframes"));
    json_int_t tokens = json_integer_value(json_object_get(s, "image_tokens"));
    if (json_integer_value(json_object_get(s, "requests")))
        printf("requests %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
               " retries); image tokens %" JSON_INTEGER_FORMAT " (%.0f per keyframe); "
               "prompt %" JSON_INTEGER_FORMAT ", completion %" JSON_INTEGER_FORMAT " tokens\n",
               json_integer_value(json_object_get(s, "requests")),
               json_integer_value(json_object_get(s, "retries")), tokens,
               keyframes ? (double)tokens / keyframes : 0.0,
               json_integer_value(json_object_get(s, "prompt_tokens")),
               json_integer_value(json_object_get(s, "completion_tokens")));
    json_t *sent = json_object_get(s, "sent");
    json_int_t crops = json_integer_value(json_object_get(sent, "crops")),
               low = json_integer_value(json_object_get(sent, "low")),
               again = json_integer_value(json_object_get(sent, "asked_again")),
               none = json_integer_value(json_object_get(sent, "none")),
               same = json_integer_value(json_object_get(sent, "same"));
    if (crops || low || none || same)
        printf("sent: %" JSON_INTEGER_FORMAT " as changed regions, %" JSON_INTEGER_FORMAT
               " low first (%" JSON_INTEGER_FORMAT " asked again); not sent: %" JSON_INTEGER_FORMAT
               " unchanged, %" JSON_INTEGER_FORMAT " read by the OCR\n",
               crops, low, again, same, none);
    printf("decode %.2f s, analyze %.2f s, total %.2f s\n", num(sec, "decode"), num(sec, "analyze"),
           num(sec, "total"));
}

void cli_print_analysis(json_t *root, json_t *written, const char *input)
{
    json_t *cache = json_object_get(root, "cache"), *s = json_object_get(root, "stats");
    if (cache)
        printf("%s: the result of job %" JSON_INTEGER_FORMAT " in %s (same video and settings: "
               "no decoding, no model requests)\n",
               input, json_integer_value(json_object_get(cache, "job")), str(cache, "store"));
    else
        printf("%s: %" JSON_INTEGER_FORMAT " keyframes of %" JSON_INTEGER_FORMAT
               " frames, %" JSON_INTEGER_FORMAT " observations (%" JSON_INTEGER_FORMAT " failed)\n",
               str(json_object_get(root, "video"), "path"),
               json_integer_value(json_object_get(s, "keyframes")),
               json_integer_value(json_object_get(s, "frames_decoded")),
               json_integer_value(json_object_get(s, "observations")),
               json_integer_value(json_object_get(s, "failed")));
    print_body(root);
    if (!cache)
        print_stats(root);
    size_t i;
    json_t *o;
    json_array_foreach(written, i, o)
        printf("%s %s\n", i ? "     " : "wrote", json_string_value(o));
}
