"""The README's command tables, made from the parser (`python -m rtcprobe.commands.usage_table
--write README.md`); tests/test_cli_hygiene.py fails when the README and the parser disagree.

One table of commands, then one table per command of every positional and option with its help
and default, as `rtcprobe CMD --help` prints them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

BEGIN = "<!-- commands: made by `python -m rtcprobe.commands.usage_table --write README.md` -->"
END = "<!-- commands: end -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _synopsis(name: str, parser: argparse.ArgumentParser) -> str:
    words = [f"rtcprobe {name}"]
    for action in parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        metavar = action.metavar or action.dest.upper()
        words.append(f"{metavar}..." if action.nargs in ("+", "*") else str(metavar))
    if any(a.option_strings and not isinstance(a, argparse._HelpAction) for a in parser._actions):
        words.append("[options]")
    return " ".join(words)


def _option(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest.upper()}`"
    spelled = ", ".join(action.option_strings)
    if action.nargs != 0:
        spelled += f" {formatter._format_args(action, formatter._get_default_metavar_for_optional(action))}"
    return f"`{spelled}`"


def markdown(parser: argparse.ArgumentParser) -> str:
    """The tables, between BEGIN and END."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in sub._choices_actions}
    lines = [BEGIN, "", "| command | what it does |", "|---|---|"]
    for name, command in sub.choices.items():
        lines.append(f"| [`{_cell(_synopsis(name, command))}`](#rtcprobe-{name}) | {_cell(helps[name] or '')} |")
    for name, command in sub.choices.items():
        formatter = command._get_formatter()
        lines += ["", f"#### rtcprobe {name}", "", "| argument | meaning |", "|---|---|"]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            meaning = formatter._get_help_string(action) % {"default": action.default, "prog": command.prog}
            if action.choices and not isinstance(action, argparse._SubParsersAction):
                meaning += f"; one of {', '.join(map(str, action.choices))}"
            lines.append(f"| {_cell(_option(action, formatter))} | {_cell(meaning)} |")
    return "\n".join([*lines, "", END])


def replaced(readme: str, tables: str) -> str:
    """`readme` with its tables between the markers replaced by `tables`."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + tables + readme[end:]


def main(argv: list[str]) -> int:
    from ..cli import build_parser

    tables = markdown(build_parser())
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        path.write_text(replaced(path.read_text(), tables))
    else:
        print(tables)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
