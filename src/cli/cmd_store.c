/* framewise jobs and framewise cache: the store's jobs, size and hits; clear, vacuum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/store.h"

/* Opens the store at path (NULL: the default): -1 to go on, else the exit code after a
 * one-line error (2 for a file that is not a store or cannot be written). */
static int open_store(const char *path, fw_store **s)
{
    fw_error err = {0};
    if (fw_store_open(s, path, &err) == 0)
        return -1;
    cli_error("%s", err.message);
    return err.code == FW_EOPEN ? EXIT_USAGE : EXIT_RUNTIME;
}

/* [--store PATH] [--json] after the subcommand words; the words left in words[]. */
static int store_args(int argc, char **argv, const char **path, int *json, const char **words,
                      int max_words, int *n_words, const char *usage)
{
    *path = NULL;
    *json = 0;
    *n_words = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            *path = argv[++i];
        else if (strncmp(argv[i], "--store=", 8) == 0)
            *path = argv[i] + 8;
        else if (strcmp(argv[i], "--json") == 0)
            *json = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: framewise %s\n", usage);
            return EXIT_OK;
        } else if (argv[i][0] != '-' && *n_words < max_words)
            words[(*n_words)++] = argv[i];
        else {
            cli_error("%s: unknown option or argument (usage: framewise %s)", argv[i], usage);
            return EXIT_USAGE;
        }
    }
    return -1;
}

int cmd_cache(int argc, char **argv)
{
    static const char usage[] = "cache stats|clear|vacuum [--store PATH] [--json]";
    const char *path, *words[2];
    int json, n;
    int rc = store_args(argc, argv, &path, &json, words, 2, &n, usage);
    if (rc >= 0)
        return rc;
    if (n != 1 ||
        (strcmp(words[0], "stats") && strcmp(words[0], "clear") && strcmp(words[0], "vacuum"))) {
        cli_error("cache: say stats, clear or vacuum (usage: framewise %s)", usage);
        return EXIT_USAGE;
    }
    fw_store *s;
    fw_error err = {0};
    if ((rc = open_store(path, &s)) >= 0)
        return rc;
    int kept = 0;
    rc = strcmp(words[0], "clear") == 0    ? fw_store_clear(s, &kept, &err)
         : strcmp(words[0], "vacuum") == 0 ? fw_store_vacuum(s, &err)
                                           : 0;
    json_t *st = rc ? NULL : fw_store_stats(s, &err);
    if (!st) {
        cli_error("%s", err.message);
        fw_store_close(s);
        return EXIT_RUNTIME;
    }
    if (kept && !json)
        printf("kept %d running job%s: %s still recording\n", kept, kept == 1 ? "" : "s",
               kept == 1 ? "it is" : "they are");
    if (json)
        cli_print_json(st);
    else {
        json_t *cnt = json_object_get(st, "counters");
        printf("%s: %.1f MB; %" JSON_INTEGER_FORMAT " videos, %" JSON_INTEGER_FORMAT
               " jobs, %" JSON_INTEGER_FORMAT
               " keyframes (%.1f MB of images), %" JSON_INTEGER_FORMAT
               " observations, %" JSON_INTEGER_FORMAT " results; hits: %" JSON_INTEGER_FORMAT
               " whole results, %" JSON_INTEGER_FORMAT " frames, %" JSON_INTEGER_FORMAT
               " observations of resumed jobs\n",
               json_string_value(json_object_get(st, "path")),
               json_integer_value(json_object_get(st, "bytes")) / 1e6,
               json_integer_value(json_object_get(st, "videos")),
               json_integer_value(json_object_get(st, "jobs")),
               json_integer_value(json_object_get(st, "keyframes")),
               json_integer_value(json_object_get(st, "image_bytes")) / 1e6,
               json_integer_value(json_object_get(st, "observations")),
               json_integer_value(json_object_get(st, "results")),
               json_integer_value(json_object_get(cnt, "result_hits")),
               json_integer_value(json_object_get(cnt, "frame_hits")),
               json_integer_value(json_object_get(cnt, "observation_hits")));
    }
    json_decref(st);
    fw_store_close(s);
    return EXIT_OK;
}

int cmd_jobs(int argc, char **argv)
{
    static const char usage[] = "jobs [show ID] [--store PATH] [--json]";
    const char *path, *words[3];
    int json, n;
    int rc = store_args(argc, argv, &path, &json, words, 3, &n, usage);
    if (rc >= 0)
        return rc;
    char *end = NULL;
    long long id = n == 2 ? strtoll(words[1], &end, 10) : 0;
    if (!(n == 0 || (n == 2 && strcmp(words[0], "show") == 0 && end && !*end && id > 0))) {
        cli_error("jobs: usage: framewise %s", usage);
        return EXIT_USAGE;
    }
    fw_store *s;
    fw_error err = {0};
    if ((rc = open_store(path, &s)) >= 0)
        return rc;
    json_t *jobs = fw_store_jobs(s, &err), *j, *pick = NULL;
    fw_store_close(s);
    if (!jobs) {
        cli_error("%s", err.message);
        return EXIT_RUNTIME;
    }
    size_t i;
    json_array_foreach(jobs, i, j) if (json_integer_value(json_object_get(j, "id")) == id) pick = j;
    if (n == 2 && !pick) {
        cli_error("jobs: no job %lld in the store", id);
        json_decref(jobs);
        return EXIT_USAGE;
    }
    if (json)
        cli_print_json(pick ? pick : jobs);
    else
        json_array_foreach(jobs, i, j) if (!pick || j == pick)
            printf("%6" JSON_INTEGER_FORMAT "  %-7s %3" JSON_INTEGER_FORMAT
                   " keyframes %3" JSON_INTEGER_FORMAT " observations  %s%s%s\n",
                   json_integer_value(json_object_get(j, "id")),
                   json_string_value(json_object_get(j, "state")),
                   json_integer_value(json_object_get(j, "keyframes")),
                   json_integer_value(json_object_get(j, "observations")),
                   json_string_value(json_object_get(j, "input")),
                   json_is_string(json_object_get(j, "error")) ? "  error: " : "",
                   json_is_string(json_object_get(j, "error"))
                       ? json_string_value(json_object_get(j, "error"))
                       : "");
    json_decref(jobs);
    return EXIT_OK;
}
