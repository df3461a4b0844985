"""Interaction logs, side tables and splits: formats as they come, and bad input as messages."""

import json

import numpy as np
import pytest

from seoga.errors import InputError
from seoga.recommend import (
    Columns,
    FeatureTable,
    make_recommender,
    read_features,
    read_interactions,
    split_interactions,
)
from seoga.recommend.data.feature_encoding import FeatureVocabulary
from seoga.recommend.data.features import read_sides
from seoga.recommend.data.interactions import align
from seoga.recommend.data.log_files import parse_history, split_ids
from tests.recommend_data import clustered_log


def test_formats_as_they_come(tmp_path):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("userId,movieId,rating,timestamp\n1,31,2.5,100\n1,29,3,90\n2,31,4,80\n")
    log = read_interactions(ratings)
    assert log.explicit and len(log) == 3 and log.n_users == 2 and log.n_items == 2
    assert log.user_ids.raw(log.users) == ["1", "1", "2"]
    assert log.item_ids.raw(log.items) == ["31", "29", "31"]
    assert log.values.tolist() == [2.5, 3.0, 4.0] and log.times.tolist() == [100, 90, 80]

    udata = tmp_path / "u.data"
    udata.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    assert read_interactions(udata).values.tolist() == [3.0, 3.0]

    dat = tmp_path / "ratings.dat"
    dat.write_text("1::1193::5::978300760\n2::661::3::978302109\n")
    assert read_interactions(dat).item_ids.ids == ["1193", "661"]

    clicks = tmp_path / "clicks.jsonl"
    lines = [
        {"visitor": "a", "product": "x", "count": 2, "time": "2024-01-01T10:00:00"},
        {"visitor": "b", "product": "x", "count": 1, "time": "2024-01-02"},
        {"visitor": "b", "product": "y", "count": 3, "time": "2024-01-03"},
    ]
    clicks.write_text("\n".join(json.dumps(line) for line in lines))
    log = read_interactions(clicks)
    assert not log.explicit and log.values.tolist() == [2, 1, 3]
    assert log.matrix().toarray().tolist() == [[2, 0], [1, 3]]

    plain = tmp_path / "pairs.csv"
    plain.write_text("alice,book1\nbob,book2\n")
    assert read_interactions(plain).user_ids.ids == ["alice", "bob"]
    weighted = tmp_path / "weighted.csv"
    weighted.write_text("alice,book1,3\nbob,book2,1\n")
    assert read_interactions(weighted, Columns(weight="2")).values.tolist() == [3, 1]

    named = tmp_path / "events.tsv"
    named.write_text("who\twhat\thow_many\nu1\ti1\t2\nu2\ti1\t1\n")
    log = read_interactions(named, Columns(user="who", item="what", weight="how_many"))
    assert log.values.tolist() == [2, 1]


def test_bad_input_names_the_line(tmp_path):
    bad = tmp_path / "ratings.csv"
    bad.write_text("user,item,rating\n1,a,4\n2,b,five\n")
    with pytest.raises(InputError, match=r"ratings.csv:3: 'five' is not a number"):
        read_interactions(bad)
    headless = tmp_path / "u.data"
    headless.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\tx\t1\n")
    with pytest.raises(InputError, match=r"u.data:3: 'x' is not a number"):
        read_interactions(headless)
    short = tmp_path / "short.csv"
    short.write_text("user,item,rating\n1,a,4\n2,b\n")
    with pytest.raises(InputError, match=r"short.csv:3: 2 fields where the header has 3"):
        read_interactions(short)
    bad.write_text("user,item,rating\n1,a,4\n2,,3\n")
    with pytest.raises(InputError, match=r"ratings.csv:3: the item is empty"):
        read_interactions(bad)
    bad.write_text("")
    with pytest.raises(InputError, match="is empty"):
        read_interactions(bad)
    bad.write_text("user,item,rating\n1,a,4\n1,b,3\n")
    one_user = read_interactions(bad)  # a test part may hold one user; no model learns from it
    with pytest.raises(InputError, match="only one user"):
        make_recommender("popular").fit(one_user)
    bad.write_text("user,item,rating\n1,a,4\n2,b,3\n")
    with pytest.raises(InputError, match="no column 'stars'"):
        read_interactions(bad, Columns(rating="stars"))
    jsonl = tmp_path / "clicks.jsonl"
    jsonl.write_text('{"user": 1, "item": 2}\nnot json\n')
    with pytest.raises(InputError, match=r"clicks.jsonl:2: not a JSON object"):
        read_interactions(jsonl)


