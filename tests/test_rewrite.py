"""The optional answer rewriter: used when it answers, ignored when it fails."""

from __future__ import annotations

import httpx
import respx

from bot.models import Answer, Paper, Passage, SearchHit
from bot.rewrite import AnswerRewriter

ANSWER = Answer(
    intent="question",
    query="what is GKD?",
    text="**On-Policy Distillation**\n> GKD trains the student on its own samples.",
    hits=[SearchHit(paper=Paper(id="p1", title="On-Policy Distillation", abstract="GKD."), score=1.0)],
    passages=[Passage(text="GKD trains the student on its own samples.", paper_id="p1")],
)


@respx.mock
def test_rewrite_prepends_the_model_text() -> None:
    route = respx.post("http://llm.test/v1/chat/completions").mock(
        return_value=httpx.Response(
            200, json={"choices": [{"message": {"content": "GKD is on-policy distillation."}}]}
        )
    )
    rewritten = AnswerRewriter("http://llm.test/v1", "k", "m")(ANSWER)
    assert rewritten.text.startswith("GKD is on-policy distillation.")
    assert ANSWER.text in rewritten.text
    assert route.calls[0].request.headers["Authorization"] == "Bearer k"


@respx.mock
def test_rewrite_failure_keeps_the_extractive_answer() -> None:
    respx.post("http://llm.test/v1/chat/completions").mock(return_value=httpx.Response(500))
    assert AnswerRewriter("http://llm.test/v1", None, "m")(ANSWER) == ANSWER
    respx.post("http://llm.test/v1/chat/completions").mock(side_effect=httpx.ConnectError("down"))
    assert AnswerRewriter("http://llm.test/v1", None, "m")(ANSWER) == ANSWER
