"""The hallucination verdict: layers run on what the sample carries, flags come with reasons."""

from __future__ import annotations

from obs_core.evals import (
    EvalFailure,
    EvalResult,
    EvalSample,
    Groundedness,
    HallucinationDetector,
    HallucinationVerdict,
)

CONTEXT = "Marie Curie won the Nobel Prize in Physics in 1903 and the Nobel Prize in Chemistry in 1911."
GROUNDED = "Marie Curie won the Nobel Prize in Chemistry in 1911."
FABRICATED = "Marie Curie won the Nobel Prize in Chemistry in 1921."
SURE = [("Marie", -0.01), (" Curie", -0.01), (" won", -0.1), (" in", -0.01), (" 1911", -0.05), (".", -0.01)]
UNSURE = [("Marie", -0.01), (" Curie", -0.01), (" won", -0.1), (" in", -0.01), (" 1921", -2.4), (".", -0.01)]


def test_grounded_confident_consistent_answer_is_not_hallucinated() -> None:
    sample = EvalSample(answer=GROUNDED, contexts=[CONTEXT], logprobs=SURE, samples=[GROUNDED, "In 1911 Marie Curie won the Nobel Prize in Chemistry."])

    verdict = HallucinationDetector().verdict(sample)

    assert not verdict.hallucinated
    assert verdict.flags == []
    assert set(verdict.layers) == {"groundedness", "logprob_confidence", "semantic_consistency"}


def test_every_flagging_layer_gives_its_reason() -> None:
    sample = EvalSample(answer=FABRICATED, contexts=[CONTEXT], logprobs=UNSURE, samples=["Marie Curie won the Nobel Prize in Chemistry in 1911."])

    verdict = HallucinationDetector().verdict(sample)

    assert verdict.hallucinated
    assert [flag.layer for flag in verdict.flags] == ["groundedness", "logprob_confidence", "semantic_consistency"]
    assert all("1921" in flag.reason for flag in verdict.flags)
    assert verdict.reasons[0].startswith("groundedness: ")


def test_layers_without_input_are_skipped_with_the_reason() -> None:
    verdict = HallucinationDetector().verdict(EvalSample(answer=FABRICATED, contexts=[CONTEXT]))

    assert list(verdict.layers) == ["groundedness"]
    assert verdict.skipped == {"logprob_confidence": "no token logprobs", "semantic_consistency": "no extra samples"}
    assert verdict.hallucinated


def test_as_evaluator_score_sits_below_half_exactly_when_a_layer_flags() -> None:
    detector = HallucinationDetector()

    flagged = detector.evaluate(EvalSample(answer=GROUNDED, contexts=[CONTEXT], logprobs=UNSURE))
    clean = detector.evaluate(EvalSample(answer=GROUNDED, contexts=[CONTEXT], logprobs=SURE))

    assert isinstance(flagged, EvalResult)
    assert isinstance(clean, EvalResult)
    assert (flagged.passed, flagged.label) == (False, "hallucination")
    assert flagged.score < 0.5
    assert (clean.passed, clean.label) == (True, "supported")
    assert clean.score >= 0.5
    assert "logprob_confidence" in flagged.explanation
    assert HallucinationVerdict.model_validate(flagged.details).hallucinated


def test_crashing_layer_is_recorded_and_the_others_still_decide() -> None:
    class _Broken:
        def embed(self, texts: list[str]) -> list[list[float]]:
            raise TimeoutError("embedding timed out")

    detector = HallucinationDetector(groundedness=Groundedness(embedder=_Broken()))
    verdict = detector.verdict(EvalSample(answer=GROUNDED, contexts=[CONTEXT], logprobs=UNSURE))

    assert isinstance(verdict.layers["groundedness"], EvalFailure)
    assert [flag.layer for flag in verdict.flags] == ["logprob_confidence"]


def test_sample_with_no_layer_input_yields_failure_record() -> None:
    outcome = HallucinationDetector().evaluate(EvalSample(answer=GROUNDED))

    assert isinstance(outcome, EvalFailure)
    assert outcome.error_type == "MissingInputError"


async def test_async_verdict_matches_sync() -> None:
    sample = EvalSample(answer=FABRICATED, contexts=[CONTEXT], logprobs=UNSURE, samples=[GROUNDED])
    detector = HallucinationDetector()

    sync, async_ = detector.verdict(sample), await detector.averdict(sample)

    assert [f.layer for f in async_.flags] == [f.layer for f in sync.flags]
    assert async_.hallucinated is sync.hallucinated is True
