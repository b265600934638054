/* fw_serve_run: the service's start, its routes, the WebSocket handlers and its stop. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"
#include "emit/emit.h" /* fw_mkdirs */
#include "serve/http.h"
#include "serve/jobs.h"
#include "serve/service.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "/v1/jobs/12/files/kf_000001.jpg" -> 12 and the rest ("/files/kf_000001.jpg"); 0 when
 * the path is not a job's. */
static int64_t job_path(const char *uri, const char **rest)
{
    const char *p = uri + strlen("/v1/jobs/");
    char *end = NULL;
    long long id = strtoll(p, &end, 10);
    if (end == p || id <= 0 || (*end && *end != '/'))
        return 0;
    *rest = end;
    return id;
}

static int method_not_allowed(struct mg_connection *c, const char *allow)
{
    const char *h[] = {"Allow", allow, NULL};
    return fw_http_error_h(c, 405, "method_not_allowed", h, "use %s", allow);
}

static int on_job(fw_service *s, struct mg_connection *c, const char *m, const char *uri,
                  fw_route *route)
{
    const char *rest = NULL;
    int64_t id = job_path(uri, &rest);
    if (!id)
        return fw_http_error(c, 404, "not_found", "no such resource");
    if (!*rest) {
        *route = strcmp(m, "DELETE") == 0 ? FW_ROUTE_CANCEL : FW_ROUTE_STATUS;
        if (strcmp(m, "GET") == 0)
            return fw_api_get(s, c, id);
        if (strcmp(m, "DELETE") == 0)
            return fw_api_cancel(s, c, id);
        return method_not_allowed(c, "GET, DELETE");
    }
    *route = FW_ROUTE_RESULT;
    if (strcmp(m, "GET") != 0)
        return method_not_allowed(c, "GET");
    if (strcmp(rest, "/report") == 0)
        return fw_api_report(s, c, id);
    if (strncmp(rest, "/files/", 7) == 0)
        return fw_api_file(s, c, id, rest + 7);
    if (strcmp(rest, "/events") == 0) {
        *route = FW_ROUTE_EVENTS;
        return fw_http_error(c, 400, "websocket_expected",
                             "GET %s is a WebSocket: send Upgrade: websocket", uri);
    }
    return fw_http_error(c, 404, "not_found", "no such resource");
}

static int on_v1(fw_service *s, struct mg_connection *c, const char *m, const char *uri,
                 fw_route *route)
{
    const char *rest = NULL;
    int64_t id = strncmp(uri, "/v1/jobs/", 9) == 0 ? job_path(uri, &rest) : 0;
    if (id && strcmp(rest, "/input") == 0) { /* a worker's: the job's own token */
        *route = FW_ROUTE_RESULT;
        return strcmp(m, "GET") == 0 ? fw_api_input(s, c, id) : method_not_allowed(c, "GET");
    }
    const char *why = fw_auth_check(&s->auth, c);
    if (why) {
        const char *h[] = {"WWW-Authenticate", "Bearer realm=\"framewise\"", NULL};
        return fw_http_error_h(c, 401, "unauthorized", h,
                               strcmp(why, "missing") == 0 ? "send Authorization: Bearer TOKEN"
                               : strcmp(why, "origin") == 0
                                   ? "the session cookie is only taken from this "
                                     "server's own page"
                                   : "the token is wrong");
    }
    if (strcmp(uri, "/v1/jobs") == 0) {
        *route = strcmp(m, "POST") == 0 ? FW_ROUTE_SUBMIT : FW_ROUTE_LIST;
        if (strcmp(m, "POST") == 0)
            return fw_api_submit(s, c);
        if (strcmp(m, "GET") == 0)
            return fw_api_list(s, c);
        return method_not_allowed(c, "GET, POST");
    }
    if (strncmp(uri, "/v1/jobs/", 9) == 0)
        return on_job(s, c, m, uri, route);
    if (strcmp(uri, "/v1/presets") == 0)
        return strcmp(m, "GET") == 0 ? fw_api_presets(s, c) : method_not_allowed(c, "GET");
    return fw_http_error(c, 404, "not_found", "no such resource");
}

/* POST /session {"token"}: the page's cookie; DELETE: forget it; GET: whether one is
 * needed and whether this request has it. */
