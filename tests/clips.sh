#!/usr/bin/env bash
# Generated clips with known states, for the tests (tests/cli) and bench/coverage.sh: one
# recipe and one ground truth per clip, so both judge the same thing.
#
# Usage: tests/clips.sh NAME OUT.mp4 [FPS]   writes the clip (ffmpeg lavfi, libx264)
#        tests/clips.sh NAME --states        prints its states, one per line:
#                                            START END LABEL (seconds; LABEL may have spaces)
#        tests/clips.sh --list               the names
# A state is what a good selection keeps one frame of: it lasts from START to END.
#
# timer      61 s 1280x720 slide whose 40-px counter "Seconds: N" changes every second
# toast      8 s 1280x720 settings screen; a "Saved" toast (0.7 % of the picture) 3-4.5 s
# blink      30 s 1280x720 screen with a blinking block cursor and a spinner: one state
# last       5 s 640x360 desktop whose window fades out in the last 0.3 s
# iso_cut    4 s 320x240: red, then a cut to green of the same brightness at 2 s
# iso_local  4 s 640x360 grey screen whose red panel turns green (same brightness) at 2 s
# cards      36 s 480x352 motion graphics: 6 title cards (words sliding and fading in for
#            0.8 s, then still) after 1.5 s animated transitions
# errline    6 s 1920x1080 dashboard; a 20-px red error line appears bottom right at 3 s
# session    16 s 1280x720 support console: a message typed in three steps (1-5 s), a
#            "Message sent" toast (7-9 s), a delete dialog (11-14 s)
set -euo pipefail

FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
BOLD=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
X264=(-c:v libx264 -preset ultrafast -pix_fmt yuv420p)
CARD_W1=(Fast Smart Secure Team Live Easy)
CARD_W2=(Setup Sync Cloud Chat Reports Billing)
CARD_BG=(0xd03030 0x2050c0 0xe08020 0x7030a0 0xffffff 0x108080)

ff() { ffmpeg -nostdin -v error -y "$@"; }

screen() { # the settings screen of toast and blink
  echo "drawbox=x=0:y=0:w=1280:h=64:color=0x2b2b2b:t=fill,\
drawtext=fontfile=$FONT:text='Settings':fontsize=32:fontcolor=white:x=24:y=14,\
drawtext=fontfile=$FONT:text='Account':fontsize=28:fontcolor=0x333333:x=60:y=140,\
drawtext=fontfile=$FONT:text='Notifications':fontsize=28:fontcolor=0x333333:x=60:y=200,\
drawtext=fontfile=$FONT:text='Privacy':fontsize=28:fontcolor=0x333333:x=60:y=260"
}

make_timer() {
  ff -f lavfi -i "color=c=white:s=1280x720:r=$2:d=61" -vf "\
drawbox=x=0:y=0:w=1280:h=110:color=0x1f4e79:t=fill,\
drawtext=fontfile=$FONT:text='Quarterly review':fontsize=56:fontcolor=white:x=60:y=28,\
drawtext=fontfile=$FONT:text='Revenue grew in every region':fontsize=32:fontcolor=0x333333:x=80:y=200,\
drawtext=fontfile=$FONT:text='Churn is down to 2.1 percent':fontsize=32:fontcolor=0x333333:x=80:y=260,\
drawtext=fontfile=$FONT:text='Seconds\: %{eif\:t\:d}':fontsize=40:fontcolor=black:x=900:y=620" \
    "${X264[@]}" "$1"
}
states_timer() { for i in $(seq 0 60); do echo "$i $((i + 1)) Seconds: $i"; done; }

make_toast() {
  ff -f lavfi -i "color=c=0xf4f4f4:s=1280x720:r=$2:d=8" -vf "$(screen),\
drawbox=x=1080:y=640:w=170:h=40:color=0x323232:t=fill:enable='between(t,3,4.5)',\
drawtext=fontfile=$FONT:text='Saved':fontsize=22:fontcolor=white:x=1100:y=648:enable='between(t,3,4.5)'" \
    "${X264[@]}" "$1"
}
states_toast() { echo "0 3 Settings"; echo "3 4.5 Saved"; }

