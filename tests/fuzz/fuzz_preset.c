/* Presets (pipeline/presets.c): a preset file named by its path, applied to the default
 * settings (its settings through the settings table, its events and lexicon lists). The
 * input is the file. */
#include "framewise.h"
#include "fuzz_params.h"
#include "fuzz_util.h"
#include "pipeline/presets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fz_scratch("preset.json", data, size, path, sizeof path);
    fw_params p = fw_params_default();
    fw_preset pr;
    fw_error err = {0};
    int rc = fw_preset_apply(&pr, path, &p, NULL, &err);
    if (rc) {
        FZ_CHECK("preset_error_is_einval", rc == FW_EINVAL, "rc %d: %s", rc, err.message);
        FZ_CHECK("preset_error_names_the_file", strstr(err.message, path) != NULL, "'%s'",
                 err.message);
    } else {
        FZ_CHECK("preset_lists_are_its_own", p.events == pr.events && p.lexicon == pr.lexicon,
                 "events/lexicon lists");
        fw_error verr;
        fw_params_validate(&p, &verr); /* may refuse a combination: not the preset's error */
        fz_params_round_trip(&p, "preset");
    }
    fw_preset_free(&pr);
    return 0;
}
