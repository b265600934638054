/* The page's files, embedded at build time (cmake/embed.cmake writes the table). */
#ifndef FW_SERVE_WEB_ASSETS_H
#define FW_SERVE_WEB_ASSETS_H

#include <stddef.h>

typedef struct fw_web_file {
    const char *path; /* "/index.html" */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t size;
} fw_web_file;

/* Ends with an entry whose path is NULL. */
extern const fw_web_file fw_web_files[];

#endif
