import pytest

from seoga.text.scripts import can_read, latin_share


def test_latin_share_counts_letters_only():
    assert latin_share("BM25 검색") == pytest.approx(2 / 4)
    assert latin_share("1234 !!") == 0.0
    assert latin_share("Café") == 1.0


@pytest.mark.parametrize(
    ("languages", "text", "readable"),
    [
        (None, "전세 계약", True),
        (("en",), "contract renewal under the 2020 act", True),
        (("en",), "전세 계약 갱신 조건", False),
        (("en",), "전세 계약 (jeonse) 갱신 조건과 요구권", False),
        (("en", "fr"), "une recherche hybride", True),
        (("en", "ko"), "전세 계약", True),
    ],
)
def test_a_latin_only_model_reads_mostly_latin_text(languages, text, readable):
    assert can_read(languages, text) is readable
