"""Every staff page is well-formed HTML with a title and unique ids (a GOV.UK Notify habit)."""

from __future__ import annotations

import html5lib
from html5lib.html5parser import ParseError


def page_problems(html: str) -> list[str]:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        document = parser.parse(html)
    except ParseError as error:
        position = parser.errors[-1][0] if parser.errors else ("?", "?")
        lines = html.splitlines()
        line = (
            lines[position[0] - 1]
            if isinstance(position[0], int) and 0 < position[0] <= len(lines)
            else ""
        )
        return [f"not valid HTML at {position}: {error}\n    {line.strip()[:200]}"]
    problems = []
    title = document.find(".//head/title")
    if title is None or not "".join(title.itertext()).strip():
        problems.append("no non-empty <title> in <head>")
    ids: dict[str, int] = {}
    for element in document.iter():
        if isinstance(element.tag, str) and element.get("id") is not None:
            ids[element.get("id")] = ids.get(element.get("id"), 0) + 1
    problems += [f'id="{i}" is used {n} times' for i, n in ids.items() if n > 1]
    if document.find(".//main") is None:
        problems.append("no <main> landmark")
    return problems


def assert_valid_page(response) -> str:
    """The response's HTML, after checking it parses strictly, has a title, unique ids and a <main>."""
    html = response.content.decode("utf-8")
    problems = page_problems(html)
    assert not problems, "invalid HTML:\n- " + "\n- ".join(problems)
    return html


def page_title(html: str) -> str:
    document = html5lib.parse(html, namespaceHTMLElements=False)
    return " ".join("".join(document.find(".//head/title").itertext()).split())
