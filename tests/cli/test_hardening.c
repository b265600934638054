/* Hardening through the CLI: nothing hangs (side files, FIFOs, stalled inputs, model
 * servers that wait, drip or flood), nothing is lost (a signal writes every output, a run
 * with no answer says so), no byte from outside acts on a terminal or a page, and the
 * inputs and stores that cannot work are one clear line. */
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
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

/* Four one-second colours (a cut each second), 160x120 at 10 fps. */
static const char *colours(void)
{
    return fwt_video(
        "colours.mp4",
        "-f lavfi -i color=c=red:s=160x120:r=10:d=1 -f lavfi -i "
        "color=c=blue:s=160x120:r=10:d=1 -f lavfi -i color=c=yellow:s=160x120:r=10:d=1 "
        "-f lavfi -i color=c=white:s=160x120:r=10:d=1 -filter_complex "
        "'[0][1][2][3]concat=n=4:v=1[v]' -map '[v]' -c:v libx264 -preset ultrafast "
        "-pix_fmt yuv420p");
}

/* 1 when s holds any byte that would act on a terminal: ESC, BEL, another C0 control but
 * tab and newline, or a bidi override/isolate. */
static int has_unsafe(const char *s)
{
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if ((*u < 0x20 && *u != '\t' && *u != '\n') || *u == 0x7f)
            return 1;
        if (u[0] == 0xe2 && u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae)
            return 1;
        if (u[0] == 0xe2 && u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9)
            return 1;
    }
    return 0;
}

static void side_files_must_be_small_regular_files(void **state)
{
    (void)state;
    const char *clip = colours();
    fwt_run r;
    /* /dev/zero would be read for ever: refused before a byte is read */
    double t0 = now_s();
    fwt_fw(&r, "analyze '%s' -o '%s' --lexicon /dev/zero", clip, fwt_path("o"));
    assert_true(now_s() - t0 < 20);
    fwt_expect_usage_error(&r, "/dev/zero: cannot read the lexicon: not a regular file");
    /* a FIFO with no writer would block in open(2) */
    assert_int_equal(mkfifo(fwt_path("fifo"), 0600), 0);
    fwt_fw(&r, "analyze '%s' -o '%s' --events '%s'", clip, fwt_path("o"), fwt_path("fifo"));
    fwt_expect_usage_error(&r, "cannot read the events file: not a regular file");
    /* folders, each said as such */
    fwt_fw(&r, "analyze '%s' -o '%s' --events '%s'", clip, fwt_path("o"), fwt_tmpdir());
    fwt_expect_usage_error(&r, "cannot read the events file: is a directory");
    fwt_fw(&r, "analyze '%s' -o '%s' --lexicon '%s'", clip, fwt_path("o"), fwt_tmpdir());
    fwt_expect_usage_error(&r, "cannot read the lexicon: is a directory");
    fwt_fw(&r, "analyze '%s' -o '%s' --prompt-file '%s' --url http://127.0.0.1:9/v1", clip,
           fwt_path("o"), fwt_tmpdir());
    fwt_expect_usage_error(&r, "cannot read the prompt file: is a directory");
    /* a lexicon over its limit */
    fwt_sh(&r, "head -c 9000000 /dev/zero | tr '\\0' 'a' > '%s'", fwt_path("big.txt"));
    fwt_free(&r);
    fwt_fw(&r, "analyze '%s' -o '%s' --lexicon '%s'", clip, fwt_path("o"), fwt_path("big.txt"));
    fwt_expect_usage_error(&r, "cannot read the lexicon: larger than 8 MB");
    /* a preset whose field has the wrong type names its file once */
    fwt_sh(&r, "mkdir -p '%s' && echo '{\"events\": 3}' > '%s/x.json'", fwt_path("side"),
           fwt_path("side"));
    fwt_free(&r);
    fwt_fw(&r, "analyze '%s' -o '%s' --preset '%s/x.json'", clip, fwt_path("o"), fwt_path("side"));
    assert_non_null(strstr(r.err, "side/x.json: \"events\" must be a list of files"));
    assert_null(strstr(r.err, ".json.json"));
    fwt_expect_usage_error(&r, NULL);
    /* nothing was made by any of these runs */
    struct stat st;
    assert_int_not_equal(stat(fwt_path("o"), &st), 0);
}

