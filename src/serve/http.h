/* HTTP helpers over civetweb: every answer carries the security headers; every error is
 * JSON {"error": {"code", "message"}}. */
#ifndef FW_SERVE_HTTP_H
#define FW_SERVE_HTTP_H

#include <civetweb.h>
#include <jansson.h>
#include <stddef.h>

/* The CSP and the other headers every answer gets. */
#define FW_HTTP_CSP                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* Sends status with body (bytes of type) and extra headers (NULL-terminated name, value
 * pairs, or NULL). Returns status (what civetweb's handlers return). */
int fw_http_send(struct mg_connection *c, int status, const char *type, const void *body, size_t n,
                 const char *const *headers);
/* Sends a JSON body (only read). */
int fw_http_json(struct mg_connection *c, int status, json_t *body);
/* Sends {"error": {"code": code, "message": ...}}; extra headers as fw_http_send. */
int fw_http_error_h(struct mg_connection *c, int status, const char *code,
                    const char *const *headers, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define fw_http_error(c, status, code, ...) fw_http_error_h(c, status, code, NULL, __VA_ARGS__)
/* The request body, NUL-terminated (*n its length), when it is at most max bytes; else
 * NULL with *too_big set (1) as soon as that is known (from Content-Length, before
 * reading), or NULL with *too_big 0 when it could not be read. */
char *fw_http_body(struct mg_connection *c, size_t max, size_t *n, int *too_big);
/* The request body parsed as JSON (NULL, with jerr, when it is not JSON: the caller says
 * so) into *doc: 0; or, when the body is over max bytes (413 "WHAT is at most max bytes")
 * or cannot be read (400), that answer's status, already sent. */
int fw_http_read_json(struct mg_connection *c, size_t max, const char *what, json_t **doc,
                      json_error_t *jerr);
/* The declared body length: Content-Length, or -1 (none, or chunked). */
long long fw_http_length(struct mg_connection *c);
/* A query-string parameter, URL-decoded, into out: 1 when present. */
int fw_http_query(struct mg_connection *c, const char *name, char *out, size_t size);

#endif
