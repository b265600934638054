/* Live inputs through the CLI: a UDP stream gives its records while it runs and a SIGINT
 * gives a complete report, an HLS playlist in a folder, standard input, a TCP input that
 * stalls, and fusion in windows giving the story of the whole video at once.
 *
 * Every process a test starts runs in a process group of its own, is waited for with a
 * deadline, and is stopped by its id (kill + waitpid) when the test ends, failed or not.
 * Nothing sleeps in place of a condition: each wait polls for what it waits for. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwtest.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void pause_a_little(void)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static const char *bin(void)
{
    const char *b = getenv("FRAMEWISE_BIN");
    assert_non_null(b);
    return b;
}

/* malloc'd contents of path, or NULL when it cannot be read (yet). */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fclose(f);
    return fwt_slurp(path);
}

/* ---- a TCP server that accepts and sends nothing ------------------------------------- */

typedef struct listener {
    int fd, port, wake[2], conns[16], n, running;
    pthread_t thread;
} listener;

static listener quiet;

static void *keep_quiet(void *user)
{
    listener *l = user;
    for (;;) {
        struct pollfd p[2] = {{.fd = l->fd, .events = POLLIN},
                              {.fd = l->wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int c = accept(l->fd, NULL, NULL);
            if (c >= 0 && l->n < 16)
                l->conns[l->n++] = c; /* held open, never written to, until the test ends */
            else if (c >= 0)
                close(c);
        }
    }
    return NULL;
}

/* Listens on a free loopback port (bound to port 0, read back). */
static void quiet_start(listener *l)
{
    memset(l, 0, sizeof *l);
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(l->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l->fd, 8), 0);
    assert_int_equal(getsockname(l->fd, (struct sockaddr *)&a, &len), 0);
    l->port = ntohs(a.sin_port);
    assert_int_equal(pipe(l->wake), 0);
    assert_int_equal(pthread_create(&l->thread, NULL, keep_quiet, l), 0);
    l->running = 1;
}

static void quiet_stop(listener *l)
{
    if (!l->running)
        return;
    l->running = 0;
    if (write(l->wake[1], "x", 1) != 1)
        fprintf(stderr, "cannot wake the listener\n");
    pthread_join(l->thread, NULL);
    for (int i = 0; i < l->n; i++)
        close(l->conns[i]);
    close(l->fd);
    close(l->wake[0]);
    close(l->wake[1]);
}

static int teardown(void **state)
{
    quiet_stop(&quiet);
    return fwt_teardown(state); /* the children started are stopped there */
}

/* ---- UDP ------------------------------------------------------------------------------ */

/* Whether a UDP socket of this machine is bound to port (its local address in
 * /proc/net/udp or udp6 ends in :PORT, in hex). */
static int udp_bound(int port)
{
    static const char *const files[] = {"/proc/net/udp", "/proc/net/udp6"};
    char want[16];
    snprintf(want, sizeof want, ":%04X", port);
    for (int f = 0; f < 2; f++) {
        FILE *in = fopen(files[f], "r");
        if (!in)
            continue;
        char line[512], local[128];
        int found = 0;
        while (!found && fgets(line, sizeof line, in))
            if (sscanf(line, "%*s %127s", local) == 1) {
                size_t n = strlen(local), w = strlen(want);
                found = n > w && strcmp(local + n - w, want) == 0;
            }
        fclose(in);
        if (found)
            return 1;
    }
    return 0;
}

/* ---- reports -------------------------------------------------------------------------- */

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* Whether path is a report.json with "partial": true (written while the run goes on). */
static int is_partial_report(const char *path)
{
    json_t *j = json_load_file(path, 0, NULL);
    int partial = j && json_is_true(json_object_get(j, "partial"));
    json_decref(j);
    return partial;
}

/* Asserts rec has a "wall" time, ISO 8601 in UTC ("2026-12-02T15:04:05.123Z"), between lo
 * and hi (seconds since the epoch); returns it in seconds. */
