/* framewise keyframes / scenes through the CLI, on videos generated with known
 * ground truth (cut times, captions, static stretches, VFR, rotation) and on the
 * shared real clips. Run one test per process: test_keyframes NAME. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fwtest.h"

#define SRC(s) "-f lavfi -i " s
#define X264 "-c:v libx264 -preset ultrafast -pix_fmt yuv420p"

static int has_start_near(const long *starts, int n, long frame, long tolerance)
{
    for (int i = 0; i < n; i++)
        if (labs(starts[i] - frame) <= tolerance)
            return 1;
    return 0;
}

/* Three static sources of 2 s each at 25 fps: cuts at frames 50 and 100. */
static void cuts_found_within_one_frame(void **state)
{
    (void)state;
    const char *v = fwt_video(
        "cuts.mp4",
        SRC("smptebars=s=320x240:r=25:d=2") " " SRC("rgbtestsrc=s=320x240:r=25:d=2") " " SRC(
            "color=c=0x336699:s=320x240:r=25:d=2") " -filter_complex "
                                                   "[0][1][2]concat=n=3:v=1 " X264);
    long starts[16];
    int n = fwt_scene_starts(v, starts, NULL, 16);
    assert_int_equal(n, 3);
    assert_int_equal(starts[0], 0);
    assert_true(labs(starts[1] - 50) <= 1);
    assert_true(labs(starts[2] - 100) <= 1);
    /* auto keeps a frame of every shot, each soon after its cut */
    json_t *j = fwt_keyframes(v, "");
    assert_int_equal(json_array_size(fwt_kf_list(j)), 3);
    assert_true(fwt_kf_time(j, 1) >= 2.0 && fwt_kf_time(j, 1) <= 2.5);
    assert_true(fwt_kf_time(j, 2) >= 4.0 && fwt_kf_time(j, 2) <= 4.5);
    json_decref(j);
}

/* A fade to black is not a cut, and no black frame is kept. */
static void fade_is_not_a_cut_and_black_is_never_kept(void **state)
{
    (void)state;
    const char *v =
        fwt_video("fade.mp4", SRC("smptebars=s=320x240:r=25:d=5") " -vf fade=t=out:st=1:d=2 " X264);
    long starts[8];
    assert_int_equal(fwt_scene_starts(v, starts, NULL, 8), 1);
    json_t *j = fwt_keyframes(v, "");
    size_t i;
    json_t *kf;
    json_array_foreach(fwt_kf_list(j), i, kf)
    {
        json_t *scores = json_object_get(kf, "scores");
        assert_false(json_is_true(json_object_get(scores, "black")));
        assert_true(json_real_value(json_object_get(kf, "time")) < 3.0);
    }
    json_decref(j);
}

/* A caption appearing without a cut: auto keeps a frame within 0.5 s after it. */
static void auto_keeps_frame_when_caption_appears(void **state)
{
    (void)state;
    const char *v = fwt_video(
        "caption.mp4",
        SRC("smptebars=s=640x360:r=25:d=6") " -vf \"drawtext=fontfile=" FWT_FONT
                                            ":text='Connection timed "
                                            "out':fontsize=22:fontcolor=white:box=1:boxcolor="
                                            "black:x=40:y=300:enable='gte(t,3)'\" " X264);
    json_t *j = fwt_keyframes(v, "");
    int found = 0;
    for (size_t i = 0; i < json_array_size(fwt_kf_list(j)); i++) {
        double t = fwt_kf_time(j, i);
        if (t >= 3.0 && t <= 3.5)
            found = 1;
        assert_false(t > 0 && t < 3.0); /* nothing new before the caption */
    }
    assert_true(found);
    /* the seed's method (1 fps, threshold 30) misses it: the caption is a small area */
    json_t *seed = fwt_keyframes(v, "--policy motion");
    for (size_t i = 0; i < json_array_size(fwt_kf_list(seed)); i++)
        assert_false(fwt_kf_time(seed, i) >= 3.0);
    json_decref(seed);
    json_decref(j);
}

