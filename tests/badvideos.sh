#!/usr/bin/env bash
# A corpus of bad, damaged and unusual videos, for tests/cli/test_corpus.c: every file
# must give a clean one-line error or a result, never a crash or a hang.
#
# Usage: tests/badvideos.sh OUTDIR
#   writes the files into OUTDIR (made if missing) and OUTDIR/MANIFEST.tsv, one line a file:
#     NAME <TAB> KIND <TAB> EXPECT <TAB> NEEDLE
#   KIND    what the file is (truncated, flipped, moov, audio, image, size, codec, ...)
#   EXPECT  error    the file cannot give a result: a clean error (exit 1 or 2), never exit 0
#           partial  the file is damaged part-way: a clean error, or a result (exit 0) that
#                    comes with a warning line on stderr
#           result   a valid, decodable video: a result (exit 0)
#           any      an edge case: a clean error or a result
#   NEEDLE  what the error line must also say (besides the file's name), or "-"; A|B: A or B
# Generated with ffmpeg (lavfi testsrc/testsrc2/smptebars/sine, 160x120, 1-3 s), damaged with
# python3 at fixed offsets: the same bytes on every run (bitexact, one encoder thread, no
# random bytes). Prints nothing but errors.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "badvideos.sh: ffmpeg not found" >&2; exit 77; }
command -v python3 >/dev/null || { echo "badvideos.sh: python3 not found" >&2; exit 77; }
OUT=$1
mkdir -p "$OUT"
cd "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/badvideos.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
: >MANIFEST.tsv

BITEXACT=(-fflags +bitexact -flags +bitexact -map_metadata -1 -map_chapters -1)
X264=(-c:v libx264 -preset ultrafast -threads 1 -g 25 -bf 2)
VPX=(-deadline realtime -cpu-used 8 -threads 1 -g 25)

ff() { ffmpeg -nostdin -hide_banner -v error -y "$@"; }
ENCODERS=$(ffmpeg -hide_banner -encoders 2>/dev/null)
has() { grep -q " $1 " <<<"$ENCODERS"; }
for e in libx264 libvpx-vp9 aac; do
  has $e || { echo "badvideos.sh: ffmpeg has no $e encoder" >&2; exit 77; }
done
# enc OUT ARGS...: an ffmpeg run whose output is OUT, bitexact.
enc() {
  local out=$1
  shift
  ff "$@" "${BITEXACT[@]}" "$out"
}
add() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:--}" >>MANIFEST.tsv; }

# 3 s at 25 fps: testsrc2 for 1.5 s, a cut to smptebars (so there are shots to find).
CLIP=(-f lavfi -i "testsrc2=s=160x120:r=25:d=1.5" -f lavfi -i "smptebars=s=160x120:r=25:d=1.5"
  -filter_complex "[0][1]concat=n=2:v=1,format=yuv420p[v]" -map "[v]")
SHORT=(-f lavfi -i "testsrc2=s=160x120:r=25:d=1")

# ---- valid videos, also the bases of the damaged ones ----------------------------------
enc ok.mp4 "${CLIP[@]}" "${X264[@]}"
enc ok_faststart.mp4 "${CLIP[@]}" "${X264[@]}" -movflags +faststart
enc ok.mkv "${CLIP[@]}" "${X264[@]}"
enc ok.webm "${CLIP[@]}" -c:v libvpx-vp9 "${VPX[@]}" -row-mt 0 -b:v 300k
enc ok.ts "${CLIP[@]}" "${X264[@]}" -f mpegts
enc ok_audio_video.mp4 -i ok.mp4 -f lavfi -i "sine=f=440:d=3" -map 0:v -map 1:a -c:v copy \
  -c:a aac -b:a 64k
for f in ok.mp4 ok_faststart.mp4 ok.mkv ok.webm ok.ts ok_audio_video.mp4; do add "$f" valid result; done

# ---- unusual but valid -------------------------------------------------------------------
enc h264_10bit.mp4 "${SHORT[@]}" "${X264[@]}" -pix_fmt yuv420p10le
! has libx265 || enc hevc_10bit.mkv "${SHORT[@]}" -c:v libx265 -preset ultrafast -pix_fmt yuv420p10le \
  -x265-params log-level=error:pools=none:frame-threads=1:keyint=25
