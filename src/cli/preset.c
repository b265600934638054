/* Presets: scenario settings, events and lexicons as data files. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/settings.h"

#ifndef FW_PRESETS_DIR
#define FW_PRESETS_DIR "presets"
#endif

/* The first presets folder that has general.json. */
static int presets_dir(char *out, size_t n)
{
    char exe[PATH_MAX] = "", cand[3][PATH_MAX + 64], probe[PATH_MAX + 96];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
    }
    const char *env = getenv("FRAMEWISE_PRESETS");
    snprintf(cand[0], sizeof cand[0], "%s/../presets", exe);
    snprintf(cand[1], sizeof cand[1], "%s/../share/framewise/presets", exe);
    snprintf(cand[2], sizeof cand[2], "%s", FW_PRESETS_DIR);
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        if (snprintf(probe, sizeof probe, "%s/general.json", cand[i]) >= (int)sizeof probe)
            continue;
        if (access(probe, R_OK) == 0 && strlen(cand[i]) < n) {
            memcpy(out, cand[i], strlen(cand[i]) + 1);
            return 0;
        }
    }
    return -1;
}

void cli_preset_free(cli_preset *p)
{
    json_decref(p->root);
    free(p->events);
    free(p->lexicon);
    memset(p, 0, sizeof *p);
}

void cli_preset_list(FILE *to)
{
    char dir[4096];
    DIR *d = presets_dir(dir, sizeof dir) ? NULL : opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_t *root = json_load_file(path, 0, NULL);
        const char *desc = json_string_value(json_object_get(root, "description"));
        fprintf(to, "  %-14.*s %s\n", (int)(n - 5), e->d_name, desc ? desc : "");
        json_decref(root);
    }
    if (d)
        closedir(d);
}

/* list + "," + file (relative files are the preset folder's). */
static int append(char **list, const char *dir, const char *file)
{
    size_t n = (*list ? strlen(*list) : 0) + strlen(dir) + strlen(file) + 3;
    char *s = malloc(n);
    if (!s)
        return -1;
    snprintf(s, n, "%s%s%s%s%s", *list ? *list : "", *list ? "," : "", file[0] == '/' ? "" : dir,
             file[0] == '/' ? "" : "/", file);
    free(*list);
    *list = s;
    return 0;
}

static int files(cli_preset *p, json_t *v, char **list, const char *what)
{
    size_t i;
    json_t *f;
    if (v && !json_is_array(v)) {
        cli_error("%s/%s.json: \"%s\" must be a list of files", p->dir, p->name, what);
        return EXIT_USAGE;
    }
    json_array_foreach(v, i,
                       f) if (!json_is_string(f) || append(list, p->dir, json_string_value(f)))
    {
        cli_error("%s/%s.json: \"%s\" must be a list of files", p->dir, p->name, what);
        return EXIT_USAGE;
    }
    return -1;
}

/* The preset's settings, where the command line did not set them. */
static int settings(cli_preset *p, const char *path, const cli_command *cmd, cli_opts *o)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(p->root, "settings"), key, v)
    {
        int i = 0;
        while (cmd->settings[i] && strcmp(cmd->settings[i], key) != 0)
            i++;
        if (!cmd->settings[i]) {
            cli_error("%s: unknown setting '%s'", path, key);
            return EXIT_USAGE;
        }
        if ((size_t)i < sizeof o->given && o->given[i])
            continue;
        char num[64];
        const char *text = json_string_value(v);
        if (json_is_number(v))
            snprintf(num, sizeof num, "%.17g", json_number_value(v)), text = num;
        fw_error err;
        if (!text || fw_setting_parse(fw_setting_find(key), &o->params, text, &err)) {
            if (text)
                cli_error("%s: %s", path, err.message);
            else
                cli_error("%s: setting '%s' must be a string or a number", path, key);
            return EXIT_USAGE;
        }
    }
    return -1;
}

int cli_preset_apply(cli_preset *p, const char *name, const cli_command *cmd, cli_opts *o)
{
    memset(p, 0, sizeof *p);
    name = name ? name : "general";
    const char *user_events = o->params.events, *user_lexicon = o->params.lexicon;
    char path[8400];
    int rc = -1;
    if (strcmp(name, "none") != 0) {
        size_t n = strlen(name);
        int is_path = strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".json") == 0);
        if (is_path) {
            snprintf(path, sizeof path, "%s", name);
            const char *slash = strrchr(path, '/');
            snprintf(p->dir, sizeof p->dir, "%.*s", slash ? (int)(slash - path) : 1,
                     slash ? path : ".");
        } else if (presets_dir(p->dir, sizeof p->dir)) {
            cli_error("--preset %s: no presets folder found (set FRAMEWISE_PRESETS)", name);
            return EXIT_USAGE;
        } else
            snprintf(path, sizeof path, "%s/%s.json", p->dir, name);
        json_error_t je;
        if (!(p->root = json_load_file(path, 0, &je)) || !json_is_object(p->root)) {
            if (access(path, R_OK) != 0 && !is_path)
                cli_error("--preset: unknown preset '%s' (see 'framewise analyze --help')", name);
            else if (access(path, R_OK) != 0)
                cli_error("%s: cannot read the preset: %s", path, strerror(errno));
            else if (p->root)
                cli_error("%s: not a preset (a JSON object)", path);
            else
                cli_error("%s:%d: not a preset (a JSON object): %s", path, je.line, je.text);
            return EXIT_USAGE;
        }
        const char *pn = json_string_value(json_object_get(p->root, "name"));
        snprintf(p->name, sizeof p->name, "%s", pn ? pn : name);
        rc = settings(p, path, cmd, o);
        if (rc < 0)
            rc = files(p, json_object_get(p->root, "events"), &p->events, "events");
        if (rc < 0)
            rc = files(p, json_object_get(p->root, "lexicons"), &p->lexicon, "lexicons");
        if (rc >= 0)
            return rc;
    }
    if ((user_events && append(&p->events, ".", user_events)) ||
        (user_lexicon && append(&p->lexicon, ".", user_lexicon))) {
        cli_error("out of memory");
        return EXIT_RUNTIME;
    }
    o->params.events = p->events;
    o->params.lexicon = p->lexicon;
    return -1;
}