/* 25 s that never change: only the first frame and one per max gap. */
static void static_stretch_yields_only_gap_frames(void **state)
{
    (void)state;
    const char *v = fwt_video("static.mp4", SRC("rgbtestsrc=s=160x120:r=10:d=25") " " X264);
    json_t *j = fwt_keyframes(v, "--max-gap 10");
    assert_int_equal(json_array_size(fwt_kf_list(j)), 3);
    assert_string_equal(fwt_kf_reason(j, 0), "first");
    assert_string_equal(fwt_kf_reason(j, 1), "gap");
    assert_string_equal(fwt_kf_reason(j, 2), "gap");
    assert_true(fabs(fwt_kf_time(j, 1) - 10.0) < 0.11);
    assert_true(fabs(fwt_kf_time(j, 2) - 20.0) < 0.11);
    json_decref(j);
}

/* Variable frame rate: 10 frames 0.04 s apart, then 0.2 s apart; the cut at frame 20
 * is at 2.4 s (index / average fps would say about 3.1 s). */
static void vfr_timestamps_come_from_pts(void **state)
{
    (void)state;
    const char *v = fwt_video(
        "vfr.mp4", SRC("smptebars=s=320x240:r=25:d=0.8") " " SRC(
                       "rgbtestsrc=s=320x240:r=25:d=0.8") " -filter_complex "
                                                          "\"[0][1]concat=n=2:v=1,setpts='if(lt(N,"
                                                          "10),N*0.04,0.4+(N-10)*0.2)/TB'\""
                                                          " -fps_mode passthrough " X264);
    long starts[8];
    double times[8];
    int n = fwt_scene_starts(v, starts, times, 8);
    assert_int_equal(n, 2);
    assert_int_equal(starts[1], 20);
    assert_true(fabs(times[1] - 2.4) < 0.01);
    /* interval sampling by time: samples at whole seconds land on frames at whole seconds */
    json_t *j = fwt_keyframes(v, "--policy interval --fps 1");
    size_t count = json_array_size(fwt_kf_list(j));
    assert_true(count >= 6);
    for (size_t i = 0; i < count; i++)
        assert_true(fabs(fwt_kf_time(j, i) - (double)i) < 0.11);
    json_decref(j);
}

/* JPEG SOF: height and width. */
static void jpeg_size(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 2; i + 8 < n; i++)
        if (buf[i] == 0xFF && (buf[i + 1] == 0xC0 || buf[i + 1] == 0xC2)) {
            *h = buf[i + 5] << 8 | buf[i + 6];
            *w = buf[i + 7] << 8 | buf[i + 8];
            return;
        }
    fail_msg("%s: no JPEG frame header", path);
}

/* A 24x32 grey thumbnail of an image file, via ffmpeg (which autorotates video). */
static void grey_thumb(const char *path, unsigned char out[24 * 32])
{
    char raw[600];
    snprintf(raw, sizeof raw, "%s/thumb.raw", fwt_tmpdir());
    fwt_run r;
    fwt_sh(&r,
           "ffmpeg -nostdin -v error -i '%s' -frames:v 1 -vf scale=24:32 -f rawvideo "
           "-pix_fmt gray -y '%s'",
           path, raw);
    assert_int_equal(r.status, 0);
    fwt_free(&r);
    FILE *f = fopen(raw, "rb");
    assert_non_null(f);
    assert_int_equal(fread(out, 1, 24 * 32, f), 24 * 32);
    fclose(f);
}

/* A display matrix (set as FFmpeg 5.1 does, on a stream copy): the reported size is
 * the display size and the written JPEG looks like FFmpeg's own autorotated frame. */
static void rotation_is_honoured(void **state)
{
    (void)state;
    const char *plain = fwt_video("plain.mp4", SRC("testsrc=s=320x240:r=25:d=1") " " X264);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "-i '%s' -c copy -metadata:s:v:0 rotate=90", plain);
    const char *v = fwt_video("rot.mp4", cmd);
    json_t *j = fwt_keyframes(v, "");
    json_t *video = json_object_get(j, "video");
    assert_int_equal(json_integer_value(json_object_get(video, "rotation")), 270);
    assert_int_equal(json_integer_value(json_object_get(video, "width")), 240);
    assert_int_equal(json_integer_value(json_object_get(video, "height")), 320);
    const char *jpeg =
        json_string_value(json_object_get(json_array_get(fwt_kf_list(j), 0), "file"));
    int w = 0, h = 0;
    jpeg_size(jpeg, &w, &h);
    assert_int_equal(w, 240);
    assert_int_equal(h, 320);
    unsigned char ours[24 * 32], theirs[24 * 32];
    grey_thumb(jpeg, ours);
    grey_thumb(v, theirs);
    long diff = 0;
    for (int i = 0; i < 24 * 32; i++)
        diff += abs(ours[i] - theirs[i]);
    assert_true(diff / (24 * 32) < 8);
    json_decref(j);
}

