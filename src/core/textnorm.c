#include "core/textnorm.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

uint32_t fw_fold_cp(uint32_t c)
{
    if (c >= 0xFF01 && c <= 0xFF5E) /* full-width ASCII */
        c -= 0xFEE0;
    else if (c == 0x3000) /* ideographic space */
        c = ' ';
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2))
        return c + 32; /* Latin-1, Greek capitals */
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
        c != 0x17F) {
        /* Latin Extended-A pairs: even/odd from 0x100 to 0x137, odd/even from 0x139 to
         * 0x148, even/odd again from 0x14A to 0x177, odd/even from 0x179 */
        int odd_upper = (c >= 0x139 && c <= 0x148) || c >= 0x179;
        if (c == 0x178)
            return 0xFF;
        if ((c & 1) == (odd_upper ? 1u : 0u))
            return c + 1;
        return c;
    }
    if (c >= 0x410 && c <= 0x42F) /* Cyrillic */
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

int fw_cp_is_word(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) || (c >= 0x370 && c <= 0x3FF) ||
           (c >= 0x400 && c <= 0x52F) || c == '\'';
}

int fw_cp_is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF);
}

int fw_utf8_put(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

char *fw_text_fold(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1); /* U+FFFD for a stray byte: 3 bytes for 1 */
    if (!out)
        return NULL;
    size_t j = 0;
    while (*s)
        j += (size_t)fw_utf8_put(fw_fold_cp(fw_utf8_next(&s)), out + j);
    out[j] = '\0';
    return out;
}
