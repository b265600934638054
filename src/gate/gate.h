/* gate: what may drive fusion, and what needs a human.
 * - the confidence gate: failed, empty and low-confidence observations stay in the record
 *   but are marked and left out of fusion;
 * - safety lexicons (English, Chinese, any script): terms matched on every text the system
 *   outputs after folding (case, full-width forms, runs of spaces), with word boundaries
 *   for terms that begin or end with a letter or digit of an alphabetic script.
 * Ownership: the caller owns the lexicon (load/free) and every json_t returned. */
#ifndef FW_GATE_H
#define FW_GATE_H

#include <jansson.h>

#include "framewise.h"

/* Why an observation is left out of fusion: "failed" (error set), "empty" (no text),
 * "low_confidence" (below min_confidence), or NULL when it is usable. */
const char *fw_gate_reason(const char *text, const char *error, double confidence,
                           double min_confidence);

typedef struct fw_lexicon fw_lexicon;

/* Adds the terms of a lexicon file (UTF-8, one term per line, "term<TAB>category" or
 * "term", "# category: NAME" sets the category of the lines after it, other "#" lines
 * and blank lines are comments). *lx is created on the first call. FW_EOPEN naming the
 * file when it cannot be read, FW_EINVAL naming the line when it is not UTF-8. */
int fw_lexicon_load(fw_lexicon **lx, const char *path, fw_error *err);
/* Adds one term (category may be NULL: "sensitive"). 0 or FW_ENOMEM. */
int fw_lexicon_add(fw_lexicon **lx, const char *term, const char *category);
int fw_lexicon_count(const fw_lexicon *lx);
/* The terms found in text: [{term, category}], each term once, in lexicon order; NULL
 * when none (or lx is NULL). */
json_t *fw_lexicon_match(const fw_lexicon *lx, const char *text);
void fw_lexicon_free(fw_lexicon *lx);

#endif