static void iframe_policy_keeps_stream_keyframes(void **state)
{
    (void)state;
    const char *v = fwt_video(
        "gop.mp4",
        SRC("testsrc=s=320x240:r=25:d=4") " " X264 " -g 25 -keyint_min 25 -sc_threshold 0 -bf 2");
    json_t *j = fwt_keyframes(v, "--policy iframe");
    assert_int_equal(json_array_size(fwt_kf_list(j)), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_true(fabs(fwt_kf_time(j, i) - (double)i) < 0.001);
        assert_string_equal(fwt_kf_reason(j, i), "iframe");
    }
    json_decref(j);
}

static void interval_policy_samples_by_time(void **state)
{
    (void)state;
    const char *v = fwt_video("bars.mp4", SRC("testsrc=s=320x240:r=25:d=4") " " X264 " -bf 3");
    json_t *j = fwt_keyframes(v, "--policy interval --fps 2");
    assert_int_equal(json_array_size(fwt_kf_list(j)), 8);
    for (size_t i = 0; i < 8; i++)
        assert_true(fabs(fwt_kf_time(j, i) - 0.5 * (double)i) < 0.021);
    json_t *video = json_object_get(j, "video");
    assert_int_equal(json_integer_value(json_object_get(video, "width")), 320);
    json_decref(j);
}

static const char *four_states(void)
{
    return fwt_video(
        "states.mp4",
        SRC("smptebars=s=320x240:r=25:d=1.5") " " SRC(
            "rgbtestsrc=s=320x240:r=25:d=1."
            "5") " " SRC("pal75bars=s=320x240:r=25:d=1.5") " " SRC("color=c=orange:s=320x240:r=25:"
                                                                   "d=1.5") " -filter_complex "
                                                                            "[0][1][2][3]concat=n="
                                                                            "4:v=1 " X264);
}

static void budget_caps_keyframes_and_keeps_the_first(void **state)
{
    (void)state;
    const char *v = four_states();
    json_t *all = fwt_keyframes(v, "");
    assert_int_equal(json_array_size(fwt_kf_list(all)), 4);
    json_decref(all);
    json_t *j = fwt_keyframes(v, "--budget 2");
    assert_int_equal(json_array_size(fwt_kf_list(j)), 2);
    assert_string_equal(fwt_kf_reason(j, 0), "first");
    assert_true(fwt_kf_time(j, 1) > fwt_kf_time(j, 0));
    json_decref(j);
}

static void csv_has_the_json_columns(void **state)
{
    (void)state;
    const char *v = four_states();
    fwt_run r;
    fwt_fw(&r, "keyframes '%s' -o '%s/csv' -q --csv", v, fwt_tmpdir());
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "index,time,pts,frame,reason,file,motion,area,", 45) == 0);
    assert_int_equal(fwt_lines(r.out), 1 + 4);
    fwt_free(&r);
}

static void reads_standard_input(void **state)
{
    (void)state;
    const char *v = four_states();
    fwt_run r;
    fwt_sh(&r, "cat '%s' | '%s' keyframes - -o '%s/stdin' -q --json", v, getenv("FRAMEWISE_BIN"),
           fwt_tmpdir());
    assert_int_equal(r.status, 0);
    json_t *j = fwt_json(&r);
    assert_int_equal(json_array_size(fwt_kf_list(j)), 4);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "video"), "path")),
                        "-");
    json_decref(j);
    fwt_free(&r);
}

static void expect_bad_input(const char *path, const char *reason)
{
    fwt_run r;
    fwt_fw(&r, "keyframes '%s' -o '%s/bad'", path, fwt_tmpdir());
    int ok = r.status == 2 && fwt_lines(r.err) == 1 && strstr(r.err, path) &&
             strstr(r.err, reason) && !strstr(r.err, "@ 0x") && r.out[0] == '\0';
    char got[600];
    snprintf(got, sizeof got, "%d: %s", r.status, r.err);
    fwt_free(&r); /* before failing: a failed test must not also leak */
    if (!ok)
        fail_msg("%s: want exit 2 and one line naming it with '%s' (no libav pointer); got %s",
                 path, reason, got);
}

