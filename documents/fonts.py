"""The CJK font every PDF and chart is set in, embedded so that Chinese shows on
a phone with no Chinese fonts (DESIGN: Chinese text in PDFs).

The font is WenQuanYi Micro Hei (文泉驿微米黑, Apache 2.0 / GPLv3 with the font
exception): a TrueType collection with Latin and CJK glyphs, which reportlab
embeds as a subset of the glyphs a document uses. It comes from the PyPI
package ``paperang-p2-fonts-cjk`` (in requirements.txt, so a fresh clone gets it
with ``make``); its file is byte for byte Debian's ``fonts-wqy-microhei``
(``FONT_SHA256``), which is the second place looked at. The Noto CJK fonts that
PyPI ships are OpenType/CFF, which reportlab cannot embed.

Only when no such file exists does the module fall back to reportlab's CID font
``STSong-Light``, which is not embedded (the reader must supply a font), and
logs a warning.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import os
import zlib
from collections import OrderedDict
from pathlib import Path

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

logger = logging.getLogger(__name__)

FONT_NAME = "ParkPayCJK"
# The same face again, for variable text (names, projects, reasons): see
# ``cjk_text_font``.
TEXT_FONT_NAME = "ParkPayCJK-Text"
SUBSET_CACHE_SIZE = 16
CID_FALLBACK = "STSong-Light"
# wqy-microhei.ttc 0.2.0-beta, the same bytes as Debian's fonts-wqy-microhei.
FONT_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"
FONT_PACKAGE = "paperang_p2_fonts_cjk"
DEBIAN_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# An operator may point at another TrueType CJK font (.ttf or .ttc, subfont 0).
FONT_ENV = "PARKPAY_CJK_FONT"


def font_path() -> Path | None:
    """The TrueType CJK font file to embed, or None when there is none."""
    configured = os.environ.get(FONT_ENV)
    if configured:
        return Path(configured)
    try:
        packaged = importlib.resources.files(FONT_PACKAGE) / "fonts/wqy-microhei.ttc"
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    if DEBIAN_FONT.is_file():
        return DEBIAN_FONT
    return None


@functools.cache
def cjk_font() -> str:
    """Register the CJK font with reportlab once per process; return its name."""
    path = font_path()
    if path is not None:
        font = TTFont(FONT_NAME, str(path), subfontIndex=0)
        _cache_subsets(font)
        pdfmetrics.registerFont(font)
        return FONT_NAME
    logger.warning(
        "No TrueType CJK font found (pip install paperang-p2-fonts-cjk, or set "
        "%s); PDFs use the non-embedded CID font %s.",
        FONT_ENV,
        CID_FALLBACK,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK


def font_embedded() -> bool:
    """True when PDFs carry the font (a TrueType subset), as they should."""
    return cjk_font() == FONT_NAME


@functools.cache
def cjk_text_font() -> str:
    """A second instance of the face for text that changes from document to
    document, so that the main font's subset can stay the same in every payslip
    (and be built and compressed once: ``_cache_subsets``).

    Its subsets hold only the characters used, without the ASCII block; its
    PDF font names end in ``Text`` so that both can live in one document.
    """
    main = cjk_font()
    if main != FONT_NAME:
        return main
    font = TTFont(TEXT_FONT_NAME, str(font_path()), subfontIndex=0, asciiReadable=0)
    # reportlab registers one font per face name (a second one would silently
    # become the first) and names PDF objects after it.
    font.face.name += b"Text"
    _cache_subsets(font)
    pdfmetrics.registerFont(font)
    return TEXT_FONT_NAME


def _cache_subsets(font: TTFont) -> None:
    """Keep the last few subsets of ``font`` built and compressed.

    reportlab builds (and compresses) the embedded subset of a TrueType font
    for every document, copying the font's tables each time; a payslip's labels
    always make the same subset, and building it was half the cost of a
    payslip (bench/payslips.py). The bytes depend only on the subset and the
    tables never change, so both are kept.
    """
    face = font.face
    cache: OrderedDict[tuple[int, ...], tuple[bytes, bytes]] = OrderedDict()
    make_subset = face.makeSubset
    add_objects = face.addSubsetObjects
    get_table = face.get_table
    # makeSubset copies the whole 'glyf' table (megabytes) on every call.
    tables: dict[str, bytes] = {}

    def cached_get_table(tag: str) -> bytes:
        if tag not in tables:
            tables[tag] = get_table(tag)
        return tables[tag]

    def subset_bytes(subset) -> tuple[bytes, bytes]:
        key = tuple(subset)
        if key in cache:
            cache.move_to_end(key)
        else:
            raw = make_subset(subset)
            cache[key] = (raw, zlib.compress(raw))
            if len(cache) > SUBSET_CACHE_SIZE:
                cache.popitem(last=False)
        return cache[key]

    def cached_make_subset(subset) -> bytes:
        return subset_bytes(subset)[0]

    def cached_add_objects(doc, fontname, subset):
        reference = add_objects(doc, fontname, subset)
        if doc.compression:
            # The stream reportlab just registered would be compressed again
            # when the document is written: hand it the compressed bytes.
            stream = doc.idToObject[f"fontFile:{face.filename}({fontname})"]
            stream.content = subset_bytes(subset)[1]
            stream.filters = None
            stream.dictionary["Filter"] = pdfdoc.PDFName("FlateDecode")
        return reference

    add_font_objects = font.addObjects
    # Per subset: its Widths array written out, and its compressed ToUnicode map.
    written: OrderedDict[tuple, tuple[bytes, bytes]] = OrderedDict()

    def cached_font_objects(doc) -> None:
        state = font.state.get(doc)
        if state is None or not doc.compression:
            return add_font_objects(doc)
        subsets = [tuple(subset) for subset in state.subsets]
        names = [font.getSubsetInternalName(n, doc)[1:] for n in range(len(subsets))]
        add_font_objects(doc)
        for name, subset in zip(names, subsets, strict=True):
            pdf_font = doc.idToObject[name]
            cmap = doc.idToObject[f"toUnicodeCMap:{pdf_font.BaseFont}"]
            key = (pdf_font.BaseFont, subset)
            if key in written:
                written.move_to_end(key)
            else:
                content = cmap.content
                if isinstance(content, str):
                    content = content.encode("latin-1")
                written[key] = (
                    pdfdoc.format(pdf_font.Widths, doc),
                    zlib.compress(content),
                )
                if len(written) > SUBSET_CACHE_SIZE:
                    written.popitem(last=False)
            # Bytes are written out as they are (pdfdoc.format).
            pdf_font.Widths, cmap.content = written[key]
            cmap.filters = None
            cmap.dictionary["Filter"] = pdfdoc.PDFName("FlateDecode")

    face.get_table = cached_get_table
    face.makeSubset = cached_make_subset
    face.addSubsetObjects = cached_add_objects
    font.addObjects = cached_font_objects
