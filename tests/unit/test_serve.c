/* The service's parts that need no server: the multipart reader, the guards, the names
 * of a job's files, the signature, the hub's cancels, the metrics text. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwtest.h"
#include "serve/auth.h"
#include "serve/guard.h"
#include "serve/hub.h"
#include "serve/jobs.h"
#include "serve/metrics.h"
#include "serve/multipart.h"
#include "serve/serve.h"

/* A body read a few bytes at a time, so every boundary case crosses reads. */
typedef struct src {
    const char *p;
    size_t n, at, step;
} src;

static int read_src(void *ctx, char *buf, size_t n)
{
    src *s = ctx;
    size_t k = s->n - s->at < s->step ? s->n - s->at : s->step;
    k = k < n ? k : n;
    memcpy(buf, s->p + s->at, k);
    s->at += k;
    return (int)k;
}

typedef struct got {
    char names[8][32], files[8][32];
    char data[8][256];
    size_t len[8];
    int n;
    size_t stop_after; /* stop when a part has more bytes than this (0: never) */
} got;

static int g_begin(void *u, const char *name, const char *filename)
{
    got *g = u;
    snprintf(g->names[g->n], 32, "%s", name);
    snprintf(g->files[g->n], 32, "%s", filename);
    return 0;
}

static int g_data(void *u, const char *b, size_t n)
{
    got *g = u;
    memcpy(g->data[g->n] + g->len[g->n], b, n);
    g->len[g->n] += n;
    return g->stop_after && g->len[g->n] > g->stop_after ? 413 : 0;
}

static int g_end(void *u)
{
    ((got *)u)->n++;
    return 0;
}

static int parse(const char *body, size_t step, got *g, char *why)
{
    src s = {body, strlen(body), 0, step};
    fw_multipart_cb cb = {g_begin, g_data, g_end, g};
    return fw_multipart_read("XyZ", read_src, &s, &cb, why, 256);
}

static void multipart_parts_come_whole_at_any_read_size(void **state)
{
    (void)state;
    const char *body = "preamble\r\n--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"options\"\r\n\r\n"
                       "{\"fps\": 2}\r\n--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n"
                       "Content-Type: video/mp4\r\n\r\n"
                       "\r\n--XyNOT a boundary\r\n\x01\x02\r\n--XyZ--\r\n";
    for (size_t step = 1; step < 80; step += 7) {
        got g = {0};
        char why[256];
        assert_int_equal(parse(body, step, &g, why), 0);
        assert_int_equal(g.n, 2);
        assert_string_equal(g.names[0], "options");
        assert_string_equal(g.files[0], "");
        assert_int_equal(g.len[0], 10);
        assert_memory_equal(g.data[0], "{\"fps\": 2}", 10);
        assert_string_equal(g.names[1], "file");
        assert_string_equal(g.files[1], "a.mp4");
        const char want[] = "\r\n--XyNOT a boundary\r\n\x01\x02";
        assert_int_equal(g.len[1], sizeof want - 1);
        assert_memory_equal(g.data[1], want, sizeof want - 1);
    }
    char b[80];
    assert_int_equal(fw_multipart_boundary("multipart/form-data; boundary=\"ab c\"", b, sizeof b),
                     0);
    assert_string_equal(b, "ab c");
    assert_int_equal(fw_multipart_boundary("multipart/form-data; boundary=q1; x=y", b, sizeof b),
                     0);
    assert_string_equal(b, "q1");
    assert_int_equal(fw_multipart_boundary("text/plain; boundary=x", b, sizeof b), -1);
    assert_int_equal(fw_multipart_boundary("multipart/form-data", b, sizeof b), -1);
}

