"""great-expectations' Data Docs made to work offline and fetch nothing.

GX 1.24 renders its Data Docs with jQuery, Bootstrap, bootstrap-table, Font Awesome and Vega
loaded from CDNs, and its logo from S3 with the data context's id in the query string. Offline
the index is empty (its tables are filled by bootstrap-table from JavaScript), and online every
page view phones home, against what the README promises. So after each build
(`flows.validate`) every page is rewritten here:

- external `<script>`, `<link>` and `<img>` tags are removed, and so are the inline scripts
  that would call the missing libraries (the expectation and result tables are server-side
  HTML and read without them);
- a small local stylesheet (`static/styles/inflow_offline.css`) replaces Bootstrap's look and
  draws Font Awesome's status icons as characters;
- "Data asset: None" (a pandas batch has no asset on GX's page) names the asset;
- `index.html` is written from the validation results store: every result, newest first,
  with its suite, stage, outcome, counts and a link to its page.

Links (`<a href>`) to GX's documentation stay: they fetch nothing until someone clicks them.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

STYLESHEET = "static/styles/inflow_offline.css"
# How many validation results the index lists (each run adds one per suite).
INDEX_RESULTS = 200

_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.I)
_EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^>]*>", re.I)
_EXTERNAL_IMG = re.compile(r"<img[^>]*\bsrc=[\"']https?://[^>]*>", re.I)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>.*?</script>", re.I | re.S)
_HEAD_END = re.compile(r"</head>", re.I)

CSS = """\
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
.card { border: 1px solid #e3e3e3; border-radius: 4px; margin: 0 0 1rem; padding: 0.5rem 1rem; }
.text-success, .passed { color: #1a7f37; }
.text-danger, .failed { color: #b42318; }
.fas::before { font-style: normal; }
.fa-check-circle::before, .fa-check::before { content: "\\2714"; }
.fa-times::before, .fa-times-circle::before { content: "\\2718"; }
.fa-exclamation-triangle::before { content: "\\26A0"; }
.ge-index-page-site-name-title, .navbar, .modal, .cooltip .top, .d-none, .hide { display: none; }
code, pre { font-size: 0.85em; }
"""


def make_offline(site: Path) -> None:
    """Rewrite every page of a Data Docs site (the folder holding index.html) to fetch nothing."""
    styles = site / STYLESHEET
    styles.parent.mkdir(parents=True, exist_ok=True)
    styles.write_text(CSS, encoding="utf-8")
    for page in site.rglob("*.html"):
        if page != site / "index.html":
            page.write_text(offline_page(page.read_text(encoding="utf-8"), page, site), "utf-8")
    store = site.parent.parent / "validations"  # gx/uncommitted/validations
    (site / "index.html").write_text(index_page(validation_entries(store, site)), "utf-8")


def offline_page(text: str, page: Path, site: Path) -> str:
    """One page without external resources or scripts, with the local stylesheet."""
    for pattern in (_EXTERNAL_SCRIPT, _EXTERNAL_LINK, _EXTERNAL_IMG, _INLINE_SCRIPT):
        text = pattern.sub("", text)
    asset = page.stem  # validations/<suite>/<run>/<time>/<asset>.html
    text = text.replace("Data asset: None", f"Data asset: {html.escape(asset)}")
    up = "../" * (len(page.relative_to(site).parts) - 1)
    link = f'<link rel="stylesheet" href="{up}{STYLESHEET}">'
    if link not in text:
        text = _HEAD_END.sub(link + "\n</head>", text, count=1)
    return text


@dataclass(frozen=True)
class Entry:
    """One validation result in the index."""

    suite: str
    validated_at: datetime
    success: bool
    evaluated: int
    failed: int
    page: str  # relative to the site


def validation_entries(store: Path, site: Path) -> list[Entry]:
    """Every stored validation result with a rendered page, newest first."""
    entries = []
    for result in store.glob("*/*/*/*.json"):
        page = site / "validations" / result.relative_to(store).with_suffix(".html")
        if not page.exists():
            continue
        document = json.loads(result.read_text(encoding="utf-8"))
        statistics = document.get("statistics", {})
        entries.append(
            Entry(
                suite=document.get("suite_name") or result.parts[-4],
                validated_at=datetime.fromisoformat(document["meta"]["validation_time"]),
                success=bool(document.get("success")),
                evaluated=int(statistics.get("evaluated_expectations", 0)),
                failed=int(statistics.get("unsuccessful_expectations", 0)),
                page=page.relative_to(site).as_posix(),
            )
        )
    return sorted(entries, key=lambda e: (e.validated_at, e.suite), reverse=True)


def index_page(entries: list[Entry]) -> str:
    """The site's index: validation results newest first, and the suites' pages."""
    rows = "\n".join(
        "<tr>"
        f"<td>{e.validated_at:%Y-%m-%d %H:%M:%S} UTC</td>"
        f'<td><a href="{html.escape(e.page)}">{html.escape(e.suite)}</a></td>'
        f'<td class="{"passed" if e.success else "failed"}">'
        f"{'passed' if e.success else 'FAILED'}</td>"
        f"<td>{e.evaluated}</td><td>{e.failed}</td>"
        "</tr>"
        for e in entries[:INDEX_RESULTS]
    )
    suites = sorted({e.suite for e in entries})
    suite_links = "\n".join(
        f'<li><a href="expectations/{html.escape(s)}.html">{html.escape(s)}</a></li>'
        for s in suites
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>inflow data quality: validation results</title>
<link rel="stylesheet" href="{STYLESHEET}">
</head>
<body>
<h1>inflow data quality</h1>
<p>great-expectations' validation results for the warehouse, newest first (the latest
{INDEX_RESULTS}). Each suite is one batch inflow validates: the new staged rows, freshness,
or a mart. Critical checks block publishing; <code>inflow status</code> and the report's
quality section name what each failed check concerns.</p>
<h2 id="Validation-Results">Validation results</h2>
<table id="validation-results">
<thead><tr><th>validated</th><th>suite</th><th>result</th><th>checks</th><th>failed</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2 id="Expectation-Suites">Expectation suites</h2>
<ul>
{suite_links}
</ul>
</body>
</html>
"""
