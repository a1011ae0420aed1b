"""The README tells the truth: every setting is documented, and CI runs its test command."""

import re
from pathlib import Path

from service.config import environment_variables

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    for variable, _, _ in environment_variables():
        assert f"`{variable}`" in README, f"README does not document {variable}"


def test_quick_start_has_two_commands_and_ci_runs_the_test_command():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick_start)
    assert len(commands) == 2
    run, test = commands
    assert "serve --demo" in run and "pytest" in test
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
