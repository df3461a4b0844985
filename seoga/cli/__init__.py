"""The `seoga` command: a thin typer layer over the Python API."""

import os
import sys

import typer
from rich.markup import escape

from seoga.cli import (
    ask,
    calibrate,
    causal,
    demo,
    distill,
    evaluate,
    evaluate_qa,
    evaluate_recommend,
    index,
    keys,
    optimize,
    read,
    recommend,
    recommend_rules,
    related,
    search,
    serve,
    train,
    train_ask,
    tune,
)
from seoga.cli.output import console, error_console
from seoga.cli.vocabulary import VocabularyGroup
from seoga.errors import SeogaError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70
DEBUG_VARIABLE = "SEOGA_DEBUG"

app = typer.Typer(
    name="seoga",
    cls=VocabularyGroup,
    help="서가 seoga: offline, Korean-first search, answers and recommendations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
index.register(app)
read.register(app)
search.register(app)
demo.register(app)
app.add_typer(evaluate.app, name="eval")
app.add_typer(train.app, name="train")
train_ask.register(train.app)
tune.register(app)
ask.register(app)
calibrate.register(app)
evaluate_qa.register(evaluate.app)
evaluate_recommend.register(evaluate.app)
recommend.register(app)
recommend_rules.register(recommend.app)
related.register(recommend.app, evaluate.app)
distill.register(app)
optimize.register(app)
serve.register(app)
keys.register(app)
causal.register(app)


def main() -> None:
    """Entry point: users see messages, never tracebacks (set SEOGA_DEBUG=1 to see them)."""
    try:
        code = app(standalone_mode=False)
    except typer.Exit as stop:
        code = stop.exit_code
    except typer.TyperException as error:  # usage errors: a missing value, an unknown option
        error_console.print(
            f"[bold red]error:[/] {escape(error.format_message())} (see --help)", highlight=False
        )
        code = error.exit_code
    except (typer.Abort, KeyboardInterrupt):
        error_console.print("interrupted; the collection was left as it was before this command.")
        code = EXIT_INTERRUPTED
    except SeogaError as error:
        # Messages quote values such as "[clip, 1 − clip]": printed as written, not as markup.
        error_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        code = EXIT_USER_ERROR
    except Exception as error:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        error_console.print(
            f"[bold red]internal error:[/] {type(error).__name__}: {escape(str(error))}\n"
            f"Run again with {DEBUG_VARIABLE}=1 to see the traceback, and please report it.",
            highlight=False,
        )
        code = EXIT_INTERNAL
    console.file.flush()
    sys.exit(code if isinstance(code, int) else 0)
