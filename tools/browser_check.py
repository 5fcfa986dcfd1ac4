"""Open every page of the built book in headless Chromium and check what a reader sees.

Usage: ``python tools/browser_check.py _build/html [--chromium /usr/bin/chromium]
[--budget 20] [--width 1280] [--screenshots DIR] [PAGE ...]``

The build is served by a local ``http.server`` on 127.0.0.1 and each page is opened in
Chromium (Debian's, driven by Playwright: no browser download), which gets ``--budget``
seconds per page for its JavaScript (MathJax typesetting, images). Asserted on every page:

- **offline**: no request leaves 127.0.0.1 (any other host is blocked and reported), no
  local request fails, no uncaught JavaScript error;
- **formulas**: every formula (``.math``) was typeset by MathJax (an ``mjx-container``
  inside, no ``merror``) and no raw TeX (``\\(``, ``\\[``, ``$$``, ``\\begin{``) is left in
  the text outside code;
- **figures**: every image has loaded (``naturalWidth > 0``);
- **width**: no table, cell output, image or display formula is wider than the content
  column (``article.bd-article``); a too-wide element is named by its section and text.

All problems of all pages are listed, then the exit status is 1 if there were any.
Screenshots are written only with ``--screenshots DIR`` (keep them out of the repository:
``_build/`` is ignored). ``make browser`` runs this after ``make book``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

FLAGS = [  # what works on a closed network, as root, without a display
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs in the page once it has loaded: waits (within the budget) for MathJax and the
# images, then measures. Returns the facts; Python turns them into problems.
MEASURE = r"""
async (budgetMs) => {
  const deadline = Date.now() + budgetMs;
  const left = () => Math.max(0, deadline - Date.now());
  const within = (p) => Promise.race([p.then(() => true),
                                      new Promise((r) => setTimeout(() => r(false), left()))]);
  const facts = {mathjax: "none", timeout: [], problems: [], counts: {}};
  const maths = [...document.querySelectorAll(".math")];
  if (maths.length) {
    // MathJax is loaded with defer: wait for it to appear, then for its first typeset.
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise) && left() > 0)
      await new Promise((r) => setTimeout(r, 50));
    if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
      facts.timeout.push("MathJax did not start");
    } else if (!(await within(MathJax.startup.promise))) {
      facts.timeout.push("MathJax did not finish typesetting");
    }
    facts.mathjax = window.MathJax && MathJax.version ? MathJax.version : "missing";
  }
  const images = [...document.querySelectorAll("article img")];
  images.forEach((img) => { img.loading = "eager"; });
  if (!(await within(Promise.all(images.map((img) => img.decode().catch(() => null))))))
    facts.timeout.push("images did not finish loading");

  const article = document.querySelector("article.bd-article") || document.body;
  const cs = getComputedStyle(article);
  const box = article.getBoundingClientRect();
  const colLeft = box.left + parseFloat(cs.paddingLeft);
  const colRight = box.right - parseFloat(cs.paddingRight);
  const column = colRight - colLeft;
  facts.column = Math.round(column);

  const where = (el) => {  // the nearest section heading above el, and a bit of its text
    let node = el, heading = "";
    while (node && node !== article && !heading) {
      let sib = node.previousElementSibling;
      while (sib && !heading) {
        const h = sib.matches("h1,h2,h3,h4") ? sib : sib.querySelector("h1,h2,h3,h4");
        if (h && sib.matches("h1,h2,h3,h4")) heading = h.textContent;
        else if (sib.matches("section")) {
          const hs = sib.querySelectorAll("h1,h2,h3,h4");
          if (hs.length) heading = hs[hs.length - 1].textContent;
        }
        sib = sib.previousElementSibling;
      }
      node = node.parentElement;
      if (!heading && node && node.matches("section")) {
        const h = node.querySelector(":scope > h1, :scope > h2, :scope > h3, :scope > h4");
        if (h) heading = h.textContent;
      }
    }
    const text = (el.innerText || el.getAttribute("alt") || el.getAttribute("src") || "")
      .replace(/\s+/g, " ").trim().slice(0, 70);
    return `under "${heading.replace(/[#¶\s]+$/, "").trim()}": ${JSON.stringify(text)}`;
  };

  // formulas
  let typeset = 0;
  if (maths.length && !document.querySelector("article mjx-container"))
    facts.problems.push(["formula", `none of the ${maths.length} formulas was typeset`]);
  else maths.forEach((m, i) => {
    if (m.querySelector("mjx-merror, merror, [data-mjx-error]"))
      facts.problems.push(["formula", `formula #${i + 1} has a MathJax error ${where(m)}`]);
    else if (m.querySelector("mjx-container")) typeset += 1;
    else facts.problems.push(["formula", `formula #${i + 1} was not typeset ${where(m)}`]);
  });
  facts.counts.formulas = maths.length;
  const skip = "pre, code, script, style, textarea, mjx-container, .math";
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const raw = /\\\(|\\\[|\$\$|\\begin\{/;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (raw.test(n.data) && !n.parentElement.closest(skip))
      facts.problems.push(["formula", `raw TeX in the text ${where(n.parentElement)}`]);
  }

  // figures
  images.forEach((img, i) => {
    if (!img.complete || img.naturalWidth === 0)
      facts.problems.push(
        ["image", `image #${i + 1} did not load (${img.getAttribute("src")}) ${where(img)}`]);
  });
  facts.counts.images = images.length;

  // width: the element's own box or what it scrolls, against the content column
  const wide = [
    ["table", "article table"],
    ["output", "article .cell_output > *"],
    ["image", "article img"],
    ["display formula", "article div.math mjx-container"],
  ];
  for (const [kind, selector] of wide) {
    const els = [...document.querySelectorAll(selector)];
    facts.counts[kind] = els.length;
    els.forEach((el, i) => {
      if (kind === "output" && el.querySelector("table, img"))
        return;  // a table or an image in an output is measured as such
      const r = el.getBoundingClientRect();
      let width = Math.max(r.width, el.scrollWidth);
      for (const inner of el.querySelectorAll("pre, .highlight")) {
        width = Math.max(width, inner.scrollWidth + (inner.getBoundingClientRect().left - r.left));
      }
      const right = r.left + width;
      const over = Math.max(0, right - colRight) + Math.max(0, colLeft - r.left);
      if (over > 1)
        facts.problems.push([`wide ${kind}`,
          `${kind} #${i + 1} is ${Math.round(width)} px wide, the column ` +
          `${Math.round(column)} px (${Math.round(over)} px over) ${where(el)}`]);
    });
  }
  facts.counts.typeset = typeset;
  return facts;
}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def is_redirect(path: Path) -> bool:
    """A page that only sends the reader on (Jupyter Book's root index.html)."""
    head = path.read_text(encoding="utf-8", errors="replace")[:500].lower()
    return 'http-equiv="refresh"' in head and "<body" not in head


def pages_of(root: Path, chosen: list[str]) -> tuple[list[str], list[str]]:
    """The pages to open, and the redirects among them (whose targets are opened)."""
    found = chosen or sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.html")
        if not {"_sources", "_static"} & set(p.relative_to(root).parts)
    )
    redirects = [page for page in found if is_redirect(root / page)]
    return [page for page in found if page not in redirects], redirects


