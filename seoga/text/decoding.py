"""Bytes → text for the text-based formats, with the encodings Korean users' files come in."""

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Korean Windows saves CP949 (a superset of EUC-KR); charset-normalizer spells them so.
KOREAN_ENCODINGS = frozenset({"cp949", "euc_kr"})


@dataclass(frozen=True)
class Decoded:
    """Text decoded from bytes, or why it could not be."""

    text: str | None
    encoding: str | None = None
    problem: str | None = None


def decode_bytes(data: bytes) -> Decoded:
    """Decode a text file's bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else detected.

    Binary data (NUL bytes) and bytes no encoding reads cleanly give a problem, not text.
    """
    if data.startswith(UTF16_BOMS):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            return Decoded(None, problem="broken UTF-16 text")
    if b"\x00" in data:
        return Decoded(None, problem="binary file (contains NUL bytes), not text")
    try:
        return Decoded(data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        return _detect(data)


def _detect(data: bytes) -> Decoded:
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return Decoded(None, problem="cannot decode: not UTF-8, CP949/EUC-KR or another known text")
    # Short Korean texts read equally cleanly as Big5 or GB18030; prefer Korean on a tie.
    korean = next(
        (m for m in matches if m.encoding in KOREAN_ENCODINGS and m.chaos <= best.chaos), None
    )
    chosen = korean or best
    return Decoded(str(chosen), chosen.encoding)
