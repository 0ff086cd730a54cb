"""Where inference writes its files, checked before anything runs: no output may overwrite an input or
another output of the same run."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path


class OverwriteError(ValueError):
    """Outputs that would overwrite inputs or each other; the message lists them and what to do."""


def plan_output_stems(
    items: Sequence[tuple[Path | str, Sequence[str]]],
    out_dir: Path,
    inputs: Iterable[Path] = (),
    extra: Sequence[Path] = (),
) -> list[Path]:
    """Each item's output path without suffix, under ``out_dir``.

    ``items``: (an input file or folder, or the bare name of a camera's or stream's output; the suffixes
    of the files it gets: ``stem + suffix``). A path's stem is its path relative to the folder all path
    items share, without its suffix (``a/x.jpg``, ``b/x.jpg`` -> ``out/a/x``, ``out/b/x``); a name's is
    ``out_dir / name``. ``inputs``: every file read (frames of an image folder too); ``extra``: outputs
    of the whole run (``predictions.json``).

    Raises :class:`OverwriteError` naming the files when an output would be an input, or be written for
    two items.
    """
    paths = [Path(item).resolve() for item, _ in items if isinstance(item, Path)]
    root = Path(os.path.commonpath([p.parent for p in paths])) if paths else out_dir
    stems = [
        out_dir / Path(item).resolve().relative_to(root).with_suffix("")
        if isinstance(item, Path)
        else out_dir / item
        for item, _ in items
    ]
    protected = {Path(p).resolve() for p in inputs} | set(paths)
    written: dict[Path, str] = {}
    problems = []
    for (item, suffixes), stem in zip(items, stems, strict=True):
        for suffix in suffixes:
            target = Path(f"{stem}{suffix}").resolve()
            if target in protected:
                problems.append(f"{target} (an output of {item}) is an input")
            elif target in written and written[target] != str(item):
                problems.append(f"{target} would be written for both {written[target]} and {item}")
            written.setdefault(target, str(item))
    problems += [f"{path} is an input" for path in extra if Path(path).resolve() in protected]
    if problems:
        raise OverwriteError(
            "refusing to overwrite files:\n  "
            + "\n  ".join(problems[:10])
            + "\nChoose another --out-dir, or rename the inputs whose names differ only in their suffix"
        )
    return stems