def check_page(context, base: str, page: str, budget: float, shots: Path | None):
    """Open one page; return its problems as (kind, text), the measured facts, seconds."""
    problems: list[tuple[str, str]] = []
    host = urlsplit(base).netloc

    def local(url: str) -> bool:
        return urlsplit(url).netloc == host

    def on_route(route, request):
        if local(request.url) or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            problems.append(("offline", f"request to another host (blocked): {request.url}"))
            route.abort()

    def on_failed(request):
        if local(request.url):
            problems.append(("request", f"request failed: {request.url} ({request.failure})"))

    def on_response(response):
        if local(response.url) and response.status >= 400:
            problems.append(("request", f"HTTP {response.status}: {response.url}"))

    tab = context.new_page()
    tab.route("**/*", on_route)
    tab.on("pageerror", lambda err: problems.append(("javascript", f"JavaScript error: {err}")))
    tab.on("requestfailed", on_failed)
    tab.on("response", on_response)
    started = time.monotonic()
    try:
        tab.goto(f"{base}/{page}", wait_until="load", timeout=budget * 1000)
        facts = tab.evaluate(MEASURE, max(1.0, budget - (time.monotonic() - started)) * 1000)
    except Exception as err:  # a page that does not load, or whose measuring throws
        problems.append(("load", f"could not be checked: {str(err).splitlines()[0]}"))
        tab.close()
        return problems, {}, time.monotonic() - started
    problems += [("timeout", f"{what} within the {budget:g} s budget") for what in facts["timeout"]]
    problems += [tuple(problem) for problem in facts["problems"]]
    if shots is not None:
        target = shots / (page.replace("/", "__").removesuffix(".html") + ".png")
        tab.screenshot(path=str(target), full_page=True)
    tab.close()
    return problems, facts, time.monotonic() - started


