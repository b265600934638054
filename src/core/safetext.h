/* Text that reaches a terminal or a page: what a model, the OCR or a file name says may
 * carry bytes that act instead of showing: ESC and the other C0 and C1 controls (an
 * answer could recolour or rewrite the user's terminal) and the bidirectional overrides
 * and isolates U+202A-U+202E, U+2066-U+2069 (text shown in another order than it is
 * stored, "Trojan Source"). They are removed, and so is a carriage return (alone, it
 * sends a terminal back to the start of the line to write over it; "\r\n" stays a
 * newline). */
#ifndef FW_CORE_SAFETEXT_H
#define FW_CORE_SAFETEXT_H

#include <jansson.h>
#include <stdint.h>

/* 1 for a code point that acts on a display: C0 controls but tab and newline; DEL; C1
 * controls; the bidi embeddings, overrides and isolates. */
static inline int fw_cp_unsafe(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Removes the unsafe code points of s in place (the text only gets shorter; an invalid
 * UTF-8 byte becomes '?'). Returns the count removed. */
int fw_safe_text(char *s);
/* fw_safe_text on every string of v (object keys stay), in place. Returns the count. */
int fw_safe_json(json_t *v);
/* A JSON text with fw_safe_json applied, malloc'd; NULL when text is not JSON or out of
 * memory. *changed (when not NULL) tells whether anything was removed. */
char *fw_safe_json_text(const char *text, int *changed);

#endif
