"""`smoke` measures the time to the first ready answer and sets it against a cold-start budget."""

from __future__ import annotations

from llmplane.infra.endpoint.smoke import Backoff, SmokeReport, smoke
from llmplane.infra.endpoint.target import Target
from tests.endpoint.fake_server import MODEL, FakeEndpoint


class FakeClock:
    """Time that passes only when smoke sleeps, so waits are measured exactly and instantly."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run(fake: FakeEndpoint, loading: int, budget: float | None, wait: float = 30) -> SmokeReport:
    """Smoke the fake endpoint after `loading` 503s, on the fake clock."""
    fake.script.loading = loading
    clock = FakeClock()
    return smoke(
        Target(url=fake.url, model=MODEL, wait_seconds=wait),
        timeout=2,
        max_new_tokens=2,
        checks=("health", "model"),
        backoff=Backoff(first=0.5, factor=2, cap=3),
        clock=clock,
        sleep=clock.sleep,
        budget=budget,
    )


def test_the_time_to_ready_is_measured_from_the_start_of_waiting(fake: FakeEndpoint) -> None:
    report = run(fake, loading=4, budget=10)
    assert report.failed is None
    # Four 503s, then 200: the pauses were 0.5 + 1 + 2 + 3 seconds of (fake) time.
    assert report.ready_seconds == 6.5
    assert report.within_budget is True
    assert report.budget_line() == (
        "ready after 6.5 s, within the 10 s cold-start estimate (65% of it)"
    )
    document = report.to_json()
    assert document["readySeconds"] == 6.5
    assert document["budgetSeconds"] == 10 and document["withinBudget"] is True


def test_a_start_slower_than_the_budget_says_by_how_much(fake: FakeEndpoint) -> None:
    report = run(fake, loading=4, budget=5)
    assert report.within_budget is False
    assert report.budget_line() == (
        "ready after 6.5 s, 1.5 s over the 5 s cold-start estimate (130% of it)"
    )


def test_without_a_budget_the_time_is_still_recorded(fake: FakeEndpoint) -> None:
    report = run(fake, loading=0, budget=None)
    assert report.ready_seconds == 0.0
    assert report.budget_line() is None
    document = report.to_json()
    assert document["readySeconds"] == 0.0
    assert document["budgetSeconds"] is None and document["withinBudget"] is None


def test_an_endpoint_that_never_answers_has_no_time_to_ready(fake: FakeEndpoint) -> None:
    report = run(fake, loading=1000, budget=60, wait=4)
    assert report.failed is not None and report.failed.name == "health"
    assert report.ready_seconds is None and report.within_budget is None
    assert report.budget_line() == "never ready, so not compared with the 60 s cold-start estimate"
    assert report.to_json()["readySeconds"] is None