/* Writes n fixed bytes: an H.263 picture start code with a reserved source format (so
 * libavformat probes it as H.263 and the decoder says "header damaged") every 64 bytes
 * when h263, else bytes from a fixed-seed generator. Never /dev/urandom: about 1 run in
 * 25, 50 kB of random bytes probe as H.263. */
static void write_fixed_bytes(const char *path, size_t n, int h263)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t x = 0x2545F491u; /* xorshift32, fixed seed */
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        unsigned tr = (unsigned)(i / 64) % 200, k = (unsigned)(i % 64);
        const unsigned char psc[6] = {0, 0, 0x80 | (tr >> 6), ((tr & 0x3f) << 2) | 2, 6 << 2, 0};
        /* the filler never holds a zero byte, so no other start code appears */
        int byte = h263 && k < 6 ? psc[k] : h263 ? 20 + (int)(x % 200) : (int)(x & 0xff);
        fputc(byte, f);
    }
    fclose(f);
}

static void bad_inputs_give_one_line_and_exit_2(void **state)
{
    (void)state;
    char path[600];
    const char *dir = fwt_tmpdir();
    fwt_run r;
    snprintf(path, sizeof path, "%s/missing.mp4", dir);
    expect_bad_input(path, "No such file");
    snprintf(path, sizeof path, "%s/empty.mp4", dir);
    fwt_sh(&r, ": > '%s'", path);
    fwt_free(&r);
    expect_bad_input(path, "empty file");
    snprintf(path, sizeof path, "%s/noise.mp4", dir);
    write_fixed_bytes(path, 50000, 0);
    expect_bad_input(path, "not a readable media file");
    snprintf(path, sizeof path, "%s/random.mp4", dir);
    write_fixed_bytes(path, 25600, 1);
    expect_bad_input(path, "random.mp4: not a readable video (h263: header damaged)");
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    fwt_sh(&r, "printf 'meeting notes\\nnot a video\\n' > '%s'", path);
    fwt_free(&r);
    expect_bad_input(path, "not a");
    const char *full = fwt_video("full.mp4", SRC("testsrc2=s=320x240:r=25:d=2") " " X264);
    snprintf(path, sizeof path, "%s/truncated.mp4", dir);
    fwt_sh(&r, "head -c $(( $(stat -c %%s '%s') / 2 )) '%s' > '%s'", full, full, path);
    fwt_free(&r);
    expect_bad_input(path, "moov atom not found");
    const char *audio = fwt_video("audio.m4a", SRC("sine=d=1") " -c:a aac");
    expect_bad_input(audio, "no video stream");
    expect_bad_input(dir, "Is a directory");
}

/* The output directory cannot be made: a runtime failure, exit 1, one line. */
static void unwritable_output_exits_1(void **state)
{
    (void)state;
    const char *v = four_states();
    fwt_run r;
    fwt_fw(&r, "keyframes '%s' -o '%s' -q", v, v); /* a file, not a directory */
    assert_int_equal(r.status, 1);
    assert_int_equal(fwt_lines(r.err), 1);
    assert_non_null(strstr(r.err, "cannot create output directory"));
    fwt_free(&r);
}

static void usage_errors_exit_2_and_help_exits_0(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "frobnicate x.mp4",
                                      "keyframes",
                                      "keyframes a.mp4 b.mp4",
                                      "keyframes --bogus x.mp4",
                                      "keyframes --fps 0 x.mp4",
                                      "keyframes --fps abc x.mp4",
                                      "keyframes --policy bogus x.mp4",
                                      "keyframes --budget 1.5 x.mp4",
                                      "keyframes --json --csv x.mp4",
                                      "scenes --policy auto x.mp4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fwt_run r;
        fwt_fw(&r, "%s", bad[i]);
        if (r.status != 2 ||
            (strncmp(r.err, "framewise: ", 11) != 0 && strncmp(r.err, "usage:", 6) != 0))
            fail_msg("'%s': want exit 2 and a message; got %d: %s", bad[i], r.status, r.err);
        fwt_free(&r);
    }
    fwt_run r;
    fwt_fw(&r, "keyframes --help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "--max-gap S"));
    assert_non_null(strstr(r.out, "--budget N"));
    fwt_free(&r);
    fwt_fw(&r, "--version");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "framewise 0."));
    fwt_free(&r);
}

