"""Optional: let an OpenAI-compatible endpoint rewrite an extractive answer into prose.

Never required. Only the question, the cited passages and the papers' titles are sent;
any failure (no network, timeout, bad reply) keeps the extractive answer as it is.
"""

from __future__ import annotations

import logging

import httpx

from bot.models import Answer

log = logging.getLogger(__name__)

SYSTEM = (
    "You rewrite search answers about research papers. Use only the passages given. "
    "Answer in at most four sentences and name the paper each claim comes from."
)


class AnswerRewriter:
    def __init__(self, base_url: str, api_key: str | None, model: str, timeout: float = 10.0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.timeout = timeout

    def __call__(self, answer: Answer) -> Answer:
        if not answer.hits or not answer.passages or answer.intent == "compare":
            return answer  # nothing to rewrite, or two papers: the side by side says it better
        best = answer.hits[0].paper
        context = f"Paper: {best.label}\nPassages:\n" + "\n".join(f"- {p.text}" for p in answer.passages)
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Question: {answer.query}\n\n{context}"},
            ],
            "temperature": 0.2,
        }
        try:
            reply = httpx.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
            reply.raise_for_status()
            text = str(reply.json()["choices"][0]["message"]["content"]).strip()
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("answer rewrite failed, keeping the extractive answer: %s", type(exc).__name__)
            return answer
        if not text:
            return answer
        return answer.model_copy(update={"summary": text, "text": f"{text}\n\n{answer.text}"})
