/* jobs: a job as the API shows it, from its queue item and, while it runs here, its live
 * progress. The queue item's texts:
 *   payload {kind: upload|path|url, input, name, preset, options, callback_url}
 *   status  {stage, progress, keyframes, observations, segments, events}  (while running)
 *   result  {final: the last event, error: {code, message} | null, stats, counts, files}
 * Ownership: the functions return new jansson references. */
#ifndef FW_SERVE_JOBS_H
#define FW_SERVE_JOBS_H

#include <jansson.h>
#include <stddef.h>

#include "framewise.h"

typedef struct fw_live {
    char stage[16];  /* "queued", "fetch", "decode", "analyze", "story", "write" */
    double progress; /* of the whole job, 0..1 */
    int keyframes, observations, segments, events;
} fw_live;

/* The job's JSON (GET /v1/jobs/{id}); live NULL: the last status the queue has. */
json_t *fw_job_view(const fw_queue_item *it, const fw_live *live);
json_t *fw_live_json(const fw_live *l);
/* The outputs a finished job may have, NULL-terminated (file names in its folder). */
extern const char *const fw_job_outputs[];
/* 1 when name is an output or a keyframe image name (kf_NNNNNN.jpg): what may be served. */
int fw_job_file_ok(const char *name);
/* The job's output folder: DATA/jobs/ID. */
void fw_job_dir(const char *data, int64_t id, char *out, size_t size);

#endif