make_blink() {
  ff -f lavfi -i "color=c=0xf4f4f4:s=1280x720:r=$2:d=30" \
    -f lavfi -i "color=c=0xf4f4f4:s=48x48:r=$2:d=30" -filter_complex "\
[1]drawbox=x=20:y=2:w=8:h=20:color=0x3070d0:t=fill,rotate=a=t*6:c=0xf4f4f4[spin];\
[0]$(screen),drawtext=fontfile=$FONT:text='Loading':fontsize=28:fontcolor=0x333333:x=540:y=410,\
drawbox=x=400:y=140:w=12:h=30:color=black:t=fill:enable='lt(mod(t\,1)\,0.5)'[bg];\
[bg][spin]overlay=x=680:y=400" "${X264[@]}" "$1"
}
states_blink() { echo "0 30 Loading"; }

make_last() {
  ff -f lavfi -i "color=c=0x3a6ea5:s=640x360:r=$2:d=5" \
    -f lavfi -i "color=c=white:s=420x260:r=$2:d=5" -filter_complex "\
[1]drawbox=x=0:y=0:w=420:h=36:color=0x444444:t=fill,\
drawtext=fontfile=$FONT:text='Report.txt':fontsize=20:fontcolor=white:x=12:y=8,\
format=yuva420p,fade=t=out:st=4.7:d=0.3:alpha=1[w];[0][w]overlay=x=110:y=50" "${X264[@]}" "$1"
}
states_last() { echo "0 4.7 window"; echo "4.95 5 desktop"; }

# Red (200,0,0) and green (0,102,0) have the same BT.601 luma (Y 67 in yuv420p).
make_iso_cut() {
  ff -f lavfi -i "color=c=0xC80000:s=320x240:r=$2:d=2" -f lavfi -i "color=c=0x006600:s=320x240:r=$2:d=2" \
    -filter_complex "[0][1]concat=n=2:v=1,drawtext=fontfile=$FONT:text='Status':fontsize=24:fontcolor=white:x=20:y=20" \
    "${X264[@]}" "$1"
}
states_iso_cut() { echo "0 2 red"; echo "2 4 green"; }

make_iso_local() {
  ff -f lavfi -i "color=c=0x808080:s=640x360:r=$2:d=4" -vf "\
drawtext=fontfile=$FONT:text='Build status':fontsize=28:fontcolor=white:x=40:y=30,\
drawbox=x=240:y=140:w=160:h=90:color=0xC80000:t=fill:enable='lt(t,2)',\
drawbox=x=240:y=140:w=160:h=90:color=0x006600:t=fill:enable='gte(t,2)'" "${X264[@]}" "$1"
}
states_iso_local() { echo "0 2 red panel"; echo "2 4 green panel"; }

make_cards() {
  local in=() fc="" n=0 fg
  for i in 0 1 2 3 4 5; do
    in+=(-f lavfi -i "gradients=s=480x352:r=$2:d=1.5:speed=0.08:c0=0x203040:c1=0x40c0a0:c2=0xc04080:seed=$i")
    fc+="[$n]drawbox=x='mod(t*600,480)':y=120:w=80:h=80:color=0xffe040:t=fill,format=yuv420p,setsar=1[s$n];"
    n=$((n + 1))
    fg=white
    [ "${CARD_BG[$i]}" = 0xffffff ] && fg=0x202020
    in+=(-f lavfi -i "color=c=${CARD_BG[$i]}:s=480x352:r=$2:d=4.5")
    fc+="[$n]drawtext=fontfile=$BOLD:text=${CARD_W1[$i]}:fontsize=56:fontcolor=$fg:x='if(lt(t,0.6),-tw+(40+tw)*t/0.6,40)':y=110,"
    fc+="drawtext=fontfile=$BOLD:text=${CARD_W2[$i]}:fontsize=56:fontcolor=$fg:x=40:y=190:alpha='min(1,max(0,(t-0.3)/0.5))',"
    fc+="format=yuv420p,setsar=1[s$n];"
    n=$((n + 1))
  done
  for k in $(seq 0 $((n - 1))); do fc+="[s$k]"; done
  ff "${in[@]}" -filter_complex "${fc}concat=n=$n:v=1[v]" -map "[v]" "${X264[@]}" "$1"
}
# A card's state: from when its words have settled (0.8 s after it appears) to the next
# transition; the transitions are motion, not states.
states_cards() {
  for i in 0 1 2 3 4 5; do
    echo "$((6 * i + 1)).5 $((6 * i + 6)) ${CARD_W1[$i]} ${CARD_W2[$i]}" |
      awk '{printf "%.1f %s %s %s\n", $1 + 0.8, $2, $3, $4}'
  done
}

