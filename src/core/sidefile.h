/* Side files: the small text files a user names beside the video (events, presets,
 * lexicons, the prompt file). Each must be a regular file no larger than its limit; a
 * FIFO, a device or a directory is refused before anything is read, so /dev/zero or a
 * FIFO with no writer cannot hang the program or fill its memory. */
#ifndef FW_CORE_SIDEFILE_H
#define FW_CORE_SIDEFILE_H

#include <stddef.h>

#include "framewise.h"

/* Limits of each kind of side file, in bytes. */
#define FW_SIDE_MAX_EVENTS (1u << 20)
#define FW_SIDE_MAX_PRESET (1u << 20)
#define FW_SIDE_MAX_LEXICON (8u << 20)
#define FW_SIDE_MAX_PROMPT (64u << 10)

/* Reads all of path (what names the kind in messages: "events file", "lexicon") into a
 * NUL-terminated buffer the caller frees (*out; *len without the NUL, when len is not NULL).
 * 0; FW_EOPEN when it cannot be opened or read ("x: cannot read the lexicon: No such file
 * or directory"); FW_EINVAL when it is a directory, not a regular file or larger than max
 * ("x: cannot read the events file: larger than 1 MB"); FW_ENOMEM. */
int fw_side_read(const char *path, const char *what, size_t max, char **out, size_t *len,
                 fw_error *err);

/* The checks of fw_side_read without reading: 0, or its FW_EOPEN / FW_EINVAL. */
int fw_side_check(const char *path, const char *what, size_t max, fw_error *err);

/* fw_side_check on each file of a comma-separated list (NULL: none). */
int fw_side_check_list(const char *list, const char *what, size_t max, fw_error *err);

#endif
