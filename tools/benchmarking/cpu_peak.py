"""The CPU's float32 peak, and a model's share of it: how far a timing is from the machine's limit.

peak FLOP/s = cores x FMA units per core x float32 lanes per FMA x 2 (a multiply-add is 2 FLOPs) x clock.

- cores: physical cores used (``min(threads, cores)``; lscpu's "Core(s) per socket" x "Socket(s)", or
  ``os.cpu_count()`` where lscpu is missing);
- FMA units and their width: by CPU family (:func:`fma_layout`), from /proc/cpuinfo's vendor, family, model
  name and flags, since the instruction set alone does not say it: AMD's Zen 4 has AVX-512 but executes it
  on two 256-bit FMA units (8 float32 lanes each), Intel's AVX-512 server cores have two 512-bit units (16
  lanes), its AVX-512 client cores and Xeon Silver / Bronze one. ``fma_units`` overrides the count;
- lanes are no more than the process is shown (torch's CPU dispatch level: ``AVX2`` where CPUID hides
  AVX-512 from it, as under dev/cpu_features.py);
- clock: /proc/cpuinfo's "cpu MHz" (on a VM the nominal TSC clock; turbo can be higher, which would lower
  every share).

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


class FmaLayout(NamedTuple):
    """FMA units per core, float32 lanes per unit, and the CPU family that says so."""

    units: int
    lanes: int
    family: str


class CpuPeak(NamedTuple):
    cores: int
    fma_units: int
    lanes: int
    clock_ghz: float
    family: str = ""

    @property
    def gflops(self) -> float:
        return self.cores * self.fma_units * self.lanes * 2 * self.clock_ghz

    def describe(self) -> str:
        return (
            f"{self.cores} cores x {self.fma_units} FMA units x {self.lanes} fp32 lanes x 2 FLOP x "
            f"{self.clock_ghz:.2f} GHz = {self.gflops:.0f} GFLOP/s ({self.family})"
        )


def _field(text: str, name: str) -> str:
    match = re.search(rf"^{name}\s*:\s*(.*)$", text, re.M)
    return match.group(1).strip() if match else ""


def fma_layout(cpuinfo: str) -> FmaLayout:
    """FMA units per core and their float32 lanes for the CPU /proc/cpuinfo's text describes."""
    flags = set(_field(cpuinfo, "flags").split())
    vendor, name = _field(cpuinfo, "vendor_id"), _field(cpuinfo, "model name")
    family = int(_field(cpuinfo, "cpu family") or 0)
    model = int(_field(cpuinfo, "model") or 0)
    if vendor == "AuthenticAMD":
        if "avx512f" in flags and family == 25:
            return FmaLayout(2, 8, "AMD Zen 4: AVX-512 on two 256-bit FMA units")
        if "avx512f" in flags:
            return FmaLayout(
                2, 16, "AMD Zen 5 or later: two 512-bit FMA units (Zen 5 mobile has 256-bit ones)"
            )
        if family == 23 and model < 0x30:
            return FmaLayout(2, 4, "AMD Zen / Zen+: AVX2 on two 128-bit FMA units")
        if "avx2" in flags:
            return FmaLayout(2, 8, "AMD Zen 2 / Zen 3: two 256-bit FMA units")
    if vendor == "GenuineIntel" and "avx512f" in flags:
        if "amx_tile" in flags:
            return FmaLayout(
                2, 16, "Intel server core with AMX (Sapphire Rapids or later): two 512-bit FMA units"
            )
        if re.search(r"\b(Silver|Bronze)\b", name):
            return FmaLayout(1, 16, "Intel Xeon Silver / Bronze: one 512-bit FMA unit")
        if "Xeon" in name:
            return FmaLayout(2, 16, "Intel Xeon with AVX-512: two 512-bit FMA units")
        return FmaLayout(1, 16, "Intel client core with AVX-512: one 512-bit FMA unit")
    if {"avx2", "fma"} <= flags:
        return FmaLayout(2, 8, f"{vendor or 'x86'} with AVX2 + FMA: two 256-bit FMA units")
    return FmaLayout(1, 4, f"{vendor or 'unknown CPU'} without AVX2 + FMA: one 128-bit unit assumed")


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
    threads: int | None = None,
    fma_units: int | None = None,
    cpuinfo: str | None = None,
    capability: str | None = None,
) -> CpuPeak:
    """The float32 peak of ``threads`` cores of this CPU (see the module docstring for each factor).

    ``fma_units`` overrides the family's count. ``cpuinfo`` / ``capability``: /proc/cpuinfo's text and
    torch's CPU capability (``AVX512``, ``AVX2``, ``DEFAULT``); both read from this machine and process when
    not given.
    """
    text = cpuinfo if cpuinfo is not None else Path("/proc/cpuinfo").read_text()
    layout = fma_layout(text)
    lanes, family = layout.lanes, layout.family
    if capability is None and cpuinfo is None:
        capability = torch.backends.cpu.get_cpu_capability()
    if capability is not None and lanes > {"AVX512": 16, "AVX2": 8}.get(capability, 4):
        lanes = {"AVX512": 16, "AVX2": 8}.get(capability, 4)
        family += f"; this process is shown {capability} only"
    if fma_units is not None and fma_units != layout.units:
        family += f"; {fma_units} FMA units as asked"
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)
    clock = float(mhz.group(1)) / 1000 if mhz else 1.0
    cores = min(threads or 10**6, _physical_cores())
    return CpuPeak(cores, layout.units if fma_units is None else fma_units, lanes, clock, family)


def peak_share(madds: int, batch: int, milliseconds: float, peak: CpuPeak) -> float:
    """Share of ``peak`` reached by ``batch`` images of ``madds`` multiply-adds each in ``milliseconds``."""
    return 2 * madds * batch / (milliseconds * 1e-3) / (peak.gflops * 1e9)