static void usage_errors_name_the_option_and_create_nothing(void **state)
{
    (void)state;
    const char *clip = colours();
    fwt_run r;
    fwt_fw(&r, "analyze '%s' --url", clip);
    fwt_expect_usage_error(&r, "analyze: --url needs a value");
    fwt_fw(&r, "analyze '%s' --max-gap", clip);
    fwt_expect_usage_error(&r, "analyze: --max-gap needs a value");
    fwt_fw(&r, "analyze '%s' --no-such-thing 3", clip);
    fwt_expect_usage_error(&r, "analyze: unknown option --no-such-thing");
    fwt_fw(&r, "analyze '%s' -o ''", clip);
    fwt_expect_usage_error(&r, "-o needs a folder name");
    /* a server that cannot be reached: exit 1, and no empty folder or report.jsonl left */
    fwt_fw(&r, "analyze '%s' -o '%s' --url http://127.0.0.1:9/v1 --no-cache", clip,
           fwt_path("gone"));
    assert_int_equal(r.status, 1);
    fwt_free(&r);
    struct stat st;
    assert_int_not_equal(stat(fwt_path("gone"), &st), 0);
}

/* Runs analyze against s with opts; returns the seconds it took (r filled). */
static double timed_analyze(fwt_run *r, const fwt_vlm *s, const char *out, const char *opts)
{
    double t0 = now_s();
    fwt_fw(r, "analyze '%s' -o '%s' --url %s --no-cache --summary extractive %s", colours(), out,
           s->url, opts);
    return now_s() - t0;
}

static void servers_that_wait_drip_or_flood_end_in_bounded_time(void **state)
{
    (void)state;
    fwt_run r;
    /* a Retry-After of a day: capped, and the frame's deadline (2 x 5 s) says no */
    fwt_vlm s;
    fwt_vlm_start(&s, "--fault 429:86400");
    double t = timed_analyze(&r, &s, fwt_path("w"), "--retries 1 --timeout 5");
    fwt_vlm_stop(&s);
    assert_true(t < 15);
    assert_int_equal(r.status, 1); /* no frame got an answer */
    assert_non_null(strstr(r.err, "no frame got an answer"));
    assert_non_null(strstr(r.err, "the server asked for 86400 s"));
    assert_non_null(strstr(r.err, "deadline"));
    fwt_free(&r);
    /* a body that comes a byte a second: the stall timeout ends each attempt */
    fwt_vlm_start(&s, "--fault drip:1");
    t = timed_analyze(&r, &s, fwt_path("d"), "--retries 1 --timeout 120 --stall-timeout 2");
    fwt_vlm_stop(&s);
    assert_true(t < 40); /* 2 attempts of ~3 s per frame, 4 at a time; 240 s at the timeout */
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "stalled"));
    fwt_free(&r);
    /* 20 MB answers: refused once each, never downloaded again */
    fwt_vlm_start(&s, "--fault huge:20");
    timed_analyze(&r, &s, fwt_path("h"), "--retries 3 --concurrency 1");
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "answer larger than 16 MB (not retried)"));
    json_t *rep = fwt_json_file(fwt_path("h/report.json"));
    size_t frames = json_array_size(json_object_get(rep, "observations"));
    assert_true(frames >= 2);
    assert_int_equal(json_integer_value(json_object_get(st, "chat_requests")), (json_int_t)frames);
    json_decref(rep);
    json_decref(st);
    fwt_free(&r);
}

static void answers_without_content_fail_and_partial_failure_warns(void **state)
{
    (void)state;
    fwt_run r;
    fwt_vlm s;
    fwt_vlm_start(&s, "--fault null");
    timed_analyze(&r, &s, fwt_path("n"), "--retries 0");
    fwt_vlm_stop(&s);
    assert_int_equal(r.status, 1);
    assert_int_equal(fwt_lines(r.err), 1);
    assert_non_null(strstr(r.err, "message.content is null"));
    fwt_free(&r);
    /* every output is still written, each frame with its error */
    json_t *rep = fwt_json_file(fwt_path("n/report.json"));
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(rep, "observations"), i, o)
        assert_non_null(json_string_value(json_object_get(o, "error")));
    json_decref(rep);
    struct stat st;
    assert_int_equal(stat(fwt_path("n/report.html"), &st), 0);
    /* one frame of several without an answer: exit 0, a warning with the count */
    fwt_vlm_start(&s, "--fault nochoices@first=1");
    timed_analyze(&r, &s, fwt_path("p"), "--retries 0 --concurrency 1");
    fwt_vlm_stop(&s);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "warning: 1 of "));
    assert_non_null(strstr(r.err, "frames got no answer"));
    fwt_free(&r);
}

