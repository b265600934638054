/* notify: the callbacks of jobs that asked for one (callback_url). One POST of the job's
 * final JSON when it ends, with the header
 *   X-Framewise-Signature: sha256=HEX   (HMAC-SHA256 of the body under the token)
 * retried on failure (a network error, a status that is not 2xx) up to
 * FW_SERVE_CALLBACK_ATTEMPTS times with a doubling backoff. Sent from a thread of its own,
 * through the URL guard (no redirects, addresses checked at connect time).
 * Pending callbacks are lost when the server stops. Thread-safe. */
#ifndef FW_SERVE_NOTIFY_H
#define FW_SERVE_NOTIFY_H

#include "serve/guard.h"

typedef struct fw_notifier fw_notifier;

/* token: the HMAC key (NULL: no signature header). */
fw_notifier *fw_notifier_start(const fw_guard *guard, const char *token);
/* Queues a POST of body (copied) to url. */
void fw_notifier_post(fw_notifier *n, const char *url, const char *body);
/* Stops the thread (a callback being sent ends within its timeout); frees. */
void fw_notifier_stop(fw_notifier *n);

#endif
