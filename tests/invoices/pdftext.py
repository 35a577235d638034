"""Just enough of a PDF reader to get the text of WeasyPrint's output back (tests only).

WeasyPrint writes text as hex glyph ids in ``Tj`` / ``TJ`` operators of Flate-compressed
content streams, with a ``ToUnicode`` CMap per font; this maps the glyphs back to text.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
# pydyf ends a stream's data with a bare "\n" before "endstream": a compressed stream may
# itself end with a "\r" byte, which belongs to the data.
_STREAM = re.compile(rb"stream\r?\n(.*?)\nendstream", re.S)
_REF = re.compile(rb"/([^\s/<>\[\]()]+)\s+(\d+)\s+0\s+R")
_TEXT_OPS = re.compile(rb"/([^\s/]+)\s+[\d.]+\s+Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    objects = {}
    for number, body in _OBJECT.findall(pdf):
        stream = _STREAM.search(body)
        data = None
        if stream:
            data = stream.group(1)
            if b"/FlateDecode" in body[: stream.start()]:
                data = zlib.decompress(data)
        head = body if stream is None else body[: stream.start()]
        objects[int(number)] = (head, data)
        if data is not None and b"/ObjStm" in head:
            objects.update(_object_stream(head, data))
    return objects


def _object_stream(head: bytes, data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Objects packed in a compressed object stream (PDF 1.5), which have no stream of their own."""
    count = int(re.search(rb"/N\s+(\d+)", head).group(1))  # type: ignore[union-attr]
    first = int(re.search(rb"/First\s+(\d+)", head).group(1))  # type: ignore[union-attr]
    header = [int(v) for v in data[:first].split()][: 2 * count]
    numbers, offsets = header[::2], [*header[1::2], len(data) - first]
    return {
        number: (data[first + offsets[i] : first + offsets[i + 1]], None) for i, number in enumerate(numbers)
    }


def _utf16(hex_string: bytes) -> str:
    return bytes.fromhex(hex_string.decode()).decode("utf-16-be")


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        pairs = _HEX.findall(block)
        for src, dst in zip(pairs[::2], pairs[1::2], strict=True):
            mapping[int(src, 16)] = _utf16(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, rest in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[.*?\]|<[0-9A-Fa-f]+>)", block, re.S
        ):
            first, last = int(lo, 16), int(hi, 16)
            if rest.startswith(b"["):
                for code, dst in zip(range(first, last + 1), _HEX.findall(rest), strict=False):
                    mapping[code] = _utf16(dst)
            else:
                start = int(rest[1:-1], 16)
                for offset, code in enumerate(range(first, last + 1)):
                    mapping[code] = chr(start + offset)
    return mapping


def extract_text(pdf: bytes) -> str:
    """The text of every page, one line per text operator."""
    objects = _objects(pdf)
    cmaps: dict[int, dict[int, str]] = {}
    for number, (head, _data) in objects.items():
        match = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", head)
        if match and b"/Font" in head:
            cmap_data = objects[int(match.group(1))][1] or b""
            cmaps[number] = _cmap(cmap_data)
    fonts: dict[bytes, dict[int, str]] = {}
    for head, _data in objects.values():
        for name, ref in _REF.findall(head):
            if int(ref) in cmaps:
                fonts[name] = cmaps[int(ref)]
    lines = []
    for _head, data in objects.values():
        if not data or b"Tf" not in data:
            continue
        cmap: dict[int, str] = {}
        for font, array, single in _TEXT_OPS.findall(data):
            if font:
                cmap = fonts.get(font, {})
                continue
            hexes = _HEX.findall(array) if array else [single]
            glyphs = b"".join(hexes).decode()
            lines.append(
                "".join(cmap.get(int(glyphs[i : i + 4], 16), "\ufffd") for i in range(0, len(glyphs), 4))
            )
    return "\n".join(lines)
