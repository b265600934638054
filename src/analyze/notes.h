/* Internal to analyze/: a bounded list of warning lines that any thread adds to and one
 * thread takes, all at once (a backend's problems, said later on the job's thread).
 * The list owns copies of the lines. */
#ifndef FW_ANALYZE_NOTES_H
#define FW_ANALYZE_NOTES_H

#include <pthread.h>

#define FW_NOTES_MAX 16 /* kept until taken; more are counted, not kept */

typedef struct fw_notes {
    pthread_mutex_t mu;
    char *line[FW_NOTES_MAX];
    int n, dropped;
} fw_notes;

void fw_notes_init(fw_notes *n);
/* Adds a copy of line (any thread). */
void fw_notes_add(fw_notes *n, const char *line);
/* Each line to fn (fn NULL: dropped), then one more for the lines not kept; the list is
 * empty again. */
void fw_notes_take(fw_notes *n, void (*fn)(void *user, const char *line), void *user);
/* Frees the lines left; n may not be used again but through fw_notes_init. */
void fw_notes_free(fw_notes *n);

#endif
