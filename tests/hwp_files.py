"""Tiny HWP 5 files made in code: a minimal OLE2 compound file holding a FileHeader and
BodyText sections of hand-built records, so that the HWP reader is tested on what it must
decode (controls, tables, styles, protection flags) without shipping documents."""

import struct
import zlib

SECTOR = 512
# Streams at least this long live in regular sectors (no mini stream needed).
MINI_CUTOFF = 4096
FREE, END_OF_CHAIN, FAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NO_STREAM = 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5

PARA_HEADER, PARA_TEXT, CTRL_HEADER, LIST_HEADER, TABLE = 66, 67, 71, 72, 77
PARA_SHAPE, STYLE = 25, 26


def record(tag: int, level: int, payload: bytes) -> bytes:
    if len(payload) >= 0xFFF:
        return struct.pack("<II", tag | level << 10 | 0xFFF << 20, len(payload)) + payload
    return struct.pack("<I", tag | level << 10 | len(payload) << 20) + payload


def extended_control(code: int, ctrl_id: str) -> str:
    """An eight-unit control in paragraph text: code, the id reversed, padding, code."""
    payload = ctrl_id[::-1].encode("latin-1").decode("utf-16-le")
    return chr(code) + payload + "\x00\x00\x00\x00" + chr(code)


def paragraph(level: int, text: str, *, style: int = 0, shape: int = 0, controls=()) -> bytes:
    """A paragraph with its text (ending in a paragraph break) and control records."""
    units = text + "\r"
    header = struct.pack("<IIHBB", len(units), 0, shape, style, 0) + bytes(10)
    out = record(PARA_HEADER, level, header)
    out += record(PARA_TEXT, level + 1, units.encode("utf-16-le"))
    for control in controls:
        out += control(level + 1)
    return out


def table(rows: list[list[str]], caption: str = ""):
    """A 'tbl ' control (for `paragraph(controls=...)`) holding one paragraph per cell."""

    def build(level: int) -> bytes:
        out = record(CTRL_HEADER, level, b" lbt" + bytes(40))
        if caption:
            out += record(LIST_HEADER, level + 1, struct.pack("<HHI", 1, 0, 0) + bytes(8))
            out += paragraph(level + 1, caption)
        out += record(TABLE, level + 1, struct.pack("<IHH", 0, len(rows), len(rows[0])))
        for row_number, row in enumerate(rows):
            for column, text in enumerate(row):
                cell = struct.pack("<HHI4H", 1, 0, 0, column, row_number, 1, 1) + bytes(16)
                out += record(LIST_HEADER, level + 1, cell)
                out += paragraph(level + 1, text)
        return out

    return build


def note(ctrl_id: str, text: str):
    """A footnote ('fn  '), endnote ('en  '), header ('head') or footer ('foot') control."""

    def build(level: int) -> bytes:
        out = record(CTRL_HEADER, level, ctrl_id[::-1].encode("latin-1") + bytes(8))
        out += record(LIST_HEADER, level + 1, struct.pack("<HHI", 1, 0, 0))
        return out + paragraph(level + 1, text)

    return build


def doc_info(outline_style_names: list[str]) -> bytes:
    """DocInfo with a plain paragraph shape and one style per name (style i → shape 0)."""
    out = record(PARA_SHAPE, 0, struct.pack("<I", 0) + bytes(50))
    for name in outline_style_names:
        encoded = struct.pack("<H", len(name)) + name.encode("utf-16-le")
        out += record(STYLE, 0, encoded + struct.pack("<H", 0) + bytes(10))
    return out


def file_header(properties: int) -> bytes:
    signature = b"HWP Document File".ljust(32, b"\x00")
    return signature + struct.pack("<II", 0x05000107, properties) + bytes(216)


def hwp_file(
    sections: list[bytes],
    *,
    compressed: bool = True,
    properties: int = 0,
    doc_info_records: bytes = b"",
) -> bytes:
    """An HWP 5 file: FileHeader, DocInfo and BodyText/SectionN streams in an OLE2 container."""

    def body(data: bytes) -> bytes:
        if compressed:
            deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            data = deflate.compress(data) + deflate.flush()
        return data

    streams = {"FileHeader": file_header(properties | (1 if compressed else 0))}
    streams["DocInfo"] = body(doc_info_records)
    for number, section in enumerate(sections):
        streams[f"Section{number}"] = body(section)
    return compound_file(streams)


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file: the root holds every stream except SectionN, which sit in a
    BodyText storage. Each stream is padded to the mini-stream cutoff (readers use their size,
    and the trailing bytes follow a complete deflate stream or are zero records)."""
    padded = {
        name: data.ljust(max(MINI_CUTOFF, len(data)), b"\x00") for name, data in streams.items()
    }
    padded = {n: d.ljust(-(-len(d) // SECTOR) * SECTOR, b"\x00") for n, d in padded.items()}
    top = [n for n in padded if not n.startswith("Section")]
    sections = [n for n in padded if n.startswith("Section")]
    # Directory: root, top-level streams, BodyText, sections (siblings chained to the right).
    names = ["Root Entry", *top, "BodyText", *sections]
    directory_sectors = -(-len(names) * 128 // SECTOR)
    data_sectors = sum(len(d) // SECTOR for d in padded.values())
    total = 1 + directory_sectors + data_sectors
    fat = [FAT_SECTOR]
    fat += [*range(2, 1 + directory_sectors), END_OF_CHAIN]
    starts = {}
    next_sector = 1 + directory_sectors
    for name, data in padded.items():
        count = len(data) // SECTOR
        starts[name] = next_sector
        fat += [*range(next_sector + 1, next_sector + count), END_OF_CHAIN]
        next_sector += count
    assert len(fat) == total <= SECTOR // 4
    fat += [FREE] * (SECTOR // 4 - len(fat))

    def entry(name, kind, child=NO_STREAM, right=NO_STREAM, start=END_OF_CHAIN, size=0):
        encoded = (name + "\x00").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", NO_STREAM, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size)
        )

    entries = [entry("Root Entry", ROOT, child=1)]
    body_index = 1 + len(top)
    for offset, name in enumerate(top):
        entries.append(
            entry(name, STREAM, right=2 + offset, start=starts[name], size=len(padded[name]))
        )
    entries.append(entry("BodyText", STORAGE, child=body_index + 1 if sections else NO_STREAM))
    for offset, name in enumerate(sections):
        right = body_index + 2 + offset if offset + 1 < len(sections) else NO_STREAM
        entries.append(entry(name, STREAM, right=right, start=starts[name], size=len(padded[name])))
    directory = b"".join(entries).ljust(directory_sectors * SECTOR, b"\x00")
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIII", 0, 1, 1, 0)
        + struct.pack("<IIIII", MINI_CUTOFF, END_OF_CHAIN, 0, END_OF_CHAIN, 0)
        + struct.pack("<I", 0)
        + struct.pack("<108I", *([FREE] * 108))
    )
    header = header.ljust(SECTOR, b"\x00")
    fat_bytes = struct.pack(f"<{SECTOR // 4}I", *fat)
    return header + fat_bytes + directory + b"".join(padded.values())
