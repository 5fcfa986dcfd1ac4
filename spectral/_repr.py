"""Module reprs that fit the book's column: options wrapped over several lines."""

from __future__ import annotations

__all__ = ["wrapped_options"]


def wrapped_options(*options: str, width: int = 72) -> str:
    """``options`` joined by ``", "`` for an ``extra_repr``, with a line break between two
    options wherever a line would pass ``width`` characters (``nn.Module`` indents each
    line); an option is never split."""
    lines = [""]
    for i, option in enumerate(options):
        text = option + ("," if i < len(options) - 1 else "")
        if lines[-1] and len(lines[-1]) + 1 + len(text) > width:
            lines.append(text)
        else:
            lines[-1] = f"{lines[-1]} {text}" if lines[-1] else text
    return "\n".join(lines)
