"""Association rules over baskets (Han et al. 2000's FP-growth, through mlxtend).

Each user of the log is a basket (an order, a session, a reader's shelf). `fpgrowth` finds the
itemsets in at least `min_support` of the baskets and `association_rules` the rules A → C between
them, with support, confidence and lift. For a partial basket, `together` lists the items that
rules whose antecedent the basket holds point to, by lift (ties by confidence): the surprising
companions. The base API (`recommend`, `recommend_for_history`) ranks by confidence instead, the
chance that the basket also holds the item: the likely companions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from seoga.errors import InputError
from seoga.progress import progress
from seoga.recommend.base import Recommender, RecommenderSettings
from seoga.recommend.models.itemset_bound import (
    MiningSize,
    least_fitting_count,
    mining_size,
    suggested_support,
    support_count,
)

SORTS = ("lift", "confidence", "support")
# Catalogues with more frequent items than this make FP-growth's itemsets explode (mlxtend
# #837, #909): the fit stops and says what to change instead.
MAX_FREQUENT_ITEMS = 5000
# More itemsets than this (by seoga.recommend.models.itemset_bound's bound) would take hours
# to mine and more memory than a workstation has for their rules (up to 14 rules from an
# itemset of 4, about 1 KB each in mlxtend's table). Groceries at the README's 0.001 is bounded
# at 161,210 (13,106 found); MovieLens users' liked movies at 0.01 at 3.5e9.
MAX_ITEMSETS = 1_000_000
# Bounds past this are shown as powers of ten, not in full.
SHOWN_IN_FULL = 1e12
# What the fit reports progress on: mining itemsets, deriving rules, indexing the rules.
MINING_STEPS = 3


@dataclass
class RulesSettings(RecommenderSettings):
    min_support: float = 0.001
    min_confidence: float = 0.0
    max_len: int = 4  # the longest itemset; longer ones cost memory and rarely reach support
    max_itemsets: int = MAX_ITEMSETS  # the fit stops when the bound on itemsets is above this


@dataclass(frozen=True)
class Rule:
    antecedent: tuple[str, ...]
    consequent: tuple[str, ...]
    support: float
    confidence: float
    lift: float


@dataclass(frozen=True)
class Together:
    """An item for a partial basket, and the best rule that brought it."""

    item: str
    lift: float
    confidence: float
    support: float
    because: tuple[str, ...]  # the rule's antecedent, all in the basket


class RulesRecommender(Recommender):
    """Frequent itemsets and association rules; 'often bought together' lists."""

    name = "rules"
    settings_class = RulesSettings

    def _fit(self, log, items, users, show_progress) -> None:
        import pandas as pd
        from mlxtend.frequent_patterns import association_rules, fpgrowth

        s = self.settings
        if not 0 < s.min_support <= 1:
            raise InputError(f"min_support must lie in (0, 1], got {s.min_support}.")
        baskets = self.seen[np.diff(self.seen.indptr) > 0].astype(bool)
        size = self._require_feasible(baskets)
        table = pd.DataFrame.sparse.from_spmatrix(baskets, columns=range(baskets.shape[1]))
        described = f"rules: mining (at most {_amount(size.itemsets)} itemsets)"
        with progress(MINING_STEPS, described, enabled=show_progress) as shown:
            try:
                itemsets = fpgrowth(table, min_support=s.min_support, max_len=s.max_len)
                shown.update()
                found = association_rules(
                    itemsets,
                    num_itemsets=baskets.shape[0],
                    metric="confidence",
                    min_threshold=s.min_confidence,
                )
                shown.update()
            except MemoryError as error:
                raise InputError(
                    f"FP-growth ran out of memory at support {s.min_support}, max_len "
                    f"{s.max_len}; raise --min-support or lower max_len."
                ) from error
            self.antecedents = _sets(found["antecedents"], log.n_items)
            self.consequents = _sets(found["consequents"], log.n_items)
            shown.update()
        self.itemsets = len(itemsets)
        self.support = found["support"].to_numpy(np.float64)
        self.confidence = found["confidence"].to_numpy(np.float64)
        self.lift = found["lift"].to_numpy(np.float64)
        self.single_targets = _single_targets(self.consequents)
        self.metrics = {"itemsets": self.itemsets, "rules": len(self.lift)}

    def _require_feasible(self, baskets: sparse.csr_matrix) -> MiningSize:
        """What mining faces at the support; an InputError naming a support that fits when
        it is more than this fit allows (before FP-growth runs for hours or out of memory)."""
        s = self.settings
        total = baskets.shape[0]
        size = mining_size(baskets, support_count(s.min_support, total), s.max_len)
        if size.items == 0:
            most = int(baskets.sum(axis=0).max())
            raise InputError(
                f"at min_support {s.min_support} an itemset must be in {size.count} of {total} "
                f"baskets, and no item is in more than {most}; lower --min-support to "
                f"{suggested_support(most, total):g} or below."
            )
        if self._fits(size):
            return size
        fitting = least_fitting_count(
            size.count, total, lambda count: self._fits(mining_size(baskets, count, s.max_len))
        )
        remedy = (
            f"--min-support {suggested_support(fitting, total):g} fits"
            if fitting is not None
            else "no support fits at this max_len"
        )
        raise InputError(
            f"at min_support {s.min_support} (an itemset must be in {size.count} of {total} "
            f"baskets) {size.items:,} items are frequent, baskets hold up to {size.longest} of "
            f"them, and FP-growth could find up to {_amount(size.itemsets)} itemsets of up to "
            f"{s.max_len or 'any number of'} items; this fit allows {MAX_FREQUENT_ITEMS:,} items "
            f"and {s.max_itemsets:,} itemsets (max_itemsets), past which mining runs for hours "
            f"or out of memory. {remedy}; or lower max_len (--set max_len=2), or raise "
            "max_itemsets (--set max_itemsets=N: the bound is never low, but can be far above "
            "what the baskets share)."
        )

    def _fits(self, size: MiningSize) -> bool:
        return size.items <= MAX_FREQUENT_ITEMS and size.itemsets <= self.settings.max_itemsets

    # -- the rules' own API ----------------------------------------------------------------
    def rules(self, sort: str = "lift", top: int = 20) -> list[Rule]:
        """The rules, best first by `sort` (then by the other two measures)."""
        if sort not in SORTS:
            raise InputError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}.")
        measures = {"lift": self.lift, "confidence": self.confidence, "support": self.support}
        keys = [measures[name] for name in reversed(SORTS) if name != sort] + [measures[sort]]
        order = np.lexsort([-key for key in keys])[:top]
        return [self._rule(index) for index in order]

    def together(self, basket, k: int = 5) -> list[Together]:
        """Items for a partial basket: by lift of the best applicable rule, ties by confidence.

        Rules with one consequent item only: a rule A → {b, c} says nothing about b alone.
        """
        held = self._basket(basket)
        items, rules = self._best_rules(held)
        order = np.lexsort((items, -self.confidence[rules], -self.lift[rules]))[:k]
        return [
            Together(
                self.item_ids.ids[items[i]],
                float(self.lift[rules[i]]),
                float(self.confidence[rules[i]]),
                float(self.support[rules[i]]),
                tuple(self.item_ids.raw(self.antecedents[rules[i]].indices)),
            )
            for i in order
        ]

    def _best_rules(self, held: set[int]) -> tuple[np.ndarray, np.ndarray]:
        """For each item a rule points to, the best applicable rule (lift, then confidence)."""
        rules = self._applicable(held)
        targets = self.single_targets[rules]
        keep = (targets >= 0) & ~np.isin(targets, list(held))
        rules, targets = rules[keep], targets[keep]
        order = np.lexsort((-self.confidence[rules], -self.lift[rules], targets))
        rules, targets = rules[order], targets[order]
        first = np.r_[True, targets[1:] != targets[:-1]] if len(targets) else np.zeros(0, bool)
        return targets[first], rules[first]

    # -- the base API ----------------------------------------------------------------------
    def score_history(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        """P(item | basket) as the best applicable rule's confidence, at least the item's support.

        Lists of what a basket will also hold rank by confidence: lift favours rare items (a hidden
        item of a Groceries basket is found 3× less often by lift than by popularity alone).
        The empty rule ∅ → item has the item's support as its confidence, hence the floor.
        """
        scores = self.popularity / max(1, int(np.count_nonzero(np.diff(self.seen.indptr))))
        scores = scores.astype(np.float64)
        rules = self._applicable(set(items.tolist()))
        targets = self.single_targets[rules]
        single = targets >= 0
        np.maximum.at(scores, targets[single], self.confidence[rules[single]])
        return scores

    def _applicable(self, held: set[int]) -> np.ndarray:
        """Rules whose whole antecedent is in the basket."""
        if not held:
            return np.zeros(0, dtype=np.int64)
        present = np.zeros(self.antecedents.shape[1], dtype=np.float64)
        present[list(held)] = 1.0
        covered = self.antecedents @ present
        return np.flatnonzero(covered == np.diff(self.antecedents.indptr))

    def _basket(self, basket) -> set[int]:
        names = [basket] if isinstance(basket, str) else list(basket)
        held = {index for raw in names if (index := self.item_ids.get(str(raw))) is not None}
        if not held:
            raise InputError(
                f"none of {names[:5]} is an item of this model; it knows e.g. "
                f"{self.item_ids.ids[:3]}."
            )
        return held

    def _rule(self, index: int) -> Rule:
        return Rule(
            tuple(self.item_ids.raw(self.antecedents[index].indices)),
            tuple(self.item_ids.raw(self.consequents[index].indices)),
            float(self.support[index]),
            float(self.confidence[index]),
            float(self.lift[index]),
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {"support": self.support, "confidence": self.confidence, "lift": self.lift}
        for name, matrix in (("antecedents", self.antecedents), ("consequents", self.consequents)):
            arrays[f"{name}.indptr"] = matrix.indptr.astype(np.int64)
            arrays[f"{name}.indices"] = matrix.indices.astype(np.int64)
        return arrays

    def _state(self) -> dict:
        return {"itemsets": self.itemsets}

    def _restore(self, arrays, state) -> None:
        n_items = len(self.item_ids)
        for name in ("antecedents", "consequents"):
            indices, indptr = arrays[f"{name}.indices"], arrays[f"{name}.indptr"]
            matrix = sparse.csr_matrix(
                (np.ones(len(indices)), indices, indptr), shape=(len(indptr) - 1, n_items)
            )
            setattr(self, name, matrix)
        self.single_targets = _single_targets(self.consequents)
        self.support, self.confidence, self.lift = (
            arrays["support"],
            arrays["confidence"],
            arrays["lift"],
        )
        self.itemsets = state["itemsets"]


def _amount(count: float) -> str:
    """A bound on itemsets as text (one past a float's range says so)."""
    if not np.isfinite(count):
        return f"more than {np.finfo(float).max:.1e}"
    return f"{count:,.0f}" if count < SHOWN_IN_FULL else f"{count:.1e}"


def _single_targets(consequents: sparse.csr_matrix) -> np.ndarray:
    """Per rule, its consequent item when it has exactly one, else -1."""
    single = np.diff(consequents.indptr) == 1
    targets = np.full(consequents.shape[0], -1, dtype=np.int64)
    targets[single] = consequents.indices[consequents.indptr[:-1][single]]
    return targets


def _sets(column, n_items: int) -> sparse.csr_matrix:
    """A column of frozensets of item indices as a rules × items 0/1 matrix."""
    rows, cols = [], []
    for row, itemset in enumerate(column):
        for item in sorted(itemset):
            rows.append(row)
            cols.append(int(item))
    return sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(column), n_items), dtype=np.float64
    )
