"""`--expect` expressions (rtcprobe.analyze.expect), `rtcprobe assess` and `capture --expect/--junit`:
the grammar and its one-line errors, verdicts with measured values on real records, exit statuses,
and JUnit XML in the shape of Jenkins' junit-4.xsd (the strictest of the common JUnit schemas)."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rtcprobe.analyze.detectors import detect
from rtcprobe.analyze.expect import ExpectationError, evaluate, measure, parse_expectation
from rtcprobe.analyze.voice import voice_summary
from rtcprobe.capture import load
from rtcprobe.cli import main
from rtcprobe.importers import load_captures
from rtcprobe.server import ServerConfig, run_server

DATA = Path(__file__).parent / "data"
CHROMIUM = DATA / "import-chromium-rtcstats_dump.gz"
JITSI = DATA / "realworld" / "dumps" / "jitsi-chrome-relay.gz"


@pytest.mark.parametrize(("text", "metric", "op", "value"), [
    ("connect<500ms", "connect", "<", 0.5), ("loss<2%", "loss", "<", 0.02), ("mos>=4", "mos", ">=", 4.0),
    ("v2v.p90<1500ms", "v2v.p90", "<", 1.5), (" rtt <= 0.2 s ", "rtt", "<=", 0.2),
    ("bitrate.sent>100kbps", "bitrate.sent", ">", 100_000.0), ("findings==0", "findings", "==", 0.0),
    ("MOS.received!=1", "mos.received", "!=", 1.0), ("jitter.received<.5ms", "jitter.received", "<", 0.0005),
])
def test_expressions_in_base_units(text: str, metric: str, op: str, value: float) -> None:
    e = parse_expectation(text)
    assert (e.metric, e.op) == (metric, op) and e.value == pytest.approx(value)


@pytest.mark.parametrize(("text", "names"), [
    ("connect<500", "connect needs a unit"), ("loss<2", "loss needs a unit"), ("los<2%", "unknown metric 'los'"),
    ("mos>=4x", "unit 'x' does not fit"), ("loss<500ms", "unit 'ms' does not fit"), ("loss 2%", "METRIC OP VALUE"),
    ("loss=2%", "write '=='"), ("loss<<2%", "'<2%' is not a number"), ("", "METRIC OP VALUE"),
])
def test_malformed_expressions_name_the_bad_part(text: str, names: str) -> None:
    with pytest.raises(ExpectationError) as caught:
        parse_expectation(text)
    assert names in str(caught.value) and str(caught.value).startswith(f"--expect {text!r}")


def test_verdicts_carry_the_measured_value() -> None:
    capture = load_captures(CHROMIUM, pc="9-1")[0]
    detection = detect(capture)
    measured = measure(capture, detection)
    worst_jitter = max(s.jitter_s for s in detection.streams if s.jitter_s is not None)
    outcomes = evaluate([parse_expectation(t) for t in ("jitter<1ms", "jitter<=10ms", "mos>=4", "loss<2%")], measured)
    assert [o.status for o in outcomes] == ["fail", "pass", "pass", "pass"]
    assert outcomes[0].measured == worst_jitter and outcomes[0].shown == f"{worst_jitter * 1000:.2f} ms"
    assert outcomes[2].measured == min(m.estimate.mos for m in detection.mos if m.estimate)


def test_unmeasured_fails_by_default_and_can_be_skipped() -> None:
    capture = load_captures(CHROMIUM, pc="9-1")[0]  # a browser dump: no voice turns, no first-packet time
    measured = measure(capture, detect(capture))
    wanted = [parse_expectation("v2v.p90<1500ms"), parse_expectation("connect<500ms")]
    failed = evaluate(wanted, measured)
    assert [o.status for o in failed] == ["fail", "fail"] and all(o.measured is None for o in failed)
    assert "voice turns" in failed[0].message and "first-packet time" in failed[1].message
    assert [o.status for o in evaluate(wanted, measured, unmeasured="skip")] == ["skipped", "skipped"]


def check_junit_4(text: str) -> ET.Element:
    """The rules of Jenkins' junit-4.xsd (dtkit-junit-model) that a writer can break: element order,
    required attributes, no attributes on <skipped>, testsuites' own attribute set."""
    root = ET.fromstring(text)
    assert root.tag == "testsuites" and set(root.attrib) <= {"name", "time", "tests", "failures", "disabled", "errors"}
    for suite in root:
        assert suite.tag == "testsuite" and {"name", "tests"} <= set(suite.attrib)
        order = [c.tag for c in suite]
        assert order == sorted(order, key=["properties", "testcase", "system-out", "system-err"].index)
        assert order.count("system-out") <= 1
        for case in suite.iter("testcase"):
            assert "name" in case.attrib
            tags = [c.tag for c in case]
            assert tags == sorted(tags, key=["skipped", "error", "failure", "system-out", "system-err"].index)
            assert all(not c.attrib for c in case if c.tag == "skipped")
    return root


