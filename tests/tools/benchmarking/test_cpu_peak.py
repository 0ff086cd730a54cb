"""The float peak from /proc/cpuinfo-style text, and a timing's share of it."""

from __future__ import annotations

from benchmarking.cpu_peak import CpuPeak, cpu_peak, peak_share

AVX512 = "model name\t: Xeon\nflags\t\t: fpu sse avx2 fma avx512f avx512_vnni\ncpu MHz\t\t: 2600.000\n"
AVX2 = "flags\t\t: fpu sse avx2 fma\ncpu MHz\t\t: 3000.000\n"


def test_lanes_and_clock_come_from_cpuinfo():
    peak = cpu_peak(threads=1, fma_units=2, cpuinfo=AVX512)
    assert peak == CpuPeak(cores=1, fma_units=2, lanes=16, clock_ghz=2.6)
    assert abs(peak.gflops - 1 * 2 * 16 * 2 * 2.6) < 1e-9
    assert cpu_peak(threads=1, fma_units=1, cpuinfo=AVX2).lanes == 8


def test_lanes_are_no_more_than_the_process_is_shown():
    # AVX-512 in /proc/cpuinfo, hidden from the process's CPUID (dev/cpu_features.py avx2).
    assert cpu_peak(threads=1, cpuinfo=AVX512, capability="AVX2").lanes == 8
    assert cpu_peak(threads=1, cpuinfo=AVX512, capability="AVX512").lanes == 16
    assert cpu_peak(threads=1, cpuinfo=AVX2, capability="AVX512").lanes == 8


def test_share_of_a_model_at_the_peak_is_one():
    peak = CpuPeak(cores=2, fma_units=2, lanes=16, clock_ghz=2.5)  # 320 GFLOP/s
    # 320 M multiply-adds = 640 MFLOP per image; 4 images in 8 ms = 320 GFLOP/s.
    assert abs(peak_share(320_000_000, 4, 8.0, peak) - 1.0) < 1e-12
