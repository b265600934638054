/* framewise serve: the command line of the service (src/serve/). Its own options, then
 * every analysis setting as the jobs' defaults (--url, --backend, --max-pixels, ...). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/settings.h"
#include "serve/serve.h"

#define MAX_SETTINGS 96

static void usage_worker(FILE *to)
{
    fprintf(to,
            "usage: framewise worker --queue redis://HOST:PORT/NAME [--workers N] [--store PATH]\n"
            "                        [--data DIR] [--claim-after S] [--max-deliveries N]\n"
            "                        [--allow-root DIR]... [--allow-url-host HOST]...\n"
            "                        [--allow-private-urls] [--token T] [SETTINGS]\n"
            "\n"
            "Runs the jobs of a queue that 'framewise serve --queue' nodes fill, on this\n"
            "machine, without HTTP: N at once (default 2). Progress and results go to the\n"
            "queue, where every node serves them; --store is this machine's cache. A job\n"
            "whose worker dies is taken over after --claim-after S (default 30) and goes on\n"
            "from what it had answered; one whose worker was lost --max-deliveries N times\n"
            "(default 3) is failed. Paths must be under a root every machine mounts\n"
            "(--allow-root), URLs allowed (--allow-url-host); uploads are fetched from the\n"
            "node that took them. --token signs the callbacks as 'serve' does. SETTINGS: as\n"
            "'framewise serve' (the jobs' defaults). Stops on SIGINT or SIGTERM: its running\n"
            "jobs go back to the queue. docs/scale.md.\n");
}

static void usage(FILE *to)
{
    fprintf(
        to,
        "usage: framewise serve [--listen HOST:PORT] [--token T] [--workers N]\n"
        "                       [--queue-size N] [--max-upload BYTES] [--allow-root DIR]...\n"
        "                       [--allow-url-host HOST]... [--allow-private-urls]\n"
        "                       [--store PATH] [--data DIR] [-v] [SETTINGS]\n"
        "\n"
        "An HTTP service: POST /v1/jobs takes a video (an upload, a path or a URL) and\n"
        "answers 202 at once; workers analyse the queued jobs (as 'framewise analyze');\n"
        "GET /v1/jobs/ID says how far one is; WebSocket /v1/jobs/ID/events streams its\n"
        "events; the page at / does all of it in a browser. The API: docs/api.md.\n"
        "\n"
        "options:\n"
        "  --listen HOST:PORT     where to listen (default 127.0.0.1:8080; port 0: any free;\n"
        "                         a comma list for several)\n"
        "  --token T              the bearer token every /v1 call needs (env FRAMEWISE_TOKEN);\n"
        "                         without one the server listens on loopback only\n"
        "  --workers N            analyses at once (default 2; 0 with --queue: this node only\n"
        "                         takes requests, workers elsewhere run them)\n"
        "  --queue-size N         queued jobs at most; more are refused with 429 (default %d)\n"
        "  --max-upload BYTES     largest upload or URL input, K/M/G suffixes (default 2G)\n"
        "  --allow-root DIR       path inputs only inside DIR (repeatable; none: no paths)\n"
        "  --allow-url-host HOST  URL inputs and callbacks only to HOST, '*.example.com' for\n"
        "                         its subdomains (repeatable; none: no URLs)\n"
        "  --allow-private-urls   let those resolve to loopback, private or link-local\n"
        "                         addresses (refused by default: no SSRF)\n"
        "  --store PATH           the store and its job queue (default: analyze's)\n"
        "  --data DIR             uploads and outputs (default $XDG_DATA_HOME/framewise/serve)\n"
        "  -v, --verbose          a line per request on stderr\n"
        "several machines (docs/scale.md):\n"
        "  --queue redis://HOST:PORT/NAME  the jobs in a Redis queue that other 'serve' nodes\n"
        "                         and 'framewise worker' processes share (default: the store's)\n"
        "  --claim-after S        a worker not heard of for S seconds loses its job to another\n"
        "                         (default 30)\n"
        "  --max-deliveries N     a job whose worker was lost N times is failed (default 3)\n"
        "  --advertise URL        how the workers of other machines reach this node for its\n"
        "                         uploads (default http://127.0.0.1:PORT)\n"
        "SETTINGS: any setting of 'framewise analyze --help' (--url, repeatable for several\n"
        "model servers, --backend, --max-pixels, ...) as the jobs' defaults. A job's options\n"
        "may change only those a client may (docs/api.md); servers, files and threads stay\n"
        "the operator's.\n",
        FW_SERVE_DEFAULT_QUEUE);
}

enum {
    O_LISTEN = 1000,
    O_TOKEN,
    O_WORKERS,
    O_QUEUE,
    O_UPLOAD,
    O_ROOT,
    O_HOST,
    O_PRIVATE,
    O_STORE,
    O_DATA,
    O_RQUEUE,
    O_CLAIM,
    O_DELIVER,
    O_ADVERTISE,
    O_HELP,
    O_SETTING = 2000
};

static int parse_size(const char *s, int64_t *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    double mul = 1;
    if (end && *end && !end[1])
        mul = *end == 'K' || *end == 'k'   ? 1024.0
              : *end == 'M' || *end == 'm' ? 1048576.0
              : *end == 'G' || *end == 'g' ? 1073741824.0
                                           : 0;
    else if (end && *end)
        mul = 0;
    if (end == s || mul == 0 || v <= 0)
        return -1;
    *out = (int64_t)(v * mul);
    return 0;
}

static int own_option(fw_serve_config *c, int opt, const char *arg)
{
    switch (opt) {
    case O_LISTEN: c->listen = arg; return 0;
    case O_TOKEN: c->token = arg; return 0;
    case O_WORKERS:
        c->workers = atoi(arg);
        return c->workers < 0 || c->workers > FW_SERVE_MAX_WORKERS;
    case O_QUEUE: c->queue_size = atoi(arg); return c->queue_size < 1;
    case O_UPLOAD: return parse_size(arg, &c->max_upload);
    case O_ROOT:
        if (c->n_roots == FW_SERVE_MAX_LIST)
            return 1;
        c->roots[c->n_roots++] = arg;
        return 0;
    case O_HOST:
        if (c->n_hosts == FW_SERVE_MAX_LIST)
            return 1;
        c->hosts[c->n_hosts++] = arg;
        return 0;
    case O_PRIVATE: c->allow_private = 1; return 0;
    case O_STORE: c->store = arg; return 0;
    case O_DATA: c->data = arg; return 0;
    case O_RQUEUE: c->queue = arg; return strncmp(arg, "redis://", 8) != 0;
    case O_CLAIM: c->claim_after = atof(arg); return !(c->claim_after > 0);
    case O_DELIVER: c->max_deliveries = atoi(arg); return c->max_deliveries < 1;
    case O_ADVERTISE:
        c->advertise = arg;
        return strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0;
    default: return 1;
    }
}

static const struct option own[] = {
    {"listen", required_argument, 0, O_LISTEN},
    {"token", required_argument, 0, O_TOKEN},
    {"workers", required_argument, 0, O_WORKERS},
    {"queue-size", required_argument, 0, O_QUEUE},
    {"max-upload", required_argument, 0, O_UPLOAD},
    {"allow-root", required_argument, 0, O_ROOT},
    {"allow-url-host", required_argument, 0, O_HOST},
    {"allow-private-urls", no_argument, 0, O_PRIVATE},
    {"store", required_argument, 0, O_STORE},
    {"data", required_argument, 0, O_DATA},
    {"queue", required_argument, 0, O_RQUEUE},
    {"claim-after", required_argument, 0, O_CLAIM},
    {"max-deliveries", required_argument, 0, O_DELIVER},
    {"advertise", required_argument, 0, O_ADVERTISE},
    {"verbose", no_argument, 0, 'v'},
    {"help", no_argument, 0, O_HELP},
};
#define N_OWN (int)(sizeof own / sizeof own[0])

/* The value of setting name given as v: v, or for a list setting given before (--url A
 * --url B) the list so far, a comma and v (in static storage); NULL (said) when too long. */
