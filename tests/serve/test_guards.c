/* framewise serve's guards over real HTTP: 401 without the token, 403 for paths outside
 * the roots and for URLs the server must not reach, 413 before an upload is read, 429 on
 * a full queue; every error a JSON body. One test per process: test_guards NAME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fwserve.h"
#include "fwtest.h"

#define TOKEN "guard-token"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void post_json(fws_resp *r, fws_server *s, const char *token, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void post_json(fws_resp *r, fws_server *s, const char *token, const char *fmt, ...)
{
    char body[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    fws_http(r, s, "POST", "/v1/jobs", token, "application/json", body, strlen(body));
}

static void missing_or_wrong_token_is_401(void **state)
{
    (void)state;
    fws_server s;
    fws_start(&s, "--token " TOKEN);
    fws_resp r;
    char h[256];
    fws_http(&r, &s, "GET", "/v1/jobs", NULL, NULL, NULL, 0);
    assert_true(fws_header(&r, "WWW-Authenticate", h, sizeof h));
    fws_expect_error(&r, 401, "unauthorized");
    fws_http(&r, &s, "GET", "/v1/jobs", "wrong", NULL, NULL, 0);
    fws_expect_error(&r, 401, "unauthorized");
    fws_http(&r, &s, "GET", "/v1/jobs", TOKEN "x", NULL, NULL, 0);
    fws_expect_error(&r, 401, "unauthorized");
    post_json(&r, &s, NULL, "{\"path\": \"/etc/passwd\"}");
    fws_expect_error(&r, 401, "unauthorized");
    fws_http(&r, &s, "GET", "/v1/jobs", TOKEN, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    fws_resp_free(&r);
    /* the page's login: a wrong token gets no cookie, the right one does */
    const char *bad = "{\"token\": \"nope\"}", *good = "{\"token\": \"" TOKEN "\"}";
    fws_http(&r, &s, "POST", "/session", NULL, "application/json", bad, strlen(bad));
    assert_false(fws_header(&r, "Set-Cookie", h, sizeof h));
    fws_expect_error(&r, 401, "unauthorized");
    fws_http(&r, &s, "POST", "/session", NULL, "application/json", good, strlen(good));
    assert_int_equal(r.status, 204);
    assert_true(fws_header(&r, "Set-Cookie", h, sizeof h));
    assert_non_null(strstr(h, "HttpOnly"));
    assert_non_null(strstr(h, "SameSite=Strict"));
    fws_resp_free(&r);
    /* the WebSocket too */
    fws_ws w;
    assert_int_equal(fws_ws_open(&w, &s, "/v1/jobs/1/events", NULL), -1);
    fws_ws_close(&w);
    /* /healthz is open */
    fws_http(&r, &s, "GET", "/healthz", NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    fws_resp_free(&r);
    fws_stop(&s);
}

static void expect_foreign(fws_server *s, const char *method, const char *path, const char *line)
{
    fws_resp r;
    const char *lines[] = {line, NULL};
    fws_http_h(&r, s, method, path, lines, method[0] == 'P' ? "application/json" : NULL,
               method[0] == 'P' ? "{}" : NULL, 2);
    if (r.status != 403)
        fail_msg("%s %s with '%s': %ld %s", method, path, line, r.status, r.body);
    fws_expect_error(&r, 403, "forbidden_origin");
}

/* Without a token any page the user's browser opens could call a loopback server: a
 * form's POST, a WebSocket, a name that resolves to 127.0.0.1 (DNS rebinding). */
