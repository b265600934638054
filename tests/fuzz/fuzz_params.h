/* Settings as JSON, for the targets that end with a fw_params: every setting written by
 * fw_params_to_json reads back through fw_params_from_json to the same text (the form
 * queue messages carry a job's settings in). */
#ifndef FW_FUZZ_PARAMS_H
#define FW_FUZZ_PARAMS_H

#include "framewise.h"
#include "fuzz_util.h"

/* Checks the round trip of p; what names the target in messages. */
static inline void fz_params_round_trip(const fw_params *p, const char *what)
{
    char *text = fw_params_to_json(p);
    if (!text)
        return; /* a string setting is not UTF-8 (fw_params_set keeps any text): documented */
    fw_params q = fw_params_default();
    char *strings = NULL;
    fw_error err = {0};
    int rc = fw_params_from_json(&q, text, &strings, &err);
    FZ_CHECK("params_json_reads_back", rc == 0, "%s: %s in %.300s", what, err.message, text);
    char *again = fw_params_to_json(&q);
    FZ_CHECK("params_json_round_trip", again && strcmp(text, again) == 0, "%s:\n  %.400s\n  %.400s",
             what, text, again ? again : "(null)");
    free(again);
    free(strings);
    free(text);
}

/* 1 when p and q have the same settings (as fw_params_to_json writes them). */
static inline int fz_params_same(const fw_params *p, const fw_params *q)
{
    char *a = fw_params_to_json(p), *b = fw_params_to_json(q);
    int same = a && b ? strcmp(a, b) == 0 : a == b;
    free(a);
    free(b);
    return same;
}

#endif
