"""Progress off a terminal is a few plain lines, never carriage-return updates."""

from seoga.progress import PLAIN_STEPS, progress, track

ITEMS = 1_000


def lines_of(captured: str) -> list[str]:
    return [line for line in captured.splitlines() if line.strip()]


def test_tracking_in_a_log_writes_a_few_plain_lines(capsys):
    assert sum(track(range(ITEMS), "counting")) == sum(range(ITEMS))
    err = capsys.readouterr().err
    lines = lines_of(err)
    assert "\r" not in err
    assert lines[0] == f"counting: started, {ITEMS:,} to do"
    assert lines[-1].startswith(f"counting: {ITEMS:,} done in ")
    assert len(lines) <= PLAIN_STEPS + 2
    assert any("50%" in line and "/s" in line and "left" in line for line in lines)


def test_updates_in_big_steps_and_figures_after_the_counts(capsys):
    with progress(ITEMS, "training", enabled=True) as shown:
        shown.update(ITEMS // 2)
        shown.set_postfix(loss="0.123")
        shown.update(ITEMS // 2)
    lines = lines_of(capsys.readouterr().err)
    assert len(lines) == 3 and lines[-1].endswith("(loss 0.123)")


def test_nothing_is_written_when_disabled(capsys):
    list(track(range(ITEMS), "quiet", enabled=False))
    assert capsys.readouterr().err == ""


def test_an_embedder_encoding_into_a_log_writes_plain_lines(capsys, tiny_model):
    from seoga.models.embedders import load_embedder

    embedder = load_embedder(str(tiny_model))
    capsys.readouterr()
    embedder.encode_passages([f"문서 {n} 계약" for n in range(300)], show_progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and 2 <= len(lines_of(err)) <= PLAIN_STEPS + 2