enc vp9_10bit.webm "${SHORT[@]}" -c:v libvpx-vp9 "${VPX[@]}" -row-mt 0 -pix_fmt yuv420p10le \
  -b:v 300k
enc h264_444.mp4 "${SHORT[@]}" "${X264[@]}" -pix_fmt yuv444p
enc mpeg2.mpg "${SHORT[@]}" -c:v mpeg2video -threads 1 -g 25 -q:v 4 -f mpeg
enc mjpeg.avi "${SHORT[@]}" -c:v mjpeg -threads 1 -q:v 5 -pix_fmt yuvj420p
enc ffv1.mkv "${SHORT[@]}" -c:v ffv1 -threads 1
! has libvpx || enc vp8.webm "${SHORT[@]}" -c:v libvpx "${VPX[@]}" -b:v 300k
! has libtheora || enc theora.ogv "${SHORT[@]}" -c:v libtheora -threads 1 -q:v 5
! has prores_ks || enc prores.mov "${SHORT[@]}" -c:v prores_ks -profile:v 0 -threads 1
enc animated.gif -f lavfi -i "testsrc2=s=160x120:r=10:d=1" -c:v gif -threads 1
enc animated.apng -f lavfi -i "testsrc2=s=160x120:r=10:d=1" -c:v apng -plays 0 -f apng
for f in h264_10bit.mp4 hevc_10bit.mkv vp9_10bit.webm h264_444.mp4; do
  if [ -e "$f" ]; then add "$f" pixfmt result; fi # an encoder ffmpeg lacks: no file
done
for f in mpeg2.mpg mjpeg.avi ffv1.mkv vp8.webm theora.ogv prores.mov animated.gif animated.apng; do
  if [ -e "$f" ]; then add "$f" codec result; fi
done
# rotation as a display matrix (FFmpeg 5.1 sets it from this tag on a stream copy)
enc rotated_90.mp4 -i ok.mp4 -c copy -metadata:s:v:0 rotate=90
enc rotated_45.mp4 -i ok.mp4 -c copy -metadata:s:v:0 rotate=45
add rotated_90.mp4 rotated result
add rotated_45.mp4 rotated any
# variable frame rate: 10 frames 0.04 s apart, then 0.2 s apart
enc vfr.mp4 -f lavfi -i "testsrc2=s=160x120:r=25:d=1" \
  -vf "setpts='if(lt(N,10),N*0.04,0.4+(N-10)*0.2)/TB'" -fps_mode passthrough "${X264[@]}"
add vfr.mp4 vfr result

# ---- sizes -------------------------------------------------------------------------------
enc tiny_2x2.mp4 -f lavfi -i "testsrc2=s=2x2:r=10:d=1" "${X264[@]}" -pix_fmt yuv420p
enc tall_1x4000.mp4 -f lavfi -i "testsrc=s=1x4000:r=10:d=1" "${X264[@]}" -pix_fmt yuv444p
add tiny_2x2.mp4 size any
add tall_1x4000.mp4 size any
# sizes in the headers that the stream does not have (patched below)
enc "$WORK/size.mp4" -f lavfi -i "testsrc2=s=320x256:r=25:d=1" "${X264[@]}" -pix_fmt yuv420p \
  -movflags +faststart
enc "$WORK/size.mkv" -f lavfi -i "testsrc2=s=320x256:r=25:d=1" "${X264[@]}" -pix_fmt yuv420p

# ---- audio only, still images ------------------------------------------------------------
enc audio_only.m4a -f lavfi -i "sine=f=440:d=1" -c:a aac -b:a 64k
! has libmp3lame || enc audio_only.mp3 -f lavfi -i "sine=f=440:d=1" -c:a libmp3lame -b:a 64k -write_xing 0
enc audio_only.wav -f lavfi -i "sine=f=440:d=1" -c:a pcm_s16le
for f in audio_only.m4a audio_only.mp3 audio_only.wav; do
  if [ -e "$f" ]; then add "$f" audio error "no video stream"; fi
done
enc still.png -f lavfi -i "testsrc2=s=160x120:r=1:d=1" -frames:v 1 -c:v png
enc still.jpg -f lavfi -i "testsrc2=s=160x120:r=1:d=1" -frames:v 1 -c:v mjpeg -pix_fmt yuvj420p
add still.png image any
add still.jpg image any

