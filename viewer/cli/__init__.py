"""The `inspection-viewer` command: the GUI by default, plus one module per command group."""

from viewer.cli.dispatch import main

__all__ = ["main"]
