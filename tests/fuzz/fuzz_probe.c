/* The start-up probe of the openai backend (analyze/openai_probe.c): what a server says of
 * itself in GET /v1/models (the model, vLLM's max_model_len) and GET /props (llama-server's
 * total_slots, n_ctx). fw_oa_probe reads them with libcurl, so a server on loopback (a
 * thread of this process) answers with the input:
 *
 *   [STATUS STATUS [given]\n]   statuses of /models and /props (default 200 200); "given":
 *                               the caller names the model and 3 requests at once
 *   /models body
 *   [\n--props--\n /props body]
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "analyze/openai_msg.h"
#include "core/http.h"
#include "fuzz_util.h"

typedef struct reply {
    int status;
    const char *body;
    size_t n;
} reply;

static struct {
    pthread_mutex_t mu;
    int port;
    reply models, props; /* this input's answers, set while fw_oa_probe runs */
    int served;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

static void answer(int fd)
{
    char req[16384];
    size_t len = 0;
    while (len < sizeof req - 1) {
        ssize_t k = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[len] = '\0';
    pthread_mutex_lock(&srv.mu);
    const reply *r = strncmp(req, "GET /v1/models ", 15) == 0 ? &srv.models
                     : strncmp(req, "GET /props ", 11) == 0   ? &srv.props
                                                              : NULL;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d Fuzz\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     r ? r->status : 404, r ? r->n : 0);
    send_all(fd, head, (size_t)n);
    if (r)
        send_all(fd, r->body, r->n);
    srv.served++;
    pthread_mutex_unlock(&srv.mu);
    shutdown(fd, SHUT_WR);
    while (recv(fd, req, sizeof req, 0) > 0)
        ; /* until the client closes: no reset under its read */
    close(fd);
}

static void *serve(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0)
            answer(fd);
    }
    return NULL;
}

static void start_server(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    pthread_t t;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 16) ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) ||
        pthread_create(&t, NULL, serve, (void *)(intptr_t)lfd)) {
        perror("fuzz_probe: loopback server");
        abort();
    }
    pthread_detach(t);
    srv.port = ntohs(a.sin_port);
    /* the probe goes to this process, never through a proxy of the environment */
    setenv("no_proxy", "*", 1);
    setenv("NO_PROXY", "*", 1);
    fw_http_init();
}

static int status_of(int s)
{
    return s < 200 || s > 599 ? 200 : s; /* 1xx would make curl wait for the real answer */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, start_server);
    char *in = fz_cstr(data, size), *body = in;
    int s1 = 200, s2 = 200, given = 0, used = 0;
    char word[8] = "";
    if (sscanf(in, "%3d %3d%n", &s1, &s2, &used) == 2 && (in[used] == '\n' || in[used] == ' ')) {
        given = sscanf(in + used, " %5[a-z]", word) == 1 && strcmp(word, "given") == 0;
        char *nl = strchr(in + used, '\n');
        body = nl ? nl + 1 : in + size;
    } else {
        s1 = s2 = 200;
    }
    size_t rest = size - (size_t)(body - in);
    const char *sep = memmem(body, rest, "\n--props--\n", 11);
    reply models = {status_of(s1), body, sep ? (size_t)(sep - body) : rest};
    reply props = {status_of(s2), sep ? sep + 11 : "", sep ? rest - models.n - 11 : 0};

    pthread_mutex_lock(&srv.mu);
    srv.models = models;
    srv.props = props;
    srv.served = 0;
    pthread_mutex_unlock(&srv.mu);

    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", srv.port);
    char *model = NULL;
    int concurrency = given ? 3 : 0, n_ctx = 0;
    fw_error err = {0};
    int rc = fw_oa_probe(base, base, NULL, given ? "given-model" : NULL, &model, &concurrency,
                         &n_ctx, &err);

    pthread_mutex_lock(&srv.mu);
    srv.models = srv.props = (reply){0};
    pthread_mutex_unlock(&srv.mu);

    int refused = models.status == 401 || models.status == 403;
    FZ_CHECK("probe_fails_only_when_refused", !rc == !refused, "status %d: rc %d (%s)",
             models.status, rc, err.message);
    FZ_CHECK("probe_error_names_the_url", !rc || strstr(err.message, base), "'%s'", err.message);
    FZ_CHECK("probe_always_gives_a_model", model != NULL, "no model");
    if (given)
        FZ_CHECK("probe_keeps_the_given_model", strcmp(model, "given-model") == 0, "'%s'", model);
    if (!rc) {
        FZ_CHECK("probe_concurrency_in_range",
                 concurrency >= 1 && concurrency <= 64 && (!given || concurrency == 3), "%d",
                 concurrency);
        FZ_CHECK("probe_n_ctx_not_negative", n_ctx >= 0, "n_ctx %d (0 is unknown)", n_ctx);
        /* the model of the first data entry, when there is one and none was given */
        json_t *root = models.status == 200 ? json_loadb(models.body, models.n, 0, NULL) : NULL;
        const char *id = json_string_value(
            json_object_get(json_array_get(json_object_get(root, "data"), 0), "id"));
        if (!given)
            FZ_CHECK("probe_learns_the_model", strcmp(model, id ? id : "") == 0,
                     "'%s', the server says '%s'", model, id ? id : "(none)");
        json_decref(root);
    }
    free(model);
    free(in);
    return 0;
}
