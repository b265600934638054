/* Error helpers shared by every stage. */
#ifndef FW_CORE_ERROR_H
#define FW_CORE_ERROR_H

#include "framewise.h"

/* Sets err (when not NULL) to code and a printf-formatted message; returns code. */
int fw_error_set(fw_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Text of a libav* AVERROR code, in a static per-thread buffer. */
const char *fw_av_err(int averror);

#endif
