"""Notes are Markdown, shown as HTML that cannot carry script: markdown-it renders (raw HTML
in the note is left as text), nh3 (the Ammonia sanitiser) keeps only harmless tags and
attributes and only http(s) and mailto links."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
         "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}


def render(text: str) -> Markup:
    html = _RENDERER.render(text or "")
    return Markup(nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES,
                            url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow"))
