/* Text folding shared by fusion (embeddings) and the gate (lexicons): a light NFKC
 * for what screens and models write: full-width ASCII (Ａ１！) to ASCII, the
 * ideographic space to a space, and lower case for ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic. Invalid UTF-8 bytes become U+FFFD. */
#ifndef FW_CORE_TEXTNORM_H
#define FW_CORE_TEXTNORM_H

#include <stddef.h>
#include <stdint.h>

/* The folded text, malloc'd (NULL when out of memory). */
char *fw_text_fold(const char *s);
/* The folded code point of c. */
uint32_t fw_fold_cp(uint32_t c);
/* 1 for letters and digits of alphabetic scripts (Latin, Greek, Cyrillic; word
 * characters for word boundaries), 0 otherwise. */
int fw_cp_is_word(uint32_t c);
/* 1 for CJK ideographs, kana and Hangul (scripts written without spaces). */
int fw_cp_is_cjk(uint32_t c);
/* Appends c as UTF-8 to out (room for 4 bytes); returns the bytes written. */
int fw_utf8_put(uint32_t c, char *out);

#endif
