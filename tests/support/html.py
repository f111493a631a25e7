"""Every page is well-formed HTML with a title and unique ids (a GOV.UK Notify habit)."""

from __future__ import annotations

import html5lib
from html5lib.html5parser import ParseError


def html_problems(html: str) -> list[str]:
    """What is wrong with a page's HTML: parse errors, a missing or empty title, repeated ids."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        document = parser.parse(html)
    except ParseError as error:
        line, col = parser.errors[-1][0] if parser.errors else ("?", "?")
        return [f"not valid HTML at line {line}, column {col}: {error}"]
    problems = []
    title = document.find(".//head/title")
    if title is None or not "".join(title.itertext()).strip():
        problems.append("no non-empty <title> in <head>")
    seen: dict[str, int] = {}
    for element in document.iter():
        element_id = element.get("id") if isinstance(element.tag, str) else None
        if element_id is not None:
            seen[element_id] = seen.get(element_id, 0) + 1
    problems += [f'id="{i}" is used {n} times' for i, n in seen.items() if n > 1]
    return problems


def assert_valid_html(html: str | bytes) -> None:
    """Fail when the page does not parse in html5lib's strict mode, lacks a title, or repeats ids."""
    if isinstance(html, bytes):
        html = html.decode("utf-8")
    problems = html_problems(html)
    if problems:
        raise AssertionError("invalid HTML:\n- " + "\n- ".join(problems))
