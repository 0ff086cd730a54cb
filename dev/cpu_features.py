"""Run a command as if this x86 CPU lacked VNNI (or AVX-512 too): INT8 speed and accuracy on such CPUs.

    python dev/cpu_features.py no-vnni -- python tools/benchmark.py CONFIG --onnx --int8 ...
    python dev/cpu_features.py avx2 -- python tools/test.py CONFIG model.int8.onnx

``no-vnni`` hides AVX512_VNNI, AVX-VNNI and AMX (int8 dot products as on AVX-512 CPUs before Cascade
Lake); ``avx2`` hides every AVX-512 extension too (an AVX2 + FMA CPU: most laptops, AMD before Zen 4).
The command's processes get CPUID answered without those bits (dev/cpuid_mask.c, built with the
system C compiler on first use and preloaded), so ONNX Runtime, oneDNN and numpy pick the kernels such a CPU
gets. The instructions they run still execute on this CPU, at its clock and with its caches: the figures
compare kernels (INT8 against float without VNNI), they are not an older CPU's times. Linux on x86-64 with
CPUID faulting (``cpuid_fault`` in /proc/cpuinfo, as recent Intel CPUs and KVM guests on them) only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).with_name("cpuid_mask.c")
MODES = ("no-vnni", "avx2")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=MODES, help="what to hide from the command")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("give the command to run after --")
    return args


def cpu_flags() -> set[str]:
    """This CPU's feature flags as the Linux kernel lists them."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def check_platform() -> None:
    """Stop with the reason where CPUID cannot be intercepted."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        sys.exit(f"cpu_features.py needs Linux on x86-64 (this is {platform.system()} {platform.machine()})")
    if "cpuid_fault" not in cpu_flags():
        sys.exit("cpu_features.py needs CPUID faulting, which this CPU or VM lacks ('cpuid_fault' is not in "
                 "/proc/cpuinfo's flags)")  # fmt: skip


def build_library() -> Path:
    """cpuid_mask.c compiled to a shared library, cached per source content in the user's cache folder
    (not a shared temp folder, where another user could leave a library under the expected name)."""
    source = SOURCE.read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "visionkit"
    target = cache / f"cpuid_mask_{hashlib.sha256(source).hexdigest()[:16]}.so"
    if target.exists():
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        sys.exit(f"cpu_features.py builds {SOURCE} and needs a C compiler (cc or gcc, or set CC)")
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    built = subprocess.run(
        [compiler, "-O2", "-shared", "-fPIC", "-o", str(partial), str(SOURCE)], capture_output=True, text=True
    )
    if built.returncode != 0:
        sys.exit(f"building {SOURCE} with {compiler} failed:\n{built.stderr}")
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    check_platform()
    library = build_library()
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [str(library), env.get("LD_PRELOAD")]))
    env["VISIONKIT_CPUID_MASK"] = args.mode
    try:
        os.execvpe(args.command[0], args.command, env)
    except FileNotFoundError:
        sys.exit(f"command not found: {args.command[0]}")


if __name__ == "__main__":
    main()
