"""axe-core in the page under test, with every WCAG 2.0–2.2 level A and AA rule on.

axe.min.js comes from the axe-playwright-python package in the venv, so it works offline.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Every rule axe tags WCAG 2.0/2.1/2.2 level A or AA, including those it ships switched off
# (target-size, 2.5.8). Left out: rules axe marks deprecated (obsolete criteria such as 4.1.1
# Parsing; duplicate ids are checked by assert_valid_html instead) and experimental (not yet
# reliable enough for axe's own defaults).
_RUN_AXE = """
async ({tags}) => {
  const ids = axe.getRules(tags)
    .filter((rule) => !rule.tags.includes("deprecated") && !rule.tags.includes("experimental"))
    .map((rule) => rule.ruleId);
  const rules = Object.fromEntries(ids.map((id) => [id, {enabled: true}]));
  const result = await axe.run(document, {
    runOnly: {type: "rule", values: ids},
    rules,
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html, summary: n.failureSummary})),
  }));
}
"""


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


# With JavaScript disabled, Playwright's evaluate() still runs but timers never fire, and axe
# waits on setTimeout. Probe with an inline script (it runs only where scripts may run) and,
# where it did not run, lend axe microtask-based timers for the length of the run.
_LEND_TIMERS = """
() => {
  const probe = document.createElement("script");
  probe.textContent = "window.__civicloopScriptsRun = true;";
  document.documentElement.appendChild(probe);
  probe.remove();
  if (window.__civicloopScriptsRun) return false;
  window.__civicloopTimers = [window.setTimeout, window.clearTimeout];
  window.setTimeout = (fn, _ms, ...args) => { Promise.resolve().then(() => fn(...args)); return 0; };
  window.clearTimeout = () => {};
  return true;
}
"""
_RETURN_TIMERS = """
() => { [window.setTimeout, window.clearTimeout] = window.__civicloopTimers; }
"""


def axe_violations(page) -> list[dict]:
    """Run axe on the page as it is now and return its violations (empty when clean)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluate(), unlike a <script> tag, is not blocked by the page's Content-Security-Policy.
        page.evaluate(axe_source())
    lent = page.evaluate(_LEND_TIMERS)
    try:
        return page.evaluate(_RUN_AXE, {"tags": AXE_TAGS})
    finally:
        if lent:
            page.evaluate(_RETURN_TIMERS)


def format_violations(violations: list[dict], url: str = "") -> str:
    lines = [f"{len(violations)} axe violation(s){' on ' + url if url else ''}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            for detail in (node["summary"] or "").splitlines()[1:3]:
                lines.append(f"      {detail.strip()}")
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more elements")
    return "\n".join(lines)


def assert_no_axe_violations(page) -> None:
    """Fail with a readable list when axe finds any WCAG 2.0–2.2 A/AA violation on the page."""
    violations = axe_violations(page)
    if violations:
        raise AssertionError(format_violations(violations, page.url))