static void multipart_stops_when_told_and_refuses_broken_bodies(void **state)
{
    (void)state;
    got g = {.stop_after = 5};
    char why[256];
    const char *big = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
                      "0123456789abcdef\r\n--XyZ--\r\n";
    assert_int_equal(parse(big, 4, &g, why), 413);
    const char *broken[] = {
        "no boundary at all",
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc", /* no end */
        "--XyZ\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--XyZ--",     /* no name */
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n",           /* cut header */
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZjunk",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        got b = {0};
        if (parse(broken[i], 3, &b, why) != -1)
            fail_msg("case %zu was taken", i);
        assert_true(strlen(why) > 0);
    }
}

static int public4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return fw_guard_public((struct sockaddr *)&a);
}

static int public6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return fw_guard_public((struct sockaddr *)&a);
}

static void addresses_that_are_not_public_are_known(void **state)
{
    (void)state;
    const char *private4[] = {"127.0.0.1",       "127.255.0.9", "10.0.0.1",        "172.16.0.1",
                              "172.31.255.255",  "192.168.1.1", "169.254.169.254", "0.0.0.0",
                              "0.1.2.3",         "100.64.0.1",  "100.127.255.255", "224.0.0.1",
                              "239.255.255.250", "240.0.0.1",   "255.255.255.255", "198.18.0.1",
                              "198.19.255.255",  "192.0.0.8",   "192.0.2.1",       "198.51.100.7",
                              "203.0.113.9"};
    for (size_t i = 0; i < sizeof private4 / sizeof private4[0]; i++)
        if (public4(private4[i]))
            fail_msg("%s taken for public", private4[i]);
    const char *public_4[] = {"93.184.216.34", "172.32.0.1",     "8.8.8.8",   "100.63.255.255",
                              "100.128.0.1",   "198.20.0.1",     "192.0.3.1", "198.51.101.1",
                              "203.0.112.1",   "223.255.255.254"};
    for (size_t i = 0; i < sizeof public_4 / sizeof public_4[0]; i++)
        if (!public4(public_4[i]))
            fail_msg("%s taken for private", public_4[i]);
    const char *private6[] = {"::1",
                              "::",
                              "fe80::1",
                              "fd00::1",
                              "fc00::2",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:10.1.2.3",
                              "2001:db8::1",
                              "::127.0.0.1", /* IPv4-compatible: the IPv4 address decides */
                              "::10.0.0.1",
                              "::169.254.169.254",
                              "fec0::1", /* site-local */
                              "feff::1",
                              "64:ff9b::127.0.0.1", /* NAT64: the IPv4 address decides */
                              "64:ff9b::10.0.0.1",
                              "64:ff9b::192.0.2.1",
                              "64:ff9b:1::8.8.8.8", /* local-use NAT64 */
                              "64:ff9b:1:ffff::1"};
    for (size_t i = 0; i < sizeof private6 / sizeof private6[0]; i++)
        if (public6(private6[i]))
            fail_msg("%s taken for public", private6[i]);
    const char *public_6[] = {"2606:4700::1111", "::ffff:8.8.8.8", "::8.8.8.8", "64:ff9b::8.8.8.8"};
    for (size_t i = 0; i < sizeof public_6 / sizeof public_6[0]; i++)
        if (!public6(public_6[i]))
            fail_msg("%s taken for private", public_6[i]);
}

static void urls_are_checked_before_any_request(void **state)
{
    (void)state;
    fw_guard g;
    const char *hosts[] = {"media.example.com", "*.cdn.example.net", "127.0.0.1"};
    char why[512];
    assert_int_equal(fw_guard_init(&g, NULL, 0, hosts, 3, 0, why, sizeof why), 0);
    assert_int_equal(fw_guard_url(&g, "ftp://media.example.com/a.mp4", why, sizeof why),
                     FW_GUARD_FORBIDDEN);
    assert_non_null(strstr(why, "http"));
    assert_int_equal(fw_guard_url(&g, "http://other.example.com/a.mp4", why, sizeof why),
                     FW_GUARD_FORBIDDEN);
    assert_non_null(strstr(why, "not allowed"));
    assert_int_equal(fw_guard_url(&g, "http://cdn.example.net.evil/a", why, sizeof why),
                     FW_GUARD_FORBIDDEN);
    assert_int_equal(fw_guard_url(&g, "http://127.0.0.1:8080/a.mp4", why, sizeof why),
                     FW_GUARD_FORBIDDEN);
    assert_non_null(strstr(why, "127.0.0.1"));
    assert_int_equal(fw_guard_url(&g, "not a url", why, sizeof why), FW_GUARD_FORBIDDEN);
    fw_guard open;
    assert_int_equal(fw_guard_init(&open, NULL, 0, hosts, 3, 1, why, sizeof why), 0);
    assert_int_equal(fw_guard_url(&open, "http://127.0.0.1:8080/a.mp4", why, sizeof why),
                     FW_GUARD_OK);
}

