/* Events files (fuse/events.c): the JSON of named events, single ones (phrases) and ordered
 * multi-step ones, parsed as a story loads each file (fw_events_parse, definitions
 * accumulating over files), then matched over a few observations. The input is the file. */
#include <jansson.h>

#include "fuse/fuse.h"
#include "fuzz_util.h"

#define N_MOMENTS 6

static void check_records(json_t *list, const char *what)
{
    if (!list)
        return;
    FZ_CHECK("events_records_are_an_array", json_is_array(list), "%s", what);
    double last = -1;
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r)
    {
        double t = json_number_value(json_object_get(r, "time"));
        FZ_CHECK("events_records_named", json_is_string(json_object_get(r, "name")), "%s %zu", what,
                 i);
        FZ_CHECK("events_at_a_moment", t >= 0 && t <= (N_MOMENTS - 1) * 10.0, "%s %zu: time %g",
                 what, i, t);
        FZ_CHECK("events_in_time_order", t >= last, "%s %zu: %g after %g", what, i, t, last);
        last = t;
        char *text = json_dumps(r, JSON_COMPACT);
        FZ_CHECK("events_records_serialise", text != NULL, "%s %zu", what, i);
        free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    if (!root)
        return 0; /* the story says "not JSON" before the events see it */
    fw_events *ev = NULL;
    fw_error err = {0};
    int rc = fw_events_parse(&ev, root, "fuzz.json", &err);
    if (rc) {
        FZ_CHECK("events_error_is_einval", rc == FW_EINVAL, "rc %d: %s", rc, err.message);
        FZ_CHECK("events_error_names_the_file", strncmp(err.message, "fuzz.json: ", 11) == 0,
                 "'%s'", err.message);
        fw_events_free(ev);
        json_decref(root);
        return 0;
    }
    int n = fw_events_count(ev);
    /* a second file with the same definitions: they accumulate */
    rc = fw_events_parse(&ev, root, "again.json", &err);
    FZ_CHECK("events_accumulate", rc == 0 && fw_events_count(ev) == 2 * n, "rc %d, %d of %d", rc,
             fw_events_count(ev), 2 * n);
    const char **phrases;
    int n_phr = fw_events_phrases(ev, &phrases);
    FZ_CHECK("events_have_phrases", n == 0 || n_phr >= 2 * n, "%d phrases for %d events", n_phr,
             2 * n);
    for (int p = 0; p < n_phr; p++)
        FZ_CHECK("events_phrases_not_empty", phrases[p] && phrases[p][0], "phrase %d", p);

    /* moments every 10 s, every other one usable; relevances spread over 0..1 */
    fw_moment m[N_MOMENTS];
    for (int i = 0; i < N_MOMENTS; i++)
        m[i] = (fw_moment){i * 10.0, i, "text", 0.9, i % 3 != 2};
    float *rel = calloc((size_t)(n_phr ? n_phr : 1) * N_MOMENTS, sizeof *rel);
    if (!rel)
        abort();
    for (int p = 0; p < n_phr; p++)
        for (int i = 0; i < N_MOMENTS; i++)
            rel[p * N_MOMENTS + i] = (float)((p * 7 + i * 13 + (int)size) % 11) / 10.0f;
    json_t *all = fw_events_match(ev, m, N_MOMENTS, rel);
    check_records(all, "match");
    json_decref(all);
    for (int i = 0; i < N_MOMENTS; i++) {
        json_t *now = fw_events_at(ev, m, N_MOMENTS, rel, i);
        check_records(now, "at");
        json_decref(now);
    }
    free(rel);
    fw_events_free(ev);
    json_decref(root);
    return 0;
}
