/* guard: what a client may make the server read or reach.
 * - paths: only inside the allowed roots, after resolving "..", symbolic links and all;
 * - URLs (inputs and callbacks): http(s) only, to an allowed host, and never to a
 *   loopback, private, link-local (or otherwise non-public) address unless allowed. The
 *   address is checked when the name is resolved for the answer and again when a
 *   connection is opened (libcurl's open-socket callback), so a name that resolves
 *   differently the second time (DNS rebinding) is still refused. */
#ifndef FW_SERVE_GUARD_H
#define FW_SERVE_GUARD_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/socket.h>

#include "serve/limits.h"

typedef struct fw_guard {
    char roots[FW_SERVE_MAX_LIST][4096]; /* resolved */
    int n_roots;
    const char *hosts[FW_SERVE_MAX_LIST];
    int n_hosts;
    int allow_private;
} fw_guard;

/* Resolves the roots; -1 with why (naming the root) when one is not a folder. */
int fw_guard_init(fw_guard *g, const char *const *roots, int n_roots, const char *const *hosts,
                  int n_hosts, int allow_private, char *why, size_t size);

enum { FW_GUARD_OK = 0, FW_GUARD_FORBIDDEN = 1, FW_GUARD_MISSING = 2 };
/* path inside a root: FW_GUARD_OK with resolved filled; FW_GUARD_MISSING when it is
 * inside but is not there; else FW_GUARD_FORBIDDEN. why says it in a line. */
int fw_guard_path(const fw_guard *g, const char *path, char *resolved, size_t size, char *why,
                  size_t why_size);
/* url allowed (scheme, host, every address it resolves to): FW_GUARD_OK, else
 * FW_GUARD_FORBIDDEN with why. */
int fw_guard_url(const fw_guard *g, const char *url, char *why, size_t why_size);
/* A live stream's url, read by the analysis itself (not fetched): as fw_guard_url, with the
 * schemes http, https, udp, rtp, rtsp, rtsps and srt. */
int fw_guard_live_url(const fw_guard *g, const char *url, char *why, size_t why_size);
/* 1 when addr is public (not loopback, private, link-local, shared, multicast, ...). */
int fw_guard_public(const struct sockaddr *addr);
/* Sets the guard on a curl handle: http(s) only, no redirects, addresses checked at
 * connect time. */
void fw_guard_curl(const fw_guard *g, CURL *h);

#endif