def test_assess_over_dumps_exit_status_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "out" / "verdicts.xml"
    status = main(["assess", str(CHROMIUM), str(JITSI), "--expect", "loss<2%", "--expect", "mos>=4",
                   "--expect", "v2v.p90<1500ms", "--unmeasured", "skip", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert status == 1  # the Jitsi call lost over 2 % of a received video stream
    assert out.index("Findings") < out.index("Stream quality") < out.index("Expectations")
    root = check_junit_4(junit.read_text())
    suites = {s.get("name"): s for s in root}
    assert set(suites) == {"import-chromium-rtcstats_dump#9-1", "import-chromium-rtcstats_dump#10-1",
                           "jitsi-chrome-relay#PC_0"}
    jitsi = suites["jitsi-chrome-relay#PC_0"]
    assert (jitsi.get("tests"), jitsi.get("failures"), jitsi.get("skipped")) == ("3", "1", "1")
    failure = jitsi.find("testcase[@name='loss<2%']/failure")
    lossiest = max(s.loss_fraction or 0.0 for s in detect(load_captures(JITSI)[0]).streams)
    assert failure is not None and failure.get("message") == f"loss = {lossiest * 100:.2f} % (expected < 2 %)"
    assert "turn_used" in (jitsi.find("system-out").text or "")  # the findings ride along
    assert main(["assess", str(CHROMIUM), "--expect", "loss<2%", "--expect", "mos>=4"]) == 0


def test_a_malformed_expectation_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(CHROMIUM), "--expect", "loss<2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rtcprobe: error: --expect 'loss<2': loss needs a unit (a percentage: %)"]
    # capture checks its expectations before any session starts (the port is closed: it would fail)
    assert main(["capture", "http://127.0.0.1:9/whip", "--expect", "mos>>4"]) == 2


def test_assess_json_has_findings_and_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["assess", str(JITSI), "--json", "--expect", "findings==0"]) == 1
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["ice_outcome"] == "relay" and "turn_used" in [f["code"] for f in doc["findings"]]
    assert doc["expectations"][0]["measured"] == len(doc["findings"]) and doc["expectations"][0]["status"] == "fail"


@pytest.fixture
async def voice_target() -> AsyncIterator[str]:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0, voice_agent=True, think_ms=300,
                                                 vad_silence_ms=500))
    yield base
    await runner.cleanup()


@pytest.mark.slow
async def test_capture_with_turns_gates_on_v2v(voice_target: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A real session with voice turns: v2v comes from the voice_turn events, and the verdict, the
    JSON and the JUnit file agree with rtcprobe.analyze.voice."""
    output, junit = tmp_path / "c.jsonl", tmp_path / "j.xml"
    args = ["capture", voice_target + "/v1/realtime/calls", "--protocol", "openai", "--turns", "2",
            "--listen-timeout", "8", "--duration", "1", "--no-live", "--json", "-o", str(output),
            "--expect", "v2v.p90<60s", "--expect", "v2v.max<1ms", "--expect", "turns.unanswered==0", "--junit", str(junit)]
    status = await _run_cli(args)
    doc = json.loads(capsys.readouterr().out)
    assert status == 1 and [o["status"] for o in doc["expectations"]] == ["pass", "fail", "pass"]
    summary = voice_summary(load(output))
    assert summary.answered == 2
    assert doc["expectations"][0]["measured"] == pytest.approx(summary.v2v.p90 / 1000)
    assert doc["expectations"][1]["measured"] == pytest.approx(summary.v2v.maximum / 1000)
    root = check_junit_4(junit.read_text())
    assert root.get("failures") == "1" and root.find(".//testcase[@name='v2v.max<1ms']/failure") is not None


async def _run_cli(args: list[str]) -> int:
    """`main` runs its own event loop: run it on a thread while the target serves on this one."""
    return await asyncio.to_thread(main, args)
