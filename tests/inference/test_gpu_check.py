"""bin/gpu-check and bin/gpu-wheels on a machine without a GPU: what they refuse, and
the wheel parts' round trip (packed here, checked and installed there, no registry)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(ROOT / "bin" / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )


def test_without_a_gpu_the_check_refuses_in_one_line(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no nvidia-smi anywhere
    done = _run("bin/gpu-check", env=env)
    assert done.returncode == 3
    assert done.stdout.splitlines() == [
        "gpu-check: refused: no NVIDIA GPU here (nvidia-smi is missing or lists none)"
    ]


def test_bad_arguments_are_refused_with_what_to_fix():
    done = _run("bin/gpu-check", "--budget", "0")
    assert done.returncode == 2 and "--budget must be a number of seconds above 0" in done.stderr
    done = _run("bin/gpu-check", "--frobnicate")
    assert done.returncode == 2 and "unrecognized arguments: --frobnicate" in done.stderr
    done = _run("bin/gpu-wheels", "--part-mib", "61")
    assert done.returncode == 2 and "--part-mib must be between 1 and 60" in done.stderr


def _fake_nvidia_smi(tmp_path: Path) -> Path:
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\necho 'NVIDIA H200, GPU-0123, 580.65, Disabled, 143771 MiB, 9.0'\n")
    tool.chmod(0o755)
    return tool


def test_a_gpu_that_xgboost_cannot_use_fails_the_check_at_that_step(tmp_path):
    # nvidia-smi lists a GPU, but no CUDA driver is here: XGBoost falls back to the
    # CPU, and the check says so instead of going on.
    env = {**os.environ, "GPU_CHECK_NVIDIA_SMI": str(_fake_nvidia_smi(tmp_path))}
    done = _run("bin/gpu-check", "--no-install", "--no-bench", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "GPU: name=NVIDIA H200, uuid=GPU-0123, driver_version=580.65, "
        "mig.mode.current=Disabled, memory.total=143771 MiB, compute_cap=9.0"
    )
    assert "ran on device=cpu" in done.stdout
    assert lines[-1].startswith("gpu-check: FAILED at xgboost on cuda: exit 1")


def _wheel(folder: Path, name: str, payload: bytes) -> Path:
    path = folder / f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as wheel:
        wheel.writestr(f"{name}/__init__.py", "VALUE = 1\n")
        wheel.writestr(f"{name}/blob.bin", payload)
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def packed(tmp_path):
    wheels = tmp_path / "downloaded"
    wheels.mkdir()
    _wheel(wheels, "gpucheckdemo", os.urandom(2 * 1024 * 1024 + 512))
    _wheel(wheels, "gpucheckother", b"small")
    dest = tmp_path / "wheelhouse"
    manifest = _script("gpu-wheels").pack(wheels, dest, 1)
    return dest, manifest


def test_wheels_are_packed_into_parts_that_fit_a_transfer(packed):
    dest, manifest = packed
    assert [p["name"] for p in manifest["parts"]] == [
        "gpu-wheels.tar.part-00",
        "gpu-wheels.tar.part-01",
        "gpu-wheels.tar.part-02",
    ]
    assert all(p["bytes"] <= 1024 * 1024 for p in manifest["parts"])
    assert json.loads((dest / "MANIFEST.json").read_text()) == manifest
    assert not (dest / "gpu-wheels.tar").exists()  # only the parts travel


def test_the_parts_are_checked_joined_and_installed_without_a_registry(packed, tmp_path):
    dest, _ = packed
    check = _script("gpu-check")
    check.SITE = tmp_path / "site"
    check.install(dest)
    assert (check.SITE / "gpucheckdemo" / "__init__.py").read_text() == "VALUE = 1\n"
    assert (check.SITE / "gpucheckother").is_dir()


def test_a_missing_or_altered_part_is_named_and_nothing_is_installed(packed, tmp_path):
    dest, _ = packed
    check = _script("gpu-check")
    check.SITE = tmp_path / "site"
    (dest / "gpu-wheels.tar.part-01").rename(tmp_path / "elsewhere")
    with pytest.raises(check.CheckFailed, match=r"wheel parts missing .*gpu-wheels\.tar\.part-01"):
        check.install(dest)
    (tmp_path / "elsewhere").rename(dest / "gpu-wheels.tar.part-01")
    with (dest / "gpu-wheels.tar.part-02").open("ab") as part:
        part.write(b"x")
    with pytest.raises(check.CheckFailed, match=r"part-02 does not match MANIFEST\.json"):
        check.install(dest)
    assert not check.SITE.exists()
