"""Reliability diagram: per-bin accuracy against confidence, before and after calibration."""

from collections.abc import Sequence
from pathlib import Path

from seoga.calibrate.metrics import ECE_BINS, expected_calibration_error, reliability_bins

PANEL_SIZE = (4.5, 4.2)  # inches per panel
PANELS_PER_ROW = 2  # wider rows crowd the titles
DPI = 120


def plot_reliability(
    path: Path,
    panels: dict[str, tuple[Sequence[float], Sequence[bool]]],
    *,
    title: str = "",
    bins: int = ECE_BINS,
) -> Path:
    """Write a PNG with one reliability panel per entry of `panels` (name → (conf, correct))."""
    # matplotlib loads only for plotting; a headless backend, as the CLI has no display.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(PANELS_PER_ROW, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows),
        squeeze=False,
    )
    for axis in axes.flat[len(panels) :]:
        axis.set_visible(False)
    for axis, (name, (confidences, correct)) in zip(axes.flat, panels.items(), strict=False):
        found = reliability_bins(confidences, correct, bins)
        width = 1.0 / bins
        centres = [item.low + width / 2 for item in found]
        axis.bar(
            centres,
            [item.accuracy for item in found],
            width=width,
            edgecolor="black",
            color="tab:blue",
            label="accuracy",
        )
        axis.bar(
            centres,
            [item.confidence - item.accuracy if item.count else 0.0 for item in found],
            bottom=[item.accuracy for item in found],
            width=width,
            edgecolor="tab:red",
            color="tab:red",
            alpha=0.3,
            label="gap to confidence",
        )
        axis.plot([0, 1], [0, 1], linestyle="--", color="gray")
        ece = expected_calibration_error(confidences, correct, bins)
        axis.set_title(f"{name}\nECE {ece:.3f} (n={len(confidences)})")
        axis.set_xlabel("confidence")
        axis.set_ylabel("accuracy")
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.legend(loc="upper left")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path