static int on_session(fw_service *s, struct mg_connection *c, const char *m)
{
    char cookie[256];
    if (strcmp(m, "GET") == 0) {
        json_t *j = json_pack("{s:b, s:b}", "required", s->auth.token != NULL, "authenticated",
                              fw_auth_check(&s->auth, c) == NULL);
        int st = fw_http_json(c, 200, j);
        json_decref(j);
        return st;
    }
    if (strcmp(m, "DELETE") == 0) {
        const char *h[] = {"Set-Cookie",
                           FW_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict",
                           NULL};
        return fw_http_send(c, 204, "text/plain", "", 0, h);
    }
    if (strcmp(m, "POST") != 0)
        return method_not_allowed(c, "GET, POST, DELETE");
    json_t *j;
    json_error_t jerr;
    int answered = fw_http_read_json(c, FW_SERVE_MAX_LOGIN, "a login", &j, &jerr);
    if (answered)
        return answered;
    const char *token = json_string_value(json_object_get(j, "token"));
    /* only a token that is there and wrong is a 401: a broken body is the client's bug */
    int ok = token && fw_auth_token_ok(&s->auth, token, strlen(token));
    const char *code = !json_is_object(j) ? "bad_json" : token ? NULL : "bad_request";
    json_decref(j);
    if (code)
        return fw_http_error(c, 400, code, "send {\"token\": \"...\"} as JSON");
    if (!ok)
        return fw_http_error(c, 401, "unauthorized", "the token is wrong");
    fw_auth_session(&s->auth, FW_SERVE_SESSION_S, cookie, sizeof cookie);
    const char *h[] = {"Set-Cookie", cookie, NULL};
    return fw_http_send(c, 204, "text/plain", "", 0, h);
}

static int on_health(fw_service *s, struct mg_connection *c)
{
    int64_t counts[FW_QUEUE_N_STATES] = {0};
    int ok = fw_queue_counts(s->queue, counts, NULL) == 0;
    json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:I}", "status", ok ? "ok" : "store_error",
                          "version", FW_VERSION, "workers", s->n_workers, "busy",
                          fw_hub_busy(s->hub), "queued", (json_int_t)counts[0]);
    int st = fw_http_json(c, ok ? 200 : 503, j);
    json_decref(j);
    return st;
}

static int on_metrics(fw_service *s, struct mg_connection *c)
{
    if (fw_auth_check(&s->auth, c))
        return fw_http_error(c, 401, "unauthorized", "send Authorization: Bearer TOKEN");
    int64_t counts[FW_QUEUE_N_STATES] = {0};
    fw_queue_counts(s->queue, counts, NULL);
    char *text = fw_metrics_text(s->metrics, counts, s->n_workers, fw_hub_busy(s->hub));
    int st = text ? fw_http_send(c, 200, "text/plain; version=0.0.4; charset=utf-8", text,
                                 strlen(text), NULL)
                  : fw_http_error(c, 500, "internal", "out of memory");
    free(text);
    return st;
}

/* Without a token, a request from anywhere but this machine's own clients (auth.h): its
 * status sent, else 0. */
static int refuse_foreign(fw_service *s, struct mg_connection *c)
{
    const char *why = fw_auth_local(&s->auth, c);
    if (!why)
        return 0;
    return fw_http_error(c, 403, "forbidden_origin",
                         strcmp(why, "host") == 0
                             ? "without a token this server answers only requests to a loopback "
                               "name (Host: localhost, 127.0.0.1 or [::1])"
                             : "without a token this server answers no page of another origin "
                               "than http://localhost, http://127.0.0.1 or http://[::1]");
}

static int dispatch(fw_service *s, struct mg_connection *c, fw_route *route)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *m = ri->request_method, *uri = ri->local_uri ? ri->local_uri : "/";
    int st;
    *route = FW_ROUTE_PAGE;
    if (strcmp(uri, "/healthz") != 0 && (st = refuse_foreign(s, c))) { /* probes stay open */
        *route = FW_ROUTE_OTHER;
        return st;
    }
    if (strncmp(uri, "/v1/", 4) == 0 || strcmp(uri, "/v1") == 0) {
        *route = FW_ROUTE_OTHER;
        return on_v1(s, c, m, uri, route);
    }
    if (strcmp(uri, "/healthz") == 0)
        return on_health(s, c);
    if (strcmp(uri, "/metrics") == 0)
        return on_metrics(s, c);
    if (strcmp(uri, "/session") == 0)
        return on_session(s, c, m);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        st = fw_web_serve(c, uri);
        if (st)
            return st;
    }
    *route = FW_ROUTE_OTHER;
    return fw_http_error(c, 404, "not_found", "no such resource");
}

/* A request's work, done on a thread with a stack of FW_SERVE_STACK (see limits.h) while
 * civetweb's thread waits. */
typedef struct call {
    void (*fn)(struct call *k);
    fw_service *s;
    struct mg_connection *c;
    fw_route route;
    int status;
} call;

static void *call_main(void *arg)
{
    call *k = arg;
    k->fn(k);
    return NULL;
}

static void on_big_stack(call *k)
{
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, FW_SERVE_STACK);
    if (pthread_create(&t, &attr, call_main, k) == 0)
        pthread_join(t, NULL);
    else
        k->status = fw_http_error(k->c, 503, "busy", "the server cannot take the request now");
    pthread_attr_destroy(&attr);
}

