"""``obs ui`` end to end: real LangChain and LlamaIndex applications write traces, payloads and
evaluations into the embedded stores, then headless Chromium drives the viewer as a person
would: filtering, sorting, following links, unfolding payloads, reloading bookmarked views.

Debian's ``chromium`` is driven through Playwright (``executable_path``; no browser download).
Screenshots land in ``test-artifacts/`` for a look by eye.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from e2e.ui_traces import (
    CALCULATOR_TOOLS,
    LC_SESSION,
    LI_MODEL,
    LI_SESSION,
    PLANTED_EMAIL,
    RESEARCHER_TOOLS,
    ProducedTraces,
    produce,
)
from obs_core import set_strict
from obs_core.payloads import SQLitePayloadStore
from obs_core.store import SQLiteEvaluationStore, SQLiteTraceStore, TraceSummary
from obs_core.ui import UiServer, serve

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    # LlamaIndex's workflow agents read deprecated pydantic attributes when built.
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect"),
]

_CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
_SETTLED = """() => {
    const app = document.getElementById("app");
    return app.dataset.loading === undefined && app.dataset.loaded === location.hash;
}"""


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> ProducedTraces:
    set_strict(True)  # an obs bug while producing must fail the tests, not hide
    try:
        return produce(tmp_path_factory.mktemp("ui-e2e"))
    finally:
        set_strict(None)


@pytest.fixture(scope="module")
def summaries(produced: ProducedTraces) -> dict[str, TraceSummary]:
    """Every stored trace (the produced ones, plus the evaluation and indexing traces)."""
    with SQLiteTraceStore(produced.trace_db, read_only=True) as store:
        return {s.trace_id: s for s in store.list_traces()}


@pytest.fixture(scope="module")
def server(produced: ProducedTraces) -> Iterator[UiServer]:
    with serve(produced.trace_db, payload_store=SQLitePayloadStore(produced.payload_db)) as running:
        running.start()
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if _CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab; the test fails if the page logged a script error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert errors == []


def _open(page: Page, url: str) -> None:
    page.goto(url)
    _settle(page)


def _settle(page: Page) -> None:
    """Wait until the view for the current address has been rendered completely."""
    page.wait_for_function(_SETTLED, timeout=10_000)


def _listed(page: Page) -> list[str]:
    ids = page.eval_on_selector_all("tr.trace-row", "rows => rows.map(r => r.dataset.traceId)")
    return [str(trace_id) for trace_id in ids]


def _apply(page: Page) -> None:
    page.click("#filters button[type=submit]")
    _settle(page)


def _screenshot(page: Page, name: str) -> None:
    _ARTIFACTS.mkdir(exist_ok=True)
    target = _ARTIFACTS / name
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 0


# --- the list --------------------------------------------------------------------------------

def test_list_shows_the_traces_of_both_frameworks(
        page: Page, server: UiServer, produced: ProducedTraces,
        summaries: dict[str, TraceSummary]) -> None:
    _open(page, server.url)
    listed = _listed(page)
    assert sorted(listed) == sorted(summaries)
    assert produced.all <= set(listed)
    names = page.locator("tr.trace-row a.root-name").all_inner_texts()
    for root in ("invoke_agent calculator", "invoke_agent looper", "invoke_agent researcher",
                 "RetrieverQueryEngine.query"):
        assert root in names
    _screenshot(page, "ui-e2e-list.png")


def test_status_filter_narrows_the_list_to_failed_traces(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, server.url)
    page.select_option("#filters select[name=status]", "ERROR")
    _apply(page)
    assert _listed(page) == [produced.looper]
    assert page.inner_text("#page-info") == "1–1 of 1"


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("name", "RESEARCHER", ("researcher",)),
    ("model", LI_MODEL, ("researcher", "rag")),
    ("session", LC_SESSION, ("calculator", "looper")),
    ("pipeline_version", "lc-v2", ("looper",)),
])
def test_text_filters_narrow_the_list(page: Page, server: UiServer, produced: ProducedTraces,
                                      field: str, value: str, expected: tuple[str, ...]) -> None:
    _open(page, server.url)
    page.fill(f"#filters input[name={field}]", value)
    _apply(page)
    assert sorted(_listed(page)) == sorted(getattr(produced, name) for name in expected)


def test_limit_hit_filter_keeps_only_the_agent_stopped_by_its_limit(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, server.url)
    page.check("#filters input[name=limit_hit]")
    _apply(page)
    assert _listed(page) == [produced.looper]
    assert page.inner_text(f"tr[data-trace-id='{produced.looper}'] .badge.limit-hit") == "LIMIT HIT"


def test_hallucination_filter_keeps_only_the_flagged_answer(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, server.url)
    page.check("#filters input[name=hallucination]")
    _apply(page)
    assert _listed(page) == [produced.rag]
    assert page.inner_text(f"tr[data-trace-id='{produced.rag}'] .badge.flagged") == "HALLUCINATION"


def test_time_filters_narrow_the_list(page: Page, server: UiServer,
                                     summaries: dict[str, TraceSummary]) -> None:
    _open(page, server.url)
    newest_ms = max(s.end_time_ns for s in summaries.values()) // 1_000_000
    # The next minute in the browser's local time, as a datetime-local field spells it.
    next_minute = page.evaluate(
        "ms => { const d = new Date(ms); "
        "return new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16); }",
        newest_ms + 60_000)
    page.fill("#filters input[name=until_ms]", next_minute)
    _apply(page)
    assert len(_listed(page)) == len(summaries)
    page.fill("#filters input[name=since_ms]", next_minute)
    _apply(page)
    assert _listed(page) == []
    assert page.inner_text("#no-traces") == "No trace matches these filters."
    assert "since_ms=" in page.url
    assert "until_ms=" in page.url


def test_filters_combine_and_clear(page: Page, server: UiServer, produced: ProducedTraces,
                                   summaries: dict[str, TraceSummary]) -> None:
    _open(page, server.url)
    page.fill("#filters input[name=session]", LI_SESSION)
    page.fill("#filters input[name=name]", "query")
    _apply(page)
    assert _listed(page) == [produced.rag]
    page.click("#clear-filters")
    _settle(page)
    assert len(_listed(page)) == len(summaries)


@pytest.mark.parametrize(("sort", "field", "attribute"), [
    ("duration", "duration_ms", "durationMs"),
    ("tokens", "total_tokens", "tokens"),
    ("cost", "cost_usd", "cost"),
])
def test_sorting_a_column_orders_the_list_both_ways(
        page: Page, server: UiServer, summaries: dict[str, TraceSummary],
        sort: str, field: str, attribute: str) -> None:
    _open(page, server.url)
    page.click(f"button[data-sort={sort}]")
    _settle(page)
    values = page.eval_on_selector_all(
        "tr.trace-row", f"rows => rows.map(r => Number(r.dataset.{attribute}))")
    stored = sorted((getattr(s, field) for s in summaries.values()), reverse=True)
    assert values == pytest.approx(stored)
    assert page.get_attribute(f"button[data-sort={sort}]", "aria-sort") == "descending"
    top = max(summaries.values(), key=lambda s: getattr(s, field))
    assert _listed(page)[0] == top.trace_id

    page.click(f"button[data-sort={sort}]")
    _settle(page)
    assert _listed(page)[-1] == top.trace_id
    assert page.get_attribute(f"button[data-sort={sort}]", "aria-sort") == "ascending"


# --- bookmarkable state ------------------------------------------------------------------------

def test_filters_and_sort_live_in_the_address_and_survive_a_reload(
        page: Page, browser: Browser, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, server.url)
    page.fill("#filters input[name=model]", LI_MODEL)
    _apply(page)
    page.click("button[data-sort=tokens]")
    _settle(page)
    shown = _listed(page)
    assert sorted(shown) == sorted([produced.researcher, produced.rag])

    fragment = page.url.split("#", 1)[1]
    assert fragment.startswith("/traces?")
    params = parse_qs(fragment.split("?", 1)[1])
    assert params == {"model": [LI_MODEL], "sort": ["tokens"]}

    page.reload()
    _settle(page)
    assert _listed(page) == shown

    other = browser.new_context().new_page()  # a bookmark opened in a fresh browser profile
    try:
        _open(other, page.url)
        assert _listed(other) == shown
        assert other.input_value("#filters input[name=model]") == LI_MODEL
        assert other.get_attribute("button[data-sort=tokens]", "aria-sort") == "descending"
    finally:
        other.context.close()


def test_leaving_a_trace_returns_to_the_same_filtered_list(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, server.url)
    page.fill("#filters input[name=session]", LC_SESSION)
    _apply(page)
    listed_url = page.url
    page.click(f"tr[data-trace-id='{produced.calculator}'] a.root-name")
    _settle(page)
    assert page.inner_text("#trace-title").startswith("invoke_agent calculator")

    page.click("#back-to-list")
    _settle(page)
    assert page.url == listed_url
    assert sorted(_listed(page)) == sorted([produced.calculator, produced.looper])

    page.go_back()
    _settle(page)
    page.go_back()
    _settle(page)
    assert page.url == listed_url
    assert page.input_value("#filters input[name=session]") == LC_SESSION


# --- one trace ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("agent", "tools"), [
    ("calculator", CALCULATOR_TOOLS),
    ("researcher", RESEARCHER_TOOLS),
], ids=["langchain", "llamaindex"])
def test_waterfall_shows_the_agents_tool_spans_in_call_order(
        page: Page, server: UiServer, produced: ProducedTraces,
        agent: str, tools: tuple[str, ...]) -> None:
    _open(page, f"{server.url}#/trace/{getattr(produced, agent)}")
    rows = page.locator("tr.span-row[data-kind=tool]")
    assert rows.locator(".span-name").all_inner_texts() == [f"execute_tool {t}" for t in tools]
    starts = [float(x) for x in rows.locator("td.waterfall rect").evaluate_all(
        "bars => bars.map(b => b.getAttribute('x'))")]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    root = page.locator("tr.span-row").first
    assert root.get_attribute("data-kind") == "agent"
    for tool in set(tools):
        assert f"{tool} ×{tools.count(tool)}" in root.inner_text()


def test_agent_that_hit_its_recursion_limit_is_marked(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, f"{server.url}#/trace/{produced.looper}")
    assert "AGENT HIT ITS LIMIT" in page.inner_text("#trace-title")
    agent = page.locator("tr.span-row").first
    text = agent.inner_text()
    assert "steps 3 / 6" in text
    assert "stop reason recursion_limit" in text
    assert "STEP LIMIT HIT" in text
    assert "GraphRecursionError" in text
    assert agent.locator("td.status-ERROR").inner_text() == "ERROR"
    _screenshot(page, "ui-e2e-limit-hit.png")


def test_trace_page_shows_scrubbed_payloads_and_never_the_planted_email(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, f"{server.url}#/trace/{produced.calculator}")
    first_model_call = page.locator("tr.span-row[data-kind=llm]").first
    prompt = first_model_call.locator("[data-part=input] pre")
    assert not prompt.is_visible()  # folded until asked for
    first_model_call.locator("details.payload summary").click()
    assert prompt.is_visible()
    assert prompt.inner_text() == "user: I am <EMAIL_1>. What is (2 + 3) * 4 + 1?"
    assert "add(" in first_model_call.locator("[data-part=output] pre").inner_text()

    first_tool = page.locator("tr.span-row[data-kind=tool]").first
    first_tool.locator("details.payload summary").click()
    assert first_tool.locator("[data-part=output] pre").inner_text() == "5"

    assert PLANTED_EMAIL not in page.content()
    _screenshot(page, "ui-e2e-trace.png")


def test_retrieval_span_shows_its_documents_with_scores_and_text(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    _open(page, f"{server.url}#/trace/{produced.rag}")
    retriever = page.locator("tr.span-row[data-kind=retriever]")
    assert retriever.locator("ul.documents li").count() == 2
    retriever.locator("details.payload summary").click()
    documents = retriever.locator("[data-part=documents] pre").inner_text()
    assert "Olympus Mons is the tallest volcano on Mars" in documents
    assert "(score " in documents


def test_trace_page_shows_evaluation_results_with_their_explanations(
        page: Page, server: UiServer, produced: ProducedTraces) -> None:
    with SQLiteEvaluationStore(produced.trace_db, read_only=True) as evaluations:
        stored = {row.evaluator: row for row in evaluations.for_trace(produced.rag)}
    assert stored["groundedness"].passed is False

    _open(page, f"{server.url}#/trace/{produced.rag}")
    assert "HALLUCINATION FLAGGED" in page.inner_text("#trace-title")
    grounded = page.locator("tr.evaluation[data-evaluator=groundedness]")
    assert grounded.locator("td.result").inner_text() == "FAIL"
    assert grounded.locator("td.explanation").inner_text() == stored["groundedness"].explanation
    assert "Everest" in grounded.locator("td.explanation").inner_text()
    assert "ungrounded" in grounded.inner_text()
    safety = page.locator("tr.evaluation[data-evaluator=safety]")
    assert safety.locator("td.result").inner_text() == "pass"
    assert safety.locator("td.explanation").inner_text() == stored["safety"].explanation
    _screenshot(page, "ui-e2e-evaluations.png")


# --- overview ----------------------------------------------------------------------------------

def test_overview_charts_render_the_stored_data(
        page: Page, server: UiServer, summaries: dict[str, TraceSummary]) -> None:
    _open(page, server.url)
    page.click("#nav-overview")
    _settle(page)

    def values(selector: str) -> list[float]:
        return [float(v) for v in page.locator(selector).evaluate_all(
            "marks => marks.map(m => m.dataset.value)")]

    tokens = values("#chart-tokens rect.bar-mark")
    assert len(tokens) == 15  # every day of the 14-day window, empty ones included
    assert sum(tokens) == sum(s.total_tokens for s in summaries.values())
    assert sum(values("#chart-cost rect.bar-mark")) == pytest.approx(
        sum(s.cost_usd for s in summaries.values()))
    assert sum(values("#chart-limit-hits rect.bar-mark")) == 1
    latency = page.locator("#chart-latency circle.point")
    assert sorted(latency.evaluate_all("ps => ps.map(p => p.dataset.series)")) == [
        "p50", "p95", "p99"]
    assert max(values("#chart-latency circle.point")) == pytest.approx(
        max(s.duration_ms for s in summaries.values()), rel=1e-6)
    rates = dict(zip(page.locator("#chart-rates circle.point").evaluate_all(
        "ps => ps.map(p => p.dataset.series)"), values("#chart-rates circle.point"),
        strict=True))
    errors = sum(s.status.value == "ERROR" for s in summaries.values())
    assert rates == pytest.approx({"errors": errors / len(summaries), "hallucinations": 1.0})
    _screenshot(page, "ui-e2e-overview.png")


def test_overview_window_lives_in_the_address(page: Page, server: UiServer) -> None:
    _open(page, f"{server.url}#/overview")
    page.select_option("#overview-days", "30")
    _settle(page)
    assert page.url.endswith("#/overview?days=30")
    page.reload()
    _settle(page)
    assert page.input_value("#overview-days") == "30"
    assert page.locator("#chart-tokens rect.bar-mark").count() == 31


def test_token_protected_viewer_loads_with_the_token_in_its_address(
        page: Page, browser: Browser, produced: ProducedTraces) -> None:
    with serve(produced.trace_db, port=0, token="tok-123") as running:
        running.start()
        _open(page, running.url)
        assert produced.all <= set(_listed(page))

        refused = browser.new_context().new_page()  # logs the refused request: not `page`
        try:
            _open(refused, running.url.replace("?token=tok-123", "?token=wrong"))
            assert refused.inner_text("#app") == "Could not load: missing or wrong access token"
        finally:
            refused.context.close()