static double check_wall(json_t *rec, const char *what, time_t lo, time_t hi)
{
    static regex_t re;
    static int compiled;
    if (!compiled) {
        assert_int_equal(regcomp(&re,
                                 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                 "(\\.[0-9]{1,9})?Z$",
                                 REG_EXTENDED | REG_NOSUB),
                         0);
        compiled = 1;
    }
    const char *wall = json_string_value(json_object_get(rec, "wall"));
    if (!wall)
        fail_msg("%s without a \"wall\" string: %s", what, json_dumps(rec, JSON_COMPACT));
    if (regexec(&re, wall, 0, NULL, 0) != 0)
        fail_msg("%s: \"wall\" is not an ISO 8601 UTC time: %s", what, wall);
    struct tm tm = {0};
    double frac = 0;
    int n = sscanf(wall, "%d-%d-%dT%d:%d:%d%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &tm.tm_sec, &frac);
    assert_true(n >= 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t < lo || t > hi)
        fail_msg("%s: \"wall\" %s is not the time of this run", what, wall);
    return (double)t + (n == 7 ? frac : 0);
}

/* The index of the first line of jsonl whose record has this type (-1: none), the number of
 * lines in *lines; every line must be a JSON object. */
static int first_of_type(const char *jsonl, const char *type, int *lines)
{
    char *copy = strdup(jsonl), *save = NULL;
    int line = 0, at = -1;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
        json_t *rec = json_loads(l, 0, NULL);
        if (!json_is_object(rec))
            fail_msg("report.jsonl line %d is not a JSON object: %.200s", line + 1, l);
        if (at < 0 && !strcmp(str(rec, "type"), type))
            at = line;
        json_decref(rec);
    }
    free(copy);
    if (lines)
        *lines = line;
    return at;
}

/* ---- 1. UDP --------------------------------------------------------------------------- */