static void control_and_bidi_characters_never_reach_a_terminal_or_a_page(void **state)
{
    (void)state;
    fwt_run r;
    fwt_vlm s;
    /* dash's printf: octal escapes (ESC, BEL, RLO, PDF, LRI, PDI, BS, CR) */
    fwt_vlm_start(&s, "--inject-text \"$(printf 'EVIL \\033[31mRED\\033]0;title\\007 "
                      "\\342\\200\\256abc\\342\\200\\254 \\342\\201\\246x\\342\\201\\251 "
                      "\\010\\015 end')\"");
    timed_analyze(&r, &s, fwt_path("i"), "");
    fwt_vlm_stop(&s);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "EVIL"));
    assert_false(has_unsafe(r.out));
    assert_false(has_unsafe(r.err));
    fwt_free(&r);
    const char *files[] = {"report.json", "report.jsonl", "report.md",
                           "report.html", "captions.vtt", "captions.srt"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char name[64];
        snprintf(name, sizeof name, "i/%s", files[f]);
        char *text = fwt_slurp(fwt_path(name));
        assert_non_null(text);
        assert_non_null(strstr(text, "EVIL"));
        if (has_unsafe(text) || strstr(text, "\\u001b") || strstr(text, "\\u0007"))
            fail_msg("%s holds a control or bidi character", files[f]);
        free(text);
    }
}

/* Waits (polling, at most 30 s) until path holds needle. */
static int wait_for(const char *path, const char *needle)
{
    for (int i = 0; i < 600; i++) {
        char *text = access(path, R_OK) == 0 ? fwt_slurp(path) : NULL;
        int found = text && strstr(text, needle);
        free(text);
        if (found)
            return 1;
        usleep(50000);
    }
    return 0;
}

static void a_signal_writes_every_output_marked_interrupted(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--latency 400 --slots 1");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "exec '%s' analyze '%s' -o '%s' -q --url %s --no-cache --concurrency 1 "
             "--policy interval --fps 5 --summary extractive",
             getenv("FRAMEWISE_BIN"), colours(), fwt_path("s"), s.url);
    int pid = fwt_spawn(cmd);
    assert_true(wait_for(fwt_path("s/report.jsonl"), "\"observation\""));
    kill(pid, SIGINT);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    fwt_untrack(pid);
    fwt_vlm_stop(&s);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
    json_t *rep = fwt_json_file(fwt_path("s/report.json"));
    assert_true(json_is_true(json_object_get(rep, "interrupted")));
    size_t obs = json_array_size(json_object_get(rep, "observations"));
    assert_true(obs >= 1 && obs < 20); /* 20 keyframes at 5 a second: stopped early */
    json_decref(rep);
    const char *files[] = {"s/report.md", "s/report.html", "s/captions.vtt", "s/captions.srt"};
    struct stat st;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++)
        assert_int_equal(stat(fwt_path(files[f]), &st), 0);
}

/* Accepts one connection on a free loopback port and then sends nothing. */
typedef struct listener {
    int fd, port;
} listener;

static void *silent(void *user)
{
    listener *l = user;
    int c = accept(l->fd, NULL, NULL);
    char buf[4096];
    while (c >= 0 && read(c, buf, sizeof buf) > 0) /* until the client gives up */
        ;
    if (c >= 0)
        close(c);
    return NULL;
}

