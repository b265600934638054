/* Visual descriptors of a keyframe: named dominant colours, brightness, sharpness,
 * flat/black, and why the selector kept it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyze/backend.h"
#include "analyze/local.h"

enum { BLACK, WHITE, GREY, RED, ORANGE, BROWN, YELLOW, GREEN, CYAN, BLUE, PURPLE, PINK, NCOL };
static const char *const names[NCOL] = {"black",  "white", "grey", "red",  "orange", "brown",
                                        "yellow", "green", "cyan", "blue", "purple", "pink"};

static int colour_index(int r, int g, int b)
{
    double R = r / 255.0, G = g / 255.0, B = b / 255.0;
    double mx = fmax(R, fmax(G, B)), mn = fmin(R, fmin(G, B)), c = mx - mn;
    double v = mx, s = mx > 0 ? c / mx : 0;
    if (v < 0.16)
        return BLACK;
    if (s < 0.18 || c < 0.08)
        return v > 0.9 ? WHITE : GREY;
    double hue;
    if (mx == R)
        hue = fmod((G - B) / c + 6.0, 6.0) * 60;
    else if (mx == G)
        hue = ((B - R) / c + 2) * 60;
    else
        hue = ((R - G) / c + 4) * 60;
    if (hue < 15 || hue >= 340)
        return RED;
    if (hue < 45)
        return v < 0.6 ? BROWN : ORANGE;
    if (hue < 70)
        return v < 0.45 ? BROWN : YELLOW;
    if (hue < 165)
        return GREEN;
    if (hue < 200)
        return CYAN;
    if (hue < 255)
        return BLUE;
    if (hue < 290)
        return PURPLE;
    return PINK;
}

const char *fw_colour_name(int r, int g, int b)
{
    return names[colour_index(r, g, b)];
}

static size_t add(char *phrase, size_t cap, size_t len, const char *fmt, const char *s)
{
    if (len >= cap)
        return len;
    int n = snprintf(phrase + len, cap - len, fmt, s);
    return n < 0 ? len : len + (size_t)n;
}

void fw_describe(const uint8_t *rgb, int w, int h, const fw_look *look, json_t *fields,
                 char *phrase, size_t cap)
{
    int count[NCOL] = {0}, n = w * h;
    double luma = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + (size_t)y * w * 3 + (size_t)x * 3;
            count[colour_index(p[0], p[1], p[2])]++;
            luma += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        }
    luma = n ? luma / n : 0;
    /* colours by share, those over 10% */
    int order[NCOL];
    for (int i = 0; i < NCOL; i++)
        order[i] = i;
    for (int i = 1; i < NCOL; i++)
        for (int j = i; j > 0 && count[order[j]] > count[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    json_t *colours = json_array();
    int shown = 0;
    for (int i = 0; i < NCOL && n; i++) {
        double share = (double)count[order[i]] / n;
        if (share < 0.10)
            break;
        json_array_append_new(colours, json_pack("{s:s,s:f}", "name", names[order[i]], "share",
                                                 round(share * 100) / 100));
        shown++;
    }
    int sharp = look->flat || look->blur >= FW_BLUR_LOW;
    json_object_set_new(fields, "colours", colours);
    json_object_set_new(fields, "brightness", json_real(round(luma * 10) / 10));
    json_object_set_new(fields, "sharp", json_boolean(sharp));
    json_object_set_new(fields, "blur", json_real(round(look->blur * 10) / 10));
    json_object_set_new(fields, "flat", json_boolean(look->flat));
    json_object_set_new(fields, "black", json_boolean(look->black));
    json_object_set_new(fields, "motion", json_real(round(look->motion * 100) / 100));
    json_object_set_new(fields, "reason", json_string(look->reason ? look->reason : ""));

    size_t len = 0;
    phrase[0] = '\0';
    const char *first = shown ? names[order[0]] : "mixed colours";
    if (look->black)
        len = add(phrase, cap, len, "%s", "a black frame");
    else if (look->flat)
        len = add(phrase, cap, len, "a flat %s frame", first);
    else if (shown && (double)count[order[0]] / n >= 0.5)
        len = add(phrase, cap, len, "mostly %s", first);
    else if (shown >= 2) {
        len = add(phrase, cap, len, "%s", first);
        for (int i = 1; i < shown && i < 3; i++)
            len = add(phrase, cap, len, i == shown - 1 || i == 2 ? " and %s" : ", %s",
                      names[order[i]]);
    } else
        len = add(phrase, cap, len, "%s", first);
    if (!look->black) {
        const char *b = luma < 50 ? "dark" : luma < 100 ? "dim" : luma > 170 ? "bright" : NULL;
        if (b)
            len = add(phrase, cap, len, ", %s", b);
        if (!look->flat)
            len = add(phrase, cap, len, ", %s", sharp ? "sharp" : "blurry");
    }
    if (look->reason && strcmp(look->reason, "cut") == 0)
        len = add(phrase, cap, len, ", %s", "after a cut");
    (void)len;
}
