"""Seeded interaction logs whose true effect is known, with the graph they were drawn from.

`popularity-confounded` (the backdoor case): an item's popularity and a user's activity make a
recommendation more likely and a click more likely on their own; the recommendation adds a
fixed `effect` to the click probability. Most of the naive click-through difference is the
confounding (Sharma et al. 2015 found at least 75 % would have happened anyway).

`hidden-intent` (the frontdoor case): a user's intent to buy, never logged, makes exposure and
purchase both likelier; exposure causes a view, and only the view leads on to the purchase.
Activity, logged, confounds exposure and purchase too, so adjusting for it alone is not enough.

The truth is the average over the drawn units of P(outcome | do(treatment = 1)) −
P(outcome | do(treatment = 0)), computed from the same probabilities the outcomes are drawn
with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seoga.causal.graph import CausalGraph
from seoga.errors import InputError

DEFAULT_UNITS = 50_000
USERS, ITEMS = 2_000, 500

# popularity-confounded: click = BASE + POPULARITY·p + ACTIVITY·a + EFFECT·recommended, with
# p, a in [0, 1] (so every probability stays inside [0, 1] without clipping); the log-odds of a
# recommendation rise with both, but every unit keeps a chance of either arm (P ≥ 0.029), so
# weighting estimators have overlap. The naive contrast comes out near 4.9 × the effect.
CLICK_BASE, CLICK_POPULARITY, CLICK_ACTIVITY = 0.05, 0.65, 0.2
RECOMMEND_BASE, RECOMMEND_POPULARITY, RECOMMEND_ACTIVITY = -3.5, 4.0, 3.0
DEFAULT_EFFECT = 0.04
# Popularity and activity: Beta(1, 2), most items and users at the quiet end.
SPREAD_A, SPREAD_B = 1, 2

# hidden-intent: exposure ← intent, activity; view ← exposure; purchase ← view, intent, activity.
INTENT_SHARE = 0.3
EXPOSE_BASE, EXPOSE_INTENT, EXPOSE_ACTIVITY = 0.15, 0.5, 0.2
VIEW_BASE, VIEW_EXPOSED = 0.1, 0.6
BUY_BASE, BUY_VIEW, BUY_INTENT, BUY_ACTIVITY = 0.02, 0.25, 0.4, 0.1


@dataclass
class Simulation:
    data: pd.DataFrame
    graph: CausalGraph
    treatment: str
    outcome: str
    truth: float
    scenario: str
    seed: int

    def to_dict(self) -> dict[str, Any]:
        treated = self.data[self.treatment] == 1
        naive = (
            self.data.loc[treated, self.outcome].mean()
            - self.data.loc[~treated, self.outcome].mean()
        )
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "units": len(self.data),
            "treatment": self.treatment,
            "outcome": self.outcome,
            "truth": self.truth,
            "naive": float(naive),
            "graph": self.graph.to_dict(),
        }


def _ids(rng: np.random.Generator, units: int) -> tuple[np.ndarray, np.ndarray]:
    users = rng.integers(0, USERS, units)
    items = rng.integers(0, ITEMS, units)
    return np.char.add("u", users.astype(str)), np.char.add("i", items.astype(str))


def popularity_confounded(units: int, seed: int, effect: float = DEFAULT_EFFECT) -> Simulation:
    """Recommendations shown more to popular items and active users, who click more anyway."""
    rng = np.random.default_rng(seed)
    user, item = _ids(rng, units)
    # Per item and per user, so that the same item (user) has the same popularity (activity).
    popularity = rng.beta(SPREAD_A, SPREAD_B, ITEMS)[np.char.lstrip(item, "i").astype(int)]
    activity = rng.beta(SPREAD_A, SPREAD_B, USERS)[np.char.lstrip(user, "u").astype(int)]
    odds = RECOMMEND_BASE + RECOMMEND_POPULARITY * popularity + RECOMMEND_ACTIVITY * activity
    recommended = (rng.random(units) < 1 / (1 + np.exp(-odds))).astype(int)
    base = CLICK_BASE + CLICK_POPULARITY * popularity + CLICK_ACTIVITY * activity
    if base.max() + effect > 1 or base.min() + min(effect, 0) < 0:
        raise InputError(f"an effect of {effect} takes click probabilities outside [0, 1].")
    clicked = (rng.random(units) < base + effect * recommended).astype(int)
    data = pd.DataFrame(
        {
            "user": user,
            "item": item,
            "popularity": popularity,
            "activity": activity,
            "recommended": recommended,
            "clicked": clicked,
        }
    )
    graph = CausalGraph(
        edges=(
            ("popularity", "recommended"),
            ("activity", "recommended"),
            ("popularity", "clicked"),
            ("activity", "clicked"),
            ("recommended", "clicked"),
        ),
        source="popularity-confounded",
    )
    return Simulation(data, graph, "recommended", "clicked", effect, "popularity-confounded", seed)


def hidden_intent(units: int, seed: int) -> Simulation:
    """Exposure → view → purchase, with intent (never logged) behind exposure and purchase."""
    rng = np.random.default_rng(seed)
    user, item = _ids(rng, units)
    activity = rng.beta(SPREAD_A, SPREAD_B, USERS)[np.char.lstrip(user, "u").astype(int)]
    intent = (rng.random(units) < INTENT_SHARE).astype(int)
    exposed = (
        rng.random(units) < EXPOSE_BASE + EXPOSE_INTENT * intent + EXPOSE_ACTIVITY * activity
    ).astype(int)
    viewed = (rng.random(units) < VIEW_BASE + VIEW_EXPOSED * exposed).astype(int)
    buy = BUY_BASE + BUY_VIEW * viewed + BUY_INTENT * intent + BUY_ACTIVITY * activity
    purchased = (rng.random(units) < buy).astype(int)
    data = pd.DataFrame(
        {
            "user": user,
            "item": item,
            "activity": activity,
            "exposed": exposed,
            "viewed": viewed,
            "purchased": purchased,
        }
    )
    graph = CausalGraph(
        edges=(
            ("intent", "exposed"),
            ("intent", "purchased"),
            ("activity", "exposed"),
            ("activity", "purchased"),
            ("exposed", "viewed"),
            ("viewed", "purchased"),
        ),
        unobserved=frozenset({"intent"}),
        source="hidden-intent",
    )
    # do(exposed = e) moves the view probability by VIEW_EXPOSED·e, and a view adds BUY_VIEW.
    truth = VIEW_EXPOSED * BUY_VIEW
    return Simulation(data, graph, "exposed", "purchased", truth, "hidden-intent", seed)


SCENARIOS = {"popularity-confounded": popularity_confounded, "hidden-intent": hidden_intent}


def simulate(scenario: str, units: int = DEFAULT_UNITS, seed: int = 0) -> Simulation:
    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}.")
    if units < 1:
        raise InputError(f"--n must be at least 1, not {units}.")
    return SCENARIOS[scenario](units, seed)
