/* Reading a pipe, a FIFO or a terminal without waiting for ever: see pipe.h. */
#include "source/pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

#define BUFFER_SIZE 65536
#define SLICE_MS 100 /* how often a wait looks at the cancel flag */

int fw_pipe_wanted(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return 1;
    return stat(path, &st) == 0 &&
           (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* avio's read callback: bytes, AVERROR_EOF at the end, AVERROR(ETIMEDOUT) after the
 * timeout, AVERROR_EXIT when cancelled. */
static int pipe_read(void *opaque, uint8_t *buf, int size)
{
    fw_pipe *p = opaque;
    double since = fw_now_s();
    for (;;) {
        if (p->cancel && atomic_load(p->cancel))
            return AVERROR_EXIT;
        /* poll first: read(2) would block on standard input, whose flags are not ours */
        struct pollfd pf = {.fd = p->fd, .events = POLLIN};
        int r = poll(&pf, 1, SLICE_MS);
        if (r < 0 && errno != EINTR)
            return AVERROR(errno);
        if (r > 0) {
            ssize_t n = read(p->fd, buf, (size_t)size);
            if (n > 0) {
                p->got_data = 1;
                return (int)n;
            }
            if (n == 0)
                return AVERROR_EOF; /* the writer left (a FIFO with none yet does not poll) */
            if (errno != EAGAIN && errno != EINTR)
                return AVERROR(errno);
        }
        if (p->timeout_s > 0 && fw_now_s() - since > p->timeout_s) {
            p->timed_out = 1;
            return AVERROR(ETIMEDOUT);
        }
    }
}

int fw_pipe_open(fw_pipe *p, const char *path, double timeout_s, const atomic_int *cancel,
                 AVIOContext **io)
{
    memset(p, 0, sizeof *p);
    *io = NULL;
    p->timeout_s = timeout_s;
    p->cancel = cancel;
    if (strcmp(path, "-") == 0) {
        p->fd = STDIN_FILENO;
    } else {
        /* O_NONBLOCK: open(2) of a FIFO would otherwise wait for a writer, for ever */
        p->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (p->fd < 0)
            return AVERROR(errno);
        p->own_fd = 1;
    }
    unsigned char *buf = av_malloc(BUFFER_SIZE);
    if (buf)
        *io = avio_alloc_context(buf, BUFFER_SIZE, 0, p, pipe_read, NULL, NULL);
    if (!*io) {
        av_free(buf);
        fw_pipe_close(p, io);
        return AVERROR(ENOMEM);
    }
    (*io)->seekable = 0;
    return 0;
}

void fw_pipe_close(fw_pipe *p, AVIOContext **io)
{
    if (io && *io) {
        av_freep(&(*io)->buffer);
        avio_context_free(io);
    }
    if (p && p->own_fd && p->fd >= 0)
        close(p->fd);
    if (p)
        p->own_fd = 0;
}
