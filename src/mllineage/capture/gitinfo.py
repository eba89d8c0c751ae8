"""The git state of a working tree: commit, branch, remote and whether it is dirty.

``git`` runs as a subprocess (three calls, four when the tree is dirty), with
``GIT_OPTIONAL_LOCKS=0`` so that reading the status never takes the index lock a concurrent
``git`` command may need. No repository, no commit yet, or no ``git`` installed: ``None``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import urllib.parse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitInfo:
    """What identifies the code of a run."""

    toplevel: str
    commit: str
    branch: str | None  # None when HEAD is detached
    remote: str | None  # the URL of ``origin`` (or the first remote), without credentials
    dirty: bool  # tracked files differ from the commit (untracked files do not count)
    diff_sha256: str | None  # of ``git diff HEAD --binary`` when dirty

    @property
    def uri(self) -> str:
        """A pip-style VCS URL of this commit: ``git+<remote>@<commit>``."""
        base = self.remote or Path(self.toplevel).as_uri()
        if "://" in base:
            base = f"git+{base}"
        return f"{base}@{self.commit}"


def _git(directory: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    return subprocess.run(
        ["git", "-C", directory, *args], capture_output=True, env=env, timeout=60, check=False
    )


def without_credentials(url: str) -> str:
    """``https://user:token@host/repo`` -> ``https://host/repo`` (scp-like URLs unchanged)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def _remote(directory: str) -> str | None:
    listed = _git(directory, "config", "--get-regexp", r"^remote\..*\.url$").stdout.decode()
    urls = dict(line.split(" ", 1) for line in listed.splitlines() if " " in line)
    url = urls.get("remote.origin.url") or next(iter(urls.values()), None)
    return without_credentials(url.strip()) if url else None


def git_info(directory: str | os.PathLike[str] = ".") -> GitInfo | None:
    """The git state of the working tree containing ``directory``, or ``None``."""
    where = os.path.abspath(os.fspath(directory))
    try:
        status = _git(where, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):  # no git, or it hung
        return None
    if status.returncode != 0:
        return None
    commit = branch = None
    dirty = False
    for line in status.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("# branch.oid "):
            commit = line.split(" ", 2)[2]
        elif line.startswith("# branch.head "):
            branch = line.split(" ", 2)[2]
        elif not line.startswith("#"):
            dirty = True
    if commit is None or commit == "(initial)":
        return None
    toplevel = _git(where, "rev-parse", "--show-toplevel").stdout.decode().strip()
    diff = None
    if dirty:
        diff = hashlib.sha256(_git(where, "diff", "HEAD", "--binary").stdout).hexdigest()
    return GitInfo(
        toplevel=toplevel or where,
        commit=commit,
        branch=None if branch == "(detached)" else branch,
        remote=_remote(where),
        dirty=dirty,
        diff_sha256=diff,
    )
