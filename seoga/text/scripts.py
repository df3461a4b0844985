"""Which writing systems a text uses: decides whether the slow Korean path is needed, and which
models can read a text."""

import re

# Hangul syllables, conjoining jamo and compatibility jamo.
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
LETTER = re.compile(r"[^\W\d_]")
# A text is "in" a Latin-script language when most of its letters are Latin.
LATIN_MAJORITY = 0.5
# Languages whose texts are written in the Latin script (models declare the ones they read).
LATIN_LANGUAGES = frozenset({"en", "de", "fr", "es", "it", "nl", "pt"})


def has_hangul(text: str) -> bool:
    """True when the text contains any Hangul character."""
    return HANGUL.search(text) is not None


def latin_share(text: str) -> float:
    """The share of the text's letters that are Latin (0 when it has no letters)."""
    letters = len(LETTER.findall(text))
    return len(LATIN_LETTER.findall(text)) / letters if letters else 0.0


def can_read(languages: tuple[str, ...] | None, text: str) -> bool:
    """Whether a model that reads `languages` (None: any language) can read `text`.

    Only the script is checked, and only for models of Latin-script languages alone: they read
    texts whose letters are mostly Latin. Any other model is trusted with any text.
    """
    if languages is None or not set(languages) <= LATIN_LANGUAGES:
        return True
    return latin_share(text) > LATIN_MAJORITY
