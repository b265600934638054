/* Presets: scenario settings, events and lexicons as data files; the analysis' defaults. */
#include "pipeline/presets.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/settings.h"
#include "core/sidefile.h"

#ifndef FW_PRESETS_DIR
#define FW_PRESETS_DIR "presets"
#endif
#ifndef FW_PRESETS_INSTALL_DIR
#define FW_PRESETS_INSTALL_DIR "/usr/local/share/framewise/presets"
#endif

/* What an analysis sets unlike fw_params_default() (whose values are the keyframes
 * command's): the image budget, so frames go to a model at 0.45 MP, not full size. */
static const struct {
    const char *setting;
    double value;
} analysis_defaults[] = {{"max-pixels", FW_ANALYSIS_MAX_PIXELS}};

/* The first presets folder that has general.json ($FRAMEWISE_PRESETS wins). */
static int presets_dir(char *out, size_t n)
{
    const char *env = getenv("FRAMEWISE_PRESETS");
    if (env && *env)
        return snprintf(out, n, "%s", env) < (int)n ? 0 : -1;
    char exe[PATH_MAX] = "", cand[4][PATH_MAX + 64], probe[PATH_MAX + 96];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
    }
    snprintf(cand[0], sizeof cand[0], "%s/../presets", exe);
    snprintf(cand[1], sizeof cand[1], "%s/../share/framewise/presets", exe);
    snprintf(cand[2], sizeof cand[2], "%s", FW_PRESETS_INSTALL_DIR);
    snprintf(cand[3], sizeof cand[3], "%s", FW_PRESETS_DIR);
    for (int i = 0; i < 4; i++) {
        if (snprintf(probe, sizeof probe, "%s/general.json", cand[i]) >= (int)sizeof probe)
            continue;
        if (access(probe, R_OK) == 0 && strlen(cand[i]) < n) {
            memcpy(out, cand[i], strlen(cand[i]) + 1);
            return 0;
        }
    }
    return -1;
}

/* ---- the presets found, listed once per process ---- */

#define MAX_PRESETS 64

static struct {
    char name[64];
    char description[256];
} found[MAX_PRESETS];
static int n_found;
static pthread_once_t found_once = PTHREAD_ONCE_INIT;

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b); /* name is the first member */
}

static void find_presets(void)
{
    char dir[4096];
    DIR *d = presets_dir(dir, sizeof dir) ? NULL : opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n_found < MAX_PRESETS) {
        size_t n = strlen(e->d_name);
        if (n < 6 || n - 5 >= sizeof found[0].name || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[8400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_t *root = json_load_file(path, 0, NULL);
        const char *desc = json_string_value(json_object_get(root, "description"));
        snprintf(found[n_found].name, sizeof found[0].name, "%.*s", (int)(n - 5), e->d_name);
        snprintf(found[n_found].description, sizeof found[0].description, "%s", desc ? desc : "");
        n_found++;
        json_decref(root);
    }
    if (d)
        closedir(d);
    qsort(found, (size_t)n_found, sizeof found[0], by_name);
}

const char *fw_preset_name(int i, const char **description)
{
    pthread_once(&found_once, find_presets);
    if (i < 0 || i >= n_found)
        return NULL;
    if (description)
        *description = found[i].description;
    return found[i].name;
}

/* "a, b, c": the presets found, for a message. */
static void preset_names(char *out, size_t n)
{
    out[0] = '\0';
    const char *name;
    for (int i = 0; (name = fw_preset_name(i, NULL)); i++) {
        size_t len = strlen(out), add = strlen(name) + (i ? 2 : 0);
        if (len + add + 1 > n)
            break;
        snprintf(out + len, n - len, "%s", i ? ", " : "");
        memcpy(out + len + (i ? 2 : 0), name, strlen(name) + 1);
    }
}

/* ---- applying ---- */

void fw_preset_free(fw_preset *pr)
{
    json_decref(pr->root);
    free(pr->events);
    free(pr->lexicon);
    memset(pr, 0, sizeof *pr);
}

/* 1 when a chosen name sets the field of s (an alias and its target are one). */
static int chosen_field(const char *const *chosen, const fw_setting *s)
{
    for (int i = 0; chosen && chosen[i]; i++) {
        const fw_setting *c = fw_setting_find(chosen[i]);
        if (c && c->offset == s->offset)
            return 1;
    }
    return 0;
}

static int check_chosen(const char *const *chosen, fw_error *err)
{
    for (int i = 0; chosen && chosen[i]; i++)
        if (!fw_setting_find(chosen[i]))
            return fw_error_set(err, FW_EINVAL, "chosen: unknown setting '%s'", chosen[i]);
    return 0;
}

/* Sets s from a number (through the table, so ranges hold). */
static int set_number(const fw_setting *s, fw_params *p, double v, fw_error *err)
{
    char num[64];
    snprintf(num, sizeof num, "%.17g", v);
    return fw_setting_parse(s, p, num, err);
}

static int apply_defaults(fw_params *p, const char *const *chosen, fw_error *err)
{
    const fw_params def = fw_params_default();
    for (size_t i = 0; i < sizeof analysis_defaults / sizeof *analysis_defaults; i++) {
        const fw_setting *s = fw_setting_find(analysis_defaults[i].setting);
        const int *field = (const int *)((const char *)p + s->offset);
        const int *was = (const int *)((const char *)&def + s->offset);
        if (s->type != FW_SET_INT) /* the list holds whole-number settings only */
            return fw_error_set(err, FW_EINTERNAL, "%s: not a whole-number setting", s->name);
        if (!chosen_field(chosen, s) && *field == *was &&
            set_number(s, p, analysis_defaults[i].value, err))
            return FW_EINTERNAL;
    }
    return 0;
}

/* list + "," + file (relative files are dir's). */
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

static int files(fw_preset *pr, json_t *v, char **list, const char *what, fw_error *err)
{
    size_t i;
    json_t *f;
    if (v && !json_is_array(v))
        return fw_error_set(err, FW_EINVAL, "%s: \"%s\" must be a list of files", pr->path, what);
    json_array_foreach(v, i,
                       f) if (!json_is_string(f) || append(list, pr->dir, json_string_value(f)))
    {
        return fw_error_set(err, FW_EINVAL, "%s: \"%s\" must be a list of files", pr->path, what);
    }
    return 0;
}

/* The preset's settings, where the caller did not choose them. */
static int settings(fw_preset *pr, const char *path, fw_params *p, const char *const *chosen,
                    fw_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(pr->root, "settings"), key, v)
    {
        const fw_setting *s = fw_setting_find(key);
        if (!s)
            return fw_error_set(err, FW_EINVAL, "%s: unknown setting '%s'", path, key);
        if (chosen_field(chosen, s))
            continue;
        /* a string setting keeps the pointer: only the preset's own text outlives this */
        if (s->type == FW_SET_STRING && !json_is_string(v))
            return fw_error_set(err, FW_EINVAL, "%s: setting '%s' must be a string", path, key);
        char num[64];
        const char *text = json_string_value(v);
        if (json_is_number(v))
            snprintf(num, sizeof num, "%.17g", json_number_value(v)), text = num;
        fw_error e;
        if (!text)
            return fw_error_set(err, FW_EINVAL, "%s: setting '%s' must be a string or a number",
                                path, key);
        if (fw_setting_parse(s, p, text, &e))
            return fw_error_set(err, FW_EINVAL, "%s: %s", path, e.message);
    }
    return 0;
}

