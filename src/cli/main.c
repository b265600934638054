#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char about[] =
    "framewise finds the frames of a video that carry new information and what\n"
    "they show.";

static const cli_entry commands[] = {
    {"keyframes", "keep the frames that matter; write them as JPEG and list them", cmd_keyframes,
     &cli_keyframes_command},
    {"scenes", "list the shots (cuts) of a video", cmd_scenes, &cli_scenes_command},
    {"analyze",
     "keyframes, then what each shows: on-screen text (OCR, no server needed)\n"
     "and/or a vision-language model's description, then the story",
     cmd_analyze, &cli_analyze_command},
    {"jobs", "list the analyses in the store (jobs show ID)", cmd_jobs, NULL},
    {"cache", "the store's size and hits; clear or vacuum it", cmd_cache, NULL},
    {"serve", "an HTTP service: a job queue, WebSocket progress and a web page", cmd_serve, NULL},
    {"worker", "runs the jobs of a shared (Redis) queue on this machine, without HTTP", cmd_worker,
     NULL},
    {NULL, NULL, NULL, NULL}};

static void usage(FILE *to)
{
    fprintf(to, "usage: framewise COMMAND [options] VIDEO\n\n%s\n\ncommands:\n", about);
    for (const cli_entry *e = commands; e->name; e++) {
        fprintf(to, "  %-10s  ", e->name);
        for (const char *c = e->about; *c; c++)
            if (*c == '\n')
                fputs("\n              ", to); /* under the first line's text */
            else
                fputc(*c, to);
        fputc('\n', to);
    }
    fprintf(to, "\n"
                "VIDEO is a file, '-' for standard input, or any URL FFmpeg opens.\n"
                "'framewise COMMAND --help' shows a command's options.\n"
                "\n"
                "exit status: 0 success, 1 runtime failure, 2 bad usage or unreadable input\n");
}

/* 0 when analyze will surely not run Tesseract: a server is given (--url or
 * FRAMEWISE_VLM_URL) and --backend does not name local. Then the re-execution below (about
 * 80 ms of start-up) is not needed. */
static int may_run_ocr(int argc, char **argv)
{
    int url = getenv("FRAMEWISE_VLM_URL") && *getenv("FRAMEWISE_VLM_URL");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "--url") == 0 || strncmp(a, "--url=", 6) == 0)
            url = 1;
        if ((strcmp(a, "--backend") == 0 && strstr(v, "local")) ||
            (strncmp(a, "--backend=", 10) == 0 && strstr(a, "local")))
            return 1;
    }
    return !url;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("framewise %s\n", FW_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--man") == 0) { /* hidden: the manual page, made at build time */
        cli_man(stdout, commands, about);
        return EXIT_OK;
    }
    /* libtesseract runs its LSTM loops on OpenMP threads; with our own OCR workers that
     * oversubscribes the cores (measured: 2.6x slower on 2 cores). libgomp reads
     * OMP_THREAD_LIMIT only when it loads, so set it and run again, once. */
    /* serve's workers may run Tesseract too */
    if ((strcmp(cmd, "serve") == 0 || (strcmp(cmd, "analyze") == 0 && may_run_ocr(argc, argv))) &&
        !getenv("OMP_THREAD_LIMIT") && setenv("OMP_THREAD_LIMIT", "1", 1) == 0)
        execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
    for (const cli_entry *e = commands; e->name; e++)
        if (strcmp(cmd, e->name) == 0)
            return e->run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'framewise --help')", cmd);
    return EXIT_USAGE;
}
