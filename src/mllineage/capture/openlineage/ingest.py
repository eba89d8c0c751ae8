"""Taking OpenLineage events in: one event, a file of them, or every kept event again.

Each event is kept raw and mapped in one ``store.batch()``: on an SQL store, atomically (an
event is recorded with its lineage or not at all). Over HTTP a batch is not atomic; an event
that failed part-way is mapped whole by sending it again, or by ``replay``. A transaction that
conflicted with concurrent writers (a deadlock PostgreSQL broke) is tried again.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mllineage.capture.openlineage.mapping import apply_event, map_run
from mllineage.errors import ConflictException
from mllineage.store.base import Store
from mllineage.store.openlineage import EventInfo, check_event

_TRIES = 5


@dataclass(frozen=True)
class Ingested:
    """What :func:`ingest` did with an event."""

    event_id: str
    created: bool  # False: the same event was kept already (it was mapped again, to no effect)
    kind: str
    run_id: str | None


def ingest(store: Store, event: str | bytes | dict[str, Any]) -> Ingested:
    """Keep an OpenLineage event and map it to lineage (idempotent).

    Args:
        store: any store.
        event: the event as JSON text, or parsed.
    Raises:
        ValueError: the event is not a valid OpenLineage 2.x event (the member named).
        mllineage.ClientError: the store refused the lineage (nothing was kept).

    Example:
        >>> ingest(store, open("event.json").read()).event_id  # doctest: +SKIP
    """
    info = check_event(event)
    for attempt in range(_TRIES):
        try:
            with store.batch():
                put = store.put_openlineage_event(Event=info.canonical)
                apply_event(store, info)
            return Ingested(info.event_id, bool(put["Created"]), info.kind, info.run_id)
        except ConflictException:
            if attempt == _TRIES - 1:
                raise
            time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def read_events(path: Path) -> Iterator[tuple[int, str]]:
    """The events of a file of OpenLineage's file transport: JSON Lines (one event a line),
    or one JSON event or array of events; yields (line number, JSON text)."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        for number, item in enumerate(json.loads(stripped), start=1):
            yield number, json.dumps(item)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


def count_events(paths: Iterable[Path]) -> int:
    return sum(1 for path in paths for _ in read_events(path))


@dataclass
class Summary:
    """What an import or a replay did."""

    events: int = 0
    new: int = 0  # events not kept before
    runs: int = 0


def import_files(
    store: Store, paths: Iterable[Path], progress: Callable[[int], None] = lambda n: None
) -> Summary:
    """Ingest every event of ``paths`` (see :func:`read_events`), in file order.

    Raises:
        ValueError: naming the file and line of the first invalid event (those before it
            are kept).
    """
    summary = Summary()
    runs: set[str] = set()
    for path in paths:
        for number, text in read_events(path):
            try:
                done = ingest(store, text)
            except ValueError as error:
                raise ValueError(f"{path}:{number}: {error}") from None
            summary.events += 1
            summary.new += done.created
            if done.run_id:
                runs.add(done.run_id)
            progress(1)
    summary.runs = len(runs)
    return summary


def kept_events(store: Store, **filters: Any) -> Iterator[EventInfo]:
    """The raw events kept in ``store`` (oldest event time first)."""
    for item in store.paginate("list_openlineage_events", "Events", **filters):
        yield check_event(item["Event"])


def replay(store: Store, progress: Callable[[int], None] = lambda n: None) -> Summary:
    """Map every kept event again (after a change of the mapping): each run once, from all its
    events; DatasetEvents and JobEvents one by one. What is there already stays."""
    summary = Summary()
    runs: set[str] = set()
    for info in kept_events(store):
        summary.events += 1
        if info.run_id is not None:
            if info.run_id not in runs:
                runs.add(info.run_id)
                _retrying(store, map_run, info.run_id)
        else:
            _retrying(store, apply_event, info)
        progress(1)
    summary.runs = len(runs)
    return summary


def _retrying(store: Store, work: Callable[[Store, Any], None], arg: Any) -> None:
    for attempt in range(_TRIES):
        try:
            with store.batch():
                work(store, arg)
            return
        except ConflictException:
            if attempt == _TRIES - 1:
                raise
            time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
