/* The text timeline of an analyze report: when on-screen lines appeared, changed and
 * disappeared, from the observations' text_added / text_changed / text_removed (the
 * local backend's fields, or their "ocr" part with openai+local). */
#include <stdio.h>

#include "cli/report.h"

/* The local backend's fields of an observation, or NULL. */
static json_t *ocr_fields(json_t *obs)
{
    json_t *f = json_object_get(obs, "fields");
    json_t *ocr = json_object_get(f, "ocr");
    f = json_is_object(ocr) ? ocr : f;
    return json_object_get(f, "text_added") ? f : NULL;
}

json_t *report_timeline(json_t *observations)
{
    json_t *out = json_array(), *o;
    size_t i;
    json_array_foreach(observations, i, o)
    {
        json_t *f = ocr_fields(o);
        if (!f)
            continue;
        json_t *added = json_object_get(f, "text_added");
        json_t *removed = json_object_get(f, "text_removed");
        json_t *changed = json_object_get(f, "text_changed");
        if (!json_array_size(added) && !json_array_size(removed) && !json_array_size(changed))
            continue;
        json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:O}", "time",
                                             json_object_get(o, "time"), "keyframe",
                                             json_object_get(o, "keyframe"), "added", added,
                                             "changed", changed, "removed", removed));
    }
    return out;
}

void report_timeline_print(json_t *timeline, FILE *out)
{
    size_t i, j;
    json_t *e, *s;
    json_array_foreach(timeline, i, e)
    {
        char clock[32];
        const char *t =
            report_clock(json_real_value(json_object_get(e, "time")), clock, sizeof clock);
        int first = 1;
#define LEAD (first ? (first = 0, t) : "         ")
        json_array_foreach(json_object_get(e, "added"), j, s)
            fprintf(out, "  %s  + \"%s\"\n", LEAD, json_string_value(s));
        json_array_foreach(json_object_get(e, "changed"), j, s) fprintf(
            out, "  %s  ~ \"%s\" -> \"%s\"\n", LEAD, json_string_value(json_object_get(s, "from")),
            json_string_value(json_object_get(s, "to")));
        json_array_foreach(json_object_get(e, "removed"), j, s)
            fprintf(out, "  %s  - \"%s\"\n", LEAD, json_string_value(s));
#undef LEAD
    }
}