static void inputs_that_give_no_data_time_out(void **state)
{
    (void)state;
    fwt_run r;
    /* a FIFO nobody writes to */
    assert_int_equal(mkfifo(fwt_path("in.fifo"), 0600), 0);
    double t0 = now_s();
    fwt_fw(&r, "keyframes '%s' -o '%s' --read-timeout 1", fwt_path("in.fifo"), fwt_path("k"));
    assert_true(now_s() - t0 < 15);
    fwt_expect_usage_error(&r, "in.fifo: no data within 1 s (the read-timeout setting)");
    /* a pipe that stops after a video: the result so far, with a warning */
    fwt_sh(&r,
           "(ffmpeg -v error -i '%s' -f mpegts -; sleep 8) | '%s' keyframes - -o '%s' "
           "--read-timeout 1",
           colours(), getenv("FRAMEWISE_BIN"), fwt_path("k"));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "warning: -: no data for 1 s (the read-timeout setting)"));
    assert_non_null(strstr(r.out, "kept"));
    fwt_free(&r);
    /* a TCP server that accepts and sends nothing */
    listener l = {socket(AF_INET, SOCK_STREAM, 0), 0};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(l.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l.fd, 1), 0);
    assert_int_equal(getsockname(l.fd, (struct sockaddr *)&a, &len), 0);
    pthread_t th;
    pthread_create(&th, NULL, silent, &l);
    fwt_fw(&r, "keyframes http://127.0.0.1:%d/v.mp4 -o '%s' --read-timeout 1", ntohs(a.sin_port),
           fwt_path("k"));
    pthread_join(th, NULL);
    close(l.fd);
    fwt_expect_usage_error(&r, "no data within 1 s (the read-timeout setting)");
}

static void damaged_containers_say_what_is_wrong(void **state)
{
    (void)state;
    fwt_run r;
    /* an mkv cut at a third: a warning and the span really decoded */
    const char *mkv = fwt_video("whole.mkv", "-f lavfi -i testsrc2=s=160x120:r=10:d=4 -c:v "
                                             "libx264 -preset ultrafast -pix_fmt yuv420p");
    fwt_sh(&r, "head -c $(( $(stat -c %%s '%s') / 3 )) '%s' > '%s'", mkv, mkv, fwt_path("cut.mkv"));
    fwt_free(&r);
    fwt_fw(&r, "analyze '%s' -o '%s' --no-cache", fwt_path("cut.mkv"), fwt_path("m"));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "the video stops at"));
    assert_non_null(strstr(r.err, "of the 4.00 s its container declares"));
    fwt_free(&r);
    json_t *rep = fwt_json_file(fwt_path("m/report.json"));
    double d = json_number_value(json_object_get(json_object_get(rep, "video"), "duration"));
    assert_true(d > 0.3 && d < 3.0);
    json_decref(rep);
    /* an mp4 whose index was never written */
    const char *mp4 = fwt_video("end.mp4", "-f lavfi -i testsrc2=s=160x120:r=10:d=2 -c:v libx264 "
                                           "-preset ultrafast -pix_fmt yuv420p");
    fwt_sh(&r, "head -c $(( $(stat -c %%s '%s') - 300 )) '%s' > '%s'", mp4, mp4,
           fwt_path("nomoov.mp4"));
    fwt_free(&r);
    fwt_fw(&r, "keyframes '%s' -o '%s'", fwt_path("nomoov.mp4"), fwt_path("k"));
    fwt_expect_usage_error(&r, "the MP4 index (moov atom) is missing or cut off");
}

static void timestamps_that_jump_back_stay_in_order_and_the_cut_is_found(void **state)
{
    (void)state;
    fwt_run r;
    /* two recordings spliced: red, then blue, each starting at the same timestamp */
    const char *a = fwt_video("a.ts", "-f lavfi -i color=c=red:s=160x120:r=10:d=2 -c:v libx264 "
                                      "-preset ultrafast -pix_fmt yuv420p -f mpegts");
    const char *b = fwt_video("b.ts", "-f lavfi -i color=c=blue:s=160x120:r=10:d=2 -c:v libx264 "
                                      "-preset ultrafast -pix_fmt yuv420p -f mpegts");
    fwt_sh(&r, "cat '%s' '%s' > '%s'", a, b, fwt_path("spliced.ts"));
    fwt_free(&r);
    long starts[8];
    double times[8];
    int n = fwt_scene_starts(fwt_path("spliced.ts"), starts, times, 8);
    assert_int_equal(n, 2);
    assert_true(times[1] > 1.8 && times[1] < 2.2);
    json_t *kf = fwt_keyframes(fwt_path("spliced.ts"), "--policy interval --fps 2");
    for (size_t i = 1; i < json_array_size(fwt_kf_list(kf)); i++)
        assert_true(fwt_kf_time(kf, i) > fwt_kf_time(kf, i - 1));
    assert_true(fwt_kf_time(kf, json_array_size(fwt_kf_list(kf)) - 1) > 3.0);
    json_decref(kf);
}

