"""The browser harness itself: Chromium starts, axe-core finds real violations and passes
clean pages, with JavaScript on and off, and the HTML checks catch what they promise to."""

from __future__ import annotations

import pytest

from tests.support import assert_no_axe_violations, assert_valid_html, axe_violations

ACCESSIBLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Report a problem – City of Riverton</title></head>
<body>
  <a href="#main">Skip to main content</a>
  <main id="main">
    <h1>Report a problem</h1>
    <form action="/report" method="post">
      <label for="street">Street name</label>
      <input id="street" name="street" type="text" autocomplete="street-address">
      <button type="submit">Continue</button>
    </form>
  </main>
</body>
</html>"""

# Each fault is one an axe rule tagged WCAG 2.x A/AA must catch.
INACCESSIBLE_PAGE = """<!DOCTYPE html>
<html>
<head><title>Broken</title></head>
<body>
  <main>
    <img src="pothole.png">
    <input type="text" name="street">
    <p style="color:#ccc;background:#fff">Low contrast text</p>
    <a href="/next"></a>
  </main>
</body>
</html>"""


def test_axe_passes_an_accessible_page(page):
    page.set_content(ACCESSIBLE_PAGE)
    assert_no_axe_violations(page)


def test_axe_flags_an_inaccessible_page_with_a_readable_message(page):
    page.set_content(INACCESSIBLE_PAGE)
    found = {v["id"] for v in axe_violations(page)}
    assert {"html-has-lang", "image-alt", "label", "color-contrast", "link-name"} <= found
    with pytest.raises(AssertionError) as failure:
        assert_no_axe_violations(page)
    message = str(failure.value)
    assert "image-alt" in message and "img" in message and "dequeuniversity.com" in message


def test_axe_runs_on_wcag_22_rules_off_by_default(page):
    # target-size (2.5.8, WCAG 2.2 AA) is disabled in axe's defaults; the harness turns it on.
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main>'
        '<button style="width:10px;height:10px;padding:0;border:0">a</button>'
        '<button style="width:10px;height:10px;padding:0;border:0">b</button>'
        "</main></body></html>"
    )
    assert "target-size" in {v["id"] for v in axe_violations(page)}


def test_page_no_js_runs_no_script_and_axe_still_works(page_no_js):
    page_no_js.set_content(
        ACCESSIBLE_PAGE.replace(
            "</main>", "<p id=js>off</p><script>js.textContent='on'</script></main>"
        )
    )
    assert page_no_js.text_content("#js") == "off"
    assert_no_axe_violations(page_no_js)
    page_no_js.set_content(INACCESSIBLE_PAGE)
    assert "image-alt" in {v["id"] for v in axe_violations(page_no_js)}


@pytest.mark.no_js
def test_no_js_marker_turns_javascript_off_for_page(page):
    page.set_content("<p id=js>off</p><script>js.textContent='on'</script>")
    assert page.text_content("#js") == "off"


def test_page_runs_javascript_by_default(page):
    page.set_content("<p id=js>off</p><script>js.textContent='on'</script>")
    assert page.text_content("#js") == "on"


def test_a_django_page_served_by_live_server_is_valid_and_accessible(live_server, page):
    response = page.goto(live_server.url + "/admin/login/")
    assert response is not None and response.status == 200
    assert_valid_html(response.text())
    assert page.get_by_label("Username").is_visible()
    assert_no_axe_violations(page)


def test_valid_html_accepts_a_good_page():
    assert_valid_html(ACCESSIBLE_PAGE)


@pytest.mark.parametrize(
    ("html", "complaint"),
    [
        (ACCESSIBLE_PAGE.replace('id="street"', 'id="main"'), 'id="main" is used 2 times'),
        (
            ACCESSIBLE_PAGE.replace(
                "<title>Report a problem – City of Riverton</title>", "<title> </title>"
            ),
            "title",
        ),
        (
            ACCESSIBLE_PAGE.replace("<title>Report a problem – City of Riverton</title>", ""),
            "title",
        ),
        (ACCESSIBLE_PAGE.replace("</h1>", "</h2>"), "not valid HTML"),
        (ACCESSIBLE_PAGE.replace("<!DOCTYPE html>\n", ""), "not valid HTML"),
    ],
    ids=["duplicate-id", "blank-title", "no-title", "mismatched-tag", "no-doctype"],
)
def test_valid_html_rejects(html, complaint):
    with pytest.raises(AssertionError, match=complaint):
        assert_valid_html(html)
