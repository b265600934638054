/* A bounded list of warning lines, handed from the threads that find them to the one
 * that says them. */
#include "analyze/notes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fw_notes_init(fw_notes *n)
{
    memset(n, 0, sizeof *n);
    pthread_mutex_init(&n->mu, NULL);
}

void fw_notes_add(fw_notes *n, const char *line)
{
    char *copy = strdup(line);
    pthread_mutex_lock(&n->mu);
    if (copy && n->n < FW_NOTES_MAX) {
        n->line[n->n++] = copy;
        copy = NULL;
    } else
        n->dropped++;
    pthread_mutex_unlock(&n->mu);
    free(copy);
}

void fw_notes_take(fw_notes *n, void (*fn)(void *user, const char *line), void *user)
{
    char *lines[FW_NOTES_MAX];
    pthread_mutex_lock(&n->mu);
    int count = n->n, dropped = n->dropped;
    memcpy(lines, n->line, (size_t)count * sizeof *lines);
    n->n = n->dropped = 0;
    pthread_mutex_unlock(&n->mu);
    for (int i = 0; i < count; i++) {
        if (fn)
            fn(user, lines[i]);
        free(lines[i]);
    }
    char more[96];
    snprintf(more, sizeof more, "%d more warning%s not shown", dropped, dropped == 1 ? "" : "s");
    if (dropped && fn)
        fn(user, more);
}

void fw_notes_free(fw_notes *n)
{
    for (int i = 0; i < n->n; i++)
        free(n->line[i]);
    n->n = 0;
    pthread_mutex_destroy(&n->mu);
}
