"""A small labelled corpus for topic-model tests: sentences on four clear subjects."""

from __future__ import annotations

import random

SUBJECTS = {
    "transport": (
        ["Getting a ride to the clinic", "Non-emergency medical transportation",
         "The van to dialysis", "Bus service to the doctor", "Transportation to appointments"],
        ["is always late and I miss my appointments.", "never shows up on time in rural counties.",
         "takes three hours each way for a short visit.", "needs to be booked a week ahead.",
         "is the biggest barrier for my mother."],
    ),
    "care_coordination": (
        ["My care coordinator", "The care manager at the plan", "Our care coordination team",
         "The person who coordinates my care", "A single care coordinator"],
        ["helps me sort out Medicare and Medicaid bills.",
         "calls every month to check on my care plan.",
         "connects my doctors so they share information.",
         "should know both my Medicare and Medicaid benefits.",
         "makes sure my hospital discharge goes smoothly."],
    ),
    "housing": (
        ["Affordable housing", "Rent assistance", "A safe place to live", "Supportive housing",
         "Finding an apartment"],
        ["is impossible on a disability check.", "keeps people out of nursing homes.",
         "has a waiting list of several years in our county.",
         "matters more than any clinic visit.", "should count as part of long-term services."],
    ),
    "dental": (
        ["Dental coverage", "Seeing a dentist", "Dentures and teeth cleaning",
         "Vision and dental benefits", "Oral health care"],
        ["is not covered by Medicare at all.", "costs too much without a supplemental plan.",
         "was the reason I joined the special needs plan.",
         "should be included in every integrated plan.", "is hard to find for adults on Medicaid."],
    ),
}


def corpus(n_per_subject: int = 30, seed: int = 7) -> tuple[list[str], list[str]]:
    """(texts, labels): ``n_per_subject`` sentences for each subject, shuffled."""
    rng = random.Random(seed)
    docs = []
    for label, (starts, ends) in SUBJECTS.items():
        for _ in range(n_per_subject):
            docs.append((f"{rng.choice(starts)} {rng.choice(ends)}", label))
    rng.shuffle(docs)
    return [d for d, _ in docs], [label for _, label in docs]


_MEMO: dict = {}


class MemoEncoder:
    """The real embedding model, remembered across tests (each test has a new database),
    counting how many texts it was asked for."""

    calls: list[int] = []

    def __init__(self, on_batch=None):
        self.on_batch = on_batch

    def __call__(self, texts):
        import numpy as np

        from coding.embeddings import model_encoder

        MemoEncoder.calls.append(len(texts))
        missing = [t for t in dict.fromkeys(texts) if t not in _MEMO]
        if missing:
            _MEMO.update(zip(missing, model_encoder()(missing), strict=True))
        if self.on_batch:
            self.on_batch(len(texts), len(texts))
        return np.vstack([_MEMO[t] for t in texts])


def use_memo_encoder(monkeypatch) -> type[MemoEncoder]:
    from engage.topics import operations

    MemoEncoder.calls = []
    monkeypatch.setattr(operations, "make_encoder", lambda on_batch=None: MemoEncoder(on_batch))
    return MemoEncoder
