"""The README tells the truth: every setting is documented, CI runs its test command, and the
command is called one way throughout."""

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


def test_the_command_is_called_as_the_quick_start_installs_it():
    # `partnerships serve` after `.venv/bin/partnerships serve` leaves a reader guessing
    # whether a virtual environment is meant to be active.
    commands = "serve|worker|migrate|openapi|keys|load|export|sync-calendars"
    calls = [m.start() for m in re.finditer(rf"\bpartnerships (?:{commands})\b", README)]
    other = [README[start - 20:start + 30] for start in calls if README[:start][-len(".venv/bin/"):] != ".venv/bin/"]
    assert calls and not other
