"""Reading an uploaded file as text: UTF-8, or GB18030 as Excel writes it."""

from __future__ import annotations

import codecs
import io
import unicodedata

from payroll.imports.report import FILE_EMPTY, NOT_TEXT, ImportFileError


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