def read_known(path: Path | None) -> dict[tuple[str, str], str]:
    """``page  kind  # why`` lines: problems of that kind on that page are reported, not failed."""
    known: dict[tuple[str, str], str] = {}
    if path is None:
        return known
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        entry, _, why = line.partition("#")
        fields = entry.split(None, 1)
        if not fields:
            continue
        if len(fields) != 2 or fields[1].strip() not in KINDS:
            raise SystemExit(f"{path}:{number}: want 'page kind  # why', kind one of {KINDS}")
        known[(fields[0], fields[1].strip())] = why.strip()
    return known


KINDS = (
    "offline",
    "request",
    "javascript",
    "load",
    "timeout",
    "formula",
    "image",
    "wide table",
    "wide output",
    "wide image",
    "wide display formula",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("root", type=Path, help="the built book (_build/html)")
    parser.add_argument("pages", nargs="*", help="pages relative to root (default: all)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per page")
    parser.add_argument("--width", type=int, default=1280, help="window width in px")
    parser.add_argument("--screenshots", type=Path, help="write a PNG of each page here")
    parser.add_argument(
        "--known",
        type=Path,
        help="file of 'page kind  # why' lines: problems known and owned elsewhere, "
        "listed but not failed",
    )
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    known = read_known(args.known)
    pages, redirects = pages_of(args.root, args.pages)
    if not pages:
        print(f"browser_check: no pages in {args.root}: build the book first (make book)")
        return 1
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    server, base = serve(args.root)
    started = time.monotonic()
    failing: dict[str, int] = {}
    tolerated: set[tuple[str, str]] = set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": args.width, "height": 900})
        print(
            f"browser_check: {len(pages)} pages of {args.root} served on {base}, Chromium "
            f"{browser.version} headless at {args.width} px, {args.budget:g} s of JavaScript "
            "per page\n  asserts: no request leaves 127.0.0.1, no failed request or JS "
            "error; every formula typeset by MathJax (mjx-container, no merror) and no raw "
            "TeX (\\( \\[ $$ \\begin) in the text; every image loaded; no table, output, "
            "image or display formula wider than the content column"
        )
        for page in redirects:
            print(f"  skip  {page}: a redirect (its target is checked)")
        for page in pages:
            problems, facts, took = check_page(context, base, page, args.budget, args.screenshots)
            counts = facts.get("counts", {})
            new = [(k, t) for k, t in problems if (page, k) not in known]
            tolerated |= {(page, k) for k, _ in problems if (page, k) in known}
            status = "FAIL" if new else ("known" if problems else "ok")
            print(
                f"  {status:5} {page}: {counts.get('formulas', 0)} formulas (MathJax "
                f"{facts.get('mathjax')}), {counts.get('images', 0)} images, "
                f"{counts.get('table', 0)} tables, {counts.get('output', 0)} outputs, "
                f"column {facts.get('column', '?')} px, {took:.1f} s"
            )
            for kind, text in problems:
                mark = "known " if (page, kind) in known else ""
                print(f"          - {mark}{kind}: {text}")
            if new:
                failing[page] = len(new)
        browser.close()
    server.shutdown()
    checked = set(pages)
    for (page, kind), why in known.items():
        if page in checked and (page, kind) not in tolerated:
            print(f"  fixed {page}: no '{kind}' problem now ({why}): remove it from {args.known}")
    total = sum(failing.values())
    n_known = len(tolerated)
    print(
        f"browser_check: {len(pages)} pages in {time.monotonic() - started:.0f} s: "
        + (f"{total} problems on {len(failing)} pages" if failing else "ok")
        + (f" ({n_known} known page/kind pairs listed in {args.known})" if n_known else "")
    )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
