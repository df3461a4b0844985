"""Each number the causal commands print, with one plain sentence that reads it.

The readings say what a number means for the user's question, no more than the statistics
allow: an effect holds only as far as the graph is right, an interval that includes zero leaves
the direction open, and a refuter's p-value is read the way DoWhy computes it. For the placebo
it is how likely zero is among the shuffled-treatment estimates (a large p is what a sound
method gives); for the subset and random-common-cause refuters it is how likely the estimate
is among the re-estimates (a large p: they agree).
"""

from __future__ import annotations

from seoga.causal.dowhy_bridge import SUBSET_FRACTION, Refutation
from seoga.causal.effect import EffectResult
from seoga.causal.simulate import Simulation

DIGITS = 4
P_DIGITS = 3
SIGNIFICANCE = 0.05  # DoWhy's level for its refuters' tests
INDENT = "  "
RE_ESTIMATES = {"subset": "subset", "random-common-cause": "random-confounder"}


def _change(treatment: str, binary: bool) -> str:
    return f"setting {treatment} to 1 rather than 0" if binary else f"raising {treatment} by one"


def _effect_sentence(result: EffectResult) -> str:
    change = _change(result.treatment, result.binary_treatment)
    interval = (
        f"{result.level:.0%} interval {result.ci_low:+.{DIGITS}f} to {result.ci_high:+.{DIGITS}f}"
    )
    if result.ci_low > 0 or result.ci_high < 0:
        direction = "raises" if result.ci_low > 0 else "lowers"
        return (
            f"If the graph is right, {change} {direction} {result.outcome} by about "
            f"{abs(result.estimate):.{DIGITS}f} on average ({interval})."
        )
    return (
        f"If the graph is right, {change} changes {result.outcome} by about "
        f"{result.estimate:+.{DIGITS}f} on average, but the {interval} includes zero, so the "
        "data cannot tell this effect from none."
    )


def _naive_sentence(result: EffectResult) -> str:
    size = f"{abs(result.naive):.{DIGITS}f}"
    if result.binary_treatment:
        side = "higher" if result.naive >= 0 else "lower"
        contrast = f"averages {size} {side} where {result.treatment} = 1 than where it is 0"
    else:
        side = "rises" if result.naive >= 0 else "falls"
        contrast = f"{side} by {size} per unit of {result.treatment}"
    return f"Without adjustment, {result.outcome} {contrast}: the effect and the confounding mixed."


def effect_readings(result: EffectResult) -> dict[str, str]:
    """A sentence for the estimate (with its interval), the naive contrast and, when both point
    the same way and the naive one is larger, the share of it the confounding makes."""
    readings = {"estimate": _effect_sentence(result), "naive": _naive_sentence(result)}
    if 0 <= result.estimate < result.naive:
        share = 1 - result.estimate / result.naive
        readings["naive_share"] = (
            f"{share:.0%} of the naive difference would have happened without the treatment."
        )
    return readings


def effect_lines(result: EffectResult) -> list[str]:
    """The terminal report: each number, then its reading."""
    readings = effect_readings(result)
    adjusted = ", ".join(result.adjustment_set) or "nothing"
    lines = [
        f"{result.treatment} → {result.outcome} by {result.method} over {result.units:,} "
        f"units, adjusting for {adjusted}",
        f"effect {result.estimate:+.{DIGITS}f}  ({result.level:.0%} interval "
        f"{result.ci_low:+.{DIGITS}f} … {result.ci_high:+.{DIGITS}f})",
        INDENT + readings["estimate"],
        f"naive  {result.naive:+.{DIGITS}f}  (no adjustment)",
        INDENT + readings["naive"],
    ]
    if "naive_share" in readings:
        lines.append(INDENT + readings["naive_share"])
    return lines


