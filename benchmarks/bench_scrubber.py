"""Median time to scrub a realistic 4 KB prompt with every detector on.

Run: ``python benchmarks/bench_scrubber.py [--rounds N]``. Prints one table; the target is a
median under 1 ms on one core. The prompt mixes a system prompt, chat turns, a tool call with
JSON arguments and retrieved context, with a few planted values of each kind, which is what a
production LLM span looks like (most text is ordinary prose, dates, prices and ids).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable

from obs_core.payloads import PlaceholderMap, Scrubber

_PARTS = (
    "You are a helpful customer-support assistant for Northwind Outfitters. Answer in a friendly,"
    " concise tone. Never reveal internal policies. Today is Tuesday, 12 March 2024; the current"
    " release is v2.14.3 and the API version is 2024-02-15. Prices are in EUR unless stated.\n\n"
    "Context documents:\n"
    "[1] Returns policy (updated 2023-11-02): items can be returned within 30 days of delivery."
    " Refunds of orders above 250.00 EUR are reviewed by the finance team within 5 business days."
    " Order numbers look like ORD-2024-004417 and shipments like SHP-88213.\n"
    "[2] Shipping: standard delivery takes 3-5 days (express: 1-2 days, 14.99 EUR). Orders placed"
    " after 15:00 CET ship the next working day. Warehouse capacity is 12,500 parcels per day.\n"
    "[3] Loyalty programme: members earn 1 point per 1 EUR; 500 points give a 10% voucher."
    " The programme was launched in Berlin and Paris in 2019 and now runs in 14 countries.\n\n"
    "Conversation so far:\n"
    "User: Hi, I ordered a tent last week (order ORD-2024-004417, 2 items, total 389.90 EUR) and"
    " it still has not arrived. The tracking page at https://track.example.net/SHP-88213 says it"
    " left the warehouse on 2024-03-05 at 09:41. Can you check what is going on?\n"
    "Assistant: I am sorry to hear that. Could you confirm the delivery address and a phone"
    " number where the courier can reach you?\n"
    "User: Sure. My name is Sarah Johnson, the address is 22 Baker Street, London, and you can"
    " call me on +44 20 7946 0958 or email sarah.johnson@example.co.uk. If a refund is needed,"
    " my IBAN is GB82 WEST 1234 5698 7654 32. I also paid part of it with my card"
    " 4111 1111 1111 1111, expiry 09/27.\n"
    "Assistant: Thank you, Sarah. I have asked our logistics partner, Priya Raghunathan from"
    " DHL, to check the parcel. She will update you within 24 hours.\n\n"
    'Tool call lookup_shipment: {"order_id": "ORD-2024-004417", "shipment": "SHP-88213",'
    ' "carrier": "DHL", "weight_kg": 7.4, "requested_at": "2024-03-12T10:15:07Z",'
    ' "client_ip": "203.0.113.42", "api_key": "sk-proj-9fQ2xLm4Tz8vWc1RbN6yHd3KpA0sJe7U",'
    ' "headers": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"}}\n'
    "Tool result: status=in_transit, last_scan=Leipzig hub, eta=2024-03-14, attempts=0,"
    " handled_by=Markus Weber (driver id 5521), depot phone 0341 9876 5432.\n\n"
    "Please write the next assistant reply. Mention the expected delivery date, apologise for"
    " the delay, offer the 10% loyalty voucher, and remind the user that refunds above 250.00"
    " EUR take up to 5 business days. Keep it under 120 words and do not repeat the card number.\n"
)


def build_prompt(size: int = 4096) -> str:
    text = "".join(_PARTS)
    while len(text) < size:
        text += "\nAdditional notes: the customer has been a member since 2021 and placed 7 orders."
    return text[:size]


_FRESH = itertools.count()


def _variant(text: str, i: int) -> str:
    """``text`` with its last 8 characters replaced by letters unique to ``i``: a text the
    scrubber has never seen (it remembers where findings sit in recently seen texts)."""
    tag = "".join(chr(ord("a") + (i // 26 ** k) % 26) for k in range(8))
    return text[:-8] + tag


def measure(fn: Callable[[str], object], text: str, rounds: int, *,
            fresh: bool = True) -> list[float]:
    texts = [_variant(text, next(_FRESH)) if fresh else text for _ in range(rounds)]
    samples = []
    for variant in texts:
        t0 = time.perf_counter()
        fn(variant)
        samples.append((time.perf_counter() - t0) * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()

    prompt = build_prompt()
    scrubber = Scrubber()
    scrubber.scrub(prompt)  # warm-up: loads the name lists
    plain = "The quick brown fox jumps over the lazy dog. " * (4096 // 45)

    rows: list[tuple[str, Callable[[str], object], str, bool]] = [
        ("4 KB prompt, all detectors", lambda t: scrubber.scrub(t), prompt, True),
        ("4 KB prompt, numbered placeholders",
         lambda t: scrubber.scrub(t, placeholders=PlaceholderMap()), prompt, True),
        ("4 KB prose without PII", lambda t: scrubber.scrub(t), plain[:4096], True),
        ("4 KB prompt seen before (cached findings)", lambda t: scrubber.scrub(t), prompt, False),
    ]
    for kind in sorted(scrubber.kinds):
        only = Scrubber(kinds=[kind])
        rows.append((f"4 KB prompt, {kind} only", only.scrub, prompt, True))

    started = time.perf_counter()
    sum(range(1_000_000))
    calibration_ms = (time.perf_counter() - started) * 1e3
    print(f"prompt: {len(prompt)} chars, {len(scrubber.find(prompt))} findings")
    print(f"machine speed: sum(range(10**6)) takes {calibration_ms:.1f} ms "
          "(about 8-10 ms on a current desktop core)\n")
    print("every case scrubs a text not seen before, unless it says otherwise\n")
    print(f"{'case':42s} {'median µs':>10s} {'p90 µs':>10s}")
    for name, fn, text, fresh in rows:
        samples = sorted(measure(fn, text, args.rounds, fresh=fresh))
        p90 = samples[int(len(samples) * 0.9)]
        print(f"{name:42s} {statistics.median(samples):10.1f} {p90:10.1f}")


if __name__ == "__main__":
    main()
