"""The README promises what the code has: every setting and every command is documented."""
from __future__ import annotations

import re
from pathlib import Path

import click

from kb.cli import cli
from kb.core.config import SETTINGS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_settings_table():
    documented = set(re.findall(r"^\| `(KB_[A-Z_]+)` \|", README, re.MULTILINE))
    assert documented == {s.name for s in SETTINGS}


def _commands(group: click.Group, prefix: str = "kb"):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_every_command_is_in_the_command_table():
    missing = [c for c in _commands(cli) if f"| `{c}" not in README]
    assert missing == []
