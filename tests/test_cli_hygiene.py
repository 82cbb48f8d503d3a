"""The command line as a seasoned CLI user tries it: fast --version/--help, help for everything with
its default, nonsensical numbers refused as usage errors, `python -m rtcprobe`, shell completion."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rtcprobe.cli import HelpFormatter, build_parser, default_text, main
from rtcprobe.commands.catalog import COMMANDS

HEAVY = ("aiortc", "aioice", "av", "pandas", "matplotlib", "numpy", "aiohttp")


def _imported_after(code: str) -> list[str]:
    """Heavy packages imported by running `code` in a fresh interpreter."""
    probe = (f"import sys\n{code}\n"
             f"import json; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--version"], ["--help"], []])
def test_version_and_help_import_nothing_heavy(argv: list[str]) -> None:
    code = f"from rtcprobe.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    assert _imported_after(code) == []


def test_import_rtcprobe_is_light_and_names_still_work() -> None:
    assert _imported_after("import rtcprobe") == []
    assert _imported_after("import rtcprobe; rtcprobe.parse_description") == []  # SDP model: no aiortc
    import rtcprobe

    assert callable(rtcprobe.load) and rtcprobe.Capture.__name__ == "Capture"
    with pytest.raises(AttributeError):
        rtcprobe.no_such_name  # noqa: B018


@pytest.mark.parametrize("command", ["serve", "import", "completion", "analyze", "diff"])
def test_command_help_imports_no_plotting(command: str) -> None:
    """`rtcprobe CMD --help` imports CMD's module only; none of these needs matplotlib or pandas."""
    code = f"from rtcprobe.cli import main\ntry:\n    main([{command!r}, '--help'])\nexcept SystemExit:\n    pass"
    assert not {"matplotlib", "pandas"} & set(_imported_after(code))


def test_python_dash_m() -> None:
    run = subprocess.run([sys.executable, "-m", "rtcprobe", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("rtcprobe ")


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [("rtcprobe", parser), *((f"rtcprobe {name}", p) for name, p in sub.choices.items())]


def test_every_command_is_in_the_catalog_and_registered() -> None:
    names = [name for name, _ in _parsers()[1:]]
    assert names == [f"rtcprobe {name}" for name in COMMANDS]


@pytest.mark.parametrize("name,parser", _parsers(), ids=[n for n, _ in _parsers()])
def test_every_option_and_positional_has_help_and_shows_its_default(name: str, parser: argparse.ArgumentParser) -> None:
    assert parser.formatter_class is HelpFormatter and parser.allow_abbrev is False
    text = parser.format_help()
    for action in parser._actions:
        label = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{name} {label}: no help text"
        shown = default_text(action)
        if shown is not None:
            assert "default" in parser._get_formatter()._get_help_string(action), f"{name} {label}: default not shown"
            assert shown in text or "default" in action.help, f"{name} {label}: default {shown} not in help"


def test_video_default_is_a_webcam() -> None:
    args = build_parser().parse_args(["capture", "http://127.0.0.1:1/whip"])
    assert (args.video_size, args.fps) == ((640, 480), 30.0)
    study = build_parser().parse_args(["capture", "http://127.0.0.1:1/whip", "--video-size", "1920x1080", "--fps", "1"])
    assert (study.video_size, study.fps) == ((1920, 1080), 1.0)


@pytest.mark.parametrize("argv,word", [
    (["capture", "http://127.0.0.1:1/whip", "--duration", "-1"], "--duration"),
    (["capture", "http://127.0.0.1:1/whip", "--stats-interval", "0"], "--stats-interval"),
    (["capture", "http://127.0.0.1:1/whip", "--fps", "0"], "--fps"),
    (["capture", "http://127.0.0.1:1/whip", "--fps", "nan"], "--fps"),
    (["capture", "http://127.0.0.1:1/whip", "--turns", "-2"], "--turns"),
    (["capture", "http://127.0.0.1:1/whip", "--listen-timeout", "0"], "--listen-timeout"),
    (["demo", "--duration", "-1"], "--duration"),
    (["analyze", "x.sdp", "--round", "0"], "--round"),
    (["completion", "fish"], "shell"),
    (["nosuch"], "invalid choice"),
])
def test_nonsense_is_a_one_line_usage_error(argv: list[str], word: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and word in err and "--help" in err and "Traceback" not in err


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_script_names_commands_and_options(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for word in ("capture", "assess", "--stats-interval", "--video-size", "--hide-volatile"):
        assert word in script
    if shell == "bash":  # the script is valid bash
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_stats_wide_with_a_mistyped_type_names_the_valid_ones() -> None:
    """`stats_wide("inbound_rtp")` on Jitsi's Chrome dump (tests/data/realworld/dumps) is an error,
    not an empty frame that reads as "no inbound stream"."""
    from pathlib import Path

    from rtcprobe.importers import load_captures

    dump = Path(__file__).parent / "data" / "realworld" / "dumps" / "jitsi-chrome-relay.gz"
    capture = next(c for c in load_captures(dump) if c.id.endswith("PC_0"))
    assert len(capture.stats_wide("inbound-rtp")) > 0
    with pytest.raises(ValueError, match=r"did you mean 'inbound-rtp'\?.*valid types: .*outbound-rtp"):
        capture.stats_wide("inbound_rtp")
    with pytest.raises(ValueError, match="no stats type 'inbound_rtp'"):
        capture.stats_wide("inbound_rtp")


README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_command_tables_are_the_parser() -> None:
    """Every option of every command, as `rtcprobe CMD --help` has it; when this fails, run
    `python -m rtcprobe.commands.usage_table --write README.md`."""
    from rtcprobe.commands.usage_table import BEGIN, END, markdown

    text = README.read_text()
    section = text[text.index(BEGIN):text.index(END) + len(END)]
    assert section == markdown(build_parser()), "run: python -m rtcprobe.commands.usage_table --write README.md"
    for name, parser in _parsers()[1:]:
        for action in parser._actions:
            for option in ([] if isinstance(action, argparse._HelpAction) else action.option_strings):
                assert f"`{option}" in section or f", {option}" in section, f"{name} {option} not in README"


def test_readme_examples_name_files_as_the_tool_writes_them() -> None:
    """Demo captures are `demo-YYYYMMDDTHHMMSS.mmmZ.jsonl` (commands.timestamped); imported ones
    `<dump stem>-<pc>.jsonl` (importers.capture_name)."""
    import re

    from rtcprobe.commands import timestamped
    from rtcprobe.importers import capture_name
    from rtcprobe.importers.common import SessionInfo

    stamp = re.compile(r"demo-\d{8}T\d{6}\.\d{3}Z\.jsonl")
    assert stamp.fullmatch(timestamped("demo"))
    named = re.findall(r"captures/(demo-\d[\w.]*\.jsonl)", README.read_text())
    assert named and all(stamp.fullmatch(n) for n in named), named
    assert "captures/webrtc_internals_dump-7-1.jsonl" in README.read_text()
    info = SessionInfo(source=Path("webrtc_internals_dump.txt"), format="webrtc-internals", key="7-1", start_ms=0.0)
    assert capture_name(info) == "webrtc_internals_dump-7-1.jsonl"


@pytest.mark.parametrize("value", ["-1", "0", "ice=0", "dtls=inf"])
def test_a_timeout_that_is_no_time_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Checked before the session starts (nothing listens on port 1: a session would say `http`)."""
    assert main(["capture", "http://127.0.0.1:1/whip", "--timeout", value, "--no-live"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--timeout: expected seconds > 0" in err
