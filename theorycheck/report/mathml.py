"""LaTeX statements as MathML, for the self-contained HTML report (no script, no network).

:func:`latex_to_mathml` converts with the ``latex2mathml`` package and then rebuilds the
result from an allow-list of MathML elements and attributes, escaping every text node:
the converter passes ``\\text{...}`` through unescaped, and a results document is data
from anywhere, so nothing of it may reach the page as markup. Anything the converter or
the allow-list cannot handle falls back to the LaTeX source shown as escaped code.

Examples
--------
>>> latex_to_mathml(r"\\frac{1}{K-1}").startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"')
True
>>> "<script>" in latex_to_mathml(r"\\text{<script>x</script>}")
False
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from functools import lru_cache

__all__ = ["latex_to_mathml", "MATHML_ELEMENTS"]

_NS = "{http://www.w3.org/1998/Math/MathML}"

#: Presentation MathML elements kept in the report; any other element rejects the formula.
MATHML_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mstyle", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mpadded", "mphantom",
    "menclose", "mfenced", "semantics", "annotation",
})
_ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "displaystyle", "scriptlevel", "fence", "separator", "lspace",
    "rspace", "columnalign", "accent", "accentunder", "movablelimits", "minsize", "maxsize", "symmetric",
    "width", "height", "depth", "form", "rowspacing", "columnspacing", "linethickness", "notation",
    "largeop", "encoding", "open", "close", "separators",
})


def _serialise(node: ET.Element) -> str:
    tag = node.tag[len(_NS):] if node.tag.startswith(_NS) else node.tag
    if tag not in MATHML_ELEMENTS:
        raise ValueError(f"element {tag!r} is not presentation MathML")
    attrs = []
    if tag == "math":
        attrs.append('xmlns="http://www.w3.org/1998/Math/MathML"')
    for name, value in sorted(node.attrib.items()):
        if name in _ATTRIBUTES:
            attrs.append(f'{name}="{html.escape(value, quote=True)}"')
    inner = html.escape(node.text or "", quote=False)
    for child in node:
        inner += _serialise(child) + html.escape(child.tail or "", quote=False)
    return f"<{tag}{(' ' + ' '.join(attrs)) if attrs else ''}>{inner}</{tag}>"


@lru_cache(maxsize=512)
def latex_to_mathml(tex: str, *, display: bool = True) -> str:
    """``tex`` (LaTeX math mode, no dollars) as a ``<math>`` element, or escaped code if it cannot be.

    Parameters
    ----------
    tex : str
        The formula.
    display : bool
        Block (``display="block"``) or inline math.

    Returns
    -------
    str
        HTML: one ``<math>`` element built only from :data:`MATHML_ELEMENTS`, every text
        escaped; or ``<code class="tex">...</code>`` holding the escaped source when the
        converter is missing or fails.
    """
    fallback = f'<code class="tex">{html.escape(str(tex), quote=True)}</code>'
    try:
        from latex2mathml.converter import convert
    except ImportError:  # a dependency; missing only in a broken install: still a readable report
        return fallback
    try:
        raw = convert(str(tex), display="block" if display else "inline")
        # the converter leaves '&' and '<' of \text{} raw: make it well-formed XML first
        root = ET.fromstring(raw.replace("&", "&amp;").replace("&amp;#x", "&#x"))
        return _serialise(root)
    except Exception:  # noqa: BLE001 - any failure of a third-party converter: show the source
        return fallback
