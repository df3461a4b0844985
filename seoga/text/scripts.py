"""Which writing systems a text uses: decides whether the slow Korean path is needed."""

import re

# Hangul syllables, conjoining jamo and compatibility jamo.
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def has_hangul(text: str) -> bool:
    """True when the text contains any Hangul character."""
    return HANGUL.search(text) is not None
