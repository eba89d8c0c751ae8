"""``collector_paused``: large calls pause Python's cycle collector, and leave it as they found
it, whatever other threads do meanwhile."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from mllineage import ClientError, Session
from mllineage.store.common import collector_paused


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_during_the_call_and_resumed_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_application_that_turned_it_off_keeps_it_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_calls_of_two_threads_resume_it_once_both_end() -> None:
    gc.enable()
    first_in, second_in = threading.Event(), threading.Event()

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(5)
    with collector_paused():
        second_in.set()
        thread.join(5)  # the first call has ended
        assert not gc.isenabled()  # still paused for this one
    assert gc.isenabled()


def test_resumed_when_the_call_raises() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("refused")
    assert gc.isenabled()


def test_a_bulk_block_pauses_it_until_the_block_ends_however_it_ends() -> None:
    gc.enable()
    with Session("sqlite://") as session:
        with session.bulk() as bulk:
            assert not gc.isenabled()  # (while the block adds its items)
            data = bulk.artifact(artifact_type="Dataset", source={"source_uri": "s3://b/d"})
        assert gc.isenabled()
        assert data.arn.startswith("arn:aws:sagemaker:")
        with pytest.raises(RuntimeError), session.bulk():
            raise RuntimeError("the block failed: nothing written")
        assert gc.isenabled()
        with pytest.raises(ClientError, match="already exists"), session.bulk() as bulk:
            bulk.artifact(artifact_type="Dataset", source={"source_uri": "s3://b/d"})
        assert gc.isenabled()  # (the write failed)