static void tokenless_server_answers_only_its_own_machine(void **state)
{
    (void)state;
    fws_server s;
    fws_start(&s, "--workers 1");
    const char *foreign[] = {"Host: evil.example",
                             "Host: 127.0.0.1.evil.example",
                             "Host: localhost.evil.example:80",
                             "Host: 10.0.0.1:8080",
                             "Host: [::2]",
                             "Host: 127.0.0.1:80x",
                             "Origin: http://evil.example",
                             "Origin: null",
                             "Origin: http://127.0.0.1.evil.example",
                             "Origin: https://localhost.evil.example"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
        expect_foreign(&s, "GET", "/v1/jobs", foreign[i]);
    const char *routes[][2] = {{"GET", "/"},        {"GET", "/session"},  {"POST", "/session"},
                               {"GET", "/metrics"}, {"POST", "/v1/jobs"}, {"GET", "/nope"}};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        expect_foreign(&s, routes[i][0], routes[i][1], "Host: evil.example");
        expect_foreign(&s, routes[i][0], routes[i][1], "Origin: http://evil.example");
    }
    /* a form posted by another site's page: refused, nothing queued */
    const char *form = "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n"
                       "\r\nabc\r\n--x--\r\n";
    const char *evil[] = {"Origin: http://evil.example", NULL};
    fws_resp r;
    fws_http_h(&r, &s, "POST", "/v1/jobs", evil, "multipart/form-data; boundary=x", form,
               strlen(form));
    fws_expect_error(&r, 403, "forbidden_origin");
    fws_http(&r, &s, "GET", "/v1/jobs", NULL, NULL, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    fws_resp_free(&r);
    /* this machine's names, with or without a port, and its pages */
    const char *local[] = {"Host: localhost:8080",
                           "Host: LOCALHOST",
                           "Host: 127.9.9.9",
                           "Host: [::1]:1",
                           "Origin: http://localhost:3000",
                           "Origin: http://[::1]:8080",
                           "Origin: http://127.0.0.1"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        const char *lines[] = {local[i], NULL};
        fws_http_h(&r, &s, "GET", "/v1/jobs", lines, NULL, NULL, 0);
        if (r.status != 200)
            fail_msg("'%s': %ld %s", local[i], r.status, r.body);
        fws_resp_free(&r);
    }
    /* probes need no name */
    const char *probe[] = {"Host: monitor.example", NULL};
    fws_http_h(&r, &s, "GET", "/healthz", probe, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    fws_resp_free(&r);
    /* the WebSocket: from this machine's page, not from another site's */
    const char *local_form[] = {"Origin: http://localhost", NULL};
    fws_http_h(&r, &s, "POST", "/v1/jobs", local_form, "multipart/form-data; boundary=x", form,
               strlen(form));
    int64_t id = fws_job_id(&r);
    fws_resp_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%lld/events", (long long)id);
    fws_ws w;
    assert_int_equal(fws_ws_open_from(&w, &s, path, NULL, "http://evil.example"), -1);
    fws_ws_close(&w);
    assert_int_equal(fws_ws_open(&w, &s, path, NULL), 0);
    fws_ws_close(&w);
    fws_stop(&s);
}

/* civetweb's --listen is a comma list: each address must be loopback without a token. */
static void tokenless_listen_must_be_loopback_on_every_address(void **state)
{
    (void)state;
    const char *refused[] = {
        "127.0.0.1:0,0.0.0.0:0", "0.0.0.0:0",          "8080",         "+0",    "127.0.0.1:0,+0",
        "127.0.0.1:0,8081",      "127.evil.example:0", "127.0.0.1:0,", "[::]:0"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        fwt_run run; /* timeout: a server that took it would serve on */
        fwt_sh(&run,
               "FRAMEWISE_TOKEN= timeout 10 \"$FRAMEWISE_BIN\" serve --listen '%s' --data "
               "'%s/data' --store '%s/store.db'",
               refused[i], fwt_tmpdir(), fwt_tmpdir());
        if (run.status != 2)
            fail_msg("--listen %s: exit %d: %s", refused[i], run.status, run.err);
        fwt_expect_usage_error(&run, "needs a token");
    }
    fws_server s; /* several loopback addresses are fine */
    fws_start(&s, "--listen 127.0.0.1:0,127.0.0.2:0,localhost:0");
    fws_resp r;
    fws_http(&r, &s, "GET", "/v1/jobs", NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    fws_resp_free(&r);
    fws_stop(&s);
}

/* The page's login: a wrong token is a 401, a broken body is the client's bug. */
static void login_errors_are_told_apart(void **state)
{
    (void)state;
    fws_server s;
    fws_start(&s, "--token " TOKEN);
    struct {
        const char *body;
        long status;
        const char *code;
    } cases[] = {
        {"{\"token\": \"nope\"}", 401, "unauthorized"}, {"not json", 400, "bad_json"},
        {"[\"" TOKEN "\"]", 400, "bad_json"},           {"{}", 400, "bad_request"},
        {"{\"token\": 17}", 400, "bad_request"},
    };
    fws_resp r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fws_http(&r, &s, "POST", "/session", NULL, "application/json", cases[i].body,
                 strlen(cases[i].body));
        if (r.status != cases[i].status)
            fail_msg("%s: %ld %s", cases[i].body, r.status, r.body);
        fws_expect_error(&r, cases[i].status, cases[i].code);
    }
    char big[8192];
    memset(big, ' ', sizeof big);
    memcpy(big, "{\"token\": \"" TOKEN "\"", strlen(TOKEN) + 12);
    big[sizeof big - 1] = '}';
    fws_http(&r, &s, "POST", "/session", NULL, "application/json", big, sizeof big);
    fws_expect_error(&r, 413, "too_large");
    fws_stop(&s);
}

static void path_outside_the_roots_is_403(void **state)
{
    (void)state;
    const char *dir = fwt_tmpdir();
    fwt_run run;
    fwt_sh(&run,
           "mkdir -p '%s/root/sub' && printf x > '%s/outside.mp4' && printf x > "
           "'%s/root/sub/in.mp4' && ln -s '%s/outside.mp4' '%s/root/link.mp4' && ln -s "
           "'%s' '%s/root/up'",
           dir, dir, dir, dir, dir, dir, dir);
    assert_int_equal(run.status, 0);
    fwt_free(&run);
    fws_server s;
    fws_start(&s, "--token " TOKEN " --allow-root '%s/root'", dir);
    fws_resp r;
    const char *refused[] = {"%s/root/../outside.mp4", "%s/root/link.mp4", "%s/root/up/outside.mp4",
                             "%s/outside.mp4",         "%s/nowhere/x.mp4", "%.0sroot/sub/in.mp4",
                             "%.0s/etc/passwd"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, refused[i], dir);
        post_json(&r, &s, TOKEN, "{\"path\": \"%s\"}", path);
        if (r.status != 403)
            fail_msg("%s: %ld %s", path, r.status, r.body);
        fws_expect_error(&r, 403, "forbidden_path");
    }
    post_json(&r, &s, TOKEN, "{\"path\": \"%s/root/sub/missing.mp4\"}", dir);
    fws_expect_error(&r, 400, "no_such_file");
    post_json(&r, &s, TOKEN, "{\"path\": \"%s/root/sub/in.mp4\"}", dir);
    assert_int_equal(r.status, 202); /* inside: taken (it fails later: not a video) */
    fws_resp_free(&r);
    fws_stop(&s);
    /* a server without --allow-root takes no paths */
    fws_start(&s, "--token " TOKEN);
    post_json(&r, &s, TOKEN, "{\"path\": \"%s/root/sub/in.mp4\"}", dir);
    fws_expect_error(&r, 403, "forbidden_path");
    fws_stop(&s);
}

/* A path taken at submission is checked again when its job starts: here after a restart
 * whose --allow-root no longer holds it. */
static void path_no_longer_allowed_when_its_job_starts_fails(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --fault hang:60@colour=yellow/1");
    const char *clip = fws_colour_clip("colours.mp4"), *dir = fwt_tmpdir();
    fwt_run run;
    fwt_sh(&run, "mkdir -p '%s/other'", dir);
    fwt_free(&run);
    fws_server s;
    fws_start(&s,
              "--token " TOKEN " --url %s --summary extractive --workers 1 --concurrency 1 "
              "--allow-root '%s'",
              v.url, dir);
    fws_resp r;
    fws_upload(&r, &s, TOKEN, clip, NULL);
    int64_t held = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, held, "running", 30)); /* the worker is busy from now */
    post_json(&r, &s, TOKEN, "{\"path\": \"%s\"}", clip);
    assert_int_equal(r.status, 202);
    int64_t id = fws_job_id(&r);
    assert_string_equal(jstr(r.json, "state"), "queued");
    fws_resp_free(&r);
    fws_kill(&s);
    snprintf(s.args, sizeof s.args,
             "--token " TOKEN " --url %s --summary extractive --workers 2 --allow-root '%s/other'",
             v.url, dir);
    fws_restart(&s);
    json_t *job = fws_wait(&s, TOKEN, id, "done|failed|cancelled", 60);
    assert_string_equal(jstr(job, "state"), "failed");
    json_t *e = json_object_get(job, "error");
    assert_string_equal(jstr(e, "code"), "forbidden_path");
    assert_non_null(strstr(jstr(e, "message"), "outside the allowed folders"));
    json_decref(job);
    fws_stop(&s);
    fwt_vlm_stop(&v);
}

