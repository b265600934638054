#include "serve/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

int fw_http_send(struct mg_connection *c, int status, const char *type, const void *body, size_t n,
                 const char *const *headers)
{
    char extra[2048] = "";
    size_t used = 0;
    int own_csp = 0; /* a caller's policy replaces the page's */
    for (int i = 0; headers && headers[i] && headers[i + 1] && used < sizeof extra; i += 2) {
        own_csp |= strcasecmp(headers[i], "Content-Security-Policy") == 0;
        used += (size_t)snprintf(extra + used, sizeof extra - used, "%s: %s\r\n", headers[i],
                                 headers[i + 1]);
    }
    if (used >= sizeof extra)
        extra[0] = '\0'; /* never a cut header */
    mg_printf(c,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
              "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
              "X-Frame-Options: DENY\r\nCache-Control: no-store\r\n%s%s\r\n",
              status, reason(status), type, n,
              own_csp ? "" : "Content-Security-Policy: " FW_HTTP_CSP "\r\n", extra,
              status >= 400 ? "Connection: close\r\n" : "");
    if (n && strcmp(mg_get_request_info(c)->request_method, "HEAD") != 0)
        mg_write(c, body, n);
    return status;
}

int fw_http_json(struct mg_connection *c, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        return fw_http_send(c, 500, "application/json",
                            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}", 58,
                            NULL);
    int rc = fw_http_send(c, status, "application/json; charset=utf-8", text, strlen(text), NULL);
    free(text);
    return rc;
}

int fw_http_error_h(struct mg_connection *c, int status, const char *code,
                    const char *const *headers, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    int rc = fw_http_send(c, status, "application/json; charset=utf-8", text ? text : "{}",
                          text ? strlen(text) : 2, headers);
    free(text);
    return rc;
}

long long fw_http_length(struct mg_connection *c)
{
    const char *te = mg_get_header(c, "Transfer-Encoding");
    if (te && strstr(te, "chunked"))
        return -1;
    return mg_get_request_info(c)->content_length;
}

char *fw_http_body(struct mg_connection *c, size_t max, size_t *n, int *too_big)
{
    *n = 0;
    *too_big = 0;
    long long declared = fw_http_length(c);
    if (declared > (long long)max) {
        *too_big = 1;
        return NULL;
    }
    size_t cap = declared > 0 ? (size_t)declared + 1 : 4096;
    char *buf = malloc(cap);
    while (buf) {
        if (*n + 1 >= cap) {
            char *grown = cap > max + 1 ? NULL : realloc(buf, cap * 2);
            if (!grown)
                break;
            buf = grown, cap *= 2;
        }
        int got = mg_read(c, buf + *n, cap - *n - 1);
        if (got < 0)
            break;
        if (got == 0) {
            buf[*n] = '\0';
            return buf;
        }
        *n += (size_t)got;
        if (*n > max) { /* a chunked body that goes on past the bound */
            *too_big = 1;
            break;
        }
    }
    free(buf);
    return NULL;
}

int fw_http_read_json(struct mg_connection *c, size_t max, const char *what, json_t **doc,
                      json_error_t *jerr)
{
    size_t n;
    int too_big;
    char *body = fw_http_body(c, max, &n, &too_big);
    *doc = NULL;
    if (!body)
        return too_big ? fw_http_error(c, 413, "too_large", "%s is at most %zu bytes", what, max)
                       : fw_http_error(c, 400, "bad_request", "the body cannot be read");
    *doc = json_loadb(body, n, 0, jerr);
    free(body);
    return 0;
}

int fw_http_query(struct mg_connection *c, const char *name, char *out, size_t size)
{
    const char *qs = mg_get_request_info(c)->query_string;
    return qs && mg_get_var(qs, strlen(qs), name, out, size) >= 0;
}
