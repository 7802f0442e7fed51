"""Synthetic machine-learning papers: distractors for evaluation and corpora for benchmarks.

Titles, 3-20 authors and 150-300 word abstracts drawn from a Zipfian vocabulary of ML
terms. The vocabulary deliberately overlaps the seed papers' (reinforcement learning,
distillation, language models, mean field games ...) so that distractors compete with
the seeds instead of being trivially different. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np

from bot.models import Paper, paper_id

TOPICS = """reinforcement learning; policy gradient; value iteration; q-learning; actor critic; offline
reinforcement learning; imitation learning; inverse reinforcement learning; reward model; reward hacking;
preference optimization; human feedback; language model; large language models; knowledge distillation;
model compression; transformer; attention mechanism; mixture of experts; diffusion model; generative model;
variational inference; bayesian optimization; gaussian process; graph neural network; contrastive learning;
self-supervised learning; representation learning; meta learning; continual learning; federated learning;
differential privacy; adversarial robustness; out-of-distribution detection; uncertainty estimation;
calibration; mean field games; multi-agent systems; game theory; nash equilibrium; fictitious play; mirror
descent; stochastic gradient descent; convex optimization; regularization; entropy regularization; kl
divergence; exploration; intrinsic motivation; curiosity; credit assignment; planning; model-based control;
world model; robotics; visual navigation; image classification; object detection; semantic segmentation;
speech recognition; machine translation; summarization; question answering; retrieval augmentation; code
generation; mathematical reasoning; chain of thought; in-context learning; instruction tuning; fine-tuning;
parameter-efficient adaptation; low-rank adaptation; quantization; pruning; sparse training; scaling laws;
benchmark evaluation; data augmentation; curriculum learning; active learning; causal inference;
counterfactual reasoning; time series forecasting; anomaly detection; recommendation systems; spiking neural
networks; biologically plausible learning; equilibrium propagation; energy based models; experience replay;
distributed training; multimodal models; vision language models; text embeddings; tokenization; long context;
state space models; recurrent networks; optimal transport; minimax optimality; sample complexity; linear mdps;
function approximation; portfolio optimization; financial forecasting""".replace("\n", " ").split("; ")

FILLER = """we propose a novel method that improves the state of the art on several standard benchmarks
our approach is simple scalable and efficient in practice experiments show consistent gains over strong
baselines across tasks and model sizes we analyze the theoretical properties of the algorithm and provide
convergence guarantees under mild assumptions furthermore we study the trade off between performance and
compute and release code to facilitate future research in this area the results suggest that careful design
choices matter more than previously thought and open new directions for the community we also discuss
limitations and the broader impact of this work including potential risks""".split()

FIRST = "Alice Bruno Chen Dmitri Elena Fatima Gabriel Hana Ivan Julia Kenji Laura Marco Nadia Omar Priya Quentin Rosa Sergei Tomas Uma Victor Wei Xavier Yuki Zara".split()
LAST = "Anderson Baker Costa Dubois Eriksen Fischer Garcia Huang Ivanova Jensen Kowalski Lopez Moreau Nguyen Okafor Petrov Quinn Rossi Schmidt Tanaka Ueda Varga Wang Xu Yamamoto Zhang".split()
TEMPLATES = [
    "{A} for {B}",
    "Towards {A} with {B}",
    "On the {C} of {A}",
    "{A}: A {D} Approach to {B}",
    "Scaling {A} via {B}",
    "Revisiting {A} in {B}",
    "{D} {A} for {B}",
    "Learning {A} from {B}",
]
ADJ = "Efficient Robust Scalable Provable Adaptive Hierarchical Sparse Unified Simple Practical Stable Fast".split()
NOUNS = "Convergence Generalization Limits Geometry Dynamics Benefits Role Complexity Stability Robustness".split()
CATEGORIES = ["cs.LG", "cs.CL", "cs.AI", "stat.ML", "cs.CV", "cs.RO", "cs.MA", "math.OC", "cs.NE", "cs.CR"]


CONSONANTS = "bcdfghjklmnprstvwxz"
VOWELS = "aeiou"


def system_name(k: int) -> str:
    """A pronounceable name unique to ``k`` ("Bakodi"), like the names papers give systems."""
    syllables = []
    for _ in range(4):
        k, r = divmod(k, len(CONSONANTS) * len(VOWELS))
        syllables.append(CONSONANTS[r // len(VOWELS)] + VOWELS[r % len(VOWELS)])
        if k == 0 and len(syllables) >= 2:
            break
    return "".join(syllables).capitalize()


def zipf_weights(n: int, exponent: float = 1.07) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def synthetic_papers(n: int, seed: int = 7, vocabulary: list[str] | None = None) -> Iterator[Paper]:
    """``n`` synthetic papers. ``vocabulary`` (e.g. the seed abstracts' words) is mixed in."""
    rng = np.random.default_rng(seed)
    words = list(dict.fromkeys([w for t in TOPICS for w in t.split()] + (vocabulary or []) + FILLER))
    order = rng.permutation(len(words))
    ranked = [words[i] for i in order]
    weights = zipf_weights(len(ranked))
    start = dt.date(2015, 1, 1).toordinal()
    span = dt.date(2026, 11, 1).toordinal() - start
    for k in range(n):
        a, b = rng.choice(len(TOPICS), 2, replace=False)
        title = TEMPLATES[k % len(TEMPLATES)].format(
            A=TOPICS[a].title(), B=TOPICS[b].title(), C=NOUNS[k % len(NOUNS)], D=ADJ[(k // 7) % len(ADJ)]
        )
        title = f"{system_name(k)}: {title}"  # a made-up system name keeps every title distinct
        length = int(rng.integers(150, 300))
        body = rng.choice(len(ranked), size=length, p=weights)
        sentences, current = [], []
        for j, w in enumerate(body):
            current.append(ranked[w])
            if j % 18 == 17:
                sentences.append(" ".join(current).capitalize() + ".")
                current = []
        topic_sentence = f"We study {TOPICS[a]} and its connection to {TOPICS[b]}."
        abstract = " ".join([topic_sentence, *sentences, " ".join(current).capitalize() + "."]).strip()
        n_authors = int(rng.integers(3, 21))
        authors = [
            f"{FIRST[int(rng.integers(len(FIRST)))]} {LAST[int(rng.integers(len(LAST)))]}"
            for _ in range(n_authors)
        ]
        primary = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        yield Paper(
            id=paper_id(title, abstract),
            title=title,
            authors=list(dict.fromkeys(authors)),
            category=primary,
            categories=[primary],
            date=dt.date.fromordinal(start + int(rng.integers(span))),
            abstract=abstract,
            sources=["synthetic"],
            arxiv_id=f"{15 + k // 200_000}{(k // 10_000) % 12 + 1:02d}.{k % 100_000:05d}",
            version=1,
        )
