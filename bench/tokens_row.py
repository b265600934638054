"""One row of bench/tokens.sh from four reports of one clip (seed, whole, default, +ocr);
the whole run's lines the default runs did not read are appended to MISSED."""
import json
import re
import sys

name, missed_path = sys.argv[1], sys.argv[6]
seed, whole, default, ocr = [json.load(open(p)) for p in sys.argv[2:6]]


def norm(s):
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


def text(o):  # what the model (or, "source": "ocr", the OCR) said is on screen
    return o.get("fields", {}).get("text") or ""


def lines(rep):
    out = []
    for o in rep["observations"]:
        for line in text(o).split("\n"):
            n = norm(line)
            if len(n) >= 3 and n not in out:
                out.append(n)
    return out


def corpus(rep):
    return " " + " ".join(norm(text(o)) for o in rep["observations"]) + " "


def found(want, rep):
    c = corpus(rep)
    n = sum(1 for line in want if " " + line + " " in c)
    pct = "%.0f %%" % (100.0 * n / len(want)) if want else "-"
    return "%s (%d/%d)" % (pct, n, len(want))


def ratio(a, b):
    return "%.1f %%" % (100.0 * a / b) if b else "-"


st = [r["stats"] for r in (seed, whole, default, ocr)]
tpm = [s.get("image_tokens_per_minute", 0) for s in st]
v, sent = default["video"], st[2].get("sent", {})
print("| %s | %sx%s | %.1f | %s | %s | %s | %s | %.0f | %s | %d, %d, %d, %d | %d / %d | %s, %s | %s |" % (
    name, v["width"], v["height"], v["duration"], " / ".join("%.0f" % t for t in tpm),
    ratio(tpm[2], tpm[0]), ratio(tpm[3], tpm[0]), ratio(tpm[2], tpm[1]),
    st[2].get("text_tokens_per_minute", 0), " / ".join(str(s["requests"]) for s in st),
    sent.get("crops", 0), sent.get("low", 0), sent.get("asked_again", 0), sent.get("same", 0),
    len(lines(seed)), len(lines(whole)), found(lines(whole), default), found(lines(whole), ocr),
    found(lines(seed), default)))

with open(missed_path, "a") as f:
    for label, rep in (("default", default), ("+ocr", ocr)):
        c = corpus(rep)
        lost = [line for line in lines(whole) if " " + line + " " not in c]
        if lost:
            f.write("- %s, %s: %s\n" % (name, label, "; ".join('"%s"' % line for line in lost)))