static void udp_stream_gives_records_while_it_runs_and_sigint_a_complete_report(void **state)
{
    (void)state;
    time_t started = time(NULL);
    int port = fwt_free_udp_port();
    char cmd[4096];
    /* framewise first: it listens on the port */
    snprintf(cmd, sizeof cmd,
             "exec '%s' analyze udp://127.0.0.1:%d -o '%s' %s --flush 1 --clock wall -q", bin(),
             port, fwt_path("out"), "--no-cache");
    int fw = fwt_start(cmd, fwt_path("fw.out"), fwt_path("fw.err"));
    int status = 0;
    double deadline = now_s() + 10;
    while (!udp_bound(port)) {
        if (fwt_ended(fw, &status)) {
            char *err = read_text(fwt_path("fw.err"));
            fail_msg("framewise ended (exit %d) before it listened: %s", fwt_exit_code(status),
                     err ? err : "");
        }
        if (now_s() > deadline)
            fail_msg("framewise does not listen on UDP port %d after 10 s", port);
        pause_a_little();
    }
    /* then the stream: 30 s at its own pace, the text changing every 2 s, an IDR a second */
    snprintf(cmd, sizeof cmd,
             "exec ffmpeg -nostdin -v error -re -f lavfi -i color=c=white:s=320x180:r=10 -vf "
             "\"drawtext=fontfile=%s:text='Screen %%{eif\\:floor(t/2)+1\\:d}':x=20:y=60:"
             "fontsize=40:fontcolor=black\" -t 30 -c:v libx264 -preset ultrafast -tune "
             "zerolatency -g 10 -pix_fmt yuv420p -f mpegts 'udp://127.0.0.1:%d?pkt_size=1316'",
             FWT_FONT, port);
    int ff = fwt_start(cmd, fwt_path("ff.out"), fwt_path("ff.err"));

    /* records while it runs: an observation in report.jsonl, and a flushed report.json */
    deadline = now_s() + 20;
    for (;;) {
        char *jl = read_text(fwt_path("out/report.jsonl"));
        int observed = jl && strstr(jl, "\"type\":\"observation\"");
        free(jl);
        if (observed && is_partial_report(fwt_path("out/report.json")))
            break;
        if (fwt_ended(fw, &status)) {
            char *err = read_text(fwt_path("fw.err"));
            fail_msg("framewise ended (exit %d) while the stream ran: %s", fwt_exit_code(status),
                     err ? err : "");
        }
        if (now_s() > deadline)
            fail_msg("after 20 s of stream: %s", observed ? "no report.json with \"partial\": "
                                                            "true (no flush while running)"
                                                          : "no observation in report.jsonl");
        pause_a_little();
    }
    assert_false(fwt_ended(ff, NULL)); /* the stream still runs: this was live */

    /* SIGINT: the story is finished and written, exit 0 */
    assert_int_equal(kill(fw, SIGINT), 0);
    if (!fwt_wait_exit(fw, 10, &status))
        fail_msg("framewise still runs 10 s after SIGINT");
    fwt_stop(ff);
    char *err = read_text(fwt_path("fw.err"));
    if (fwt_exit_code(status) != 0)
        fail_msg("exit %d after SIGINT (0 expected): %s", fwt_exit_code(status), err ? err : "");
    free(err);
    time_t finished = time(NULL);

    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    assert_null(json_object_get(rep, "partial"));
    assert_null(json_object_get(rep, "interrupted"));
    json_t *live = json_object_get(rep, "live");
    assert_true(json_is_object(live));
    assert_string_equal(str(live, "ended"), "signal");
    assert_true(json_is_integer(json_object_get(live, "flushes")));
    assert_true(json_integer_value(json_object_get(live, "flushes")) >= 1);
    assert_int_equal(json_integer_value(json_object_get(live, "reconnects")), 0);
    assert_true(json_is_array(json_object_get(live, "gaps")));

    /* every record has its wall-clock time, of this run; keyframes in order */
    json_t *kfs = json_object_get(rep, "keyframes"), *obs = json_object_get(rep, "observations");
    assert_true(json_array_size(kfs) >= 1);
    assert_true(json_array_size(obs) >= 1);
    time_t lo = started - 5, hi = finished + 5;
    size_t i;
    json_t *x;
    double last = 0;
    json_array_foreach(kfs, i, x)
    {
        double w = check_wall(x, "keyframe", lo, hi);
        assert_true(w >= last);
        last = w;
    }
    json_array_foreach(obs, i, x) check_wall(x, "observation", lo, hi);
    json_array_foreach(json_object_get(rep, "segments"), i, x) check_wall(x, "segment", lo, hi);
    json_array_foreach(json_object_get(rep, "events"), i, x) check_wall(x, "event", lo, hi);
    json_decref(rep);

    /* the files people read were written too */
    const char *files[] = {"out/report.md", "out/report.html", "out/captions.vtt"};
    struct stat st;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++)
        assert_int_equal(stat(fwt_path(files[f]), &st), 0);

    /* report.jsonl: the same times in its records, ending with the summary and the review */
    char *jl = fwt_slurp(fwt_path("out/report.jsonl"));
    char *save = NULL, *prev = NULL, *lastl = NULL;
    for (char *l = strtok_r(jl, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_t *rec = json_loads(l, 0, NULL);
        if (!json_is_object(rec))
            fail_msg("report.jsonl: not a JSON object: %.200s", l);
        const char *type = str(rec, "type");
        if (!strcmp(type, "keyframe") || !strcmp(type, "observation") || !strcmp(type, "segment") ||
            !strcmp(type, "event"))
            check_wall(rec, type, lo, hi);
        json_decref(rec);
        prev = lastl;
        lastl = l;
    }
    assert_non_null(prev);
    json_t *a = json_loads(prev, 0, NULL), *b = json_loads(lastl, 0, NULL);
    assert_string_equal(str(a, "type"), "summary");
    assert_string_equal(str(b, "type"), "review");
    json_decref(a);
    json_decref(b);
    free(jl);
}

/* ---- 2. HLS --------------------------------------------------------------------------- */

