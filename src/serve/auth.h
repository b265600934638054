/* auth: who may call. A request is let in by "Authorization: Bearer TOKEN" or by the
 * page's session cookie (fw_session), which POST /session gives for the token. The cookie
 * is stateless: an expiry and its HMAC-SHA256 under the token, so it survives restarts
 * and dies with the token. Comparisons take the same time whatever the input. */
#ifndef FW_SERVE_AUTH_H
#define FW_SERVE_AUTH_H

#include <civetweb.h>
#include <stddef.h>

typedef struct fw_auth {
    const char *token;        /* NULL: everyone is let in */
    unsigned char digest[32]; /* of the token: what a presented token's digest must equal */
} fw_auth;

/* Sets the token (NULL: none). Call it on the main thread before serving: it also
 * initialises OpenSSL there (its first use needs more stack than civetweb's threads have). */
void fw_auth_init(fw_auth *a, const char *token);

#define FW_SESSION_COOKIE "fw_session"

/* 0 when c may call, else why not (a static string: "missing", "wrong", "origin"). A cookie
 * counts only from the page's own origin (a foreign page cannot use it). */
const char *fw_auth_check(const fw_auth *a, struct mg_connection *c);
/* Without a token only this machine's programs may call, and a browser on this machine
 * runs other sites' pages too: a request counts as local only when its Host is a loopback
 * name (DNS rebinding gives a foreign page another Host) and its Origin, when it has one,
 * is a loopback origin (a foreign page's form or WebSocket carries its own). NULL when c
 * may call (always, with a token), else why not (a static string: "host", "origin"). */
const char *fw_auth_local(const fw_auth *a, struct mg_connection *c);
/* 1 when host (a Host header's value) is localhost, 127.0.0.0/8 or [::1], with an
 * optional :port; when origin is http:// and such a host. */
int fw_auth_loopback_host(const char *host);
int fw_auth_loopback_origin(const char *origin);
/* 1 when text is the token (constant time). */
int fw_auth_token_ok(const fw_auth *a, const char *text, size_t n);
/* The Set-Cookie value of a new session, lasting seconds. */
void fw_auth_session(const fw_auth *a, double seconds, char *out, size_t size);
/* HMAC-SHA256 of data under key, as 64 hex digits. */
void fw_hmac_hex(const char *key, const void *data, size_t n, char out[65]);

#endif