static void urls_the_server_must_not_reach_are_403(void **state)
{
    (void)state;
    fws_server s;
    fws_start(&s, "--token " TOKEN " --allow-url-host 127.0.0.1 --allow-url-host localhost "
                  "--allow-url-host 169.254.169.254 --allow-url-host '[::1]' "
                  "--allow-url-host example.com");
    const char *refused[] = {
        "http://127.0.0.1:9/clip.mp4",          /* loopback */
        "http://localhost/clip.mp4",            /* a name for loopback */
        "http://169.254.169.254/latest/meta",   /* link-local (cloud metadata) */
        "http://[::1]/clip.mp4",                /* IPv6 loopback */
        "http://10.1.2.3/clip.mp4",             /* private: host not allowed anyway */
        "http://evil.example.org/clip.mp4",     /* not allowed */
        "http://example.com.evil.org/clip.mp4", /* not the allowed host */
        "file:///etc/passwd",                   /* not http */
        "gopher://127.0.0.1/",                  /* not http */
    };
    fws_resp r;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        post_json(&r, &s, TOKEN, "{\"url\": \"%s\"}", refused[i]);
        if (r.status != 403)
            fail_msg("%s: %ld %s", refused[i], r.status, r.body);
        fws_expect_error(&r, 403, "forbidden_url");
    }
    /* a callback to such a place is refused too */
    fws_upload(&r, &s, TOKEN, fws_colour_clip("c.mp4"),
               (const char *[]){"callback_url", "http://127.0.0.1:9/hook", NULL});
    fws_expect_error(&r, 403, "forbidden_url");
    fws_stop(&s);
    /* without --allow-url-host there are no URL inputs at all */
    fws_start(&s, "--token " TOKEN);
    post_json(&r, &s, TOKEN, "{\"url\": \"https://example.com/clip.mp4\"}");
    fws_expect_error(&r, 403, "forbidden_url");
    fws_stop(&s);
}

