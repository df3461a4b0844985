"""Plain text, Markdown and HTML: one document per file."""

import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString
from markdown_it import MarkdownIt

from seoga.text.decoding import decode_bytes
from seoga.text.documents import LoadResult
from seoga.text.formats.base import ReadOptions, failed, single
from seoga.text.normalize import normalize_line, normalize_text

# HTML elements that hold no reading text.
DROPPED_TAGS = ("script", "style", "nav", "noscript", "template", "svg", "head")
# Elements that start a paragraph, a line, or a table cell once flattened to text.
PARAGRAPH_TAGS = (
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "ol",
    "p", "pre", "section", "table", "ul",
)  # fmt: skip
LINE_TAGS = ("br", "dt", "li", "tr")
CELL_TAGS = ("td", "th")
_SPACES = re.compile(r"\s+")
_MARKDOWN = MarkdownIt("commonmark").enable("table")


def read_text_file(path: Path, data: bytes, options: ReadOptions) -> LoadResult:
    """A .txt, .md, .html or .htm file."""
    decoded = decode_bytes(data)
    if decoded.text is None:
        return failed(path, decoded.problem or "cannot be decoded")
    metadata = {} if decoded.encoding == "utf-8" else {"encoding": decoded.encoding}
    suffix = path.suffix.lower()
    if suffix == ".md":
        title, text = read_markdown(decoded.text)
    elif suffix in (".html", ".htm"):
        title, text = read_html(decoded.text)
    else:
        title, text = "", normalize_text(decoded.text)
    return single(path, title or path.stem, text, metadata)


def read_markdown(text: str) -> tuple[str, str]:
    # Rendered, then flattened like HTML: links, emphasis and tables read as plain text.
    return read_html(_MARKDOWN.render(text), title_tags=("h1",))


def read_html(markup: str, title_tags: tuple[str, ...] = ("title", "h1")) -> tuple[str, str]:
    soup = BeautifulSoup(markup, "html.parser")
    title = next((t.get_text() for name in title_tags if (t := soup.find(name))), "")
    for element in soup.find_all(DROPPED_TAGS):
        element.decompose()
    # Line breaks in HTML source are spaces to a reader (except in <pre>); structure adds its own.
    for string in soup.find_all(string=True):
        if type(string) is NavigableString and string.find_parent("pre") is None:
            string.replace_with(_SPACES.sub(" ", string))
    for element in soup.find_all(PARAGRAPH_TAGS):
        element.insert_before("\n\n")
        element.insert_after("\n\n")
    for element in soup.find_all(LINE_TAGS):
        element.insert_after("\n")
    for element in soup.find_all(CELL_TAGS):
        element.insert_after(" ")
    return normalize_line(title), normalize_text(soup.get_text())
