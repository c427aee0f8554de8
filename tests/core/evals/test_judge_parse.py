"""Reading judge answers robustly."""

from __future__ import annotations

import pytest

from obs_core.evals.judge import JudgeOutputError, parse_verdict


def test_json_wrapped_in_prose_and_fences_is_read() -> None:
    verdict = parse_verdict('Sure! ```json\n{"score": 0.4, "label": "meh", "explanation": "x"}\n``` done')

    assert (verdict.score, verdict.label, verdict.explanation) == (0.4, "meh", "x")


def test_a_brace_in_prose_before_the_object_is_skipped() -> None:
    verdict = parse_verdict('Using {braces} loosely: {"score": 1}')

    assert verdict.score == 1.0


def test_a_pass_label_without_score_counts_as_one() -> None:
    assert parse_verdict('{"label": "PASS"}').score == 1.0


@pytest.mark.parametrize("text", ["no json", '{"score": "high"}', '{"score": 7}', "[1, 2]", ""])
def test_unusable_answers_raise(text: str) -> None:
    with pytest.raises(JudgeOutputError):
        parse_verdict(text)