static void dispatch_call(call *k)
{
    k->status = dispatch(k->s, k->c, &k->route);
}

static int on_request(struct mg_connection *c, void *cbdata)
{
    fw_service *s = cbdata;
    double t0 = now_s();
    call k = {.fn = dispatch_call, .s = s, .c = c, .route = FW_ROUTE_OTHER};
    on_big_stack(&k);
    fw_route route = k.route;
    int st = k.status;
    double dt = now_s() - t0;
    fw_metrics_request(s->metrics, route, st, dt);
    if (s->cfg->verbose) {
        const struct mg_request_info *ri = mg_get_request_info(c);
        fprintf(stderr, "framewise serve: %s %s %d %.1f ms\n", ri->request_method, ri->local_uri,
                st, dt * 1e3);
    }
    return st > 0 ? st : 500;
}

/* civetweb's own errors (a malformed request, headers too large): JSON too, and nothing
 * of its internals. */
static int on_http_error(struct mg_connection *c, int status, const char *msg)
{
    (void)msg;
    fw_http_error(c, status, "http_error", "the request cannot be served (HTTP %d)", status);
    return 0;
}

static int on_log(const struct mg_connection *c, const char *msg)
{
    (void)c;
    (void)msg;
    return 1; /* civetweb's messages stay out of the terminal */
}

/* ---- WebSocket: /v1/jobs/{id}/events ------------------------------------------------ */

static void ws_connect_call(call *k)
{
    fw_service *s = k->s;
    struct mg_connection *c = k->c;
    const char *uri = mg_get_request_info(c)->local_uri, *rest = NULL;
    double t0 = now_s();
    int64_t id = job_path(uri, &rest);
    /* no CORS for a WebSocket: without a token the Origin check keeps other pages out */
    int st = refuse_foreign(s, c);
    if (!st && fw_auth_check(&s->auth, c))
        st = fw_http_error(c, 401, "unauthorized", "send Authorization: Bearer TOKEN, or log in");
    else if (!st && (!id || strcmp(rest, "/events") != 0))
        st = fw_http_error(c, 404, "not_found", "no such resource");
    else if (!st) {
        fw_queue_item it = {0};
        if (fw_queue_get(s->queue, id, &it, NULL) != 1)
            st = fw_http_error(c, 404, "not_found", "no job %" PRId64, id);
        fw_queue_item_clear(&it);
    }
    fw_metrics_request(s->metrics, FW_ROUTE_EVENTS, st ? st : 101, now_s() - t0);
    if (!st)
        mg_set_user_connection_data(c, (void *)(intptr_t)id);
    k->status = st;
}

static int ws_connect(const struct mg_connection *c, void *cbdata)
{
    /* civetweb gives the handshake's connection as const, yet lets it answer: a refused
     * handshake gets an HTTP error like every other request */
    call k = {.fn = ws_connect_call, .s = cbdata, .c = (struct mg_connection *)c};
    on_big_stack(&k);
    return k.status ? 1 : 0;
}

static void ws_ready_call(call *k)
{
    int64_t id = (int64_t)(intptr_t)mg_get_user_connection_data(k->c);
    fw_hub_subscribe(k->s->hub, id, k->c);
}

static void ws_ready(struct mg_connection *c, void *cbdata)
{
    call k = {.fn = ws_ready_call, .s = cbdata, .c = c};
    on_big_stack(&k);
}

static int ws_data(struct mg_connection *c, int bits, char *data, size_t n, void *cbdata)
{
    (void)c, (void)data, (void)n, (void)cbdata;
    /* the client has nothing to say; its close ends the connection */
    return (bits & 0x0f) != MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE;
}

static void ws_close(const struct mg_connection *c, void *cbdata)
{
    fw_service *s = cbdata;
    fw_hub_unsubscribe(s->hub, (struct mg_connection *)c);
}

/* ---- start and stop ----------------------------------------------------------------- */

static int open_data(fw_service *s, fw_error *err)
{
    const char *d = s->cfg->data;
    char sub[4300];
    if (fw_mkdirs(d) || !realpath(d, s->data))
        return fw_error_set(err, FW_EIO, "%s: cannot create the data folder: %s", d,
                            strerror(errno));
    snprintf(sub, sizeof sub, "%s/uploads", s->data);
    if (fw_mkdirs(sub))
        return fw_error_set(err, FW_EIO, "%s: cannot create: %s", sub, strerror(errno));
    snprintf(sub, sizeof sub, "%s/jobs", s->data);
    if (fw_mkdirs(sub))
        return fw_error_set(err, FW_EIO, "%s: cannot create: %s", sub, strerror(errno));
    return 0;
}

