"""``python -m bench``: the mllineage benchmark suite.

    python -m bench --quick            # a smoke run (CI): small graphs, SQLite only
    python -m bench                    # diamond 10k, pipeline 10k and 100k, SQLite
    python -m bench --big              # adds the 1M-vertex pipeline graph
    python -m bench --postgres URL     # adds PostgreSQL figures beside SQLite
    python -m bench --mlmd-python P    # adds ML Metadata (a Python with ml-metadata==1.17.1)

Results: a markdown table on stdout, and JSON + markdown in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness, mixed
from bench.pipeline import run_pipeline
from bench.workloads import diamond
from mllineage import Session, limits

RESULTS = Path(__file__).resolve().parent / "results"
PER_CALL_RUNS = 3  # per-call ingest: the median of this many runs, each on a fresh file
BULK_RUNS = 3  # bulk ingest, likewise


def _fresh_sqlite(directory: str, name: str) -> tuple[str, str]:
    path = os.path.join(directory, name)
    return f"sqlite:///{path}", path


def _worker(arguments: list[str], repeats: int) -> dict[str, Any]:
    """What ``python -m bench <arguments>`` measures in a new process (its JSON answer)."""
    answer = subprocess.run(
        [sys.executable, "-m", "bench", *arguments, "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    result: dict[str, Any] = json.loads(answer.stdout)
    return result


def diamond_queries(path: str, last: str, repeats: int) -> dict[str, Any]:
    """The diamond's queries (ascendants of the last dataset at depths 10 and 20) on the store
    at ``path``, beside their floor."""
    url = f"sqlite:///{path}"
    out: dict[str, Any] = {}
    with Session(url) as session:
        for depth in (10, 20):
            ms, graph = harness.median_ms(
                harness.lineage_query(session, last, "Ascendants", depth), repeats
            )
            floor_ms, reached = harness.median_ms(harness.floor_query(path, last, depth), repeats)
            assert reached == len(graph["Vertices"]), (reached, len(graph["Vertices"]))
            out[f"depth{depth}"] = {
                "ms": ms,
                "first_ms": harness.first_query_ms(url, last, "Ascendants", depth),
                "floor_ms": floor_ms,
                "vertices": len(graph["Vertices"]),
                "edges": len(graph["Edges"]),
            }
    return out


def bench_diamond(args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    n = args.diamond
    nodes, edges = diamond(n)
    out: dict[str, Any] = {"n": n, "vertices": len(nodes), "edges": len(edges)}
    per_call_budget = min(len(nodes) + len(edges), 3_000 if args.quick else 20_000)
    nodes_small, edges_small = diamond(max(10, per_call_budget // 3))

    rates = []
    for run in range(PER_CALL_RUNS):  # (one run is at the mercy of a busy moment)
        url, _ = _fresh_sqlite(tmp, f"diamond-calls-{run}.db")
        with Session(url) as session:
            rates.append(
                harness.ingest_per_call(session, nodes_small, edges_small, per_call_budget)[0]
            )
    out["sqlite_per_call_calls_per_s"] = statistics.median(rates)
    rates = []
    for run in range(BULK_RUNS):  # (the queries below read the last run's file)
        url, path = _fresh_sqlite(tmp, f"diamond-{run}.db")
        with Session(url) as session:
            rate, arns = harness.ingest_bulk(session, nodes, edges)
            rates.append(rate)
    out["sqlite_bulk_rows_per_s"] = statistics.median(rates)
    rates = []
    for run in range(BULK_RUNS):
        with Session(_fresh_sqlite(tmp, f"diamond-request-{run}.db")[0]) as session:
            rates.append(harness.ingest_put_lineage(session, nodes, edges))
    out["sqlite_put_lineage_rows_per_s"] = statistics.median(rates)
    out["sqlite_bulk_floor_rows_per_s"] = harness.bulk_floor(
        path, os.path.join(tmp, "diamond-floor.db"), BULK_RUNS
    )
    # The queries are timed in a process of their own, as ML Metadata's are: this one has made
    # and dropped millions of objects by now, and their traces would be timed with the queries.
    out |= _worker(["--diamond-worker", path, arns[f"d{n}"]], args.repeats)
    # The memory of the largest answer a query may give (10,000 vertices), in a new process.
    depth = harness.largest_depth(
        path, arns[f"d{n}"], limits.QUERY_MAX_VERTICES, limits.QUERY_MAX_DEPTH
    )
    out["largest_query"] = _worker(
        ["--query-memory-worker", f"sqlite:///{path}", arns[f"d{n}"], str(depth)], args.repeats
    )
    if args.postgres:
        with harness.pg_session(args.postgres) as session:
            out["postgres_per_call_calls_per_s"], _ = harness.ingest_per_call(
                session, nodes_small, edges_small, per_call_budget
            )
        with harness.pg_session(args.postgres) as session:
            out["postgres_bulk_rows_per_s"], arns = harness.ingest_bulk(session, nodes, edges)
            for depth in (10, 20):
                ms, _ = harness.median_ms(
                    harness.lineage_query(session, arns[f"d{n}"], "Ascendants", depth), args.repeats
                )
                out[f"depth{depth}"]["postgres_ms"] = ms
    if args.mlmd_python:
        answer = subprocess.run(
            [
                args.mlmd_python,
                str(Path(__file__).parent / "mlmd_diamond.py"),
                "--n",
                str(n),
                "--db",
                os.path.join(tmp, "mlmd.db"),
                "--repeats",
                str(args.repeats),
                "--calls",
                str(per_call_budget),
                "--call-runs",
                str(PER_CALL_RUNS),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        out["mlmd"] = json.loads(answer.stdout)
    return out


def table(results: dict[str, Any]) -> str:
    d = results["diamond"]
    lines = [
        f"Machine: {results['machine']}; query times are medians of at least "
        f"{results['repeats']} calls and 0.25 s of calls; ratios from the same run.",
        "",
        f"**Diamond DAG**, N = {d['n']:,} ({d['vertices']:,} vertices, {d['edges']:,} edges):",
        "",
        "| measure | mllineage (SQLite) | floor (raw sqlite3, ids only) | ratio to floor |"
        + (" ML Metadata 1.17.1 | ratio to MLMD |" if "mlmd" in d else "")
        + (" mllineage (PostgreSQL) |" if "postgres_bulk_rows_per_s" in d else ""),
        "|---|---|---|---|"
        + ("---|---|" if "mlmd" in d else "")
        + ("---|" if "postgres_bulk_rows_per_s" in d else ""),
    ]
    for depth in (10, 20):
        q = d[f"depth{depth}"]
        row = (
            f"| ascendants, depth {depth} ({q['vertices']:,} vertices, {q['edges']:,} edges,"
            f" full Properties) | {q['ms']:.1f} ms (first after open: {q['first_ms']:.0f} ms) |"
            f" {q['floor_ms']:.2f} ms |"
            f" {q['ms'] / q['floor_ms']:.1f}× |"
        )
        if "mlmd" in d:
            m = d["mlmd"]["queries"][str(depth)]
            row += f" {m['ms']:.1f} ms ({m['vertices']:,} vertices) | {q['ms'] / m['ms']:.2f}× |"
        if "postgres_ms" in q:
            row += f" {q['postgres_ms']:.1f} ms |"
        lines.append(row)
    row = (
        f"| per-call ingest, SQLite file (create/associate calls; median of {PER_CALL_RUNS} runs) |"
        f" {d['sqlite_per_call_calls_per_s']:,.0f} calls/s | | |"
    )
    if "mlmd" in d:
        m = d["mlmd"]["per_call_calls_per_s"]  # the same calls on the same small diamond
        row += f" {m:,.0f} calls/s | {d['sqlite_per_call_calls_per_s'] / m:.1f}× |"
    if "postgres_per_call_calls_per_s" in d:
        row += f" {d['postgres_per_call_calls_per_s']:,.0f} calls/s |"
    lines.append(row)
    row = (
        f"| bulk ingest (`Session.bulk()`; median of {BULK_RUNS} runs; floor: raw sqlite3"
        f" inserting the same rows, then building the indexes)"
        f" | {d['sqlite_bulk_rows_per_s']:,.0f} rows/s |"
        f" {d['sqlite_bulk_floor_rows_per_s']:,.0f} rows/s |"
        f" {d['sqlite_bulk_floor_rows_per_s'] / d['sqlite_bulk_rows_per_s']:.1f}× (in time) |"
    )
    if "mlmd" in d:
        row += " | |"
    if "postgres_bulk_rows_per_s" in d:
        row += f" {d['postgres_bulk_rows_per_s']:,.0f} rows/s |"
    lines.append(row)
    lines.append(
        "| bulk ingest, the same batches as PutLineage requests made from the workload"
        f" (`session.store.put_lineage`; median of {BULK_RUNS} runs) |"
        f" {d['sqlite_put_lineage_rows_per_s']:,.0f} rows/s |"
        f" {d['sqlite_bulk_floor_rows_per_s']:,.0f} rows/s |"
        f" {d['sqlite_bulk_floor_rows_per_s'] / d['sqlite_put_lineage_rows_per_s']:.1f}×"
        " (in time) |"
    )
    big = d["largest_query"]
    lines += [
        "",
        f"**Memory of a query result**: a new process opens the store and asks for the"
        f" ascendants of the last dataset at depth {big['depth']}, full Properties and edges:"
        f" {big['vertices']:,} vertices (a query may return at most"
        f" {limits.QUERY_MAX_VERTICES:,}) and {big['edges']:,} edges, in {big['ms']:.0f} ms."
        f" Resident set of the process: {big['rss_before_mb']:,.0f} MB before the query"
        " (Python, mllineage and its libraries),"
        f" {big['peak_rss_mb']:,.0f} MB at its peak during the query,"
        f" {big['rss_after_mb']:,.0f} MB after it (the answer held, and the graph cache).",
    ]
    if results.get("pipeline"):
        lines += [
            "",
            "**Pipeline graph** (runs of raw → processing → dataset → training → "
            "model → deployment, models DerivedFrom the previous one, a context per run):",
            "",
            "| size | build (bulk) | peak RSS | impact (descendants of a raw dataset)"
            " | provenance (ascendants of a late model) | both | association insert"
            " with DAG check |",
            "|---|---|---|---|---|---|---|",
        ]
        for p in results["pipeline"]:
            lines.append(
                f"| {p['vertices']:,} vertices | {p['bulk_rows_per_s']:,.0f} rows/s |"
                f" {p['peak_rss_mb']:,.0f} MB |"
                + "".join(
                    f" {p[q]['ms']:.1f} ms ({p[q]['vertices']} v) |"
                    for q in ("impact", "provenance", "both")
                )
                + f" {p['associate_ms']:.2f} ms |"
            )
        if results.get("pipeline_postgres"):
            lines += [
                "",
                "The same on PostgreSQL (no query cache: every query reads the database):",
                "",
                "| size | build (bulk) | impact | provenance | both | association insert |",
                "|---|---|---|---|---|---|",
            ]
            for p in results["pipeline_postgres"]:
                lines.append(
                    f"| {p['vertices']:,} vertices | {p['bulk_rows_per_s']:,.0f} rows/s |"
                    + "".join(f" {p[q]['ms']:.1f} ms |" for q in ("impact", "provenance", "both"))
                    + f" {p['associate_ms']:.2f} ms |"
                )
        lines += [
            "",
            "**`Artifact.list`** on the pipeline graph, the first page (50) of: the newest models"
            " (`artifact_type='Model'`), the newest raw datasets under a source URI"
            " (`source_uri='s3://bench/raw'`), the oldest datasets"
            " (`artifact_type='Dataset', sort_order='Ascending'`):",
            "",
            "| size | newest models | under a source URI | oldest datasets |",
            "|---|---|---|---|",
        ]
        for p in results["pipeline"]:
            lines.append(
                f"| {p['vertices']:,} vertices |"
                + "".join(
                    f" {p['lists'][k]['ms']:.2f} ms ({p['lists'][k]['count']}) |"
                    for k in ("models", "raw", "oldest_datasets")
                )
            )
        lines += [
            "",
            "**Time travel**: the same queries `as_of` the instant after the build, measured before"
            " and after changes where the queries walk"
            f" ({results['pipeline'][0]['changes_after']}); × live is to the live query of the"
            " same moment. What has not changed since the instant is read from the live tables,"
            " through the graph cache; the rest is replayed from the change log and kept there"
            " for the next query at the same instant (first: the first query at the instant):",
            "",
            "| size | changed since the instant | impact | provenance | both |",
            "|---|---|---|---|---|",
        ]
        for p in results["pipeline"]:
            for case, prefix in (("nothing", ""), ("the changes above", "changed_")):
                lines.append(
                    f"| {p['vertices']:,} vertices | {case} |"
                    + "".join(
                        f" {p[q][prefix + 'as_of_ms']:.1f} ms"
                        f" ({p[q][prefix + 'as_of_ms'] / p[q][prefix + 'ms']:.1f}× live;"
                        f" first {p[q][prefix + 'first_as_of_ms']:.1f} ms) |"
                        for q in ("impact", "provenance", "both")
                    )
                )
    return "\n".join(lines)


def run_mixed_section(args: argparse.Namespace) -> None:
    """``--mixed``: bench/mixed.py's workload; results in bench/results/mixed.{json,md}."""
    kind = "quick" if args.quick else "big" if args.big else "normal"
    queries = args.queries or (60 if args.quick else 600)
    with tempfile.TemporaryDirectory(prefix="mllineage-bench-") as tmp:
        rows = mixed.run_mixed(kind, queries, tmp, args.postgres, args.mlmd_python, args.server)
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "queries": queries,
        "graphs": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mixed.json").write_text(json.dumps(results, indent=2))
    markdown = f"Machine: {results['machine']}; {results['when']}.\n\n" + mixed.table(rows)
    (RESULTS / "mixed.md").write_text(markdown + "\n")
    print(markdown)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run with small graphs")
    parser.add_argument("--big", action="store_true", help="add the 1M-vertex pipeline graph")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("MLLINEAGE_BENCH_POSTGRES_URL"),
        help="a PostgreSQL URL to measure beside SQLite",
    )
    parser.add_argument(
        "--mlmd-python",
        default=os.environ.get("MLMD_PYTHON"),
        help="a Python with ml-metadata==1.17.1 installed",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="the mixed workload (queries from random starts while another process writes)"
        " instead of the sections above",
    )
    parser.add_argument(
        "--server", action="store_true", help="with --mixed: also through `mllineage serve`"
    )
    parser.add_argument("--queries", type=int, help="with --mixed: queries per plan")
    parser.add_argument("--pipeline-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pipeline-postgres", help=argparse.SUPPRESS)
    parser.add_argument("--diamond-worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--query-memory-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.query_memory_worker:
        url, arn, depth = args.query_memory_worker
        print(json.dumps(harness.query_memory(url, arn, int(depth))))
        return
    if args.pipeline_worker:
        print(json.dumps(run_pipeline(args.pipeline_worker, args.repeats, args.pipeline_postgres)))
        return
    if args.diamond_worker:
        print(json.dumps(diamond_queries(*args.diamond_worker, args.repeats)))
        return
    if args.mixed:
        run_mixed_section(args)
        return
    args.diamond = 500 if args.quick else 10_000
    sizes = [2_000] if args.quick else [10_000, 100_000] + ([1_000_000] if args.big else [])
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}",
        "repeats": args.repeats,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(prefix="mllineage-bench-") as tmp:
        results["diamond"] = bench_diamond(args, tmp)
        results["pipeline"] = []
        for size in sizes:
            results["pipeline"].append(_worker(["--pipeline-worker", str(size)], args.repeats))
        if args.postgres:
            results["pipeline_postgres"] = [
                _worker(
                    ["--pipeline-worker", str(size), "--pipeline-postgres", args.postgres],
                    args.repeats,
                )
                for size in sizes
            ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    markdown = table(results)
    (RESULTS / "latest.md").write_text(markdown + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
