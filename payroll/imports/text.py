"""Reading an uploaded file as text: UTF-8, or GB18030 as Excel writes it."""

from __future__ import annotations

import codecs
import io
import re
import unicodedata

from payroll.imports.report import (
    FILE_EMPTY,
    JSON_TOO_DEEP,
    NOT_TEXT,
    ImportFileError,
)

# No export of Label Studio or CVAT nests deeper; Python's parser would give
# up (RecursionError) near 1,000.
JSON_MAX_DEPTH = 64
_JSON_TOKEN = re.compile(r'["\[\]{}]')
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)


def detect_encoding(file) -> tuple[str, bool]:
    """``utf-8-sig`` (a BOM is dropped) unless the start of the file is not
    UTF-8 but GB18030, what Excel writes on a Chinese Windows."""
    head = file.read(1 << 16)
    file.seek(0)
    if not head:
        raise ImportFileError(FILE_EMPTY)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8-sig", False
    except UnicodeDecodeError as exc:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        except UnicodeDecodeError:
            raise ImportFileError(NOT_TEXT % {"position": exc.start}) from exc
        return "gb18030", True


class Text:
    """A text view of a binary upload that leaves the upload open."""

    def __init__(self, file, encoding: str):
        self.wrapper = io.TextIOWrapper(file, encoding=encoding, newline="")

    def __enter__(self):
        return self.wrapper

    def __exit__(self, *exc):
        self.wrapper.detach()


def clean_cell(value: str) -> str:
    value = value.strip()
    if not value.isascii():
        # Full-width digits, ％ and spaces from Chinese input methods.
        value = unicodedata.normalize("NFKC", value).strip()
    return value


class JsonDepth:
    """Refuses JSON nested deeper than ``limit``, fed the text chunk by chunk
    before it is parsed (brackets inside strings do not count)."""

    def __init__(self, limit: int = JSON_MAX_DEPTH):
        self.limit, self.depth = limit, 0
        self.in_string = self.escaped = False

    def feed(self, chunk: str) -> None:
        pos, end = 0, len(chunk)
        while pos < end:
            if self.in_string:
                if self.escaped:
                    pos, self.escaped = pos + 1, False
                    continue
                pos = _STRING_REST.match(chunk, pos).end()
                if pos < end:
                    # A closing quote, or a backslash ending the chunk.
                    self.in_string = chunk[pos] != '"'
                    self.escaped = self.in_string
                    pos += 1
                continue
            found = _JSON_TOKEN.search(chunk, pos)
            if found is None:
                return
            pos, char = found.end(), found.group()
            if char == '"':
                self.in_string = True
            elif char in "[{":
                self.depth += 1
                if self.depth > self.limit:
                    raise ImportFileError(JSON_TOO_DEEP % {"max": self.limit})
            else:
                self.depth -= 1


def has_lone_surrogate(value) -> bool:
    """Whether a parsed JSON value holds a string that is not text (a lone
    surrogate such as ``"\\ud800"``: valid JSON, but neither the database
    nor a UTF-8 answer can hold it). Iterative: no depth limit of its own."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