static void hls_playlist_in_a_local_folder(void **state)
{
    (void)state;
    /* a finished playlist of 1 s segments: 2 s of a sign-in form, a cut, 2 s of a dashboard */
    assert_int_equal(mkdir(fwt_path("hls"), 0700), 0);
    char args[2048];
    snprintf(args, sizeof args,
             "-f lavfi -i color=c=white:s=320x180:r=10:d=2 -f lavfi -i "
             "color=c=0x203060:s=320x180:r=10:d=2 -filter_complex \""
             "[0]drawtext=fontfile=%s:text='Sign in':x=20:y=60:fontsize=36:fontcolor=black[a];"
             "[1]drawtext=fontfile=%s:text='Dashboard':x=20:y=60:fontsize=36:fontcolor=white[b];"
             "[a][b]concat=n=2:v=1[v]\" -map '[v]' -c:v libx264 -preset ultrafast -pix_fmt "
             "yuv420p -g 10 -f hls -hls_time 1 -hls_list_size 0",
             FWT_FONT, FWT_FONT);
    const char *playlist = fwt_video("hls/live.m3u8", args);
    char *m3u8 = fwt_slurp(playlist);
    assert_non_null(strstr(m3u8, "#EXT-X-ENDLIST"));
    free(m3u8);

    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec '%s' analyze '%s' -o '%s' %s -q", bin(), playlist,
             fwt_path("out"), "--no-cache");
    int fw = fwt_start(cmd, fwt_path("fw.out"), fwt_path("fw.err"));
    int status;
    if (!fwt_wait_exit(fw, 60, &status))
        fail_msg("framewise still runs 60 s after it was given a finished 4 s playlist");
    char *err = read_text(fwt_path("fw.err"));
    if (fwt_exit_code(status) != 0)
        fail_msg("exit %d: %s", fwt_exit_code(status), err ? err : "");
    free(err);

    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    int before = 0, after = 0;
    size_t i;
    json_t *k;
    json_array_foreach(fwt_kf_list(rep), i, k)
    {
        before += num(k, "time") < 2.0;
        after += num(k, "time") >= 2.0;
    }
    if (!before || !after)
        fail_msg("keyframes do not cover both halves: %s",
                 json_dumps(fwt_kf_list(rep), JSON_COMPACT));
    assert_null(json_object_get(rep, "partial"));
    json_decref(rep);
}

/* ---- 3. standard input ---------------------------------------------------------------- */

static void stdin_pipe_is_analysed_live(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -f lavfi -i color=c=white:s=320x180:r=10:d=2 -f lavfi "
             "-i color=c=0x203060:s=320x180:r=10:d=2 -filter_complex \""
             "[0]drawtext=fontfile=%s:text='Sign in':x=20:y=60:fontsize=36:fontcolor=black[a];"
             "[1]drawtext=fontfile=%s:text='Dashboard':x=20:y=60:fontsize=36:fontcolor=white[b];"
             "[a][b]concat=n=2:v=1[v]\" -map '[v]' -c:v libx264 -preset ultrafast -pix_fmt "
             "yuv420p -f mpegts - | '%s' analyze - -o '%s' %s -q",
             FWT_FONT, FWT_FONT, bin(), fwt_path("out"), "--no-cache");
    int sh = fwt_start(cmd, fwt_path("fw.out"), fwt_path("fw.err"));
    int status;
    if (!fwt_wait_exit(sh, 60, &status))
        fail_msg("ffmpeg | framewise analyze - still runs after 60 s");
    char *err = read_text(fwt_path("fw.err"));
    if (fwt_exit_code(status) != 0)
        fail_msg("exit %d: %s", fwt_exit_code(status), err ? err : "");
    free(err);

    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    json_t *live = json_object_get(rep, "live");
    if (!json_is_object(live))
        fail_msg("standard input was not analysed live: report.json has no \"live\" object");
    assert_string_equal(str(live, "ended"), "end");
    assert_null(json_object_get(rep, "partial"));
    assert_null(json_object_get(rep, "interrupted"));
    assert_true(json_array_size(json_object_get(rep, "segments")) >= 1);
    json_decref(rep);

    char *jl = fwt_slurp(fwt_path("out/report.jsonl"));
    int segment = first_of_type(jl, "segment", NULL);
    int summary = first_of_type(jl, "summary", NULL);
    free(jl);
    assert_true(segment >= 0);
    assert_true(summary >= 0);
    assert_true(segment < summary);
}

/* ---- 4. a stalled TCP input ----------------------------------------------------------- */

