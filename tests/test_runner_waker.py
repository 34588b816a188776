"""`runner.Waker`: ticks a host's UI thread without a UI timer (Resolve's window uses it with
`ui.QueueEvent`). Real threads; the host's post is a fake that records when and from where it was called,
and the test plays the host's handler by calling `ticked()`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from motif_client import runner

SLACK_S = 1.0  # how late a post may come on a loaded 2-core machine (CI runs the suite beside other work)


class Posts:
    """The host's `post()`: records each call (monotonic time, thread name)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []
        self._cond = threading.Condition()

    def __call__(self) -> None:
        with self._cond:
            self.calls.append((time.monotonic(), threading.current_thread().name))
            self._cond.notify_all()

    def wait_for(self, n: int, timeout_s: float = SLACK_S) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.calls) >= n, timeout_s)


@pytest.fixture()
def posts() -> Posts:
    return Posts()


@pytest.fixture()
def waker(posts: Posts) -> Iterator[runner.Waker]:
    w = runner.Waker(posts)
    w.start()
    assert posts.wait_for(1), "the first tick is posted straight away"
    yield w
    w.close()


def test_first_tick_comes_from_the_waker_thread(posts: Posts, waker: runner.Waker) -> None:
    assert [name for _, name in posts.calls] == [f"{runner.THREAD_PREFIX}waker"]


def test_wakes_while_a_tick_is_pending_do_not_pile_up(posts: Posts, waker: runner.Waker) -> None:
    for _ in range(50):
        waker.wake()
    assert not posts.wait_for(2, 0.3), "a second post while the first was not taken"
    waker.ticked(None)
    assert posts.wait_for(2), "the wakes that came meanwhile are not lost: one tick for all of them"
    assert not posts.wait_for(3, 0.3)


def test_a_wake_posts_a_tick(posts: Posts, waker: runner.Waker) -> None:
    waker.ticked(None)
    assert not posts.wait_for(2, 0.3), "None: no tick until something happens"
    t = time.monotonic()
    waker.wake()
    assert posts.wait_for(2)
    assert posts.calls[1][0] - t < SLACK_S


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_the_delay_the_last_tick_asked_for_is_honoured(posts: Posts, waker: runner.Waker, delay: float) -> None:
    t = time.monotonic()
    waker.ticked(delay)
    assert posts.wait_for(2, delay + SLACK_S)
    waited = posts.calls[1][0] - t
    assert delay <= waited < delay + SLACK_S
    waker.ticked(None)
    assert not posts.wait_for(3, 0.3)


def test_a_wake_before_the_delay_ends_ticks_early(posts: Posts, waker: runner.Waker) -> None:
    waker.ticked(5.0)
    t = time.monotonic()
    waker.wake()
    assert posts.wait_for(2)
    assert posts.calls[1][0] - t < SLACK_S


def test_close_stops_the_thread_and_the_ticks(posts: Posts, waker: runner.Waker) -> None:
    waker.ticked(0.05)
    assert posts.wait_for(2)
    waker.close()
    assert not waker.running
    waker.ticked(0.0)
    waker.wake()
    assert not posts.wait_for(3, 0.3)


def test_the_runner_wakes_it_from_its_worker_thread_for_each_event() -> None:
    """JobRunner(wake=...): every event the task posts calls wake on the thread that posted it."""
    woken: list[str] = []

    def unreachable(address: str, token: str | None, timeout_s: float) -> runner.EngineClient:
        raise ConnectionRefusedError("nothing listens there")

    r = runner.JobRunner(unreachable, "127.0.0.1:9", wake=lambda: woken.append(threading.current_thread().name))
    r.describe()
    events = r.wait_idle(5.0)
    assert [e.kind for e in events] == ["error"] and woken == [f"{runner.THREAD_PREFIX}describe-1"]
