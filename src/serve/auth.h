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
/* 1 when text is the token (constant time). */
int fw_auth_token_ok(const fw_auth *a, const char *text, size_t n);
/* The Set-Cookie value of a new session, lasting seconds. */
void fw_auth_session(const fw_auth *a, double seconds, char *out, size_t size);
/* HMAC-SHA256 of data under key, as 64 hex digits. */
void fw_hmac_hex(const char *key, const void *data, size_t n, char out[65]);

#endif
