"""Sphinx extension of this book: each script once per page.

Sphinx 7.4 lists an inline script that an extension adds after the builder has started
(``app.add_js_file(None, body=...)``, as sphinx-thebe and sphinx-togglebutton do) twice,
once under the name ``None`` and once under ``""``, so every page ran it twice and
sphinx-thebe's ``const THEBE_JS_URL = ...`` threw "Identifier 'THEBE_JS_URL' has already
been declared" (found by ``tools/browser_check.py``). This drops the repeats from each
page's list of scripts, keeping the first.
"""

from __future__ import annotations

from typing import Any


def _once(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    kept = []
    for script in scripts:
        name = getattr(script, "filename", script) or ""
        attributes = getattr(script, "attributes", {})
        key = (str(name), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _once, priority=900)  # after the extensions add theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
