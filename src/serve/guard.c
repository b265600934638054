#include "serve/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int fw_guard_init(fw_guard *g, const char *const *roots, int n_roots, const char *const *hosts,
                  int n_hosts, int allow_private, char *why, size_t size)
{
    memset(g, 0, sizeof *g);
    for (int i = 0; i < n_roots && i < FW_SERVE_MAX_LIST; i++) {
        struct stat st;
        errno = 0;
        if (!realpath(roots[i], g->roots[g->n_roots]) || stat(g->roots[g->n_roots], &st) ||
            !S_ISDIR(st.st_mode)) {
            snprintf(why, size, "--allow-root %s: not a folder (%s)", roots[i],
                     errno ? strerror(errno) : "not a directory");
            return -1;
        }
        g->n_roots++;
    }
    for (int i = 0; i < n_hosts && i < FW_SERVE_MAX_LIST; i++)
        g->hosts[g->n_hosts++] = hosts[i];
    g->allow_private = allow_private;
    return 0;
}

static int inside(const fw_guard *g, const char *resolved)
{
    for (int i = 0; i < g->n_roots; i++) {
        size_t n = strlen(g->roots[i]);
        if (strncmp(resolved, g->roots[i], n) == 0 &&
            (resolved[n] == '/' || resolved[n] == '\0' || (n == 1 && g->roots[i][0] == '/')))
            return 1;
    }
    return 0;
}

int fw_guard_path(const fw_guard *g, const char *path, char *resolved, size_t size, char *why,
                  size_t why_size)
{
    char real[PATH_MAX];
    if (!g->n_roots) {
        snprintf(why, why_size, "path inputs are not enabled on this server (--allow-root)");
        return FW_GUARD_FORBIDDEN;
    }
    if (!path[0] || path[0] != '/') {
        snprintf(why, why_size, "%s: a path input must be absolute", path);
        return FW_GUARD_FORBIDDEN;
    }
    if (realpath(path, real)) {
        if (!inside(g, real)) {
            snprintf(why, why_size, "%s: outside the allowed folders", path);
            return FW_GUARD_FORBIDDEN;
        }
        struct stat st;
        if (stat(real, &st) || !S_ISREG(st.st_mode)) {
            snprintf(why, why_size, "%s: not a regular file", path);
            return FW_GUARD_MISSING;
        }
        snprintf(resolved, size, "%s", real);
        return FW_GUARD_OK;
    }
    /* not there: say so only when its folder is inside (else nothing is told about it) */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    if (realpath(dir, real) && inside(g, real)) {
        snprintf(why, why_size, "%s: no such file", path);
        return FW_GUARD_MISSING;
    }
    snprintf(why, why_size, "%s: outside the allowed folders", path);
    return FW_GUARD_FORBIDDEN;
}

static int v4_public(uint32_t a)
{
    uint8_t b0 = a >> 24, b1 = (a >> 16) & 0xff, b2 = (a >> 8) & 0xff;
    /* this network 0/8, private 10/8, loopback, multicast 224/4, reserved 240/4 */
    return !(b0 == 0 || b0 == 10 || b0 == 127 || b0 >= 224 ||
             (b0 == 100 && (b1 & 0xc0) == 64) ||               /* shared 100.64/10 */
             (b0 == 169 && b1 == 254) ||                       /* link-local */
             (b0 == 172 && (b1 & 0xf0) == 16) ||               /* private 172.16/12 */
             (b0 == 192 && b1 == 168) ||                       /* private */
             (b0 == 192 && b1 == 0 && (b2 == 0 || b2 == 2)) || /* IETF 192.0.0/24, docs */
             (b0 == 198 && (b1 & 0xfe) == 18) ||               /* benchmarking 198.18/15 */
             (b0 == 198 && b1 == 51 && b2 == 100) ||           /* docs 198.51.100/24 */
             (b0 == 203 && b1 == 0 && b2 == 113));             /* docs 203.0.113/24 */
}

