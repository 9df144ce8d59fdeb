"""documents.markup: user text in a reportlab Paragraph stays text."""

import io

from pypdf import PdfReader
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate

from documents.markup import para

HOSTILE = ["A<B", '<a href="http://x">t</a>', '<img src="/etc/passwd"/>', "R&D"]


def render(texts) -> bytes:
    out = io.BytesIO()
    style = getSampleStyleSheet()["Normal"]
    SimpleDocTemplate(out).build([Paragraph(para(t), style) for t in texts])
    return out.getvalue()


def test_markup_is_escaped():
    assert para('<a href="x">&') == '&lt;a href="x"&gt;&amp;'
    assert para(None) == "" and para(12) == "12"


def test_hostile_text_renders_as_written_without_links_or_images():
    data = render(HOSTILE)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for value in HOSTILE:
        assert value in text
    assert b"/URI" not in data and b"/Subtype /Image" not in data