def _new_effect_sentence(result: Refutation) -> str:
    new, estimate = f"{result.new_effect:+.{DIGITS}f}", f"{result.estimate:+.{DIGITS}f}"
    if result.refuter == "placebo":
        return (
            f"With {result.treatment} shuffled among the units, so that it can cause nothing, "
            f"the {result.method} estimate averages {new}; a sound method finds about zero."
        )
    if result.refuter == "subset":
        return (
            f"On random {SUBSET_FRACTION:.0%} subsets of the units the estimate averages {new} "
            f"against {estimate} on all of them; a sound estimate barely moves."
        )
    return (
        f"Adjusting also for a made-up confounder of random noise moves the estimate from "
        f"{estimate} to {new} on average; a sound estimate barely moves."
    )


def _p_sentence(result: Refutation, p_value: float) -> str:
    shown = f"p = {p_value:.{P_DIGITS}f}"
    if result.refuter == "placebo":
        if p_value >= SIGNIFICANCE:
            return (
                f"{shown}: zero lies within the spread of the shuffled-treatment estimates, as "
                "it should when the treatment can cause nothing."
            )
        return (
            f"{shown}: the shuffled-treatment estimates lie away from zero, so the method "
            "finds an effect where there can be none."
        )
    kind = RE_ESTIMATES.get(result.refuter, result.refuter)
    if p_value >= SIGNIFICANCE:
        return f"{shown}: the estimate lies within the spread of the {kind} re-estimates."
    return (
        f"{shown}: the estimate lies outside the spread of the {kind} re-estimates, so it "
        "does not hold up."
    )


def _estimate_sentence(result: Refutation) -> str:
    estimate = f"{result.estimate:+.{DIGITS}f}"
    if result.recorded is None:
        return (
            f"No effect record was given, so this refutes DoWhy's {result.method} estimate, "
            f"{estimate}, adjusting for {', '.join(result.adjustment_set) or 'nothing'}."
        )
    if result.recorded_method:
        return (
            f"The recorded {result.recorded_method} effect is {result.recorded:+.{DIGITS}f}; "
            f"the refuter tests DoWhy's {result.method} estimate with the same adjustment set, "
            f"{estimate} (see the note below)."
        )
    return (
        f"The recorded {result.method} effect is {result.recorded:+.{DIGITS}f}; DoWhy's "
        f"estimate by the same method is {estimate}, and that is what the refuter tests."
    )


def refutation_readings(result: Refutation) -> dict[str, str]:
    readings = {
        "estimate": _estimate_sentence(result),
        "new_effect": _new_effect_sentence(result),
    }
    if result.p_value is not None:
        readings["p_value"] = _p_sentence(result, result.p_value)
    return readings


def refutation_lines(result: Refutation) -> list[str]:
    """The terminal report before the verdict: the numbers, then their readings."""
    readings = refutation_readings(result)
    lines = [
        f"{result.refuter} on {result.method}: estimate {result.estimate:+.{DIGITS}f} → "
        f"{result.new_effect:+.{DIGITS}f} over {result.simulations} simulations",
        *(INDENT + reading for reading in readings.values()),
    ]
    if result.note:
        lines.append(INDENT + result.note)
    return lines


def simulation_readings(made: Simulation, naive: float) -> dict[str, str]:
    direction = "raises" if made.truth >= 0 else "lowers"
    return {
        "truth": (
            f"The log was drawn so that {_change(made.treatment, binary=True)} {direction} "
            f"{made.outcome} by {abs(made.truth):.{DIGITS}f} on average: what `effect` should "
            "find."
        ),
        "naive": (
            f"Comparing the arms without adjustment gives {naive:+.{DIGITS}f}; its distance "
            "from the true effect is the confounding."
        ),
    }


def simulation_lines(made: Simulation, naive: float, out: str, graph: str) -> list[str]:
    readings = simulation_readings(made, naive)
    return [
        f"{len(made.data):,} units of {made.scenario} → {out} (graph {graph}); true effect of "
        f"{made.treatment} on {made.outcome} {made.truth:+.{DIGITS}f}, naive {naive:+.{DIGITS}f}",
        *(INDENT + reading for reading in readings.values()),
    ]
