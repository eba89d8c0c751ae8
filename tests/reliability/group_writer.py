"""A writer for the group-commit tests, run as a separate process.

    python -m tests.reliability.group_writer SQLITE_URL ACK_FILE MODE COUNT

MODE ``hold``: the group never commits on its own (its time limit is an hour); COUNT
artifacts are created, each linked to the one before, each acknowledged in ACK_FILE once its
call has returned; then ``D`` is written and the process waits to be killed. MODE ``hold``
thus leaves every call in the journal only. MODE ``flow``: artifacts are created and
acknowledged until COUNT or a kill, with the normal group limits.
"""

from __future__ import annotations

import os
import sys
import time

from mllineage import Artifact, Association, Session
from mllineage.store.sql import group_commit


def main() -> None:
    url, ack_file, mode, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    fd = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    if mode == "hold":
        group_commit.GROUP_SECONDS = 3600.0
        group_commit.GROUP_CALLS = 10**9
    session = Session(url)
    os.write(fd, b"S\n")
    previous = None
    for i in range(count):
        arn = Artifact.create(
            artifact_type="Group",
            source={"source_uri": f"s3://group/{os.getpid()}/{i}"},
            properties={"i": str(i)},
            sagemaker_session=session,
        ).artifact_arn
        if previous is not None:
            Association.create(previous, arn, "ContributedTo", sagemaker_session=session)
        os.write(fd, f"E {arn}\n".encode())
        previous = arn
    os.write(fd, b"D\n")
    if mode == "hold":
        time.sleep(3600)
    session.close()


if __name__ == "__main__":
    main()