static int uploads_left(void)
{
    fwt_run ls;
    fwt_sh(&ls, "ls '%s/data/uploads' | wc -l", fwt_tmpdir());
    int n = atoi(ls.out);
    fwt_free(&ls);
    return n;
}

static void upload_over_the_limit_is_413_before_it_is_read(void **state)
{
    (void)state;
    char big[600];
    snprintf(big, sizeof big, "%s/big.bin", fwt_tmpdir());
    fwt_run run;
    fwt_sh(&run, "head -c 20000000 /dev/zero > '%s'", big);
    fwt_free(&run);
    fws_server s;
    fws_start(&s, "--token " TOKEN " --max-upload 100K");
    fws_resp r;
    fws_upload(&r, &s, TOKEN, big, NULL);
    double t = r.seconds;
    fws_expect_error(&r, 413, "too_large");
    assert_true(t < 5); /* 20 MB were not taken in */
    assert_int_equal(uploads_left(), 0);
    /* without a length (chunked), counted as it comes: stopped at the bound. The client is
     * still sending when the server answers and closes, so it may see the 413 or only
     * the connection cut; either way nothing is kept and the server goes on. */
    fwt_sh(&run,
           "curl -s -o '%s/413.json' -w '%%{http_code}' -H 'Authorization: Bearer " TOKEN
           "' -H 'Transfer-Encoding: chunked' -F 'file=@%s' '%s/v1/jobs'",
           fwt_tmpdir(), big, s.base);
    if (strcmp(run.out, "413") == 0) {
        char path[600];
        snprintf(path, sizeof path, "%s/413.json", fwt_tmpdir());
        json_t *e = fwt_json_file(path);
        assert_string_equal(jstr(json_object_get(e, "error"), "code"), "too_large");
        json_decref(e);
    } else
        assert_string_equal(run.out, "000");
    fwt_free(&run);
    assert_int_equal(uploads_left(), 0);
    fws_http(&r, &s, "GET", "/healthz", NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    fws_resp_free(&r);
    /* a JSON submission is small */
    char *huge = malloc(2 << 20);
    memset(huge, ' ', 2 << 20);
    memcpy(huge, "{\"path\": \"x\"", 12);
    huge[(2 << 20) - 1] = '}';
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", huge, 2 << 20);
    fws_expect_error(&r, 413, "too_large");
    free(huge);
    fws_stop(&s);
}

/* A form of one file part (name a file name), with the fields before it. */
static void form_with(char *out, size_t size, const char *filename, const char *key)
{
    size_t n = 0;
    if (key)
        n = (size_t)snprintf(out, size,
                             "--x\r\nContent-Disposition: form-data; name=\"idempotency_key\""
                             "\r\n\r\n%s\r\n",
                             key);
    snprintf(out + n, size - n,
             "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n\r\n"
             "abc\r\n--x--\r\n",
             filename);
}

/* Bytes that are not UTF-8 cannot go into JSON: a file name is made safe, a key refused. */
static void file_name_and_key_that_are_not_utf8(void **state)
{
    (void)state;
    fws_server s;
    fws_start(&s, "--token " TOKEN);
    char form[1024];
    const char *auth[] = {"Authorization: Bearer " TOKEN, NULL};
    const char *ctype = "multipart/form-data; boundary=x";
    fws_resp r;
    form_with(form, sizeof form, "caf\xc3\xa9\xff\x01\xed\xa0\x80.mp4", NULL);
    fws_http_h(&r, &s, "POST", "/v1/jobs", auth, ctype, form, strlen(form));
    assert_int_equal(r.status, 202);
    assert_string_equal(jstr(json_object_get(r.json, "input"), "name"), "caf\xc3\xa9_____.mp4");
    fws_resp_free(&r);
    form_with(form, sizeof form, "a.mp4", "k\xff");
    fws_http_h(&r, &s, "POST", "/v1/jobs", auth, ctype, form, strlen(form));
    fws_expect_error(&r, 400, "invalid_key");
    form_with(form, sizeof form, "a.mp4", NULL);
    const char *with_key[] = {"Authorization: Bearer " TOKEN, "Idempotency-Key: k\xc3", NULL};
    fws_http_h(&r, &s, "POST", "/v1/jobs", with_key, ctype, form, strlen(form));
    fws_expect_error(&r, 400, "invalid_key");
    char long_key[260];
    memset(long_key, 'k', 201);
    long_key[201] = '\0';
    form_with(form, sizeof form, "a.mp4", long_key);
    fws_http_h(&r, &s, "POST", "/v1/jobs", auth, ctype, form, strlen(form));
    fws_expect_error(&r, 400, "invalid_key");
    fws_http(&r, &s, "GET", "/v1/jobs", TOKEN, NULL, NULL, 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 1); /* the first only */
    fws_resp_free(&r);
    fws_stop(&s);
}

static void full_queue_is_429_with_retry_after(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --latency 300");
    const char *clip = fws_colour_clip("c.mp4");
    fws_server s;
    fws_start(&s, "--token " TOKEN " --url %s --summary extractive --workers 1 --queue-size 1",
              v.url);
    fws_resp r;
    fws_upload(&r, &s, TOKEN, clip, NULL);
    int64_t first = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, first, "running", 30));
    const char *other[] = {"options", "{\"prompt\": \"2\"}", NULL};
    fws_upload(&r, &s, TOKEN, clip, other); /* the one place in the queue */
    assert_int_equal(r.status, 202);
    fws_resp_free(&r);
    const char *third[] = {"options", "{\"prompt\": \"3\"}", NULL};
    fws_upload(&r, &s, TOKEN, clip, third);
    char after[32];
    assert_true(fws_header(&r, "Retry-After", after, sizeof after));
    assert_true(atoi(after) > 0);
    fws_expect_error(&r, 429, "queue_full");
    assert_int_equal(uploads_left(), 2); /* the running and the queued; the refused is gone */
    fws_kill(&s);
    fwt_vlm_stop(&v);
}

