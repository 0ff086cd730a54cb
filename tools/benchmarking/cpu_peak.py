"""The CPU's float32 peak, and a model's share of it: how far a timing is from the machine's limit.

peak FLOP/s = cores x FMA units per core x float32 lanes per FMA x 2 (a multiply-add is 2 FLOPs) x clock.

- cores: physical cores used (``min(threads, cores)``; lscpu's "Core(s) per socket" x "Socket(s)", or
  ``os.cpu_count()`` where lscpu is missing);
- lanes: 16 with AVX-512 (``avx512f`` in /proc/cpuinfo), 8 with AVX2 + FMA, 4 otherwise; no more than
  the process is shown (torch's CPU dispatch level: ``AVX2`` where CPUID hides AVX-512 from it, as under
  dev/cpu_features.py);
- FMA units: not visible from inside a machine (let alone a VM); the default 2 is that of Intel's
  server cores with AVX-512 (Skylake-SP Gold/Platinum and later) and of AVX2 client cores; pass the
  right figure for others;
- clock: /proc/cpuinfo's "cpu MHz" (on a VM the nominal TSC clock; turbo can be higher, which would
  lower every share).

A model's share = its multiply-adds (:func:`~visionkit.analysis.complexity.count_complexity`, conv and
linear layers) x 2 / time / peak. INT8 rows are given as a share of the same float32 peak.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import NamedTuple

import torch


class CpuPeak(NamedTuple):
    cores: int
    fma_units: int
    lanes: int
    clock_ghz: float

    @property
    def gflops(self) -> float:
        return self.cores * self.fma_units * self.lanes * 2 * self.clock_ghz

    def describe(self) -> str:
        return (
            f"{self.cores} cores x {self.fma_units} FMA units x {self.lanes} fp32 lanes x 2 FLOP x "
            f"{self.clock_ghz:.2f} GHz = {self.gflops:.0f} GFLOP/s"
        )


def _physical_cores() -> int:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return os.cpu_count() or 1
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    per_socket = int(fields.get("Core(s) per socket", "0").strip() or 0)
    sockets = int(fields.get("Socket(s)", "1").strip() or 1)
    return per_socket * sockets or (os.cpu_count() or 1)


def cpu_peak(
    threads: int | None = None, fma_units: int = 2, cpuinfo: str | None = None, capability: str | None = None
) -> CpuPeak:
    """The float32 peak of ``threads`` cores of this CPU (see the module docstring for each factor).

    ``cpuinfo`` / ``capability``: /proc/cpuinfo's text and torch's CPU capability (``AVX512``, ``AVX2``,
    ``DEFAULT``); both read from this machine and process when not given.
    """
    text = cpuinfo if cpuinfo is not None else Path("/proc/cpuinfo").read_text()
    flags = set(re.search(r"^flags\s*:(.*)$", text, re.M).group(1).split()) if "flags" in text else set()
    lanes = 16 if "avx512f" in flags else 8 if {"avx2", "fma"} <= flags else 4
    if capability is None and cpuinfo is None:
        capability = torch.backends.cpu.get_cpu_capability()
    if capability is not None:
        lanes = min(lanes, {"AVX512": 16, "AVX2": 8}.get(capability, 4))
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)
    clock = float(mhz.group(1)) / 1000 if mhz else 1.0
    cores = min(threads or 10**6, _physical_cores())
    return CpuPeak(cores, fma_units, lanes, clock)


def peak_share(madds: int, batch: int, milliseconds: float, peak: CpuPeak) -> float:
    """Share of ``peak`` reached by ``batch`` images of ``madds`` multiply-adds each in ``milliseconds``."""
    return 2 * madds * batch / (milliseconds * 1e-3) / (peak.gflops * 1e9)