static void a_stalled_tcp_input_ends_with_the_read_timeout(void **state)
{
    (void)state;
    quiet_start(&quiet);
    char url[64], cmd[2048];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", quiet.port);
    snprintf(cmd, sizeof cmd, "exec '%s' analyze %s --read-timeout 2 -o '%s' %s", bin(), url,
             fwt_path("out"), "--no-cache");
    double t0 = now_s();
    int fw = fwt_start(cmd, fwt_path("fw.out"), fwt_path("fw.err"));
    int status;
    if (!fwt_wait_exit(fw, 10, &status))
        fail_msg("framewise still runs 10 s after it connected to a server that sends nothing");
    double took = now_s() - t0;
    quiet_stop(&quiet);
    char *err = fwt_slurp(fwt_path("fw.err"));
    if (fwt_exit_code(status) != 2 || fwt_lines(err) != 1 || !strstr(err, "no data within 2 s") ||
        !strstr(err, url))
        fail_msg("exit %d after %.1f s (2 expected, one line with \"no data within 2 s\" and "
                 "%s): %s",
                 fwt_exit_code(status), took, url, err);
    assert_null(strstr(err, "@ 0x")); /* no FFmpeg log line with its context pointer */
    assert_true(took >= 1.5);         /* it did wait for the read-timeout */
    free(err);
}

/* ---- a stream that drops ---------------------------------------------------------------- */

/* ffmpeg sending seconds of 'text' to the UDP port at its own pace (-re). */
static int push_udp(int port, const char *text, int seconds, const char *log)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "exec ffmpeg -nostdin -v error -re -f lavfi -i color=c=white:s=320x180:r=10 -vf "
             "\"drawtext=fontfile=%s:text='%s':x=20:y=60:fontsize=40:fontcolor=black\" -t %d "
             "-c:v libx264 -preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f mpegts "
             "'udp://127.0.0.1:%d?pkt_size=1316'",
             FWT_FONT, text, seconds, port);
    return fwt_start(cmd, fwt_path(log), fwt_path(log));
}

/* Whether report.jsonl has an observation whose text holds needle. */
static int observed(const char *jsonl_path, const char *needle)
{
    char *jl = read_text(jsonl_path), *save = NULL;
    int found = 0;
    for (char *l = jl ? strtok_r(jl, "\n", &save) : NULL; l && !found;
         l = strtok_r(NULL, "\n", &save))
        found = strstr(l, "\"type\":\"observation\"") && strstr(l, needle);
    free(jl);
    return found;
}

/* The stream stops for longer than the read timeout, then comes back: with --reconnect the
 * input is opened again, the time away is a gap in the timeline, and what came after it is
 * analysed. */
static void a_dropped_stream_is_opened_again_and_the_gap_marked(void **state)
{
    (void)state;
    int port = fwt_free_udp_port(), status = 0;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "exec '%s' analyze udp://127.0.0.1:%d -o '%s' --no-cache --reconnect "
             "--read-timeout 1 --max-retry-wait 1",
             bin(), port, fwt_path("out"));
    int fw = fwt_start(cmd, fwt_path("fw.out"), fwt_path("fw.err"));
    double deadline = now_s() + 10;
    while (!udp_bound(port)) {
        if (fwt_ended(fw, &status) || now_s() > deadline)
            fail_msg("framewise does not listen on UDP port %d", port);
        pause_a_little();
    }
    int a = push_udp(port, "Part A", 3, "a.log");
    if (!fwt_wait_exit(a, 20, &status) || fwt_exit_code(status) != 0)
        fail_msg("the first part of the stream did not go out");
    /* the silence must outlast the read timeout (1 s): it is what is under test */
    for (double quiet_until = now_s() + 2.5; now_s() < quiet_until;)
        pause_a_little();
    assert_false(fwt_ended(fw, &status)); /* the drop did not end it */
    int b = push_udp(port, "Part B", 10, "b.log");
    deadline = now_s() + 25;
    while (!observed(fwt_path("out/report.jsonl"), "Part B")) {
        if (fwt_ended(fw, &status) || now_s() > deadline) {
            char *err = read_text(fwt_path("fw.err"));
            fail_msg("nothing of the stream after the drop was observed: %s", err ? err : "");
        }
        pause_a_little();
    }
    assert_int_equal(kill(fw, SIGINT), 0);
    if (!fwt_wait_exit(fw, 10, &status))
        fail_msg("framewise still runs 10 s after SIGINT");
    fwt_stop(b);
    char *err = read_text(fwt_path("fw.err"));
    if (fwt_exit_code(status) != 0)
        fail_msg("exit %d: %s", fwt_exit_code(status), err ? err : "");
    if (!strstr(err, "dropped at") || !strstr(err, "opened again"))
        fail_msg("no warning of the drop: %s", err);
    free(err);
    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    json_t *live = json_object_get(rep, "live"),
           *gap = json_array_get(json_object_get(live, "gaps"), 0);
    assert_true(json_integer_value(json_object_get(live, "reconnects")) >= 1);
    if (!gap || num(gap, "end") - num(gap, "start") < 2)
        fail_msg("no gap of the 2.5 s away: %s", json_dumps(live, JSON_COMPACT));
    int before = 0, after = 0;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(rep, "observations"), i, o)
    {
        before += num(o, "time") < num(gap, "start") && strstr(str(o, "text"), "Part A");
        after += num(o, "time") >= num(gap, "end") && strstr(str(o, "text"), "Part B");
    }
    if (!before || !after)
        fail_msg("the parts are not on both sides of the gap: %s",
                 json_dumps(json_object_get(rep, "observations"), JSON_COMPACT));
    json_decref(rep);
}