/* The library names a setting ("max-gap: ..."), the command line its option; the
 * library's log reaches stderr only as asked: FW_TRACE for the per-frame trace. */
static void setting_errors_name_the_option_and_traces_come_when_asked(void **state)
{
    (void)state;
    const char *v = fwt_video("t.mp4", SRC("testsrc=s=160x120:r=10:d=1") " " X264);
    fwt_run r;
    fwt_fw(&r, "keyframes '%s' --max-gap -1", v);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "framewise: keyframes: --max-gap: must be >= 0, not -1\n");
    fwt_free(&r);
    fwt_fw(&r, "keyframes '%s' -o '%s/kf' -q", v, fwt_tmpdir());
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    fwt_free(&r);
    fwt_sh(&r, "FW_TRACE=1 '%s' keyframes '%s' -o '%s/kf' -q", getenv("FRAMEWISE_BIN"), v,
           fwt_tmpdir());
    assert_int_equal(r.status, 0);
    assert_true(fwt_lines(r.err) >= 10); /* a line per frame: 10 frames */
    assert_non_null(strstr(r.err, "0 0.000 delta="));
    assert_non_null(strstr(r.err, "  KEPT 0 (0.000 first)"));
    fwt_free(&r);
}

/* ---- the shared real clips (skipped when absent) ------------------------------ */

static void real_megamind_cuts_found(void **state)
{
    (void)state;
    const char *v = fwt_real("Megamind.avi");
    fwt_skip_without(v);
    long starts[32];
    int n = fwt_scene_starts(v, starts, NULL, 32);
    assert_true(has_start_near(starts, n, 98, 1));
    assert_true(has_start_near(starts, n, 154, 1));
    assert_true(has_start_near(starts, n, 200, 1));
    assert_true(n <= 6); /* and not many more */
}

/* PySceneDetect's test video: hard cuts at 30 and 180; auto keeps each of the four
 * photos (frames 30-179, 211-359, 394-527, 558-693) and nothing black. */
static void real_pyscenedetect_cuts_and_coverage(void **state)
{
    (void)state;
    const char *v = fwt_real("pyscenedetect-testvideo.mp4");
    fwt_skip_without(v);
    long starts[32];
    int n = fwt_scene_starts(v, starts, NULL, 32);
    assert_true(has_start_near(starts, n, 30, 1));
    assert_true(has_start_near(starts, n, 180, 1));
    json_t *j = fwt_keyframes(v, "");
    static const long photo[4][2] = {{30, 179}, {211, 359}, {394, 527}, {558, 693}};
    int covered[4] = {0};
    size_t i;
    json_t *kf;
    json_array_foreach(fwt_kf_list(j), i, kf)
    {
        long frame = (long)json_integer_value(json_object_get(kf, "frame"));
        for (int p = 0; p < 4; p++)
            covered[p] |= frame >= photo[p][0] && frame <= photo[p][1];
        assert_false(json_is_true(json_object_get(json_object_get(kf, "scores"), "black")));
    }
    for (int p = 0; p < 4; p++)
        if (!covered[p])
            fail_msg("photo %d (frames %ld-%ld) has no keyframe", p + 1, photo[p][0], photo[p][1]);
    json_decref(j);
}

static void real_clips_all_processed(void **state)
{
    (void)state;
    static const char *const clips[] = {
        "Megamind.avi",       "vtest.avi",         "tree.avi",
        "cockatoo.mp4",       "tour.mp4",          "message-board.ogv",
        "mahjongg-video.ogv", "movie-hello.mp4",   "pyscenedetect-testvideo.mp4",
        "vhs-tutorial.mp4",   "vhs-neofetch.webm", "pitivi-tears_of_steel.webm",
        "realshort.mp4"};
    fwt_skip_without(fwt_real(clips[0]));
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++) {
        const char *v = fwt_real(clips[i]);
        if (!v)
            continue;
        fwt_run r;
        fwt_fw(&r, "keyframes '%s' -o '%s/real%zu' -q --json", v, fwt_tmpdir(), i);
        if (strcmp(clips[i], "realshort.mp4") == 0 && r.status == 2) {
            /* the damaged clip may be refused: then with one clear line */
            assert_int_equal(fwt_lines(r.err), 1);
            assert_non_null(strstr(r.err, "realshort.mp4"));
            fwt_free(&r);
            continue;
        }
        if (r.status != 0)
            fail_msg("%s: exit %d: %s", clips[i], r.status, r.err);
        if (strstr(r.err, "@ 0x")) /* a damaged clip's warning names the codec, not a pointer */
            fail_msg("%s: libav's prefix in a warning: %s", clips[i], r.err);
        json_t *j = fwt_json(&r);
        size_t n = json_array_size(fwt_kf_list(j));
        double duration = json_real_value(json_object_get(json_object_get(j, "video"), "duration"));
        /* at least one frame, and far fewer than one per second on average plus cuts */
        if (n < 1 || n > 2 + (size_t)(duration * 1.0))
            fail_msg("%s: %zu keyframes for %.1f s", clips[i], n, duration);
        json_decref(j);
        fwt_free(&r);
    }
}