static void paths_are_resolved_before_the_roots_are_checked(void **state)
{
    (void)state;
    const char *dir = fwt_tmpdir();
    fwt_run r;
    fwt_sh(&r, "mkdir -p '%s/in' && touch '%s/in/a.mp4' '%s/secret' && ln -s ../secret '%s/in/l'",
           dir, dir, dir, dir);
    fwt_free(&r);
    char root[600], path[700], resolved[4096], why[512];
    snprintf(root, sizeof root, "%s/in", dir);
    const char *roots[] = {root};
    fw_guard g;
    assert_int_equal(fw_guard_init(&g, roots, 1, NULL, 0, 0, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/in/./a.mp4", dir);
    assert_int_equal(fw_guard_path(&g, path, resolved, sizeof resolved, why, sizeof why),
                     FW_GUARD_OK);
    assert_non_null(strstr(resolved, "/in/a.mp4"));
    snprintf(path, sizeof path, "%s/in/l", dir);
    assert_int_equal(fw_guard_path(&g, path, resolved, sizeof resolved, why, sizeof why),
                     FW_GUARD_FORBIDDEN);
    snprintf(path, sizeof path, "%s/in/../secret", dir);
    assert_int_equal(fw_guard_path(&g, path, resolved, sizeof resolved, why, sizeof why),
                     FW_GUARD_FORBIDDEN);
    snprintf(path, sizeof path, "%s/inside-not", dir); /* a prefix is not a folder */
    assert_int_equal(fw_guard_path(&g, path, resolved, sizeof resolved, why, sizeof why),
                     FW_GUARD_FORBIDDEN);
    snprintf(path, sizeof path, "%s/in/gone.mp4", dir);
    assert_int_equal(fw_guard_path(&g, path, resolved, sizeof resolved, why, sizeof why),
                     FW_GUARD_MISSING);
    const char *bad[] = {"/nonexistent-root-folder"};
    assert_int_equal(fw_guard_init(&g, bad, 1, NULL, 0, 0, why, sizeof why), -1);
    assert_non_null(strstr(why, "nonexistent-root-folder"));
}

static void only_a_jobs_own_files_are_served(void **state)
{
    (void)state;
    const char *ok[] = {"report.json", "report.html", "captions.vtt", "kf_000001.jpg", "kf_12.jpg"};
    const char *no[] = {"../store.db",  "kf_1.jpg/../x",  "kf_.jpg", "kf_00a1.jpg", "report.JSON",
                        ".report.json", "kf_000001.jpeg", "",        "/etc/passwd"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(fw_job_file_ok(ok[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (fw_job_file_ok(no[i]))
            fail_msg("'%s' would be served", no[i]);
}

static void signature_and_token_compare_are_hmac_sha256(void **state)
{
    (void)state;
    char mac[65];
    fw_hmac_hex("Jefe", "what do ya want for nothing?", 28, mac); /* RFC 4231, case 2 */
    assert_string_equal(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    fw_auth a;
    fw_auth_init(&a, "tok");
    assert_true(fw_auth_token_ok(&a, "tok", 3));
    assert_false(fw_auth_token_ok(&a, "to", 2));
    assert_false(fw_auth_token_ok(&a, "tok2", 4));
    assert_false(fw_auth_token_ok(&a, "", 0));
    char cookie[256];
    fw_auth_session(&a, 60, cookie, sizeof cookie);
    assert_true(strncmp(cookie, FW_SESSION_COOKIE "=", strlen(FW_SESSION_COOKIE) + 1) == 0);
    assert_non_null(strstr(cookie, "HttpOnly"));
}

static void loopback_hosts_and_origins_are_told_from_names_that_look_alike(void **state)
{
    (void)state;
    const char *local[] = {"localhost", "LocalHost:8080", "127.0.0.1",          "127.255.1.2:65535",
                           "[::1]",     "[::1]:80",       "[0:0:0:0:0:0:0:1]:1"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (!fw_auth_loopback_host(local[i]))
            fail_msg("'%s' not taken for loopback", local[i]);
    const char *foreign[] = {"",
                             "evil.example",
                             "127.0.0.1.evil.example",
                             "localhost.evil.example",
                             "127.1",
                             "128.0.0.1",
                             "10.0.0.1:80",
                             "[::2]",
                             "[::1",
                             "[::1]x",
                             "localhost:",
                             "localhost:123456",
                             "localhost:80:80",
                             "[::ffff:127.0.0.1]"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
        if (fw_auth_loopback_host(foreign[i]))
            fail_msg("'%s' taken for loopback", foreign[i]);
    assert_true(fw_auth_loopback_origin("http://localhost:3000"));
    assert_true(fw_auth_loopback_origin("http://[::1]"));
    assert_false(fw_auth_loopback_origin("null"));
    assert_false(fw_auth_loopback_origin("http://evil.example"));
    assert_false(fw_auth_loopback_origin("http://localhost/"));
    assert_false(fw_auth_loopback_origin("file://localhost"));
}

static void a_tokenless_listen_list_is_loopback_in_every_entry(void **state)
{
    (void)state;
    const char *local[] = {"127.0.0.1:8080", "localhost:0", "[::1]:80",
                           "127.0.0.1:80,[::1]:81,127.0.0.2:82", "127.0.0.1:443s"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (!fw_serve_loopback_only(local[i]))
            fail_msg("'%s' refused", local[i]);
    const char *open[] = {"8080",
                          "+8080",
                          "0.0.0.0:80",
                          "127.0.0.1:80,0.0.0.0:81",
                          "127.0.0.1:80,8081",
                          "127.0.0.1:80,+81",
                          "127.evil.example:80",
                          "127.0.0.1:80,",
                          ",127.0.0.1:80",
                          "[::]:80",
                          "[::1]",
                          "",
                          "127.0.0.1:80, 0.0.0.0:81"};
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        if (fw_serve_loopback_only(open[i]))
            fail_msg("'%s' taken for loopback only", open[i]);
}

static fw_queue *queue_with(int n, fw_hub **hub)
{
    char path[600];
    snprintf(path, sizeof path, "%s/store.db", fwt_tmpdir());
    fw_queue *q = NULL;
    fw_error err = {0};
    if (fw_queue_open(&q, path, &err))
        fail_msg("%s", err.message);
    for (int i = 0; i < n; i++) {
        int64_t id;
        assert_int_equal(fw_queue_push(q, "{}", NULL, 0, &id, NULL), FW_QUEUE_ADDED);
    }
    *hub = fw_hub_new(q);
    return q;
}

static int64_t claim(fw_hub *h)
{
    fw_queue_item it = {0};
    assert_int_equal(fw_hub_claim(h, &it, NULL), 1);
    int64_t id = it.id;
    fw_queue_item_clear(&it);
    return id;
}

/* A client's cancel of a job that does not run here (ended, another process's) is not
 * kept: the job would be cancelled at once if this server claimed it later. */
static void hub_cancels_only_what_runs_here_and_keeps_nothing_else(void **state)
{
    (void)state;
    fw_hub *h;
    fw_queue *q = queue_with(1, &h);
    assert_int_equal(fw_hub_cancel(h, 1), 0); /* queued, not claimed */
    assert_int_equal(fw_hub_cancelled(h, 1), FW_HUB_GO);
    int64_t id = claim(h);
    assert_int_equal(id, 1);
    assert_int_equal(fw_hub_busy(h), 1);
    assert_int_equal(fw_hub_run(h, id, NULL), FW_HUB_GO);
    assert_int_equal(fw_hub_cancel(h, id), 1);
    assert_int_equal(fw_hub_cancelled(h, id), FW_HUB_CANCELLED);
    assert_int_equal(fw_hub_run(h, id, NULL), FW_HUB_CANCELLED);
    fw_hub_finish(h, id, NULL);
    assert_int_equal(fw_hub_busy(h), 0);
    assert_int_equal(fw_hub_cancel(h, id), 0); /* ended */
    assert_int_equal(fw_hub_cancelled(h, id), FW_HUB_GO);
    fw_hub_free(h);
    fw_queue_close(q);
}

/* The stop flags what runs and what is claimed after it; a client's cancel still wins. */
static void hub_tells_a_job_claimed_after_the_stop_to_stop(void **state)
{
    (void)state;
    fw_hub *h;
    fw_queue *q = queue_with(3, &h);
    int64_t a = claim(h), b = claim(h);
    assert_int_equal(fw_hub_run(h, a, NULL), FW_HUB_GO);
    fw_hub_cancel_all(h);
    assert_int_equal(fw_hub_cancelled(h, a), FW_HUB_STOPPING);
    assert_int_equal(fw_hub_run(h, b, NULL), FW_HUB_STOPPING);
    int64_t late = claim(h);
    assert_int_equal(fw_hub_run(h, late, NULL), FW_HUB_STOPPING);
    assert_int_equal(fw_hub_cancel(h, b), 1);
    assert_int_equal(fw_hub_cancelled(h, b), FW_HUB_CANCELLED);
    fw_hub_free(h);
    fw_queue_close(q);
}

static void metrics_are_prometheus_text(void **state)
{
    (void)state;
    fw_metrics *m = fw_metrics_new();
    fw_metrics_request(m, FW_ROUTE_SUBMIT, 202, 0.003);
    fw_metrics_request(m, FW_ROUTE_SUBMIT, 413, 20);
    fw_metrics_keyframe(m);
    json_t *stats = json_pack("{s:i, s:i, s:i}", "requests", 9, "retries", 2, "image_tokens", 800);
    fw_metrics_job_end(m, "done", stats);
    json_decref(stats);
    int64_t counts[FW_QUEUE_N_STATES] = {3, 1, 5, 0, 2};
    char *text = fw_metrics_text(m, counts, 2, 1);
    const char *want[] = {
        "# TYPE framewise_jobs gauge\n",
        "framewise_jobs{state=\"queued\"} 3\n",
        "framewise_queue_depth 3\n",
        "framewise_workers_busy 1\n",
        "framewise_jobs_ended_total{state=\"done\"} 1\n",
        "framewise_keyframes_total 1\n",
        "framewise_model_requests_total 9\n",
        "framewise_model_retries_total 2\n",
        "framewise_image_tokens_total 800\n",
        "framewise_http_request_duration_seconds_bucket{route=\"submit\",le=\"0.005\"} 1\n",
        "framewise_http_request_duration_seconds_bucket{route=\"submit\",le=\"10\"} 1\n",
        "framewise_http_request_duration_seconds_bucket{route=\"submit\",le=\"+Inf\"} 2\n",
        "framewise_http_request_duration_seconds_count{route=\"submit\"} 2\n",
        "framewise_http_requests_total{route=\"submit\",code=\"4xx\"} 1\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], text);
    free(text);
    fw_metrics_free(m);
}

/* A job's stats.endpoints as {url, requests, answered, failed, latency_ms.mean}. */
static json_t *endpoint_stats(const char *url, int requests, int answered, double mean_ms)
{
    return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:{s:f, s:f, s:f}}", "url", url, "slots", 2,
                     "requests", requests, "answered", answered, "failed", requests - answered,
                     "taken_out", 0, "latency_ms", "mean", mean_ms, "p50", mean_ms, "max", mean_ms);
}

static void metrics_count_each_model_server_apart(void **state)
{
    (void)state;
    fw_metrics *m = fw_metrics_new();
    char *text = fw_metrics_text(m, (int64_t[FW_QUEUE_N_STATES]){0}, 1, 0);
    assert_null(strstr(text, "framewise_vlm_endpoint")); /* no job yet: no series */
    free(text);
    for (int job = 0; job < 2; job++) { /* the same two servers in two jobs: summed */
        json_t *list = json_array();
        json_array_append_new(list, endpoint_stats("http://a:8080/v1", 10, 9, 200));
        json_array_append_new(list, endpoint_stats("http://b\"x:8080/v1", 4, 4, 500));
        json_t *stats = json_pack("{s:i, s:o}", "requests", 14, "endpoints", list);
        fw_metrics_job_end(m, "done", stats);
        json_decref(stats);
    }
    json_t *many = json_array(); /* 16 more: the 17th and 18th of all go under "other" */
    for (int i = 0; i < 16; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://host%d:8080/v1", i);
        json_array_append_new(many, endpoint_stats(url, 1, 1, 100));
    }
    json_t *stats = json_pack("{s:o}", "endpoints", many);
    fw_metrics_job_end(m, "done", stats);
    json_decref(stats);
    text = fw_metrics_text(m, (int64_t[FW_QUEUE_N_STATES]){0}, 1, 0);
    const char *want[] = {
        "# TYPE framewise_vlm_endpoint_requests_total counter\n",
        "framewise_vlm_endpoint_requests_total{endpoint=\"http://a:8080/v1\"} 20\n",
        "framewise_vlm_endpoint_requests_total{endpoint=\"http://b\\\"x:8080/v1\"} 8\n",
        "framewise_vlm_endpoint_failures_total{endpoint=\"http://a:8080/v1\"} 2\n",
        "# TYPE framewise_vlm_endpoint_request_seconds summary\n",
        "framewise_vlm_endpoint_request_seconds_sum{endpoint=\"http://a:8080/v1\"} 3.600000\n",
        "framewise_vlm_endpoint_request_seconds_count{endpoint=\"http://a:8080/v1\"} 18\n",
        "framewise_vlm_endpoint_requests_total{endpoint=\"http://host13:8080/v1\"} 1\n",
        "framewise_vlm_endpoint_requests_total{endpoint=\"other\"} 2\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("missing '%s' in:\n%s", want[i], text);
    assert_null(strstr(text, "host14"));
    free(text);
    fw_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(multipart_parts_come_whole_at_any_read_size),
        cmocka_unit_test(multipart_stops_when_told_and_refuses_broken_bodies),
        cmocka_unit_test(addresses_that_are_not_public_are_known),
        cmocka_unit_test(urls_are_checked_before_any_request),
        cmocka_unit_test_teardown(paths_are_resolved_before_the_roots_are_checked, fwt_teardown),
        cmocka_unit_test(only_a_jobs_own_files_are_served),
        cmocka_unit_test(signature_and_token_compare_are_hmac_sha256),
        cmocka_unit_test(loopback_hosts_and_origins_are_told_from_names_that_look_alike),
        cmocka_unit_test(a_tokenless_listen_list_is_loopback_in_every_entry),
        cmocka_unit_test_teardown(hub_cancels_only_what_runs_here_and_keeps_nothing_else,
                                  fwt_teardown),
        cmocka_unit_test_teardown(hub_tells_a_job_claimed_after_the_stop_to_stop, fwt_teardown),
        cmocka_unit_test(metrics_are_prometheus_text),
        cmocka_unit_test(metrics_count_each_model_server_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