static void stores_that_cannot_record_are_one_line(void **state)
{
    (void)state;
    const char *clip = colours();
    fwt_run r;
    fwt_fw(&r, "analyze '%s' -o '%s' --store /dev/null", clip, fwt_path("o"));
    fwt_expect_usage_error(&r, "/dev/null: not a store");
    assert_int_equal(mkfifo(fwt_path("store.fifo"), 0600), 0);
    fwt_fw(&r, "analyze '%s' -o '%s' --store '%s'", clip, fwt_path("o"), fwt_path("store.fifo"));
    fwt_expect_usage_error(&r, "not a store");
    /* another program's database is left as it was */
    fwt_sh(&r,
           "python3 -c \"import sqlite3; c = sqlite3.connect('%s'); c.execute('create "
           "table notes(a)'); c.commit()\"",
           fwt_path("other.db"));
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    fwt_fw(&r, "analyze '%s' -o '%s' --store '%s'", clip, fwt_path("o"), fwt_path("other.db"));
    fwt_expect_usage_error(&r, "a SQLite database of another program (tables notes)");
    fwt_sh(&r,
           "python3 -c \"import sqlite3; print(sqlite3.connect('%s').execute('select "
           "count(*) from sqlite_master').fetchone()[0])\"",
           fwt_path("other.db"));
    assert_string_equal(r.out, "1\n");
    fwt_free(&r);
    /* a store damaged on disk */
    fwt_fw(&r, "analyze '%s' -o '%s' -q --store '%s'", clip, fwt_path("o"), fwt_path("s.db"));
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    fwt_sh(&r,
           "python3 -c \"f = open('%s', 'r+b'); f.seek(4096); f.write(b'\\xde\\xad' * "
           "6000)\"",
           fwt_path("s.db"));
    fwt_free(&r);
    fwt_fw(&r, "analyze '%s' -o '%s' --store '%s'", clip, fwt_path("o2"), fwt_path("s.db"));
    fwt_expect_usage_error(&r, "the store is damaged");
}

static void cache_clear_keeps_the_job_that_runs(void **state)
{
    (void)state;
    fwt_vlm s;
    fwt_vlm_start(&s, "--latency 300 --slots 1");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "exec '%s' analyze '%s' -o '%s' -q --url %s --store '%s' --concurrency 1 "
             "--policy interval --fps 2 --summary extractive",
             getenv("FRAMEWISE_BIN"), colours(), fwt_path("c"), s.url, fwt_path("c.db"));
    int pid = fwt_spawn(cmd);
    assert_true(wait_for(fwt_path("c/report.jsonl"), "\"observation\""));
    fwt_run r;
    fwt_fw(&r, "cache clear --store '%s'", fwt_path("c.db"));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "kept 1 running job"));
    fwt_free(&r);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    fwt_untrack(pid);
    assert_int_equal(WEXITSTATUS(status), 0);
    /* its result was recorded: the same run again asks nothing */
    json_t *was = fwt_vlm_stats(&s);
    json_int_t before = json_integer_value(json_object_get(was, "chat_requests"));
    json_decref(was);
    fwt_fw(&r,
           "analyze '%s' -o '%s' -q --url %s --store '%s' --policy interval --fps 2 "
           "--summary extractive --concurrency 1",
           colours(), fwt_path("c2"), s.url, fwt_path("c.db"));
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    assert_int_equal(json_integer_value(json_object_get(st, "chat_requests")), before);
    json_decref(st);
}

static void the_files_people_read_link_and_break_lines_right(void **state)
{
    (void)state;
    fwt_run r;
    fwt_fw(&r, "analyze '%s' -o '%s' -q --no-cache", colours(), fwt_path("deep/er"));
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    char *md = fwt_slurp(fwt_path("deep/er/report.md"));
    assert_non_null(strstr(md, "](kf_000000.jpg)")); /* beside report.md */
    assert_null(strstr(md, "deep/er/kf_"));
    free(md);
    char *html = fwt_slurp(fwt_path("deep/er/report.html"));
    char *sum = strstr(html, "<h2>Summary</h2>");
    assert_non_null(sum);
    char *end = strstr(sum, "</p>");
    assert_non_null(end);
    *end = '\0';
    assert_non_null(strstr(sum, "<br>")); /* one moment a line */
    free(html);
}

/* Every fault of the double at random over a few hundred requests: every keyframe gets its
 * observation (answered, or failed with its error), no frame is asked more than the retries
 * allow, and the run ends in the time its settings allow. One request at a time, so the
 * double's seeded choice of faulty requests gives the same run every time. */