/* A full queue refuses new uploads unread, yet a retry of one it holds (same idempotency
 * key, given before the file) gets its job back, not a 429. */
static void full_queue_still_gives_a_retried_upload_its_job(void **state)
{
    (void)state;
    fwt_vlm v;
    fwt_vlm_start(&v, "--slots 1 --fault hang:60@colour=yellow/1");
    fws_server s;
    fws_start(&s, "--token " TOKEN " --url %s --summary extractive --workers 1 --queue-size 1",
              v.url);
    fws_resp r;
    fws_upload(&r, &s, TOKEN, fws_colour_clip("c.mp4"), NULL);
    int64_t held = fws_job_id(&r);
    fws_resp_free(&r);
    json_decref(fws_wait(&s, TOKEN, held, "running", 30));
    char form[1024];
    const char *auth[] = {"Authorization: Bearer " TOKEN, NULL};
    const char *ctype = "multipart/form-data; boundary=x";
    form_with(form, sizeof form, "a.mp4", "retry-me");
    fws_http_h(&r, &s, "POST", "/v1/jobs", auth, ctype, form, strlen(form));
    assert_int_equal(r.status, 202); /* the one place in the queue */
    int64_t queued = fws_job_id(&r);
    fws_resp_free(&r);
    fws_http_h(&r, &s, "POST", "/v1/jobs", auth, ctype, form, strlen(form));
    if (r.status != 200)
        fail_msg("the retry: %ld %s", r.status, r.body);
    assert_int_equal(fws_job_id(&r), queued);
    fws_resp_free(&r);
    const char *by_header[] = {"Authorization: Bearer " TOKEN, "Idempotency-Key: retry-me", NULL};
    form_with(form, sizeof form, "a.mp4", NULL);
    fws_http_h(&r, &s, "POST", "/v1/jobs", by_header, ctype, form, strlen(form));
    assert_int_equal(r.status, 200);
    assert_int_equal(fws_job_id(&r), queued);
    fws_resp_free(&r);
    form_with(form, sizeof form, "b.mp4", "another");
    fws_http_h(&r, &s, "POST", "/v1/jobs", auth, ctype, form, strlen(form));
    fws_expect_error(&r, 429, "queue_full");
    assert_int_equal(uploads_left(), 2); /* the held and the queued: no retry kept a copy */
    fws_kill(&s);
    fwt_vlm_stop(&v);
}

