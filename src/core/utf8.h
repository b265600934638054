/* UTF-8 decoding for the stages that look at text characters (OCR, the timeline). */
#ifndef FW_CORE_UTF8_H
#define FW_CORE_UTF8_H

/* The code point at *s, advancing *s past it; a malformed sequence gives U+FFFD and
 * advances one byte. *s must not be at the terminating NUL. */
static inline unsigned fw_utf8_next(const char **s)
{
    const unsigned char *u = (const unsigned char *)*s;
    if (u[0] < 0x80) {
        *s += 1;
        return u[0];
    }
    int n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 1;
    unsigned cp = n == 1 ? 0xfffd : u[0] & (0x3fu >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *s += 1;
            return 0xfffd;
        }
        cp = cp << 6 | (u[i] & 0x3f);
    }
    *s += n;
    return cp;
}

#endif