make_errline() {
  ff -f lavfi -i "color=c=0xf4f4f4:s=1920x1080:r=$2:d=6" -vf "\
drawbox=x=0:y=0:w=1920:h=96:color=0x1f4e79:t=fill,\
drawtext=fontfile=$FONT:text='Dashboard':fontsize=48:fontcolor=white:x=40:y=22,\
drawtext=fontfile=$FONT:text='Orders today 1204':fontsize=40:fontcolor=0x333333:x=80:y=220,\
drawtext=fontfile=$FONT:text='Open tickets 37':fontsize=40:fontcolor=0x333333:x=80:y=300,\
drawtext=fontfile=$FONT:text='Error connection timed out code 504':fontsize=20:fontcolor=0xb00020:\
x=1420:y=1030:enable='gte(t,3)'" "${X264[@]}" "$1"
}
states_errline() { echo "0 3 Dashboard"; echo "3 6 Error connection timed out code 504"; }

SESSION_TYPED=("Hello" "Hello my order" "Hello my order has not arrived")
make_session() {
  local vf="drawbox=x=0:y=0:w=1280:h=64:color=0x2b2b2b:t=fill,\
drawtext=fontfile=$FONT:text='Support console':fontsize=32:fontcolor=white:x=24:y=14,\
drawtext=fontfile=$FONT:text='Customer Ann Lee':fontsize=26:fontcolor=0x333333:x=60:y=120,\
drawtext=fontfile=$FONT:text='Message':fontsize=26:fontcolor=0x333333:x=60:y=200,\
drawbox=x=60:y=240:w=900:h=56:color=0x999999:t=2"
  local i
  for i in 0 1 2; do
    local end=$((i == 2 ? 16 : i + 2))
    vf+=",drawtext=fontfile=$FONT:text='${SESSION_TYPED[$i]}':fontsize=26:fontcolor=black:x=72:y=254:enable='between(t,$((i + 1)),$end)'"
  done
  vf+=",drawbox=x=1000:y=640:w=240:h=44:color=0x323232:t=fill:enable='between(t,7,9)'"
  vf+=",drawtext=fontfile=$FONT:text='Message sent':fontsize=22:fontcolor=white:x=1020:y=650:enable='between(t,7,9)'"
  vf+=",drawbox=x=390:y=260:w=500:h=200:color=white:t=fill:enable='between(t,11,14)'"
  vf+=",drawbox=x=390:y=260:w=500:h=200:color=0x444444:t=3:enable='between(t,11,14)'"
  vf+=",drawtext=fontfile=$FONT:text='Delete this conversation':fontsize=26:fontcolor=black:x=420:y=300:enable='between(t,11,14)'"
  vf+=",drawtext=fontfile=$FONT:text='Cancel':fontsize=24:fontcolor=0x1f4e79:x=560:y=400:enable='between(t,11,14)'"
  vf+=",drawtext=fontfile=$FONT:text='Delete':fontsize=24:fontcolor=0xb00020:x=760:y=400:enable='between(t,11,14)'"
  ff -f lavfi -i "color=c=0xf4f4f4:s=1280x720:r=$2:d=16" -vf "$vf" "${X264[@]}" "$1"
}
states_session() {
  echo "0 1 Message"; echo "1 2 Hello"; echo "2 3 Hello my order"
  echo "3 7 Hello my order has not arrived"; echo "7 9 Message sent"; echo "9 11 Message"
  echo "11 14 Delete this conversation"; echo "14 16 Message"
}

names="timer toast blink last iso_cut iso_local cards errline session"
case "${1:-}" in
  --list) echo "$names" ;;
  "" | -h | --help) sed -n '2,20p' "$0" ;;
  *)
    case " $names " in *" $1 "*) ;; *) echo "clips.sh: unknown clip '$1' ($names)" >&2; exit 2 ;; esac
    if [ "${2:-}" = --states ]; then
      "states_$1"
    else
      [ -n "${2:-}" ] || { echo "clips.sh: $1: no output file" >&2; exit 2; }
      "make_$1" "$2" "${3:-25}"
    fi
    ;;
esac