static void errors_are_json_everywhere(void **state)
{
    (void)state;
    fws_server s;
    fws_start(&s, "--token " TOKEN);
    fws_resp r;
    fws_http(&r, &s, "GET", "/nope", NULL, NULL, NULL, 0);
    fws_expect_error(&r, 404, "not_found");
    fws_http(&r, &s, "GET", "/v1/jobs/999", TOKEN, NULL, NULL, 0);
    fws_expect_error(&r, 404, "not_found");
    fws_http(&r, &s, "PUT", "/v1/jobs", TOKEN, "application/json", "{}", 2);
    fws_expect_error(&r, 405, "method_not_allowed");
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "text/plain", "hello", 5);
    fws_expect_error(&r, 415, "unsupported_media_type");
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", "{\"path\":", 8);
    fws_expect_error(&r, 400, "bad_json");
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "application/json", "{}", 2);
    fws_expect_error(&r, 400, "bad_request");
    fws_http(&r, &s, "GET", "/v1/jobs/1/files/..%2fstore.db", TOKEN, NULL, NULL, 0);
    fws_expect_error(&r, 404, "not_found");
    fws_http(&r, &s, "GET", "/v1/jobs/1/events", TOKEN, NULL, NULL, 0);
    fws_expect_error(&r, 400, "websocket_expected");
    const char *bad_form = "--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc";
    fws_http(&r, &s, "POST", "/v1/jobs", TOKEN, "multipart/form-data; boundary=x", bad_form,
             strlen(bad_form));
    fws_expect_error(&r, 400, "bad_request");
    /* the page: a strict policy, no inline script */
    fws_http(&r, &s, "GET", "/", NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    char csp[512];
    assert_true(fws_header(&r, "Content-Security-Policy", csp, sizeof csp));
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(csp, "script-src 'self'"));
    assert_null(strstr(csp, "unsafe"));
    assert_null(strstr(r.body, "<script>"));
    assert_null(strstr(r.body, "onclick"));
    fws_resp_free(&r);
    fws_http(&r, &s, "GET", "/app.js", NULL, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "innerHTML"));
    fws_resp_free(&r);
    fws_stop(&s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(missing_or_wrong_token_is_401, fwt_teardown),
        cmocka_unit_test_teardown(tokenless_server_answers_only_its_own_machine, fwt_teardown),
        cmocka_unit_test_teardown(tokenless_listen_must_be_loopback_on_every_address, fwt_teardown),
        cmocka_unit_test_teardown(login_errors_are_told_apart, fwt_teardown),
        cmocka_unit_test_teardown(path_outside_the_roots_is_403, fwt_teardown),
        cmocka_unit_test_teardown(path_no_longer_allowed_when_its_job_starts_fails, fwt_teardown),
        cmocka_unit_test_teardown(urls_the_server_must_not_reach_are_403, fwt_teardown),
        cmocka_unit_test_teardown(upload_over_the_limit_is_413_before_it_is_read, fwt_teardown),
        cmocka_unit_test_teardown(file_name_and_key_that_are_not_utf8, fwt_teardown),
        cmocka_unit_test_teardown(full_queue_is_429_with_retry_after, fwt_teardown),
        cmocka_unit_test_teardown(full_queue_still_gives_a_retried_upload_its_job, fwt_teardown),
        cmocka_unit_test_teardown(errors_are_json_everywhere, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
