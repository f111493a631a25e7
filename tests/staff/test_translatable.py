"""Every word a person reads on a staff page goes through translation: no bare text in the
templates outside {% translate %} and {% blocktranslate %}."""

import re
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

import civicloop

TEMPLATE_DIRS = [
    Path(civicloop.__file__).parent / "staff" / "templates",
    Path(civicloop.__file__).parent / "templates",
]
TEMPLATES = sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


def bare_text(source: str) -> list[str]:
    """Words in the template that are neither in a translation block nor inside markup."""
    parts, depth = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in ("blocktranslate", "blocktrans"):
                depth += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                depth -= 1
            parts.append("\x00")
        elif token.token_type == TokenType.TEXT and depth == 0:
            parts.append(token.contents)
        else:
            parts.append("\x00")
    text = re.sub(r"<[^>]*>", " ", "".join(parts), flags=re.S)
    return [w for w in re.findall(r"[^\W\d_]{2,}", text)]


def test_there_are_templates_to_check():
    assert len(TEMPLATES) >= 10


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_bare_text_in_template(path):
    assert bare_text(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_bare_text():
    assert bare_text("<p>{% translate 'Fine' %} Oops</p>") == ["Oops"]
    assert (
        bare_text('<p class="x">{% blocktranslate %}Fine {{ x }}{% endblocktranslate %}</p>') == []
    )