static const char *repeated(const fw_serve_config *c, const char *const *chosen, int n_chosen,
                            const char *name, const char *v)
{
    static char lists[8192];
    static size_t used;
    const fw_setting *s = fw_setting_find(name);
    int again = 0;
    for (int i = 0; i < n_chosen; i++)
        again |= strcmp(chosen[i], name) == 0;
    if (!again || !(s->flags & FW_SETTING_LIST))
        return v;
    const char *had = *(const char *const *)((const char *)&c->defaults + s->offset);
    int len = snprintf(lists + used, sizeof lists - used, "%s,%s", had ? had : "", v);
    if (len < 0 || (size_t)len >= sizeof lists - used) {
        cli_error("--%s: the values given are longer than %zu bytes together", name, sizeof lists);
        return NULL;
    }
    const char *joined = lists + used;
    used += (size_t)len + 1;
    return joined;
}

static int run(int argc, char **argv, int worker);

int cmd_serve(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int cmd_worker(int argc, char **argv)
{
    return run(argc, argv, 1);
}

/* serve, or (worker) the workers alone. */
static int run(int argc, char **argv, int worker)
{
    const char *cmd = worker ? "worker" : "serve";
    static char data[4096];
    static const char *chosen[MAX_SETTINGS + 1];
    struct option opts[N_OWN + MAX_SETTINGS + 1];
    int n = 0, n_chosen = 0;
    for (; n < N_OWN; n++)
        opts[n] = own[n];
    for (int i = 0; fw_params_name(i) && i < MAX_SETTINGS; i++, n++)
        opts[n] = (struct option){fw_params_name(i), required_argument, 0, O_SETTING + i};
    opts[n] = (struct option){0, 0, 0, 0};
    fw_serve_config c = {.listen = "127.0.0.1:8080",
                         .token = getenv("FRAMEWISE_TOKEN"),
                         .workers = 2,
                         .queue_size = FW_SERVE_DEFAULT_QUEUE,
                         .max_upload = FW_SERVE_DEFAULT_MAX_UPLOAD,
                         .defaults = fw_params_default(),
                         .chosen = chosen,
                         .worker_only = worker};
    fw_error err = {0};
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        if (opt == O_HELP) {
            (worker ? usage_worker : usage)(stdout);
            return EXIT_OK;
        }
        if (worker && (opt == O_LISTEN || opt == O_QUEUE || opt == O_UPLOAD || opt == O_ADVERTISE ||
                       opt == 'v')) {
            cli_error("worker: %s is a 'framewise serve' option (try 'framewise worker --help')",
                      argv[optind - 1]);
            return EXIT_USAGE;
        }
        if (opt == 'v')
            c.verbose = 1;
        else if (opt >= O_SETTING) {
            const char *name = fw_params_name(opt - O_SETTING);
            const char *v = repeated(&c, chosen, n_chosen, name, optarg);
            if (!v)
                return EXIT_USAGE;
            if (fw_params_set(&c.defaults, name, v, &err)) {
                cli_error("%s: --%s", cmd, err.message);
                return EXIT_USAGE;
            }
            if (v == optarg)
                chosen[n_chosen++] = name;
        } else if (opt == '?' || own_option(&c, opt, optarg)) {
            cli_error("%s: bad option '%s' (try 'framewise %s --help')", cmd, argv[optind - 1],
                      cmd);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        return EXIT_USAGE;
    }
    if (c.token && !*c.token)
        c.token = NULL;
    if (c.workers == 0 && (worker || !c.queue)) {
        cli_error("%s: --workers 0 is for a 'serve' node of a shared queue (--queue), whose "
                  "jobs other machines run",
                  cmd);
        return EXIT_USAGE;
    }
    if (worker && !c.queue) {
        cli_error("worker: --queue redis://HOST:PORT/NAME is needed (the queue the serve nodes "
                  "fill)");
        return EXIT_USAGE;
    }
    if (!worker && !c.token && !fw_serve_loopback_only(c.listen)) {
        cli_error("serve: listening on %s needs a token (--token or FRAMEWISE_TOKEN); without "
                  "one every address must be loopback (127.0.0.1:PORT, localhost:PORT, "
                  "[::1]:PORT)",
                  c.listen);
        return EXIT_USAGE;
    }
    if (!c.defaults.url && getenv("FRAMEWISE_VLM_URL") && *getenv("FRAMEWISE_VLM_URL"))
        c.defaults.url = getenv("FRAMEWISE_VLM_URL");
    if (!c.defaults.api_key)
        c.defaults.api_key =
            getenv("FRAMEWISE_API_KEY") ? getenv("FRAMEWISE_API_KEY") : getenv("OPENAI_API_KEY");
    if (fw_params_validate(&c.defaults, &err)) {
        cli_error("%s: %s", cmd, err.message);
        return EXIT_USAGE;
    }
    if (!c.data) {
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(data, sizeof data, "%s/framewise/serve", xdg);
        else
            snprintf(data, sizeof data, "%s/.local/share/framewise/serve", home ? home : ".");
        c.data = data;
    }
    if (!c.token && !worker)
        fprintf(stderr, "framewise serve: no token: every local client may call the API\n");
    int rc = fw_serve_run(&c, &err);
    if (rc)
        cli_error("%s: %s", cmd, err.message);
    return rc ? cli_exit_code(rc) : EXIT_OK;
}
