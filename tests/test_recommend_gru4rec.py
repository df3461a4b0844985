"""GRU4Rec: each loss against a hand computation, session-parallel batches that reset the state
when a session ends, and a model that learns a sequence."""

import numpy as np
import pytest
import torch

from seoga.evaluate.next_item import evaluate_next_item
from seoga.recommend import load_recommender, make_recommender
from seoga.recommend.data.splits import Split
from seoga.recommend.models.gru4rec import bpr_max_loss, cross_entropy_loss, session_batches
from tests.test_recommend_sessions import read_interactions_from

SCORES = np.asarray(
    [
        [2.0, 0.5, -1.0, 0.3, 1.2],
        [0.1, 1.5, 0.4, -0.2, 0.0],
        [0.7, 0.7, 0.9, 2.0, -0.5],
    ]
)
# Row 2's target item also stands in column 3 (a sample that happens to be its target).
SAME = np.asarray(
    [
        [True, False, False, False, False],
        [False, True, False, False, False],
        [False, False, True, True, False],
    ]
)
LOG_Q = np.asarray([-1.0, -2.0, -0.5, -3.0, -1.5])


def test_cross_entropy_with_log_q_by_hand():
    expected = []
    for row in range(3):
        corrected = SCORES[row] - LOG_Q
        keep = ~SAME[row] | (np.arange(5) == row)
        logits = corrected[keep]
        own = corrected[row]
        expected.append(-(own - np.log(np.exp(logits).sum())))
    loss = cross_entropy_loss(torch.tensor(SCORES), torch.tensor(SAME), torch.tensor(LOG_Q))
    assert float(loss) == pytest.approx(np.mean(expected), rel=1e-9)
    plain = cross_entropy_loss(torch.tensor(SCORES), torch.tensor(SAME), None)
    assert float(plain) != pytest.approx(float(loss))


def test_bpr_max_by_hand():
    elu, regularization = 0.5, 1.0
    scores = np.where(SCORES > 0, SCORES, elu * (np.exp(SCORES) - 1))
    expected = []
    for row in range(3):
        negative = ~SAME[row]
        weights = np.exp(scores[row][negative]) / np.exp(scores[row][negative]).sum()
        sigmoid = 1 / (1 + np.exp(-(scores[row, row] - scores[row][negative])))
        term = (
            -np.log((sigmoid * weights).sum())
            + regularization * (weights * scores[row][negative] ** 2).sum()
        )
        expected.append(term)
    loss = bpr_max_loss(torch.tensor(SCORES), torch.tensor(SAME), regularization, elu)
    assert float(loss) == pytest.approx(np.mean(expected), rel=1e-9)


def test_session_parallel_batches_reset_when_a_session_ends():
    # Sessions of 3, 2 and 4 clicks, two slots: slot 1 takes session 2 after session 1 ends.
    starts = np.asarray([0, 3, 5, 9])
    steps = list(session_batches(starts, 2))
    inputs = [step[0].tolist() for step in steps]
    resets = [step[2].tolist() for step in steps]
    assert inputs[0] == [0, 3] and resets[0] == [True, True]
    assert inputs[1] == [1, 5] and resets[1] == [False, True]  # session 1 (3, 4) ended
    pairs = [pair for step in steps for pair in zip(step[0], step[1], strict=True)]
    assert all(target == start + 1 for start, target in pairs)
    # No target ever crosses into the next session.
    ends = {0: 3, 1: 3, 2: 3, 3: 5, 5: 9, 6: 9, 7: 9}
    assert all(target < ends[start] for start, target in pairs)


def test_a_reset_state_stops_information_between_sessions():
    rows = [(s, item, t) for s in range(30) for t, item in enumerate("abcd"[s % 2 :] + "e")]
    model = make_recommender("gru4rec", seed=0, hidden=8, epochs=2, samples=4, batch_size=4)
    model.fit(read_interactions_from(rows))
    index = model.item_ids.get
    alone = model.score_history(np.asarray([index("c")]), None)
    # The same click scored after another session's clicks, state reset in between: the same.
    state = model._hidden(np.asarray([index("a"), index("b")]))
    reset = torch.zeros_like(state)
    after = model.network.scores(model.network.step(torch.tensor([index("c")]), reset))
    assert np.allclose(after[0].detach().numpy(), alone, atol=1e-6)
    carried = model.network.scores(model.network.step(torch.tensor([index("c")]), state))
    assert not np.allclose(carried[0].detach().numpy(), alone, atol=1e-3)


def test_gru4rec_learns_a_sequence(tmp_path):
    # Every session walks the cycle a→b→c→d→e→a from a random start: the next item is certain.
    rng = np.random.default_rng(0)
    cycle = "abcdef"
    rows = []
    for session in range(200):
        start = int(rng.integers(len(cycle)))
        for step in range(5):
            rows.append((session, cycle[(start + step) % len(cycle)], session * 10 + step))
    log = read_interactions_from(rows)
    train = log.subset(log.users < 160)
    test = log.subset(log.users >= 160)
    for loss in ("cross-entropy", "bpr-max"):
        model = make_recommender(
            "gru4rec", seed=0, hidden=16, epochs=8, samples=3, batch_size=8, loss=loss
        )
        scores = evaluate_next_item(model, Split(train, test, "cycle"), k=1)
        assert scores["recall@1"] > 0.9, (loss, scores)
    loaded = load_recommender(model.save(tmp_path / "g"))
    history = np.asarray([log.item_ids.get("a")])
    assert np.allclose(loaded.score_history(history, None), model.score_history(history, None))
    assert loaded.recommend("0", k=1) == model.recommend("0", k=1)
