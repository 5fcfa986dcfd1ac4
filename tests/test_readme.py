"""The README's quick start runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.usefixtures("one_thread")
def test_the_quick_start_runs(capsys):
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) == 1, "the README has one python block, the quick start"
    exec(compile(blocks[0], "README.md quick start", "exec"), {})  # noqa: S102
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == ["torch.Size([8, 3, 16, 16])", "torch.Size([8, 10])"]
    assert printed[2].startswith("tensor([")  # three Maximum Gains, one per channel
