"""The README's recommend and causal commands are ones the CLI takes as written: every command
in its shell blocks parses, each option named as the CLI names it (no old spelling, no option
that is not there). Running them needs their data (MovieLens, Groceries, a collection); the
commands' behaviour is tested on generated data in the recommend and causal tests."""

import re
import shlex
from pathlib import Path

import pytest
import typer

from seoga.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
GROUPS = ("recommend", "causal", "eval")
OPTIONAL = re.compile(r"\[(--[^\]]*)\]")  # "[--drop-repeats]": an option the README marks optional


def readme_commands() -> list[str]:
    """Each `seoga …` command of the README's bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    commands = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith("seoga ") and command.split()[1] in GROUPS:
                commands.append(OPTIONAL.sub(r"\1", command))
    return commands


def test_the_readme_shows_commands_of_each_group():
    found = {command.split()[1] for command in readme_commands()}
    assert set(GROUPS) <= found


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_parses_as_written(command):
    arguments = shlex.split(command)[1:]
    group = typer.main.get_command(app)
    while hasattr(group, "commands"):
        group = group.commands[arguments.pop(0)]
    # Parsing checks every option's name and value without running the command.
    group.make_context(group.name, arguments)