/* ---- an HLS playlist as it is written --------------------------------------------------- */

/* A playlist that ffmpeg writes at the stream's pace is read as it grows: observations
 * while it is written, and the end when the playlist ends. */
static void hls_playlist_being_written_is_read_as_it_grows(void **state)
{
    (void)state;
    assert_int_equal(mkdir(fwt_path("hls"), 0700), 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "exec ffmpeg -nostdin -v error -re -f lavfi -i color=c=white:s=320x180:r=10 -vf "
             "\"drawtext=fontfile=%s:text='Page %%{eif\\:floor(t/3)+1\\:d}':x=20:y=60:"
             "fontsize=40:fontcolor=black\" -t 12 -c:v libx264 -preset ultrafast -g 10 "
             "-pix_fmt yuv420p -f hls -hls_time 1 -hls_list_size 0 '%s'",
             FWT_FONT, fwt_path("hls/live.m3u8"));
    int ff = fwt_start(cmd, fwt_path("ff.log"), fwt_path("ff.log")), status = 0;
    double deadline = now_s() + 20;
    for (;;) { /* the first segment is listed */
        char *m3u8 = read_text(fwt_path("hls/live.m3u8"));
        int listed = m3u8 && strstr(m3u8, "#EXTINF");
        free(m3u8);
        if (listed)
            break;
        if (fwt_ended(ff, &status) || now_s() > deadline)
            fail_msg("ffmpeg wrote no playlist");
        pause_a_little();
    }
    snprintf(cmd, sizeof cmd, "exec '%s' analyze '%s' -o '%s' --no-cache -q", bin(),
             fwt_path("hls/live.m3u8"), fwt_path("out"));
    int fw = fwt_start(cmd, fwt_path("fw.out"), fwt_path("fw.err"));
    deadline = now_s() + 20;
    while (!observed(fwt_path("out/report.jsonl"), "Page")) {
        if (fwt_ended(fw, &status) || now_s() > deadline)
            fail_msg("no observation while the playlist was written");
        pause_a_little();
    }
    assert_false(fwt_ended(ff, NULL)); /* still being written: read as it grows */
    if (!fwt_wait_exit(fw, 40, &status))
        fail_msg("framewise still runs after the playlist ended");
    char *err = read_text(fwt_path("fw.err"));
    if (fwt_exit_code(status) != 0)
        fail_msg("exit %d: %s", fwt_exit_code(status), err ? err : "");
    free(err);
    json_t *rep = fwt_json_file(fwt_path("out/report.json"));
    assert_string_equal(str(json_object_get(rep, "live"), "ended"), "end");
    assert_true(observed(fwt_path("out/report.jsonl"), "Page 4")); /* the last page, 9-12 s */
    json_decref(rep);
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            udp_stream_gives_records_while_it_runs_and_sigint_a_complete_report, teardown),
        cmocka_unit_test_teardown(hls_playlist_in_a_local_folder, teardown),
        cmocka_unit_test_teardown(stdin_pipe_is_analysed_live, teardown),
        cmocka_unit_test_teardown(a_stalled_tcp_input_ends_with_the_read_timeout, teardown),
        cmocka_unit_test_teardown(a_dropped_stream_is_opened_again_and_the_gap_marked, teardown),
        cmocka_unit_test_teardown(hls_playlist_being_written_is_read_as_it_grows, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
