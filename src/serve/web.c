/* The page: web/ embedded at build time (cmake/embed.cmake makes web_assets.c). */
#include <string.h>

#include "serve/http.h"
#include "serve/service.h"
#include "serve/web_assets.h"

int fw_web_serve(struct mg_connection *c, const char *uri)
{
    const char *name = strcmp(uri, "/") == 0 ? "/index.html" : uri;
    for (int i = 0; fw_web_files[i].path; i++)
        if (strcmp(fw_web_files[i].path, name) == 0)
            return fw_http_send(c, 200, fw_web_files[i].type, fw_web_files[i].data,
                                fw_web_files[i].size, NULL);
    return 0;
}
