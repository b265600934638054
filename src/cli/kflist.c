#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_kflist_add(cli_kflist *l, const fw_keyframe *kf)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        cli_kept *list = realloc(l->list, (size_t)cap * sizeof *list);
        if (!list) {
            snprintf(l->err.message, sizeof l->err.message, "out of memory");
            l->err.code = FW_ENOMEM;
            return 1;
        }
        l->list = list;
        l->cap = cap;
    }
    cli_kept *k = &l->list[l->n];
    k->kf = *kf;
    k->kf.jpeg = NULL;
    k->kf.jpeg_size = 0;
    k->kf.index += l->index_offset;
    k->kf.time_s += l->time_offset;
    snprintf(k->file, sizeof k->file, "%s/kf_%06d.jpg", l->dir, k->kf.index);
    FILE *f = fopen(k->file, "wb");
    int bad = !f || fwrite(kf->jpeg, 1, kf->jpeg_size, f) != kf->jpeg_size;
    if ((f && fclose(f)) || bad) {
        l->err.code = FW_EIO;
        snprintf(l->err.message, sizeof l->err.message, "%.400s: cannot write: %s", k->file,
                 strerror(errno));
        return 1;
    }
    l->n++;
    return 0;
}

void cli_kflist_free(cli_kflist *l)
{
    free(l->list);
    l->list = NULL;
    l->n = l->cap = 0;
}
