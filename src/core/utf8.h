/* UTF-8 decoding for the stages that look at text characters (OCR, the timeline,
 * fusion, the gate, the outputs). */
#ifndef FW_CORE_UTF8_H
#define FW_CORE_UTF8_H

#include <stdint.h>

/* Decodes the sequence at s (*s != 0): its length in bytes. An invalid, truncated or
 * overlong sequence, a surrogate or a code point past U+10FFFF counts as one byte with
 * *cp = U+FFFD, so a reader always makes progress. */
static inline int fw_utf8_decode(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    int len = u[0] < 0x80                   ? 1
              : u[0] >= 0xc2 && u[0] < 0xe0 ? 2
              : u[0] >= 0xe0 && u[0] < 0xf0 ? 3
              : u[0] >= 0xf0 && u[0] < 0xf5 ? 4
                                            : 0;
    uint32_t c = len == 1 ? u[0] : len == 2 ? u[0] & 0x1f : len == 3 ? u[0] & 0x0f : u[0] & 0x07;
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            len = 0;
            break;
        }
        c = c << 6 | (u[i] & 0x3f);
    }
    if (len == 0 || (len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff)) {
        *cp = 0xfffd;
        return 1;
    }
    *cp = c;
    return len;
}

/* The code point at *s, advancing *s past it (fw_utf8_decode's rules). *s must not be
 * at the terminating NUL. */
static inline unsigned fw_utf8_next(const char **s)
{
    uint32_t cp;
    *s += fw_utf8_decode(*s, &cp);
    return cp;
}

#endif
