"""What an evaluator receives: every text of the sample scrubbed, token log probabilities too."""

from __future__ import annotations

from core.evals.pipeline.pipeline_helpers import Scripted, finished
from obs_core.evals import EvalSample
from obs_core.evals.pipeline import EvaluationSettings, build_pipeline
from obs_core.evals.pipeline._scrubbing import scrub_sample, scrub_tokens
from obs_core.payloads import Scrubber
from obs_core.spans import SpanKind
from obs_core.testing import capture_spans

EMAIL = "jane.roe@example.org"
SPLIT_EMAIL = ["Write", " to", " jane", ".", "roe", "@", "example", ".org", " today", "."]


def _sample(tokens: list[str]) -> EvalSample:
    return EvalSample(input=f"What is {EMAIL}'s address?", output="".join(tokens),
                      contexts=[f"Contact: {EMAIL}"], samples=[f"Mail {EMAIL}"],
                      logprobs=[(t, -0.1 * i) for i, t in enumerate(tokens)])


def test_an_address_split_over_several_tokens_is_removed_from_the_tokens() -> None:
    scrubbed = scrub_sample(_sample(SPLIT_EMAIL), Scrubber())

    assert scrubbed.logprobs is not None
    joined = "".join(t.token for t in scrubbed.logprobs)
    assert EMAIL not in joined
    assert "jane" not in joined
    assert "example" not in joined
    assert joined == "Write to <EMAIL> today."


def test_token_log_probabilities_and_count_are_kept() -> None:
    sample = _sample(SPLIT_EMAIL)

    scrubbed = scrub_sample(sample, Scrubber())

    assert scrubbed.logprobs is not None
    assert sample.logprobs is not None
    assert [t.logprob for t in scrubbed.logprobs] == [t.logprob for t in sample.logprobs]


def test_tokens_without_personal_data_are_left_alone() -> None:
    tokens = ["The", " sky", " is", " blue", "."]
    sample = EvalSample(output="".join(tokens), logprobs=[(t, -0.5) for t in tokens])

    scrubbed = scrub_sample(sample, Scrubber())

    assert scrubbed.logprobs == sample.logprobs


def test_every_text_field_is_scrubbed() -> None:
    scrubbed = scrub_sample(_sample(SPLIT_EMAIL), Scrubber())

    texts = [scrubbed.input, scrubbed.output, *scrubbed.contexts, *scrubbed.samples]
    assert all(EMAIL not in text and "<EMAIL>" in text for text in texts)


def test_tokens_share_the_numbered_placeholder_of_the_answer_in_one_session() -> None:
    session = Scrubber().session()

    scrubbed = scrub_sample(_sample(SPLIT_EMAIL), session)

    assert scrubbed.logprobs is not None
    assert "<EMAIL_1>" in scrubbed.output
    assert "".join(t.token for t in scrubbed.logprobs) == "Write to <EMAIL_1> today."


class _ScrubOnly:
    """A user scrubber with ``scrub`` and nothing else: it cannot say where a finding is."""

    def scrub(self, text: str) -> str:
        return text.replace(EMAIL, "<MAIL>")


def test_a_scrubber_that_cannot_locate_findings_redacts_every_token_of_a_changed_answer() -> None:
    sample = _sample(SPLIT_EMAIL)
    assert sample.logprobs is not None

    tokens = scrub_tokens(sample.logprobs, _ScrubOnly())

    assert {t.token for t in tokens} == {"<REDACTED>"}
    assert len(tokens) == len(SPLIT_EMAIL)


def test_the_pipeline_hands_evaluators_scrubbed_tokens() -> None:
    evaluator = Scripted()
    with capture_spans() as capture:
        pipeline = build_pipeline(EvaluationSettings(evaluators=[evaluator]),
                                  tracer_provider=capture.tracer_provider,
                                  meter_provider=capture.meter_provider)
        try:
            trace_id = "cd" * 16
            output = [{"role": "assistant", "content": "".join(SPLIT_EMAIL),
                       "logprobs": [{"token": t, "logprob": -0.2} for t in SPLIT_EMAIL]}]
            pipeline.on_run_end(finished(trace_id=trace_id, kind=SpanKind.LLM, name="chat",
                                         outputs=output))
            pipeline.on_run_end(finished(trace_id=trace_id, is_root=True, name="qa",
                                         inputs={"question": "Who?"},
                                         outputs={"answer": "".join(SPLIT_EMAIL)}))
            assert pipeline.flush(10.0)
        finally:
            pipeline.close()

    (sample,) = evaluator.samples
    assert sample.logprobs is not None
    assert len(sample.logprobs) == len(SPLIT_EMAIL)
    assert EMAIL not in "".join(t.token for t in sample.logprobs)
    assert "jane" not in "".join(t.token for t in sample.logprobs)
