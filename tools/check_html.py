"""Fail when a page of the built book loads anything from another host.

Usage: ``python tools/check_html.py _build/html``

The book must read offline. For every ``.html`` page of the build this checks the
resources a browser fetches when it opens the page (``<script src>``, stylesheets,
preloads and icons in ``<link href>``, ``<img src/srcset>``, ``<iframe>``, ``<source>``,
``<video>``, ``<audio>``, ``<embed>``, ``<object>``, ``url(...)`` in inline styles) and
every ``url(...)`` / ``@import`` of the build's CSS files: none may name another host
(``http://``, ``https://`` or ``//host``), and every local one must exist in the build.
A page with formulas must load MathJax from the book's own ``_static/mathjax/``.
Links (``<a href>``) may point anywhere: a reader follows them, the page does not load
them. ``make book`` runs this after the build; ``tools/browser_check.py`` checks the same
in a real browser, for requests that scripts make.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: ``<link rel=...>`` values whose ``href`` the browser fetches.
FETCHED_LINKS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "manifest"}
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
MATHJAX = "_static/mathjax/tex-chtml.js"


def is_remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme in {"http", "https", "ftp", "ws", "wss"}


def local_target(base: Path, url: str) -> Path | None:
    """The file a local URL names, or None for a data:/blob:/fragment-only URL."""
    parts = urlsplit(url)
    if parts.scheme or not parts.path:
        return None
    return (base / unquote(parts.path)).resolve()


class Resources(HTMLParser):
    """The URLs that opening a page fetches, and whether it has formulas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []  # (what, url)
        self.has_math = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "math" in a.get("class", "").split():
            self.has_math = True
        if tag == "script" and a.get("src"):
            self.urls.append(("script", a["src"]))
        elif tag == "link" and a.get("href"):
            if FETCHED_LINKS & set(a.get("rel", "").lower().split()):
                self.urls.append((f"link rel={a['rel']}", a["href"]))
        elif tag in {"img", "iframe", "source", "video", "audio", "embed", "track", "input"}:
            if a.get("src"):
                self.urls.append((tag, a["src"]))
            for item in a.get("srcset", "").split(","):
                if item.strip():
                    self.urls.append((f"{tag} srcset", item.split()[0]))
            if a.get("poster"):
                self.urls.append((f"{tag} poster", a["poster"]))
        elif tag == "object" and a.get("data"):
            self.urls.append(("object", a["data"]))
        for m in CSS_URL.finditer(a.get("style", "")):
            self.urls.append((f"{tag} style", m.group(2) or m.group(4)))


def check_page(root: Path, page: Path) -> tuple[list[str], bool]:
    parser = Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    problems = []
    scripts = set()
    for what, url in parser.urls:
        if is_remote(url):
            problems.append(f"{what} from another host: {url}")
            continue
        target = local_target(page.parent, url)
        if target is None:
            continue
        if what == "script":
            scripts.add(target)
        if not target.is_relative_to(root.resolve()):
            problems.append(f"{what} outside the build: {url}")
        elif not target.is_file():
            problems.append(f"{what} missing from the build: {url}")
    if parser.has_math and (root / MATHJAX).resolve() not in scripts:
        problems.append(f"has formulas but does not load {MATHJAX} of this build")
    return problems, parser.has_math


def check_css(root: Path, css: Path) -> list[str]:
    problems = []
    for m in CSS_URL.finditer(css.read_text(encoding="utf-8", errors="replace")):
        url = m.group(2) or m.group(4)
        if is_remote(url):
            problems.append(f"url from another host: {url}")
            continue
        target = local_target(css.parent, url)
        if target is not None and not target.is_file():
            problems.append(f"url missing from the build: {url}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2])
        return 2
    root = Path(argv[0])
    pages = sorted(p for p in root.rglob("*.html") if not {"_sources", "_static"} & set(p.parts))
    if not pages:
        print(f"check_html: no pages in {root}: build the book first (make book)")
        return 1
    failures: dict[str, list[str]] = {}
    with_math = 0
    for page in pages:
        problems, has_math = check_page(root, page)
        with_math += has_math
        if problems:
            failures[page.relative_to(root).as_posix()] = problems
    sheets = sorted(root.rglob("*.css"))
    for css in sheets:
        problems = check_css(root, css)
        if problems:
            failures[css.relative_to(root).as_posix()] = problems
    print(
        f"check_html: {len(pages)} pages ({with_math} with formulas) and {len(sheets)} style "
        f"sheets of {root}: nothing loaded from another host, every local resource present, "
        f"MathJax from {MATHJAX}"
    )
    for name, problems in failures.items():
        for problem in problems:
            print(f"  FAIL {name}: {problem}")
    if failures:
        print(f"check_html: {sum(map(len, failures.values()))} problems in {len(failures)} files")
        return 1
    print("check_html: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