def test_rows_of_another_width_and_tables_of_the_wrong_side(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("user,item,rating\n1,a,4\n2,b,5,99\n")
    with pytest.raises(InputError, match=r"extra.csv:3: 4 fields where the header has 3; a val"):
        read_interactions(extra)
    headless = tmp_path / "u.data"
    headless.write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\t7\n")
    with pytest.raises(InputError, match=r"u.data:2: 5 fields where line 1 has 4"):
        read_interactions(headless)
    users = tmp_path / "u.user"
    users.write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    with pytest.raises(InputError, match="u.user is MovieLens-100k's user table .* --users"):
        read_features(users)
    renamed = tmp_path / "people.txt"
    renamed.write_text(users.read_text())
    with pytest.raises(InputError, match=r"people.txt:1: the first line .* is not a header"):
        read_features(renamed)
    with pytest.raises(InputError, match="--text-field title names a field .* add it with --items"):
        read_sides(None, None, ["title"])
    extra.write_text("user,item\n1,a\n2,b\n")
    model = make_recommender("popular").fit(read_interactions(extra))
    with pytest.raises(InputError, match="cannot write the model folder .* is a file"):
        model.save(extra / "model")


def test_side_tables_merge_by_id(tmp_path):
    movies = tmp_path / "movies.csv"
    movies.write_text(
        'movieId,title,genres,year\n1,"Toy Story (1995)",Animation|Comedy,1995\n'
        "2,Heat (1995),Action|Crime,1995\n3,Up (2009),Animation,2009\n"
    )
    tags = tmp_path / "tags.csv"
    tags.write_text("userId,movieId,tag,timestamp\n7,1,pixar,1\n8,1,toys,2\n7,3,pixar,3\n")
    table = read_features([movies, tags], text_fields=["title", "tag"])
    assert table.kinds == {"title": "text", "genres": "multi", "year": "numeric", "tag": "multi"}
    assert table.values["tag"]["1"] == ["pixar", "toys"] and "userId" not in table.kinds
    assert table.text("1", ["title", "tag"]) == "Toy Story (1995). pixar, toys"
    plain = read_features(movies)  # no text asked for: the title is kept as the label only
    assert plain.kinds["title"] == "label" and plain.labels()["2"] == "Heat (1995)"

    vocabulary = FeatureVocabulary.fit(table, min_count=2)
    assert vocabulary.vocab["genres"] == ["Animation"] and vocabulary.vocab["tag"] == ["pixar"]
    ids = read_interactions(_ratings(tmp_path, ["1", "2", "3", "9"])).item_ids
    encoded = vocabulary.encode(table, ids)
    dense = encoded.matrix.toarray()
    columns = {name: i for i, name in enumerate(encoded.names)}
    assert dense[ids.get("1"), columns["genres=Animation"]] == pytest.approx(1.0)
    assert dense[ids.get("2"), columns["genres=Animation"]] == 0
    assert dense[ids.get("9")].tolist() == [0.0] * len(encoded.names)  # not in the table
    years = dense[[ids.get("1"), ids.get("3")], columns["year"]]
    assert years[0] < 0 < years[1]  # standardised
    restored = FeatureVocabulary.from_json(json.loads(json.dumps(vocabulary.to_json())))
    assert (restored.encode(table, ids).matrix != encoded.matrix).nnz == 0


def test_movielens_100k_tables(tmp_path):
    flags = ["0"] * 19
    flags[1] = flags[5] = "1"
    item = tmp_path / "u.item"
    item.write_text("1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(flags) + "\n")
    table = read_features(item)
    assert table.values["genres"]["1"] == ["Action", "Comedy"]
    assert table.values["year"]["1"] == 1995.0
    user = tmp_path / "u.user"
    user.write_text("1|24|M|technician|85711\n")
    users = read_features(user, side="user")
    assert users.values["occupation"]["1"] == "technician" and users.values["zip"]["1"] == "8"
    other = tmp_path / "other.csv"
    other.write_text("movieId,genres\n1,12\n")
    with pytest.raises(InputError, match="is multi in .* but numeric"):
        read_features([item, other])
    item.write_text("1|broken line\n")
    with pytest.raises(InputError, match=r"u.item:1: not a MovieLens-100k u.item line"):
        read_features(item)


def _ratings(tmp_path, items):
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\n" + "".join(f"{u},{i},4\n" for u in (1, 2) for i in items))
    return path


def test_splits():
    log, _, _ = clustered_log(n_users=20, n_items=15, per_user=6)
    first = split_interactions(log, "random:0.25", seed=3)
    again = split_interactions(log, "random:0.25", seed=3)
    assert np.array_equal(first.test.users, again.test.users)
    assert len(first.train) + len(first.test) == len(log)
    assert 0.15 < len(first.test) / len(log) < 0.35

    last = split_interactions(log, "leave-last-out")
    assert len(last.test) == log.n_users and len(np.unique(last.test.users)) == log.n_users
    for user in range(log.n_users):
        latest = log.times[log.users == user].max()
        assert last.test.times[last.test.users == user][0] == latest

    cut = split_interactions(log, "time:0.75")
    assert cut.train.times.max() <= cut.test.times.min()

    untimed = log.subset(np.arange(len(log)))
    untimed.times = None
    with pytest.raises(InputError, match="needs a time"):
        split_interactions(untimed, "leave-last-out")
    with pytest.raises(InputError, match="unknown split"):
        split_interactions(log, "k-fold")


def test_given_folds_share_id_maps(tmp_path):
    base = tmp_path / "u1.base"
    base.write_text("1\t10\t4\t5\n2\t10\t3\t6\n2\t11\t5\t7\n")
    test = tmp_path / "u1.test"
    test.write_text("1\t11\t2\t8\n3\t12\t4\t9\n")
    moved, train = align(read_interactions(test), read_interactions(base))
    assert moved.user_ids is train.user_ids and moved.item_ids is train.item_ids
    assert train.user_ids.raw(moved.users) == ["1", "3"]
    assert moved.item_ids.raw(moved.items) == ["11", "12"] and moved.n_items == 3


def test_side_tables_must_share_ids_with_the_log(tmp_path):
    log, _, _ = clustered_log(n_users=10, n_items=6, per_user=3)
    wrong = tmp_path / "items.csv"
    wrong.write_text("sku,genre\nA1,x\nB2,y\nC3,x\nD4,y\n")
    with pytest.raises(InputError, match="no item id of .*items.csv is in the log"):
        make_recommender("popular").fit(log, items=read_features(wrong))
    empty = tmp_path / "empty.csv"
    empty.write_text("\nitem,genre\n")
    with pytest.raises(InputError, match="starts with a blank line"):
        read_features(empty)


def test_history_parsing():
    assert parse_history("318, 296:4.5,593") == (["318", "296", "593"], [np.nan, 4.5, np.nan])
    assert parse_history("a,b") == (["a", "b"], None)
    with pytest.raises(InputError, match="not a rating"):
        parse_history("a:good")
    with pytest.raises(InputError, match="not a rating"):
        parse_history("a:inf")
    with pytest.raises(InputError, match="empty"):
        parse_history(" , ")


def test_ids_holding_commas_are_taken_whole_when_known():
    known = {"Godfather, The (1972)", "Heat (1995)", "Star Wars: IV (1977)"}
    given = ["Godfather, The (1972):5", "Heat (1995),x:4", "Star Wars: IV (1977)"]
    assert parse_history(given, known) == (
        ["Godfather, The (1972)", "Heat (1995)", "x", "Star Wars: IV (1977)"],
        [5.0, np.nan, 4.0, np.nan],
    )
    assert split_ids(["Godfather, The (1972)", "a, b"], known) == [
        "Godfather, The (1972)",
        "a",
        "b",
    ]


def test_labels_are_plain_text():
    # A name column read as multi-valued (a name repeated over rows, or one holding '|').
    table = FeatureTable(
        {"name": "multi"}, {"name": {"1": ["Radiohead"], "2": ["Simon", "Garfunkel"]}}
    )
    assert table.labels() == {"1": "Radiohead", "2": "Simon, Garfunkel"}