# ---- timestamps that reset or go backwards -----------------------------------------------
enc "$WORK/a.ts" -f lavfi -i "testsrc2=s=160x120:r=25:d=1.5" "${X264[@]}" -pix_fmt yuv420p -f mpegts
enc "$WORK/b.ts" -f lavfi -i "smptebars=s=160x120:r=25:d=1.5" "${X264[@]}" -pix_fmt yuv420p \
  -f mpegts
enc "$WORK/a30.ts" -f lavfi -i "testsrc2=s=160x120:r=25:d=1.5" "${X264[@]}" -pix_fmt yuv420p \
  -output_ts_offset 30 -f mpegts
cat "$WORK/a.ts" "$WORK/b.ts" >ts_pts_reset.ts      # pts 1.4..2.9, then 1.4 again
cat "$WORK/a30.ts" "$WORK/b.ts" >ts_pts_backjump.ts # pts 31.4..32.9, then 1.4
cat "$WORK/b.ts" "$WORK/a30.ts" >ts_pts_jump.ts     # pts 1.4..2.9, then 31.4
add ts_pts_reset.ts timestamps result
add ts_pts_backjump.ts timestamps result
add ts_pts_jump.ts timestamps result
enc "$WORK/clusters.mkv" "${CLIP[@]}" "${X264[@]}" -cluster_time_limit 500

# ---- damage, at fixed offsets ------------------------------------------------------------
cat >"$WORK/damage.py" <<'EOF'
import struct, sys

def rd(p):
    with open(p, "rb") as f:
        return bytearray(f.read())

def wr(p, b):
    with open(p, "wb") as f:
        f.write(bytes(b))

def box(b, name, start=0):
    """Offset of the first box NAME (its size field), searched from start."""
    i = b.find(name.encode(), start)
    if i < 4:
        sys.exit("damage.py: no %s box" % name)
    return i - 4

def flip(b, at, n, mask=0xFF):
    for i in range(at, min(at + n, len(b))):
        b[i] ^= mask

def ebml_ids(b, ident):
    """Offsets of every occurrence of an EBML element id."""
    out, i = [], b.find(ident)
    while i >= 0:
        out.append(i)
        i = b.find(ident, i + 1)
    return out

