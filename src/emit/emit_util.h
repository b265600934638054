/* emit internals shared by the writers (captions, markdown, html): reading report fields
 * leniently (any field may be missing or of another type), times, UTF-8 widths, and
 * escaping for HTML and Markdown. Not part of the public API. */
#ifndef FW_EMIT_UTIL_H
#define FW_EMIT_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/utf8.h"

/* 1 and *v = o[key] when it is a finite JSON number (integer or real); else 0, *v untouched. */
int fw_emit_num(json_t *o, const char *key, double *v);
/* o[key] when it is a string, else "" (never NULL). */
const char *fw_emit_str(json_t *o, const char *key);
/* A value as display text, malloc'd (the caller frees): a string as it is, a number printed,
 * an array's items joined with "; ", an object as compact JSON, null/missing as "".
 * NULL only when out of memory. */
char *fw_emit_text(json_t *v);
/* The last component of a path ("" stays ""). */
const char *fw_emit_basename(const char *path);

/* o[key] as "mm:ss" (fw_clock_mmss) into buf, or "" when it is not a number. Returns buf. */
const char *fw_emit_when(json_t *o, const char *key, char *buf, size_t n);
/* Writes any value (fw_emit_text) through escape; -1 when out of memory. */
int fw_emit_value(FILE *out, json_t *v, void (*escape)(FILE *out, const char *s));
/* "HH:MM:SS<sep>mmm" from milliseconds (sep '.' for WebVTT, ',' for SubRip). Returns buf. */
const char *fw_emit_clock_ms(long long ms, char sep, char *buf, size_t n);

/* Display columns of a code point: 2 for East Asian wide and fullwidth (CJK, kana, hangul,
 * fullwidth forms, most emoji), 0 for combining marks and zero-width characters, else 1. */
int fw_emit_width(uint32_t cp);

/* Writes s for HTML text or a quoted attribute value: & < > " ' become entities. */
void fw_emit_html_text(FILE *out, const char *s);
/* Writes s as Markdown inline text on one line (fit for a table cell or a list item):
 * & < > become entities; \ ` * _ [ ] | # ~ get a backslash; a run of spaces, CR, LF and
 * tabs becomes one space (none at the end); a leading "-", "+", "=" or "1." / "1)" that would start
 * a list or heading is escaped. */
void fw_emit_md_text(FILE *out, const char *s);

/* Ends a writer: flushes; 0 when every write succeeded, else -1 with errno set. */
int fw_emit_finish(FILE *out);

#endif
