"""A writer for the crash tests: ingests into an SQLite file until it is killed.

    python -m tests.reliability.crash_writer {calls|bulk} SQLITE_URL ACK_FILE RUN

Each write the store acknowledged is appended to ACK_FILE right after the call returns, in
one ``write(2)`` on an O_APPEND file, so a ``kill -9`` loses no acknowledgement (a half line
can only be the last one, and the parent ignores it):

- ``E <arn>``: an artifact was created (with PROPERTIES and TAGS in the same call);
- ``A <source> <destination>``: an association was created;
- ``B <block> <size> <arn> ...``: a ``Session.bulk()`` block was written (its ``size``
  artifacts, each with the properties and tags, chained by ``size - 1`` associations).
"""

from __future__ import annotations

import os
import random
import sys

from mllineage import Artifact, Association, Session
from mllineage.store.sql.store import SqlStore

PROPERTIES = {f"p{i}": f"value-{i}" * 8 for i in range(6)}
TAGS = [{"Key": f"t{i}", "Value": f"tag-{i}"} for i in range(3)]


def _acknowledge(fd: int, *words: str) -> None:
    os.write(fd, (" ".join(words) + "\n").encode())


def per_call(session: Session, fd: int, run: str) -> None:
    previous: str | None = None
    for i in range(10**9):
        arn = Artifact.create(
            artifact_type="Crash",
            source={"source_uri": f"s3://crash/{run}/{i}"},
            properties={**PROPERTIES, "run": run},
            tags=TAGS,
            sagemaker_session=session,
        ).artifact_arn
        _acknowledge(fd, "E", arn)
        if previous is not None:
            Association.create(previous, arn, "ContributedTo", sagemaker_session=session)
            _acknowledge(fd, "A", previous, arn)
        previous = arn


def bulk(session: Session, fd: int, run: str) -> None:
    rng = random.Random(run)
    for block in range(10**9):
        name, size = f"{run}-{block}", rng.randint(20, 400)
        with session.bulk() as writer:
            refs = [
                writer.artifact(
                    artifact_type="CrashBulk",
                    source={"source_uri": f"s3://crash-bulk/{name}/{i}"},
                    properties={**PROPERTIES, "block": name, "size": str(size)},
                    tags=TAGS,
                )
                for i in range(size)
            ]
            for source, destination in zip(refs, refs[1:], strict=False):
                writer.associate(source, destination, "ContributedTo")
        _acknowledge(fd, "B", name, str(size), *(ref.arn for ref in refs))


def main() -> None:
    mode, url, ack_file, run = sys.argv[1:5]
    fd = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    session = Session(store=SqlStore(url))
    _acknowledge(fd, "S", run)  # started: the parent's clock for the kill starts now
    (per_call if mode == "calls" else bulk)(session, fd, run)


if __name__ == "__main__":
    main()
