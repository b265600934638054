/* The test model server's reading (--read-text): the text lines of a grey picture. */
#ifndef FWTEST_VLM_READ_H
#define FWTEST_VLM_READ_H

#include <stddef.h>
#include <stdint.h>

/* Lines read with confidence into text (newline-separated, "" when none); *unreadable 1
 * when words were found that could not be read. 0, or -1 when Tesseract cannot start. */
int vlm_read(const uint8_t *grey, int w, int h, int stride, char *text, size_t n, int *unreadable);
/* A pass of Tesseract that takes longer reads what it has by then (--read-deadline). */
extern int vlm_read_deadline_ms;
/* Frees the pooled engines (at exit). */
void vlm_read_end(void);

#endif
