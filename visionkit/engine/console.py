"""A readable console: mmengine's set-up dump goes to the log file only.

mmengine's Runner prints, before each run, the environment, the whole config, the hook table and (every
epoch) the experiment name; :func:`quiet_console` keeps those records out of the terminal handlers while
the log file under the work dir still gets every line.
"""

from __future__ import annotations

import logging

# Message starts (or parts) of the records kept off the console.
SETUP_DUMP_MARKERS = (
    "System environment:",
    "Config:\n",
    "Hooks will be executed in the following order",
    "Exp name: ",
    '"FileClient" will be deprecated',
    '"HardDiskBackend" is the alias',
    "Checkpoints will be saved to",
    "Distributed training is not used",
)


class SetupDumpFilter(logging.Filter):
    """Drops records whose message holds one of :data:`SETUP_DUMP_MARKERS` in its first 200 characters."""

    def filter(self, record: logging.LogRecord) -> bool:
        head = record.getMessage()[:200]
        return not any(marker in head for marker in SETUP_DUMP_MARKERS)


def quiet_console(logger: logging.Logger) -> None:
    """Add :class:`SetupDumpFilter` to ``logger``'s terminal handlers (not its file handlers), once."""
    for handler in logger.handlers:
        is_terminal = isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        )
        if is_terminal and not any(isinstance(f, SetupDumpFilter) for f in handler.filters):
            handler.addFilter(SetupDumpFilter())
