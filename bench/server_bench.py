"""Throughput and latency of the server under N concurrent boto3 clients.

Starts a real server process (SigV4 on, an SQLite file behind it), then for each client count
runs DescribeArtifact and CreateArtifact from that many client *processes* (so the clients do
not share one GIL), each with its own boto3 client, and prints requests per second and the
median and 99th-percentile latency seen by the clients.

    python bench/server_bench.py                      # 1, 4 and 16 clients, 2,000 requests
    python bench/server_bench.py --clients 8 --requests 5000 --store postgresql://...
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEY, SECRET = "AKIDBENCH", "bench-secret"


@dataclass
class Run:
    operation: str
    clients: int
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}, max_pool_connections=1),
    )


def _worker(url: str, operation: str, count: int, arn: str, start_at: float) -> tuple[Any, ...]:
    """One client process: warm up, wait for the common start, then time each call."""
    client = _client(url)
    prefix = f"s3://bench/{uuid.uuid4().hex}"
    for _ in range(5):
        client.describe_artifact(ArtifactArn=arn)
    time.sleep(max(0.0, start_at - time.time()))
    latencies = []
    began = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        if operation == "DescribeArtifact":
            client.describe_artifact(ArtifactArn=arn)
        else:
            client.create_artifact(ArtifactType="Dataset", Source={"SourceUri": f"{prefix}/{i}"})
        latencies.append(time.perf_counter() - t0)
    return began, time.perf_counter(), latencies


def measure(url: str, operation: str, clients: int, requests: int, arn: str) -> Run:
    per_client = max(1, requests // clients)
    with ProcessPoolExecutor(max_workers=clients) as pool:
        start_at = time.time() + 2.0  # time for every process to start and warm up
        futures = [
            pool.submit(_worker, url, operation, per_client, arn, start_at) for _ in range(clients)
        ]
        results = [f.result() for f in futures]
    began = min(r[0] for r in results)
    ended = max(r[1] for r in results)
    # perf_counter is per process, but on Linux it is one system-wide monotonic clock.
    latencies = [lat for r in results for lat in r[2]]
    return Run(operation, clients, len(latencies), ended - began, latencies)


def main() -> None:
    from mllineage.server.testing import ServerProcess

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,4,16", help="comma-separated client counts")
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    parser.add_argument("--store", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or f"sqlite:///{Path(tmp) / 'bench.db'}"
        server_args = ["--workers", str(args.workers)]
        with ServerProcess(store, credentials={KEY: SECRET}, args=server_args) as server:
            client = _client(server.url)
            arn = client.create_artifact(
                ArtifactType="Dataset",
                Source={"SourceUri": f"s3://bench/{uuid.uuid4().hex}"},
                Properties={f"k{i}": "v" * 20 for i in range(10)},
            )["ArtifactArn"]
            runs = [
                measure(server.url, operation, n, args.requests, arn)
                for operation in ("DescribeArtifact", "CreateArtifact")
                for n in counts
            ]
    print(
        f"store: {'SQLite file' if not args.store else args.store.split(':')[0]}, "
        f"server workers: {args.workers}"
    )
    print(
        f"{'operation':<18}{'clients':>8}{'requests':>10}{'req/s':>10}"
        f"{'median ms':>11}{'p99 ms':>9}"
    )
    for run in runs:
        print(
            f"{run.operation:<18}{run.clients:>8}{run.requests:>10}{run.throughput:>10.0f}"
            f"{statistics.median(run.latencies) * 1000:>11.2f}{run.percentile(0.99) * 1000:>9.2f}"
        )


if __name__ == "__main__":
    main()