static int start_http(fw_service *s, fw_error *err)
{
    char threads[16];
    snprintf(threads, sizeof threads, "%d", FW_SERVE_HTTP_THREADS);
    const char *options[] = {"listening_ports",
                             s->cfg->listen,
                             "num_threads",
                             threads,
                             "request_timeout_ms",
                             "60000",
                             "websocket_timeout_ms",
                             "3600000",
                             "enable_keep_alive",
                             "yes",
                             NULL};
    struct mg_callbacks cb = {0};
    cb.http_error = on_http_error;
    cb.log_message = on_log;
    mg_init_library(MG_FEATURES_WEBSOCKET);
    if (!(s->mg = mg_start(&cb, s, options)))
        return fw_error_set(err, FW_EOPEN, "cannot listen on %s (in use, or not an address)",
                            s->cfg->listen);
    mg_set_request_handler(s->mg, "/", on_request, s);
    mg_set_websocket_handler(s->mg, "/v1/jobs/", ws_connect, ws_ready, ws_data, ws_close, s);
    struct mg_server_port ports[4];
    if (mg_get_server_ports(s->mg, 4, ports) < 1)
        return fw_error_set(err, FW_EOPEN, "no listening port");
    s->port = ports[0].port;
    return 0;
}

/* How other machines reach this node: --advertise, else its loopback address. */
static void name_origin(fw_service *s)
{
    if (s->cfg->advertise)
        snprintf(s->origin, sizeof s->origin, "%s", s->cfg->advertise);
    else if (s->port)
        snprintf(s->origin, sizeof s->origin, "http://127.0.0.1:%d", s->port);
    size_t n = strlen(s->origin);
    while (n > 0 && s->origin[n - 1] == '/')
        s->origin[--n] = '\0';
}

static void teardown(fw_service *s)
{
    if (s->mg)
        mg_stop(s->mg); /* no more requests; the WebSockets close */
    if (s->hub)
        fw_workers_stop(s);
    fw_notifier_stop(s->notifier);
    fw_queue_close(s->queue); /* before the hub: its listener tells the hub */
    fw_hub_free(s->hub);
    fw_metrics_free(s->metrics);
    if (s->mg)
        mg_exit_library();
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
}

int fw_serve_run(const fw_serve_config *cfg, fw_error *err)
{
    fw_service s = {.cfg = cfg};
    fw_auth_init(&s.auth, cfg->token);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.wake, NULL);
    /* the signals that stop the server come to the main thread's sigwait only */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    char why[512];
    int rc = open_data(&s, err);
    if (!rc && fw_guard_init(&s.guard, cfg->roots, cfg->n_roots, cfg->hosts, cfg->n_hosts,
                             cfg->allow_private, why, sizeof why))
        rc = fw_error_set(err, FW_EINVAL, "%s", why);
    if (!rc)
        rc = cfg->queue ? fw_queue_open_redis(
                              &s.queue, cfg->queue,
                              cfg->claim_after > 0 ? cfg->claim_after : FW_QUEUE_CLAIM_AFTER_S, err)
                        : fw_queue_open(&s.queue, cfg->store, err);
    if (!rc && (!(s.hub = fw_hub_new(s.queue)) || !(s.metrics = fw_metrics_new()) ||
                !(s.notifier = fw_notifier_start(&s.guard, cfg->token))))
        rc = fw_error_set(err, FW_ENOMEM, "out of memory");
    if (!rc && !cfg->worker_only)
        rc = start_http(&s, err);
    if (!rc)
        name_origin(&s);
    if (!rc && fw_queue_shared(s.queue))
        rc = fw_queue_listen(s.queue, fw_shared_heard, &s, err);
    if (!rc && fw_workers_start(&s))
        rc = fw_error_set(err, FW_EINTERNAL, "cannot start the workers");
    if (!rc && cfg->worker_only) {
        fprintf(stderr, "framewise worker: %d workers on %s (data %s)\n", s.n_workers,
                cfg->queue ? cfg->queue : "the store's queue", s.data);
        int sig = 0;
        sigwait(&stop, &sig);
        fprintf(stderr, "framewise worker: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    } else if (!rc) {
        /* the first address's host (of a comma list), with the port it got */
        size_t first = strcspn(cfg->listen, ","), host_len = 0;
        for (size_t i = 0; i < first; i++)
            host_len = cfg->listen[i] == ':' ? i : host_len;
        fprintf(stderr,
                "framewise serve: listening on http://%.*s:%d (%d workers, queue %d, data %s)\n",
                host_len ? (int)host_len : 7, host_len ? cfg->listen : "0.0.0.0", s.port,
                s.n_workers, cfg->queue_size, s.data);
        int sig = 0;
        sigwait(&stop, &sig);
        fprintf(stderr, "framewise serve: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    teardown(&s);
    return rc;
}