static uint32_t v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int fw_guard_public(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET)
        return v4_public(ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr));
    if (addr->sa_family != AF_INET6)
        return 0;
    const uint8_t *b = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t compat[12] = {0};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
    /* ::ffff:a.b.c.d, ::a.b.c.d (:: and ::1 among them) and the well-known NAT64 prefix
     * 64:ff9b::a.b.c.d reach a.b.c.d: judged as it is */
    if (!memcmp(b, mapped, 12) || !memcmp(b, compat, 12) || !memcmp(b, nat64, 12))
        return v4_public(v4_at(b + 12));
    return !((b[0] & 0xfe) == 0xfc ||                   /* unique local fc00::/7 */
             (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* link-local fe80::/10 */
             (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || /* site-local fec0::/10 */
             b[0] == 0xff ||                            /* multicast */
             (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) || /* docs */
             /* the rest of 64:ff9b::/32: the local-use NAT64 64:ff9b:1::/48, unassigned */
             (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b));
}

static int host_allowed(const fw_guard *g, const char *host)
{
    for (int i = 0; i < g->n_hosts; i++) {
        const char *h = g->hosts[i];
        if (strncmp(h, "*.", 2) == 0) {
            size_t n = strlen(h + 1), m = strlen(host);
            if (m > n && strcasecmp(host + m - n, h + 1) == 0)
                return 1;
        } else if (strcasecmp(h, host) == 0)
            return 1;
    }
    return 0;
}

/* Every address host resolves to is allowed: 1, else 0 with why. */
static int addresses_allowed(const fw_guard *g, const char *host, char *why, size_t size)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc) {
        snprintf(why, size, "%s: cannot be resolved (%s)", host, gai_strerror(rc));
        return 0;
    }
    int ok = 1;
    for (struct addrinfo *ai = res; ai && ok; ai = ai->ai_next)
        if (!g->allow_private && !fw_guard_public(ai->ai_addr)) {
            char text[INET6_ADDRSTRLEN] = "?";
            const void *a = ai->ai_family == AF_INET
                                ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
            inet_ntop(ai->ai_family, a, text, sizeof text);
            snprintf(why, size,
                     "%s resolves to %s, a loopback, private or link-local address "
                     "(not allowed on this server)",
                     host, text);
            ok = 0;
        }
    freeaddrinfo(res);
    return ok;
}

/* A scheme a live stream may come by. */
static int live_scheme(const char *scheme)
{
    static const char *const names[] = {"http", "https", "udp", "rtp",
                                        "rtsp", "rtsps", "srt", NULL};
    for (int i = 0; names[i]; i++)
        if (strcasecmp(scheme, names[i]) == 0)
            return 1;
    return 0;
}

static int check_url(const fw_guard *g, const char *url, int live, char *why, size_t why_size)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = FW_GUARD_FORBIDDEN;
    if (!u || curl_url_set(u, CURLUPART_URL, url, live ? CURLU_NON_SUPPORT_SCHEME : 0) ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0))
        snprintf(why, why_size, "%s: not a URL%s", url, live ? " with a host" : "");
    else if (live && !live_scheme(scheme))
        snprintf(why, why_size, "%s: a live stream comes by http(s), udp, rtp, rtsp(s) or srt",
                 url);
    else if (live && strchr(url, '?') &&
             (!strcasecmp(scheme, "udp") || !strcasecmp(scheme, "rtp") ||
              !strcasecmp(scheme, "srt"))) /* their options would bind ports, listen */
        snprintf(why, why_size, "%s: options in a %s URL are not taken", url, scheme);
    else if (!live && strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
        snprintf(why, why_size, "%s: only http and https URLs are taken", url);
    else if (!g->n_hosts)
        snprintf(why, why_size, "URL inputs are not enabled on this server (--allow-url-host)");
    else {
        /* an IPv6 literal comes back in brackets */
        char bare[256];
        size_t n = strlen(host);
        snprintf(bare, sizeof bare, "%.*s", host[0] == '[' && n > 1 ? (int)n - 2 : (int)n,
                 host[0] == '[' ? host + 1 : host);
        if (!host_allowed(g, bare))
            snprintf(why, why_size, "%s: host not allowed on this server", bare);
        else if (addresses_allowed(g, bare, why, why_size))
            rc = FW_GUARD_OK;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

int fw_guard_url(const fw_guard *g, const char *url, char *why, size_t why_size)
{
    return check_url(g, url, 0, why, why_size);
}

int fw_guard_live_url(const fw_guard *g, const char *url, char *why, size_t why_size)
{
    return check_url(g, url, 1, why, why_size);
}

static curl_socket_t open_checked(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    const fw_guard *g = user;
    if (purpose != CURLSOCKTYPE_IPCXN || (!g->allow_private && !fw_guard_public(&a->addr)))
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

void fw_guard_curl(const fw_guard *g, CURL *h)
{
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)g);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* a proxy would connect for us, unchecked */
}
