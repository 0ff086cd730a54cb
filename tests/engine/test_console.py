"""The set-up dump stays out of the terminal and in the log file; training lines reach both."""

import io
import logging

from visionkit.engine.console import quiet_console


def test_setup_dump_goes_to_the_file_only(tmp_path):
    logger = logging.getLogger("visionkit-test-console")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    terminal = io.StringIO()
    console = logging.StreamHandler(terminal)
    file_handler = logging.FileHandler(tmp_path / "run.log")
    logger.handlers = [console, file_handler]
    quiet_console(logger)
    quiet_console(logger)  # idempotent
    logger.info("\n" + "-" * 60 + "\nSystem environment:\n    sys.platform: linux")
    logger.info("Config:\nmodel = dict(type='SSDDetector')")
    logger.info("Hooks will be executed in the following order:\nbefore_run: ...")
    logger.info("Exp name: ssdlite_mnv2_toy_20261201")
    logger.info("Epoch(train)  [1][10/25]  lr: 4.0e-03  loss: 1.6788")
    file_handler.flush()
    assert terminal.getvalue().splitlines() == ["Epoch(train)  [1][10/25]  lr: 4.0e-03  loss: 1.6788"]
    logged = (tmp_path / "run.log").read_text()
    assert "System environment" in logged and "Config:" in logged and "Exp name" in logged
    assert len(console.filters) == 1
