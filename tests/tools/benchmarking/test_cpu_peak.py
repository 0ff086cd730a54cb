"""The float peak from /proc/cpuinfo-style text, counted per CPU family, and a timing's share of it."""

from __future__ import annotations

import pytest
from benchmarking.cpu_peak import CpuPeak, cpu_peak, fma_layout, peak_share


def cpuinfo(vendor: str, family: int, model: int, name: str, flags: str, mhz: float = 2600.0) -> str:
    return (
        f"vendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\nmodel name\t: {name}\n"
        f"cpu MHz\t\t: {mhz:.3f}\nflags\t\t: fpu sse {flags}\n"
    )


SAPPHIRE_RAPIDS = cpuinfo(
    "GenuineIntel", 6, 143, "Intel(R) Xeon(R) Platinum 8481C", "avx2 fma avx512f amx_tile"
)
ZEN4 = cpuinfo("AuthenticAMD", 25, 17, "AMD EPYC 9R14 96-Core Processor", "avx2 fma avx512f avx512_vnni")
ZEN3 = cpuinfo("AuthenticAMD", 25, 1, "AMD EPYC 7R13 Processor", "avx2 fma", 3000.0)


@pytest.mark.parametrize(
    ("text", "units", "lanes", "family"),
    [
        (SAPPHIRE_RAPIDS, 2, 16, "AMX"),
        # Zen 4 has AVX-512 but two 256-bit FMA units: counting 16 lanes would halve every share.
        (ZEN4, 2, 8, "Zen 4"),
        (ZEN3, 2, 8, "Zen 2 / Zen 3"),
        (cpuinfo("AuthenticAMD", 26, 2, "AMD EPYC 9755", "avx2 fma avx512f"), 2, 16, "Zen 5"),
        (cpuinfo("AuthenticAMD", 23, 1, "AMD EPYC 7601", "avx2 fma"), 2, 4, "Zen / Zen+"),
        (cpuinfo("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Gold 6148", "avx2 fma avx512f"), 2, 16, "Xeon"),
        (cpuinfo("GenuineIntel", 6, 85, "Intel(R) Xeon(R) Silver 4114", "avx2 fma avx512f"), 1, 16, "Silver"),
        (
            cpuinfo("GenuineIntel", 6, 140, "11th Gen Intel(R) Core(TM) i7-1185G7", "avx2 fma avx512f"),
            1,
            16,
            "client",
        ),
        (cpuinfo("GenuineIntel", 6, 158, "Intel(R) Core(TM) i7-8700", "avx2 fma"), 2, 8, "AVX2"),
        (cpuinfo("GenuineIntel", 6, 42, "Intel(R) Core(TM) i7-2600", "avx"), 1, 4, "without AVX2"),
    ],
)
def test_fma_units_and_lanes_follow_the_cpu_family(text, units, lanes, family):
    layout = fma_layout(text)
    assert (layout.units, layout.lanes) == (units, lanes) and family in layout.family


def test_peak_is_cores_units_lanes_two_flops_and_clock():
    peak = cpu_peak(threads=1, cpuinfo=SAPPHIRE_RAPIDS)
    assert peak[:4] == (1, 2, 16, 2.6) and abs(peak.gflops - 1 * 2 * 16 * 2 * 2.6) < 1e-9
    assert cpu_peak(threads=1, cpuinfo=ZEN4).gflops == pytest.approx(1 * 2 * 8 * 2 * 2.6)
    assert "Zen 4" in cpu_peak(threads=1, cpuinfo=ZEN4).describe()
    override = cpu_peak(threads=1, fma_units=1, cpuinfo=ZEN3)
    assert override.fma_units == 1 and "1 FMA units as asked" in override.family


def test_lanes_are_no_more_than_the_process_is_shown():
    # AVX-512 in /proc/cpuinfo, hidden from the process's CPUID (dev/cpu_features.py avx2).
    hidden = cpu_peak(threads=1, cpuinfo=SAPPHIRE_RAPIDS, capability="AVX2")
    assert hidden.lanes == 8 and "shown AVX2 only" in hidden.family
    assert cpu_peak(threads=1, cpuinfo=SAPPHIRE_RAPIDS, capability="AVX512").lanes == 16
    assert cpu_peak(threads=1, cpuinfo=ZEN3, capability="AVX512").lanes == 8


def test_share_of_a_model_at_the_peak_is_one():
    peak = CpuPeak(cores=2, fma_units=2, lanes=16, clock_ghz=2.5)  # 320 GFLOP/s
    # 320 M multiply-adds = 640 MFLOP per image; 4 images in 8 ms = 320 GFLOP/s.
    assert abs(peak_share(320_000_000, 4, 8.0, peak) - 1.0) < 1e-12
