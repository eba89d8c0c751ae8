"""OpenLineage events per second through ``POST /api/v1/lineage`` of a real server.

Starts ``mllineage serve`` (API keys on, an SQLite file or PostgreSQL behind it) and sends the
events of an hourly pipeline — each run a START and a COMPLETE with one input and one output,
spread over a few jobs, made with openlineage-python's own classes — from 1 and from 8 client
processes at once (each with its own keep-alive connection). Each repeat sends to an account of
its own, so it starts empty. Prints events per second (median and range of the repeats) and the
clients' median and 99th-percentile latency; ``--write-docs`` puts the table into
docs/openlineage.md.

    python bench/openlineage_bench.py                       # 1 and 8 clients, 3 repeats
    python bench/openlineage_bench.py --events 4000 --repeats 5 --store postgresql://...
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs" / "openlineage.md"
MARK = re.compile(r"(<!-- bench:openlineage -->\n).*?(<!-- /bench:openlineage -->)", re.S)
JOBS = 4


def api_key(index: int) -> str:
    return f"bench-openlineage-key-{index:04d}"


def make_events(count: int, seed: int) -> list[bytes]:
    """``count`` events: START and COMPLETE of hourly runs of ``JOBS`` jobs, each reading the
    output of the job before it."""
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.serde import Serde

    start = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(days=seed)
    out = []
    for run in range(count // 2):
        job = run % JOBS
        run_id = str(uuid.uuid4())
        at = start + timedelta(hours=run // JOBS, minutes=job)
        for state, minute in ((RunState.START, 0), (RunState.COMPLETE, 1)):
            event = RunEvent(
                eventType=state,
                eventTime=(at + timedelta(seconds=minute)).isoformat(),
                run=Run(runId=run_id),
                job=Job(namespace="bench", name=f"pipeline.step{job}"),
                producer="https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
                inputs=[InputDataset("s3://bench", f"data/step{job}")],
                outputs=[OutputDataset("s3://bench", f"data/step{job + 1}")],
            )
            out.append(Serde.to_json(event).encode())
    return out


def _client(url: str, key: str, events: list[bytes], start_at: float) -> tuple[list[float], float]:
    """One client process: wait for the common start, send its events in order, time each."""
    import httpx

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    latencies = []
    with httpx.Client(timeout=120) as client:
        client.get(f"{url}/health")  # (the connection is made before the clock starts)
        while time.time() < start_at:
            time.sleep(0.001)
        for body in events:
            began = time.perf_counter()
            reply = client.post(f"{url}/api/v1/lineage", content=body, headers=headers)
            latencies.append(time.perf_counter() - began)
            if reply.status_code != 201:
                raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:300]}")
    return latencies, time.time() - start_at


def one_repeat(url: str, key: str, clients: int, events: list[bytes]) -> tuple[float, list[float]]:
    """Events per second with ``clients`` processes; the events of one run go to one client,
    in order, as a producer sends them."""
    shares: list[list[bytes]] = [[] for _ in range(clients)]
    for i in range(0, len(events), 2):
        shares[(i // 2) % clients] += events[i : i + 2]
    with ProcessPoolExecutor(clients) as pool:
        start_at = time.time() + 1.0
        futures = [pool.submit(_client, url, key, share, start_at) for share in shares]
        results = [f.result() for f in futures]
    seconds = max(elapsed for _, elapsed in results)
    latencies = [x for seen, _ in results for x in seen]
    return len(events) / seconds, latencies


def run(store: str | None, counts: list[int], total: int, repeats: int) -> list[dict[str, Any]]:
    from mllineage.server.testing import ServerProcess

    keys = {api_key(i): f"{300_000_000_000 + i}" for i in range(len(counts) * repeats)}
    with tempfile.TemporaryDirectory() as tmp:
        url = store or f"sqlite:///{Path(tmp) / 'lineage.db'}"
        rows = []
        with ServerProcess(url, credentials={}, api_keys=keys) as server:
            account = 0
            for clients in counts:
                rates, latencies = [], []
                for repeat in range(repeats):
                    events = make_events(total, seed=account)
                    rate, seen = one_repeat(server.url, api_key(account), clients, events)
                    account += 1
                    rates.append(rate)
                    latencies += seen
                    print(f"  {clients} clients, repeat {repeat + 1}: {rate:,.0f} events/s")
                ordered = sorted(latencies)
                rows.append(
                    {
                        "clients": clients,
                        "events": total,
                        "repeats": repeats,
                        "median_events_per_s": statistics.median(rates),
                        "min_events_per_s": min(rates),
                        "max_events_per_s": max(rates),
                        "p50_ms": 1000 * ordered[len(ordered) // 2],
                        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
                    }
                )
    return rows


def table(rows: list[dict[str, Any]], store: str, load: tuple[float, float]) -> str:
    lines = [
        f"Measured by `python bench/openlineage_bench.py` on {time.strftime('%Y-%m-%d')} "
        f"({platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, store: {store}; each repeat {rows[0]['events']:,} events "
        f"into an empty account; load average {load[0]:.1f} before and {load[1]:.1f} after, "
        "from other work on the machine):",
        "",
        "| clients | events/s (median) | range of the repeats | latency p50 | latency p99 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clients']} | {r['median_events_per_s']:,.0f} | "
            f"{r['min_events_per_s']:,.0f}-{r['max_events_per_s']:,.0f} "
            f"({r['repeats']} repeats) | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--events", type=int, default=2000, help="events per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", help="a postgresql:// URL (default: a new SQLite file)")
    parser.add_argument("--write-docs", action="store_true", help="update docs/openlineage.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = run(args.store, args.clients, args.events, args.repeats)
    store = "PostgreSQL" if args.store else "SQLite file (WAL)"
    text = table(rows, store, (load_before, os.getloadavg()[0]))
    print(text)
    print(json.dumps(rows, indent=2))
    if args.write_docs:
        page = DOCS.read_text()
        if not MARK.search(page):
            raise SystemExit(f"{DOCS} has no <!-- bench:openlineage --> block")
        DOCS.write_text(MARK.sub(lambda m: m[1] + text + m[2], page))


if __name__ == "__main__":
    main()