static void a_fault_soak_loses_no_frame_and_ends_in_time(void **state)
{
    (void)state;
    const char *clip = fwt_video("soak.mp4", "-f lavfi -i testsrc2=s=160x120:r=10:d=30 -c:v "
                                             "libx264 -preset ultrafast -pix_fmt yuv420p");
    fwt_vlm s;
    fwt_vlm_start(&s, "--seed 7 --fault 429:0.2@random=0.05 --fault 500@random=0.05 --fault "
                      "502@random=0.05 --fault 503@random=0.05 --fault malformed@random=0.05 "
                      "--fault truncated@random=0.05 --fault reset@random=0.05 --fault "
                      "timeout:3@random=0.03 --fault null@random=0.03 --fault "
                      "nochoices@random=0.03 --fault drip:1@random=0.02 --fault "
                      "huge:17@random=0.02");
    fwt_run r;
    double t0 = now_s();
    fwt_fw(
        &r,
        "analyze '%s' -o '%s' --url %s --no-cache --summary extractive --policy interval --fps 5 "
        "--concurrency 1 --retries 6 --timeout 2 --stall-timeout 1 --max-retry-wait 1 -q",
        clip, fwt_path("soak"), s.url);
    double t = now_s() - t0;
    json_t *st = fwt_vlm_stats(&s);
    fwt_vlm_stop(&s);
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    json_int_t requests = json_integer_value(json_object_get(st, "chat_requests"));
    json_decref(st);
    assert_true(requests >= 200); /* a few hundred requests, about a third of them faulty */
    json_t *rep = fwt_json_file(fwt_path("soak/report.json"));
    json_t *kfs = json_object_get(rep, "keyframes"), *obs = json_object_get(rep, "observations");
    assert_int_equal(json_array_size(kfs), 150);
    assert_int_equal(json_array_size(obs), 150); /* none lost */
    size_t i, failed = 0;
    json_t *o;
    json_array_foreach(obs, i, o)
    {
        assert_int_equal(json_integer_value(json_object_get(o, "keyframe")), (json_int_t)i);
        json_int_t attempts = json_integer_value(json_object_get(o, "attempts"));
        assert_true(attempts >= 1 && attempts <= 2 * 7); /* a low ask and its ask again */
        failed += json_string_value(json_object_get(o, "error")) != NULL;
    }
    printf("soak: %lld requests, %zu of 150 frames failed with their error, %.1f s\n",
           (long long)requests, failed, t);
    assert_true(failed <= 15);
    json_decref(rep);
    /* the bound: 150 frames one at a time, each at most (retries + 1) timeouts */
    assert_true(t < 150 * 7 * 2.0);
    assert_true(t < 240); /* what it takes in practice: faults are answered at once */
}

int main(int argc, char **argv)
{
    fwt_select_test(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(side_files_must_be_small_regular_files, fwt_teardown),
        cmocka_unit_test_teardown(usage_errors_name_the_option_and_create_nothing, fwt_teardown),
        cmocka_unit_test_teardown(servers_that_wait_drip_or_flood_end_in_bounded_time,
                                  fwt_teardown),
        cmocka_unit_test_teardown(answers_without_content_fail_and_partial_failure_warns,
                                  fwt_teardown),
        cmocka_unit_test_teardown(control_and_bidi_characters_never_reach_a_terminal_or_a_page,
                                  fwt_teardown),
        cmocka_unit_test_teardown(a_signal_writes_every_output_marked_interrupted, fwt_teardown),
        cmocka_unit_test_teardown(inputs_that_give_no_data_time_out, fwt_teardown),
        cmocka_unit_test_teardown(damaged_containers_say_what_is_wrong, fwt_teardown),
        cmocka_unit_test_teardown(timestamps_that_jump_back_stay_in_order_and_the_cut_is_found,
                                  fwt_teardown),
        cmocka_unit_test_teardown(stores_that_cannot_record_are_one_line, fwt_teardown),
        cmocka_unit_test_teardown(cache_clear_keeps_the_job_that_runs, fwt_teardown),
        cmocka_unit_test_teardown(the_files_people_read_link_and_break_lines_right, fwt_teardown),
        cmocka_unit_test_teardown(a_fault_soak_loses_no_frame_and_ends_in_time, fwt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
