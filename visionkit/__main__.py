"""``python -m visionkit ...`` is the ``visionkit`` command (:mod:`visionkit.cli`)."""

from .cli import main

main()
