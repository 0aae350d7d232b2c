"""The CUDA path of the topic embeddings, checked against the CPU on the same machine.

    python bench/gpu_embeddings.py prepare DIR   # here: fp16 copy of the model + CPU vectors
    python bench/gpu_embeddings.py check DIR     # on a machine with a GPU

Engage never needs a GPU; ``coding.embeddings`` uses one when PyTorch sees it
(``device="auto"``). ``prepare`` writes a half-precision copy of the bundled
all-MiniLM-L6-v2 (small enough to travel to a GPU machine without the
package) and the CPU vectors of the demo comments, sentence by sentence, made
from that same copy. ``check`` embeds the same texts through
``coding.embeddings.model_encoder`` on ``cuda`` and on ``cpu``, prints the
throughput of each, and how close the GPU vectors are to the reference ones
(cosine per text: min and mean). It exits non-zero when they disagree.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
COMMENTS = ROOT / "engage" / "demo_data" / "usda-2017-0002-comments.csv"


def corpus(copies: int = 1) -> list[str]:
    with COMMENTS.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    column = "Text Comment"
    texts = []
    for row in rows:
        text = (row[column] or "").strip()
        texts.append(text)
        texts += [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
    return texts * copies


def prepare(out: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    from coding.embeddings import DEFAULT_MODEL, model_encoder, model_path

    source = model_path(DEFAULT_MODEL)
    shutil.copytree(source, out, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.safetensors", "README.md", ".git*"))
    weights = load_file(str(source / "model.safetensors"))
    save_file({k: v.to(torch.float16) for k, v in weights.items()},
              str(out / "model.safetensors"))
    texts = corpus()
    as_float32(str(out), "cpu")
    vectors = model_encoder(str(out), device="cpu")(texts)
    np.save(out / "reference.npy", vectors)
    print(f"wrote {out}: fp16 weights, {len(texts)} reference vectors")


def as_float32(folder: str, device: str) -> None:
    """Compute in float32 as the bundled model does; only the copy's storage is half."""
    from coding.embeddings import load_model

    load_model(folder, device=device).float()  # the cached instance model_encoder uses


def timed(encode, texts: list[str]) -> tuple[np.ndarray, float]:
    encode(texts[:64])  # load and warm up
    start = time.perf_counter()
    vectors = encode(texts)
    return vectors, time.perf_counter() - start


def check(folder: Path) -> int:
    import torch

    from coding.embeddings import model_encoder, resolve_device

    print(f"torch {torch.__version__}; device auto -> {resolve_device('auto')}")
    if not torch.cuda.is_available():
        print("no CUDA device seen by PyTorch")
        return 2
    print(f"GPU: {torch.cuda.get_device_name(0)}")
    reference = np.load(folder / "reference.npy")
    texts = corpus()
    many = corpus(copies=10)
    as_float32(str(folder), "cuda")
    as_float32(str(folder), "cpu")
    gpu = model_encoder(str(folder), device="cuda", batch_size=256)
    cpu = model_encoder(str(folder), device="cpu")
    vectors, _ = timed(gpu, texts)
    cosines = np.sum(vectors * reference, axis=1)
    print(f"GPU vs CPU reference: {len(texts)} texts, cosine min {cosines.min():.5f} "
          f"mean {cosines.mean():.6f}")
    _, gpu_s = timed(gpu, many)
    _, cpu_s = timed(cpu, many)
    print(f"{len(many)} texts: cuda {gpu_s:.2f} s ({len(many) / gpu_s:.0f}/s), "
          f"cpu ({torch.get_num_threads()} threads) {cpu_s:.2f} s ({len(many) / cpu_s:.0f}/s), "
          f"speed-up {cpu_s / gpu_s:.1f}x")
    return 0 if cosines.min() > 0.999 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("prepare", "check"))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.folder)
        return 0
    return check(args.folder)


if __name__ == "__main__":
    sys.exit(main())
