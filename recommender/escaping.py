r"""The two escaping helpers for user-controlled text: one for Markdown (the app), one for HTML (reports).

Every string a user controls (patient pseudonym, regimen names typed or uploaded, variant text, file
names, user names, error messages that quote a value) is shown as text, never as markup: a
``patient_id`` of ``![x](http://host/track.png)`` must not make the browser fetch anything.

* :func:`escape_markdown` backslash-escapes what can form Markdown or a Streamlit directive
  (``:red[...]``, ``:material/...:``, ``$...$`` LaTeX, links, images, raw HTML, autolinks) and turns line
  breaks into spaces, for ``st.markdown``/``st.caption``/``st.error``/... (which all render Markdown);
  readable punctuation that cannot form markup (``file.vcf: field x``, ``sign-in``, ``snake_case``) is kept.
* :func:`escape_html` is :func:`html.escape` with quotes, for HTML built outside a Jinja2 template
  (the templates escape on their own: ``autoescape=True``).

Examples
--------
>>> print(escape_markdown("![x](http://host/t.png) :red[boom] file.vcf: bad_id"))
!\[x\](http\://host/t.png) \:red\[boom\] file.vcf: bad_id
>>> escape_html('<img src="x">')
'&lt;img src=&quot;x&quot;&gt;'
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["escape_html", "escape_markdown"]

# markup wherever it stands: emphasis/code/strike, link and image brackets, raw HTML and <autolinks>, LaTeX,
# table pipes, and the escape character itself
_ALWAYS = re.compile(r"([\\`*\[\]<>$~|])")
# '_' opens or closes emphasis only at a word edge (intraword snake_case never does)
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# ':' before a non-space: a Streamlit directive (:red[...], :material/x:), an emoji shortcode, a URL scheme
_DIRECTIVE_COLON = re.compile(r":(?=\S)")
# GFM autolinks without a scheme: www.host (e-mail addresses: '@' is escaped)
_WWW = re.compile(r"(?i)\b(www)\.")
# block syntax at the start of the text: heading, list item, quote, setext underline, ordered list
_LEADING = re.compile(r"^(\s*)([#+\-=>])")
_LEADING_NUMBER = re.compile(r"^(\s*\d+)([.)])")


def escape_markdown(text: Any) -> str:
    """``text`` (any value; ``None`` -> ``""``) as literal Markdown text: nothing in it is markup or a link."""
    if text is None:
        return ""
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    s = _ALWAYS.sub(r"\\\1", s)
    s = _EDGE_UNDERSCORE.sub(r"\\_", s)
    s = _DIRECTIVE_COLON.sub(r"\\:", s)
    s = s.replace("@", "\\@")
    s = _WWW.sub(r"\1\\.", s)
    s = _LEADING_NUMBER.sub(r"\1\\\2", s, count=1)
    return _LEADING.sub(lambda m: m.group(1) + "\\" + m.group(2), s, count=1)


def escape_html(text: Any) -> str:
    """``text`` (any value; ``None`` -> ``""``) as HTML text (``& < > " '`` escaped)."""
    return "" if text is None else html.escape(str(text), quote=True)