def run(cmd, args):
    if cmd == "cut":  # SRC DST BYTES
        wr(args[1], rd(args[0])[: int(args[2])])
    elif cmd == "cutpct":  # SRC DST PERCENT [PLUS]: the first PERCENT of the file (+ PLUS bytes)
        b = rd(args[0])
        wr(args[1], b[: len(b) * int(args[2]) // 100 + int((args[3:] or ["0"])[0])])
    elif cmd == "moov_cut":  # SRC DST: moov at the end; cut where it begins / in its middle
        b = rd(args[0])
        m = box(b, "moov", box(b, "mdat") + 8)
        size = struct.unpack(">I", b[m : m + 4])[0]
        wr(args[1], b[: m if args[2] == "before" else m + size // 2])
    elif cmd == "moov_cut_in":  # SRC DST BOX N: moov at the end; cut N bytes into its BOX
        b = rd(args[0])
        m = box(b, "moov", box(b, "mdat") + 8)
        wr(args[1], b[: box(b, args[2], m) + int(args[3])])
    elif cmd == "mdat_cut":  # SRC DST N: moov first; keep N bytes of the mdat's data
        b = rd(args[0])
        m = box(b, "mdat")
        wr(args[1], b[: m + 8 + int(args[2])])
    elif cmd == "mkv_header":  # SRC DST: up to the first cluster
        b = rd(args[0])
        wr(args[1], b[: ebml_ids(b, b"\x1f\x43\xb6\x75")[0]])
    elif cmd == "flip_runs":  # SRC DST N PCT...: N bytes xor 0xff at each PCT of the file
        b = rd(args[0])
        size = len(b)
        for p in args[3:]:
            flip(b, size * int(p) // 100, int(args[2]))
        wr(args[1], b)
    elif cmd == "flip_every":  # SRC DST STEP FROM% TO%: one byte xor 0x55 every STEP bytes
        b = rd(args[0])
        for i in range(len(b) * int(args[3]) // 100, len(b) * int(args[4]) // 100, int(args[2])):
            b[i] ^= 0x55
        wr(args[1], b)
    elif cmd == "flip_at":  # SRC DST FROM N: N bytes xor 0xff from byte FROM
        b = rd(args[0])
        flip(b, int(args[2]), int(args[3]))
        wr(args[1], b)
    elif cmd == "flip_index":  # SRC DST: the sample sizes and chunk offsets of an mp4
        b = rd(args[0])
        s = box(b, "stsz")
        flip(b, s + 20, 24, 0x7F)  # the first six sample sizes
        c = box(b, "stco")
        flip(b, c + 16, 4, 0x5A)  # the first chunk offset
        wr(args[1], b)
    elif cmd == "flip_sps":  # SRC DST: bytes of the SPS in avcC
        b = rd(args[0])
        a = box(b, "avcC")
        flip(b, a + 8 + 8, 6, 0xA5)
        wr(args[1], b)
    elif cmd == "mp4_size":  # SRC DST: 65535x65535 in tkhd and in the avc1 sample entry
        b = rd(args[0])
        t = box(b, "tkhd") + 4
        b[t + 80 : t + 88] = struct.pack(">II", 0xFFFF0000, 0xFFFF0000)
        a = box(b, "avc1") + 4
        b[a + 28 : a + 32] = struct.pack(">HH", 0xFFFF, 0xFFFF)
        wr(args[1], b)
    elif cmd == "mkv_size":  # SRC DST: PixelWidth 320 -> 65535, PixelHeight 256 -> 65535
        b = rd(args[0])
        for old in (b"\xb0\x82\x01\x40", b"\xba\x82\x01\x00"):
            i = b.find(old)
            if i < 0:
                sys.exit("damage.py: no pixel size %r" % old)
            b[i + 2 : i + 4] = b"\xff\xff"
        wr(args[1], b)
    elif cmd == "mkv_backwards":  # SRC DST: the last cluster's timestamp set to 0
        b = rd(args[0])
        c = ebml_ids(b, b"\x1f\x43\xb6\x75")
        if len(c) < 3:
            sys.exit("damage.py: %d clusters" % len(c))
        i = b.find(b"\xe7", c[-1] + 4)
        n = b[i + 1] & 0x7F if b[i + 1] & 0x80 else sys.exit("damage.py: long cluster timestamp")
        b[i + 2 : i + 2 + n] = bytes(n)
        wr(args[1], b)
    elif cmd == "y4m_huge":  # DST: a y4m header declaring 100000x100000, one short frame
        wr(args[0], b"YUV4MPEG2 W100000 H100000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(4096))
    elif cmd == "junk":  # DST N: bytes of a fixed-seed xorshift32
        x, out = 0x2545F491, bytearray()
        for _ in range(int(args[1])):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            out.append(x & 0xFF)
        wr(args[0], out)
    elif cmd == "fill":  # DST N BYTE
        wr(args[0], bytes([int(args[2], 0)]) * int(args[1]))
    elif cmd == "prefix_junk":  # SRC DST N: the first N bytes of SRC, then fixed junk
        b = rd(args[0])[: int(args[2])]
        wr(args[1], b + bytes((i * 37 + 11) & 0xFF for i in range(20000)))
    else:
        sys.exit("damage.py: unknown command " + cmd)

# one operation a line, its fields separated by tabs (names may hold spaces)
for line in sys.stdin:
    line = line.rstrip("\n")
    if line:
        f = line.split("\t")
        run(f[0], f[1:])
EOF
# dmg OP ARGS...: queued, run by one python3 (its start is slow) at "dmg_run"
dmg() { (IFS=$'\t'; printf '%s\n' "$*") >>"$WORK/ops.tsv"; }
dmg_run() { python3 "$WORK/damage.py" <"$WORK/ops.tsv"; : >"$WORK/ops.tsv"; }

# truncated at 10, 50, 90 % and after the header, in each container
for c in mp4 mkv webm ts; do
  src=ok.$c
  [ $c = mp4 ] && src=ok_faststart.mp4 # moov first: the cut leaves an index
  plus=0
  [ $c = ts ] && plus=94 # inside a 188-byte packet, never at its end
  for p in 10 50 90; do
    dmg cutpct "$src" "truncated_${p}pct.$c" $p $plus
    add "truncated_${p}pct.$c" truncated partial
  done
done
dmg cut ok_faststart.mp4 truncated_header.mp4 32 # the ftyp box only
dmg mkv_header ok.mkv truncated_header.mkv       # EBML header, tracks, no cluster
dmg mkv_header ok.webm truncated_header.webm
dmg cut ok.ts truncated_header.ts 564 # PAT, PMT, SDT
for c in mp4 mkv webm ts; do add "truncated_header.$c" truncated error; done
# mp4 index: moov at the end and the file cut before it / inside it; moov first, mdat cut
dmg moov_cut ok.mp4 moov_cut_before.mp4 before
dmg moov_cut ok.mp4 moov_cut_inside.mp4 inside
add moov_cut_before.mp4 moov error "moov|index"
add moov_cut_inside.mp4 moov error "moov|index"
for b in moov:8 tkhd:20 stsd:24 stts:16 stsz:40; do # cut inside a box of the index
  dmg moov_cut_in ok.mp4 "moov_cut_in_${b%:*}.mp4" "${b%:*}" "${b#*:}"
  add "moov_cut_in_${b%:*}.mp4" moov error "moov|index"
done
dmg mdat_cut ok_faststart.mp4 mdat_cut_empty.mp4 16
add mdat_cut_empty.mp4 moov error
# flipped bytes
dmg flip_runs ok_faststart.mp4 flipped_mdat.mp4 32 30 50 70
dmg flip_every ok.mkv flipped_every_1k.mkv 1000 25 75
dmg flip_every ok.webm flipped_every_100.webm 100 25 75 # VP9 hides 1 in 1000: no error
dmg flip_runs ok.webm flipped_runs.webm 32 30 50 70
dmg flip_every ok.ts flipped_every_1k.ts 1000 25 75
dmg flip_index ok_faststart.mp4 flipped_index.mp4
dmg flip_sps ok_faststart.mp4 flipped_sps.mp4
dmg flip_at ok.webm flipped_header.webm 40 24
for f in flipped_mdat.mp4 flipped_every_1k.mkv flipped_every_100.webm flipped_runs.webm \
  flipped_every_1k.ts flipped_index.mp4 flipped_sps.mp4 flipped_header.webm; do
  add "$f" flipped partial
done
# sizes that are not what the headers say
dmg mp4_size "$WORK/size.mp4" huge_declared_65535.mp4
dmg mkv_size "$WORK/size.mkv" huge_declared_65535.mkv
dmg y4m_huge huge_declared_100000.y4m
add huge_declared_65535.mp4 size any
add huge_declared_65535.mkv size any
add huge_declared_100000.y4m size error
# a cluster timestamp that goes back to 0
dmg mkv_backwards "$WORK/clusters.mkv" mkv_ts_backwards.mkv
add mkv_ts_backwards.mkv timestamps result

# ---- not videos at all -------------------------------------------------------------------
: >empty.mp4
add empty.mp4 empty error empty
printf 'meeting notes\nnot a video\n' >notes.txt
add notes.txt text error "not a"
dmg junk junk.bin 50000
dmg fill zeros.mp4 65536 0
dmg fill ones.mkv 65536 0xff
dmg prefix_junk ok.mp4 ftyp_then_junk.mp4 32
dmg prefix_junk ok.mkv ebml_then_junk.mkv 40
for f in junk.bin zeros.mp4 ones.mkv ftyp_then_junk.mp4 ebml_then_junk.mkv; do add "$f" junk error; done
dmg_run

# ---- names: spaces, quotes, non-ASCII ----------------------------------------------------
cp ok.mp4 "with space.mp4"
cp ok.mkv "中文 视频.mkv"
cp ok.webm "café é.webm"
cp moov_cut_before.mp4 "it's \"quoted\".mp4"
cp notes.txt "notes 中文 é.txt"
cp truncated_50pct.mkv "cut 'half' 中文.mkv"
add "with space.mp4" name result
add "中文 视频.mkv" name result
add "café é.webm" name result
add "it's \"quoted\".mp4" name error "moov|index"
add "notes 中文 é.txt" name error "not a"
add "cut 'half' 中文.mkv" name partial
