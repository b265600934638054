/* Side files: see sidefile.h. */
#include "core/sidefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

static const char *limit_text(size_t max, char *buf, size_t n)
{
    if (max >= (1u << 20) && max % (1u << 20) == 0)
        snprintf(buf, n, "%zu MB", max >> 20);
    else
        snprintf(buf, n, "%zu KB", max >> 10);
    return buf;
}

/* Why st is not a file we read, or NULL. */
static const char *not_readable(const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return "is a directory";
    if (!S_ISREG(st->st_mode))
        return "not a regular file (a pipe, a device or a socket)";
    return NULL;
}

int fw_side_check(const char *path, const char *what, size_t max, fw_error *err)
{
    struct stat st;
    /* stat, not open: opening a FIFO with no writer would block, even to look at it */
    if (stat(path, &st) != 0)
        return fw_error_set(err, FW_EOPEN, "%s: cannot read the %s: %s", path, what,
                            strerror(errno));
    const char *why = not_readable(&st);
    if (why)
        return fw_error_set(err, FW_EINVAL, "%s: cannot read the %s: %s", path, what, why);
    char lim[32];
    if ((size_t)st.st_size > max)
        return fw_error_set(err, FW_EINVAL, "%s: cannot read the %s: larger than %s", path, what,
                            limit_text(max, lim, sizeof lim));
    return 0;
}

int fw_side_check_list(const char *list, const char *what, size_t max, fw_error *err)
{
    char *copy = list ? strdup(list) : NULL, *save = NULL;
    int rc = list && !copy ? fw_error_set(err, FW_ENOMEM, "out of memory") : 0;
    for (char *f = copy ? strtok_r(copy, ",", &save) : NULL; f && !rc;
         f = strtok_r(NULL, ",", &save))
        rc = fw_side_check(f, what, max, err);
    free(copy);
    return rc;
}

int fw_side_read(const char *path, const char *what, size_t max, char **out, size_t *len,
                 fw_error *err)
{
    *out = NULL;
    int rc = fw_side_check(path, what, max, err);
    if (rc)
        return rc;
    struct stat st;
    const char *why = NULL;
    char lim[32];
    /* O_NONBLOCK: the path may have been swapped for a FIFO since the stat */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fw_error_set(err, FW_EOPEN, "%s: cannot read the %s: %s", path, what,
                            strerror(errno));
    if (fstat(fd, &st) != 0 || (why = not_readable(&st))) {
        close(fd);
        return fw_error_set(err, FW_EINVAL, "%s: cannot read the %s: %s", path, what,
                            why ? why : strerror(errno));
    }
    /* room for what the stat said, growing (up to one byte past max) if the file grew */
    size_t cap = (size_t)st.st_size + 2, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    }
    while (!rc && n <= max) {
        if (n + 1 >= cap) {
            size_t more = cap * 2 > max + 2 ? max + 2 : cap * 2;
            char *b = more > cap ? realloc(buf, more) : NULL;
            if (!b) {
                rc = fw_error_set(err, FW_ENOMEM, "out of memory");
                break;
            }
            buf = b;
            cap = more;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = fw_error_set(err, FW_EOPEN, "%s: cannot read the %s: %s", path, what,
                              strerror(errno));
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    if (!rc && n > max)
        rc = fw_error_set(err, FW_EINVAL, "%s: cannot read the %s: larger than %s", path, what,
                          limit_text(max, lim, sizeof lim));
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}