/* "frame:reason ..." of a keyframe list, to compare runs. */
static void kf_signature(json_t *j, char *out, size_t n)
{
    size_t i, len = 0;
    json_t *kf;
    out[0] = '\0';
    json_array_foreach(fwt_kf_list(j), i, kf)
    {
        int w = snprintf(out + len, n - len, "%lld:%s ",
                         (long long)json_integer_value(json_object_get(kf, "frame")),
                         json_string_value(json_object_get(kf, "reason")));
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
    }
}

/* The same video gives the same keyframes whatever the decoder's threads: FFmpeg 5.1's
 * Theora decoder with frame threads gave other pictures from run to run on
 * message-board.ogv (and other keyframes in 4 runs of 5). */
static void real_clips_same_keyframes_with_any_thread_count(void **state)
{
    (void)state;
    static const char *const clips[] = {"message-board.ogv", "mahjongg-video.ogv"};
    fwt_skip_without(fwt_real(clips[0]));
    for (size_t c = 0; c < sizeof clips / sizeof clips[0]; c++) {
        const char *v = fwt_real(clips[c]);
        if (!v)
            continue;
        char one[4096], many[4096];
        json_t *j = fwt_keyframes(v, "--threads 1");
        kf_signature(j, one, sizeof one);
        json_decref(j);
        for (int run = 0; run < 3; run++) {
            j = fwt_keyframes(v, "--threads 2");
            kf_signature(j, many, sizeof many);
            json_decref(j);
            if (strcmp(one, many) != 0)
                fail_msg("%s: 1 thread: %s; 2 threads (run %d): %s", clips[c], one, run + 1, many);
        }
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(cuts_found_within_one_frame, fwt_teardown),
        cmocka_unit_test_teardown(fade_is_not_a_cut_and_black_is_never_kept, fwt_teardown),
        cmocka_unit_test_teardown(auto_keeps_frame_when_caption_appears, fwt_teardown),
        cmocka_unit_test_teardown(static_stretch_yields_only_gap_frames, fwt_teardown),
        cmocka_unit_test_teardown(vfr_timestamps_come_from_pts, fwt_teardown),
        cmocka_unit_test_teardown(rotation_is_honoured, fwt_teardown),
        cmocka_unit_test_teardown(iframe_policy_keeps_stream_keyframes, fwt_teardown),
        cmocka_unit_test_teardown(interval_policy_samples_by_time, fwt_teardown),
        cmocka_unit_test_teardown(budget_caps_keyframes_and_keeps_the_first, fwt_teardown),
        cmocka_unit_test_teardown(csv_has_the_json_columns, fwt_teardown),
        cmocka_unit_test_teardown(reads_standard_input, fwt_teardown),
        cmocka_unit_test_teardown(bad_inputs_give_one_line_and_exit_2, fwt_teardown),
        cmocka_unit_test_teardown(unwritable_output_exits_1, fwt_teardown),
        cmocka_unit_test_teardown(usage_errors_exit_2_and_help_exits_0, fwt_teardown),
        cmocka_unit_test_teardown(setting_errors_name_the_option_and_traces_come_when_asked,
                                  fwt_teardown),
        cmocka_unit_test_teardown(real_megamind_cuts_found, fwt_teardown),
        cmocka_unit_test_teardown(real_pyscenedetect_cuts_and_coverage, fwt_teardown),
        cmocka_unit_test_teardown(real_clips_all_processed, fwt_teardown),
        cmocka_unit_test_teardown(real_clips_same_keyframes_with_any_thread_count, fwt_teardown),
    };
    fwt_select_test(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
