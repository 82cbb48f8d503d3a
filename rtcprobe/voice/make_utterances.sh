#!/usr/bin/env bash
# Makes rtcprobe/voice/utterances/*.wav and manifest.json from sentences written for rtcprobe,
# with Debian's espeak-ng (apt-get install espeak-ng; made with eSpeak NG 1.51, voice en-us, 165 wpm).
# Each file: LEAD s of digital silence, the sentence with espeak's own leading/trailing silence
# cut (|sample| <= 8), TRAIL s of silence; the answer is two sentences with PAUSE s between them.
# 16-bit mono 48 kHz WAV. manifest.json keeps the text and the speech timing each file was made
# with: the truth the VAD tests compare against.  Run from the repository root:
#   bash rtcprobe/voice/make_utterances.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=rtcprobe/voice/utterances
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
say() { espeak-ng -v en-us -s 180 -w "$TMP/$1.wav" "$2"; echo "$1|$2" >> "$TMP/list"; }
say ask_time "What time is it in Tokyo?"
say ask_table "Book a table for two, please."
say ask_rain "Will it rain tomorrow?"
say answer_1 "Sure, I can help with that."
say answer_2 "Give me a moment to check."
LEAD=0.20 TRAIL=0.30 PAUSE=0.40 TMP="$TMP" OUT="$OUT" .venv/bin/python - <<'PY'
import json, os, wave
import numpy as np
from rtcprobe.voice.utterances import read_wav
from rtcprobe.voice.vad import RATE

tmp, out = os.environ["TMP"], os.environ["OUT"]
lead, trail, pause = (float(os.environ[k]) for k in ("LEAD", "TRAIL", "PAUSE"))
texts = dict(line.rstrip("\n").split("|", 1) for line in open(f"{tmp}/list"))

def trimmed(name):
    pcm = read_wav(f"{tmp}/{name}.wav")
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 8)
    return pcm[loud[0]:loud[-1] + 1]

def silence(seconds):
    return np.zeros(round(seconds * RATE), dtype=np.int16)

def write(name, parts, role, text):
    pcm = np.concatenate([silence(lead)] + parts + [silence(trail)])
    with wave.open(f"{out}/{name}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(RATE); w.writeframes(pcm.tobytes())
    t, speech = lead, []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            speech.append([round(t, 4), round(t + part.size / RATE, 4)])
        t += part.size / RATE
    return name, {"role": role, "text": text, "duration": round(pcm.size / RATE, 4), "speech": speech}

entries = dict(write(n, [trimmed(n)], "user", texts[n]) for n in ("ask_time", "ask_table", "ask_rain"))
a1, a2 = trimmed("answer_1"), trimmed("answer_2")
entries.update([write("answer", [a1, silence(pause), a2], "answer", f"{texts['answer_1']} {texts['answer_2']}")])
doc = {"made_by": "rtcprobe/voice/make_utterances.sh (espeak-ng -v en-us -s 180)",
       "lead_s": lead, "trail_s": trail, "pause_s": pause, "utterances": entries}
with open(f"{out}/manifest.json", "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
PY
ls -l "$OUT"