/* Reads the preset file of name into pr->root; path receives its path. */
static int load(fw_preset *pr, const char *name, char *path, size_t n, fw_error *err)
{
    size_t len = strlen(name);
    int is_path = strchr(name, '/') || (len > 5 && strcmp(name + len - 5, ".json") == 0);
    if (is_path) {
        snprintf(path, n, "%s", name);
        const char *slash = strrchr(path, '/');
        snprintf(pr->dir, sizeof pr->dir, "%.*s", slash ? (int)(slash - path) : 1,
                 slash ? path : ".");
    } else if (presets_dir(pr->dir, sizeof pr->dir))
        return fw_error_set(err, FW_EINVAL,
                            "preset %s: no presets folder found (set FRAMEWISE_PRESETS)", name);
    else
        snprintf(path, n, "%s/%s.json", pr->dir, name);
    char known[1024];
    if (!is_path && access(path, F_OK) != 0) {
        preset_names(known, sizeof known);
        return fw_error_set(err, FW_EINVAL, "preset: unknown preset '%s' (found: %s)", name,
                            known[0] ? known : "none");
    }
    char *text;
    size_t size;
    int rc = fw_side_read(path, "preset", FW_SIDE_MAX_PRESET, &text, &size, err);
    if (rc)
        return rc == FW_ENOMEM ? rc : FW_EINVAL;
    json_error_t je;
    pr->root = json_loadb(text, size, 0, &je);
    free(text);
    if (pr->root && json_is_object(pr->root))
        return 0;
    if (pr->root)
        return fw_error_set(err, FW_EINVAL, "%s: not a preset (a JSON object)", path);
    return fw_error_set(err, FW_EINVAL, "%s:%d: not a preset (a JSON object): %s", path, je.line,
                        je.text);
}

int fw_preset_apply(fw_preset *pr, const char *name, fw_params *p, const char *const *chosen,
                    fw_error *err)
{
    memset(pr, 0, sizeof *pr);
    name = name ? name : "general";
    const char *user_events = p->events, *user_lexicon = p->lexicon;
    int rc = check_chosen(chosen, err);
    if (!rc)
        rc = apply_defaults(p, chosen, err);
    if (!rc && strcmp(name, "none") != 0) {
        rc = load(pr, name, pr->path, sizeof pr->path, err);
        if (!rc) {
            const char *pn = json_string_value(json_object_get(pr->root, "name"));
            snprintf(pr->name, sizeof pr->name, "%s", pn ? pn : name);
            rc = settings(pr, pr->path, p, chosen, err);
        }
        if (!rc)
            rc = files(pr, json_object_get(pr->root, "events"), &pr->events, "events", err);
        if (!rc)
            rc = files(pr, json_object_get(pr->root, "lexicons"), &pr->lexicon, "lexicons", err);
    }
    if (rc)
        return rc;
    if ((user_events && append(&pr->events, ".", user_events)) ||
        (user_lexicon && append(&pr->lexicon, ".", user_lexicon)))
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    p->events = pr->events;
    p->lexicon = pr->lexicon;
    return 0;
}
