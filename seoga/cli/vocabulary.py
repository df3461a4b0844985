"""One vocabulary for every command's options, and the spellings it replaced, kept one release.

The words, the same in every command group (search, recommend, causal, train, eval, serve):
`--out` for what a command writes, `-k` for a list's length, `--model` for a kind or name of
model and `--recommender` for a fitted recommender's folder (as `seoga serve` takes it),
`--user-column` / `--item-column` / … for a log's columns (`--items` / `--users` are side
tables), `--learning-rate` and `--max-length` for training. tests/test_cli_vocabulary.py walks
every command and holds them to it.

An old spelling still works for one release: `VocabularyGroup` rewrites it to the new one before
the command reads its options, with a note on stderr naming both.
"""

from collections.abc import Iterable

import typer.core

# Old spelling → new, in every command that has the new one.
RENAMED = {
    "--output": "--out",
    "--top": "-k",
    "--lr": "--learning-rate",
    "--head-lr": "--head-learning-rate",
    "--max-seq-length": "--max-length",
    "--user": "--user-column",
    "--item": "--item-column",
    "--rating": "--rating-column",
    "--weight": "--weight-column",
    "--time": "--time-column",
    "--session": "--session-column",
    "--n": "--units",
}
# Where an old spelling meant something else than elsewhere: the commands that use a fitted
# recommender took its folder as --model, which names a kind of model in `fit` and `eval`.
RECOMMENDER_COMMANDS = ("for-user", "similar-items", "predict", "next", "together", "rules")
RENAMED_IN = {("recommend", name): {"--model": "--recommender"} for name in RECOMMENDER_COMMANDS}
END_OF_OPTIONS = "--"


def renames_for(path: tuple[str, ...]) -> dict[str, str]:
    """The old spellings of the command at `path` (say ("recommend", "for-user"))."""
    return {**RENAMED, **RENAMED_IN.get(path, {})}


def modernised(
    arguments: Iterable[str], path: tuple[str, ...], known: set[str]
) -> tuple[list[str], list[str]]:
    """`arguments` with old spellings the command `path` has a new one for (`known`: its
    options) rewritten, and a note for each."""
    renames = {old: new for old, new in renames_for(path).items() if new in known}
    rewritten, notes = [], []
    arguments = list(arguments)
    for position, argument in enumerate(arguments):
        if argument == END_OF_OPTIONS:
            rewritten += arguments[position:]
            break
        flag, equals, value = argument.partition("=")
        new = renames.get(flag)
        if new is None or flag in known:
            rewritten.append(argument)
            continue
        notes.append(f"{flag} is now {new}; the old spelling goes in the next release.")
        if equals and new.startswith("--"):
            rewritten.append(f"{new}={value}")
        else:
            rewritten += [new, value] if equals else [new]
    return rewritten, notes


def options_of(command) -> set[str]:
    """Every spelling of the command's options."""
    return {
        spelling
        for parameter in command.params
        if parameter.param_type_name == "option"
        for spelling in (*parameter.opts, *parameter.secondary_opts)
    }


class VocabularyGroup(typer.core.TyperGroup):
    """The root command: old option spellings rewritten before any command reads them."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        path, command = [], self
        while hasattr(command, "commands") and len(path) < len(args):
            found = command.commands.get(args[len(path)])
            if found is None:
                break
            path.append(args[len(path)])
            command = found
        if path and not hasattr(command, "commands"):
            rest, notes = modernised(args[len(path) :], tuple(path), options_of(command))
            for note in notes:
                # Printed here, before any output: a --json reader still gets clean stdout.
                typer.echo(f"note: {note}", err=True)
            args = [*path, *rest]
        return super().parse_args(ctx, args)
