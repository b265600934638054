/* Internal to source/: reading a pipe, a FIFO or a terminal without waiting for ever.
 * libavformat's file and pipe protocols block in open(2) and read(2) with no timeout and
 * no interrupt check: a FIFO with no writer, or a writer that stops, would hold the
 * program for ever. This reader opens without blocking, waits with poll(2) in short
 * slices (checking the caller's cancel flag) and gives up after timeout_s seconds
 * without a byte. Ownership: fw_pipe_open's reader is the caller's, closed with
 * fw_pipe_close (after the AVIOContext that reads it). */
#ifndef FW_SOURCE_PIPE_H
#define FW_SOURCE_PIPE_H

#include <libavformat/avio.h>
#include <stdatomic.h>

typedef struct fw_pipe {
    int fd;
    int own_fd;               /* 0 for standard input */
    double timeout_s;         /* 0: wait for ever */
    const atomic_int *cancel; /* NULL: none */
    int timed_out;            /* set when a read gave up */
    int got_data;             /* a byte came */
} fw_pipe;

/* 1 when path should be read with fw_pipe: "-" (standard input) or a FIFO, a character
 * device or a socket. */
int fw_pipe_wanted(const char *path);
/* Opens path ("-": standard input) into p and an AVIOContext reading it into *io.
 * 0, or a negative errno value. */
int fw_pipe_open(fw_pipe *p, const char *path, double timeout_s, const atomic_int *cancel,
                 AVIOContext **io);
/* Frees io (and its buffer) and closes p's file. Accepts NULL / a zeroed reader. */
void fw_pipe_close(fw_pipe *p, AVIOContext **io);

#endif
