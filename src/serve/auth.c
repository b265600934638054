#include "serve/auth.h"
#include "serve/serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void fw_hmac_hex(const char *key, const void *data, size_t n, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), data, n, mac, &len);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", i < len ? mac[i] : 0);
}

static const char compare_key[] = "framewise-token-compare";

void fw_auth_init(fw_auth *a, const char *token)
{
    unsigned len = 0;
    a->token = token;
    memset(a->digest, 0, sizeof a->digest);
    HMAC(EVP_sha256(), compare_key, (int)strlen(compare_key),
         (const unsigned char *)(token ? token : ""), token ? strlen(token) : 0, a->digest, &len);
}

/* Equal lengths or not, the time does not depend on where they differ: digests are
 * compared, in constant time. */
int fw_auth_token_ok(const fw_auth *a, const char *text, size_t n)
{
    if (!a->token)
        return 1;
    unsigned char got[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), compare_key, (int)strlen(compare_key), (const unsigned char *)text, n, got,
         &len);
    return len == 32 && CRYPTO_memcmp(a->digest, got, 32) == 0;
}

static void session_mac(const fw_auth *a, long long expiry, char out[65])
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "session:%lld", expiry);
    fw_hmac_hex(a->token, msg, (size_t)n, out);
}

void fw_auth_session(const fw_auth *a, double seconds, char *out, size_t size)
{
    long long expiry = (long long)time(NULL) + (long long)seconds;
    char mac[65] = "";
    if (a->token)
        session_mac(a, expiry, mac);
    snprintf(out, size,
             FW_SESSION_COOKIE "=%lld.%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict", expiry,
             mac, (long long)seconds);
}

static int session_ok(const fw_auth *a, const char *value)
{
    char *dot = NULL;
    long long expiry = strtoll(value, &dot, 10);
    if (!dot || *dot != '.' || expiry < (long long)time(NULL) || strlen(dot + 1) != 64)
        return 0;
    char want[65];
    session_mac(a, expiry, want);
    return CRYPTO_memcmp(want, dot + 1, 64) == 0;
}

/* A browser sends Origin with WebSocket handshakes and cross-origin requests: it must be
 * this server's own (scheme://Host). */
static int same_origin(struct mg_connection *c)
{
    const char *origin = mg_get_header(c, "Origin"), *host = mg_get_header(c, "Host");
    if (!origin)
        return 1;
    if (!host)
        return 0;
    const char *rest = strncmp(origin, "http://", 7) == 0    ? origin + 7
                       : strncmp(origin, "https://", 8) == 0 ? origin + 8
                                                             : NULL;
    return rest && strcasecmp(rest, host) == 0;
}

const char *fw_auth_check(const fw_auth *a, struct mg_connection *c)
{
    if (!a->token)
        return NULL;
    const char *h = mg_get_header(c, "Authorization");
    if (h) {
        if (strncasecmp(h, "Bearer ", 7) != 0)
            return "wrong";
        return fw_auth_token_ok(a, h + 7, strlen(h + 7)) ? NULL : "wrong";
    }
    const char *cookies = mg_get_header(c, "Cookie");
    char value[256];
    if (!cookies || mg_get_cookie(cookies, FW_SESSION_COOKIE, value, sizeof value) <= 0)
        return "missing";
    if (!session_ok(a, value))
        return "wrong";
    return same_origin(c) ? NULL : "origin";
}

/* "" or ":" and 1 to 5 digits */
static int port_ok(const char *p)
{
    if (!*p)
        return 1;
    size_t n = strspn(p + 1, "0123456789");
    return *p == ':' && n >= 1 && n <= 5 && !p[1 + n];
}

int fw_auth_loopback_host(const char *host)
{
    char name[64];
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        struct in6_addr a6;
        if (!end || end - host - 1 >= (long)sizeof name)
            return 0;
        snprintf(name, sizeof name, "%.*s", (int)(end - host - 1), host + 1);
        return inet_pton(AF_INET6, name, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6) && port_ok(end + 1);
    }
    size_t n = strcspn(host, ":");
    struct in_addr a4;
    if (n >= sizeof name)
        return 0;
    snprintf(name, sizeof name, "%.*s", (int)n, host);
    /* inet_pton takes only the dotted quad: "127.1" or "127.0.0.1.evil.example" are names */
    int loopback = strcasecmp(name, "localhost") == 0 ||
                   (inet_pton(AF_INET, name, &a4) == 1 && ntohl(a4.s_addr) >> 24 == 127);
    return loopback && port_ok(host + n);
}

int fw_auth_loopback_origin(const char *origin)
{
    return strncmp(origin, "http://", 7) == 0 && fw_auth_loopback_host(origin + 7);
}

const char *fw_auth_local(const fw_auth *a, struct mg_connection *c)
{
    if (a->token)
        return NULL;
    const char *host = mg_get_header(c, "Host"), *origin = mg_get_header(c, "Origin");
    if (!host || !fw_auth_loopback_host(host))
        return "host";
    return origin && !fw_auth_loopback_origin(origin) ? "origin" : NULL;
}

int fw_serve_loopback_only(const char *listen)
{
    char entry[128];
    for (const char *p = listen;; p++) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof entry)
            return 0;
        snprintf(entry, sizeof entry, "%.*s", (int)n, p);
        int v6 = entry[0] == '[';
        char *colon = v6 ? strstr(entry, "]:") : strrchr(entry, ':');
        if (!colon)
            return 0; /* a bare port, or +port: every address */
        colon[v6] = '\0';
        if (!fw_auth_loopback_host(entry))
            return 0;
        p += n;
        if (!*p)
            return 1;
    }
}
