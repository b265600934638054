#include "core/error.h"

#include <libavutil/error.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int code;
    const char *message;
} error_table[] = {
    {FW_OK, "success"},
    {FW_EINVAL, "invalid argument"},
    {FW_EOPEN, "cannot open input"},
    {FW_EFORMAT, "not a media file"},
    {FW_ENOVIDEO, "no video stream"},
    {FW_EDECODE, "no decodable video frame"},
    {FW_ENOMEM, "out of memory"},
    {FW_EIO, "output error"},
    {FW_ECANCELED, "canceled"},
    {FW_EINTERNAL, "internal error"},
    {FW_ENET, "model server unreachable or refusing requests"},
};

const char *fw_strerror(int code)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        if (error_table[i].code == code)
            return error_table[i].message;
    return "unknown error";
}

int fw_error_set(fw_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        char tmp[sizeof err->message]; /* the arguments may point into err->message */
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        size_t len = n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
        if ((size_t)n >= sizeof tmp) /* cut: not inside a UTF-8 sequence */
            while (len > 0 && ((unsigned char)tmp[len] & 0xC0) == 0x80)
                len--;
        memcpy(err->message, tmp, len);
        err->message[len] = '\0';
        err->code = code;
    }
    return code;
}

const char *fw_av_err(int averror)
{
    static _Thread_local char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averror, buf, sizeof buf);
    return buf;
}
