"""How often the remote reducer lists the map's statuses (`wren.worker.reducer.next_poll`):
quickly at first, so a quick map is reduced within milliseconds, then no more than a
listing every `STEADY_POLL` seconds while statuses keep coming (each is a storage request on
a cloud), backing off to `MAX_POLL` while nothing new appears."""

from __future__ import annotations

from wren.worker.reducer import FIRST_POLL, MAX_POLL, STEADY_POLL, next_poll


def _delays(delay: float, changes: list[bool]) -> list[float]:
    out = []
    for changed in changes:
        delay = next_poll(delay, changed)
        out.append(delay)
    return out


def test_a_steady_stream_of_statuses_is_listed_at_the_steady_pace_not_faster() -> None:
    delays = _delays(FIRST_POLL, [True] * 40)
    assert delays[0] > FIRST_POLL and delays == sorted(delays)
    assert delays[-1] == STEADY_POLL  # 20 listings a second at most, however long the map
    assert FIRST_POLL + sum(delays[:2]) < 0.025  # ... after three listings in 25 ms


def test_listings_back_off_while_nothing_new_appears_and_return_on_news() -> None:
    idle = _delays(STEADY_POLL, [False] * 30)
    assert idle[-1] == MAX_POLL and idle == sorted(idle)
    assert next_poll(MAX_POLL, True) == STEADY_POLL
