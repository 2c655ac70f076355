"""What a training run ran on, captured by default when a run starts: enough to run it
again (``audit-client reproduce``). Every probe is best effort and bounded in time: a
missing git, GPU or container leaves its part out, never fails the run."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

# Lock files whose digest pins the environment more tightly than the package list.
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "conda-lock.yml",
    "requirements.lock",
    "requirements.txt",
)
# Where CI systems and deploy tooling put the running image's digest; containers do not
# see their own image otherwise.
IMAGE_DIGEST_VARIABLES = ("AUDIT_IMAGE_DIGEST", "IMAGE_DIGEST", "CONTAINER_IMAGE_DIGEST")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_PROBE_TIMEOUT_S = 5


def _run(*argv: str, cwd: Path | None = None) -> str | None:
    """stdout of a short command, or None when it is missing, fails or hangs."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv, cwd=cwd, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def python_info() -> dict[str, str]:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def installed_packages() -> dict[str, str]:
    """Every distribution importable from this interpreter, name -> version."""
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages[name.lower()] = dist.version
    return dict(sorted(packages.items()))


def lock_files(project: Path) -> dict[str, str]:
    """SHA-256 of each lock file found in ``project``, by file name."""
    found = {}
    for name in LOCK_FILES:
        path = project / name
        if path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def git_info(project: Path) -> dict[str, Any]:
    """Commit, dirty flag, branch and remote of the checkout ``project`` is in."""
    commit = _run("git", "rev-parse", "HEAD", cwd=project)
    if commit is None:
        return {}
    status = _run("git", "status", "--porcelain", "--untracked-files=no", cwd=project)
    info: dict[str, Any] = {"commit": commit, "dirty": bool(status)}
    branch = _run("git", "rev-parse", "--abbrev-ref", "HEAD", cwd=project)
    if branch and branch != "HEAD":
        info["branch"] = branch
    remote = _run("git", "config", "--get", "remote.origin.url", cwd=project)
    if remote:
        # A remote URL may carry a token (https://user:token@host/...); keep the host/path.
        info["remote"] = re.sub(r"//[^/@]+@", "//", remote)
    return info


def container_info() -> dict[str, Any]:
    """Whether we run in a container, and its image digest where the environment says."""
    info: dict[str, Any] = {}
    for variable in IMAGE_DIGEST_VARIABLES:
        match = _DIGEST.search(os.environ.get(variable, ""))
        if match:
            info["image_digest"] = match.group(0)
            info["image_digest_from"] = variable
            break
    in_container = Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()
    if in_container or info:
        info["in_container"] = in_container
    return info


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[dict[str, str]]:
    """NVIDIA GPUs as ``nvidia-smi`` reports them (model, driver, memory)."""
    out = _run(
        "nvidia-smi",
        "--query-gpu=name,driver_version,memory.total",
        "--format=csv,noheader",
    )
    if not out:
        return []
    found = []
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            found.append({"model": parts[0], "driver": parts[1], "memory": parts[2]})
    return found


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count() or 0,
        "machine": platform.machine(),
        "os": platform.platform(),
    }
    found = gpus()
    if found:
        info["gpus"] = found
    return info


def capture(project: str | Path | None = None) -> dict[str, Any]:
    """The run's environment: ``environment`` (Python, packages, lock-file digests,
    git, container), ``hardware`` and ``code_revision`` (the commit, ``-dirty`` when the
    checkout has uncommitted changes), as the training-run API takes them."""
    root = Path(project) if project is not None else Path.cwd()
    git = git_info(root)
    environment: dict[str, Any] = {
        "python": python_info(),
        "packages": installed_packages(),
    }
    locks = lock_files(root)
    if locks:
        environment["lock_files"] = locks
    if git:
        environment["git"] = git
    container = container_info()
    if container:
        environment["container"] = container
    revision = ""
    if git:
        revision = git["commit"] + ("-dirty" if git["dirty"] else "")
    return {"environment": environment, "hardware": hardware(), "code_revision": revision}
