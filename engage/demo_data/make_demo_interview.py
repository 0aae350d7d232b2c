"""Make the demo key-informant interview: speech with espeak-ng, a matching WebVTT.

Run once by a developer (needs Debian's espeak-ng and ffmpeg); the outputs
``demo-interview.ogg`` and ``demo-interview.vtt`` are committed. The people and
the conversation are fictional; the vocabulary is the guide's.
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

HERE = Path(__file__).parent
VOICES = {"Facilitator": ("en-us+f3", 150), "Participant": ("en-us+m3", 145)}
PAUSE_MS = 450

INTERVIEW = [
    ("Facilitator", "Thank you for joining this key informant interview about integrating "
                    "Medicare and Medicaid for dual eligible beneficiaries."),
    ("Participant", "Happy to help. I manage long term services and supports policy at the "
                    "state Medicaid agency."),
    ("Facilitator", "How would you define integration for our state?"),
    ("Participant", "For me integration means one plan, one card and one care team, with "
                    "aligned administration and financing across Medicare and Medicaid."),
    ("Facilitator", "Which populations should an integrated model serve first?"),
    ("Participant", "Community dwelling LTSS users and people with significant behavioral "
                    "health needs. The I/DD waiver population needs more time."),
    ("Facilitator", "What integration mechanisms are you considering?"),
    ("Participant", "We contract with D-SNPs through the state Medicaid agency contract, and "
                    "we want to expand PACE into rural counties."),
    ("Participant", "A FIDE-SNP or HIDE-SNP strategy would give us more integration, but "
                    "plans need time to build networks."),
    ("Facilitator", "How do you think about enrollment?"),
    ("Participant", "Aligned enrollment is the goal. Default enrollment needs CMS approval "
                    "and a lot of data infrastructure."),
    ("Facilitator", "What delivery system supports are missing today?"),
    ("Participant", "Care coordination across settings, the LTSS workforce, and data sharing "
                    "between plans and providers."),
    ("Facilitator", "How should contracts measure outcomes?"),
    ("Participant", "Quality measures that matter to beneficiaries, with incentives tied to "
                    "fewer avoidable hospital stays."),
    ("Facilitator", "How can beneficiaries and care partners be engaged?"),
    ("Participant", "Listening sessions, an advisory group of beneficiaries, and plain "
                    "language notices in Spanish and English."),
    ("Facilitator", "What would address equity?"),
    ("Participant", "Phasing in by region can leave rural members behind, so we would pair "
                    "geography with targeted outreach."),
    ("Facilitator", "Any lessons from other states?"),
    ("Participant", "Other states told us to align Medicaid procurement with Medicare bidding "
                    "timelines early. That was their biggest lesson learned."),
    ("Facilitator", "Thank you. We will share a summary of what we heard."),
]


def main() -> None:
    cues = []
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        t = 0
        for i, (speaker, text) in enumerate(INTERVIEW):
            voice, speed = VOICES[speaker]
            wav = Path(tmp) / f"{i:03d}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
                           check=True)
            with wave.open(str(wav)) as w:
                ms = round(w.getnframes() * 1000 / w.getframerate())
            cues.append((t, t + ms, speaker, text))
            parts.append(wav)
            t += ms + PAUSE_MS
        pad = Path(tmp) / "list.txt"
        silence = Path(tmp) / "silence.wav"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        "anullsrc=r=22050:cl=mono", "-t", str(PAUSE_MS / 1000), str(silence)],
                       check=True)
        pad.write_text("".join(f"file '{p}'\nfile '{silence}'\n" for p in parts))
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
                        "-i", str(pad), "-ac", "1", "-ar", "16000", "-c:a", "libopus",
                        "-b:a", "20k", str(HERE / "demo-interview.ogg")], check=True)

    def stamp(ms: int) -> str:
        h, rest = divmod(ms, 3_600_000)
        m, rest = divmod(rest, 60_000)
        s, ms = divmod(rest, 1000)
        return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"

    (HERE / "demo-interview.vtt").write_text("WEBVTT\n\n" + "\n".join(
        f"{stamp(a)} --> {stamp(b)}\n<v {who}>{text}\n" for a, b, who, text in cues))


if __name__ == "__main__":
    main()
