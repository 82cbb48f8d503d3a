"""Hostile captures: fields of the wrong type, unknown schemas, cut and unreadable lines. The reader
drops every line that does not fit the event vocabulary (naming line and field) and keeps every
complete line that does; `report`, `analyze` and the DataFrames never see what was dropped.

Seeds are real sessions: `rtcprobe demo`'s capture (recorded here, once per module) and the
imports of tests/data/realworld/dumps/.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from pathlib import Path

import pytest
from hostile import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcprobe.capture import events as ev
from rtcprobe.capture import load
from rtcprobe.capture.validate import check_event
from rtcprobe.commands.demo import run_demo
from rtcprobe.commands.inspect import _analysis_document
from rtcprobe.errors import InputError
from rtcprobe.inputs import load_negotiations
from rtcprobe.report import jsonout
from rtcprobe.report.html import render_report

REALWORLD_DUMPS = Path(__file__).resolve().parent / "data" / "realworld" / "dumps"

#: Values of every JSON kind, each wrong for most fields somewhere.
WRONG = [None, "x", "", 7, -1, 1.5, True, [], [1, "a"], {}, {"a": None}]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict]]:
    """(header, events) of a real demo session: audio, video, a data channel, RTCP and stats."""
    folder = tmp_path_factory.mktemp("demo")
    _, path = asyncio.run(run_demo(2.0, folder, live=False))
    lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return lines[0], lines[1:]


def write(path: Path, header: dict, events: list, tail: bytes = b"") -> Path:
    with path.open("wb") as f:
        for record in [header, *events]:
            f.write(json.dumps(record).encode() + b"\n")
        f.write(tail)
    return path


def test_every_field_the_probe_writes_is_in_the_vocabulary(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    header, events = demo
    names = {e["event"] for e in events}
    assert {ev.SDP, ev.CANDIDATE, ev.HTTP, ev.RTCP, ev.STATS, ev.DC_MESSAGE, ev.END} <= names
    for record in events:
        assert set(record) - {"event", "t"} <= set(ev.VOCABULARY[record["event"]]), record["event"]
        assert check_event(record) is None
    cap = load(write(tmp_path / "demo.jsonl", header, events))
    assert cap.problems == [] and len(cap.events) == len(events)
    # the docstring names the same events and fields as the vocabulary
    for name, fields in ev.VOCABULARY.items():
        entry = re.search(rf"^- ``{name}``(.*?)(?=^- ``|\Z)", ev.__doc__ or "", re.S | re.M)
        assert entry is not None, name
        for field_name in fields:
            assert re.search(rf"\b{field_name}\b", entry.group(1)), (name, field_name)


def test_every_imported_realworld_dump_fits_the_vocabulary(tmp_path: Path) -> None:
    imported = 0
    for dump in sorted(REALWORLD_DUMPS.glob("*.gz")):
        out = tmp_path / dump.name
        run = run_cli("import", "-o", str(out), str(dump))
        assert run.status == 0 or "no PeerConnections" in run.stderr, run.stderr  # getUserMedia-only dumps
        for path in out.glob("*.jsonl"):
            assert load(path).problems == [], path
            imported += 1
    assert imported >= 10


def test_each_wrong_type_drops_its_line_and_names_it(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    """Every documented field of every event kind, set to each JSON kind it may not take."""
    header, events = demo
    seen = {}
    for record in events:
        seen.setdefault(record["event"], record)
    checked = 0
    for name, record in seen.items():
        for field_name in ev.VOCABULARY[name]:
            for value in WRONG:
                bad = dict(record, **{field_name: value})
                if check_event(bad) is None:
                    continue  # that value is allowed there
                path = write(tmp_path / "c.jsonl", header, [*events, bad])
                cap = load(path)
                line = len(events) + 2
                assert len(cap.events) == len(events), (name, field_name, value)
                assert any(p.startswith(f"{path}:{line}: ") and field_name in p for p in cap.problems), cap.problems
                checked += 1
    assert checked > 300


def test_nested_shapes_are_checked(demo: tuple[dict, list[dict]]) -> None:
    _, events = demo
    stats = next(e for e in events if e["event"] == ev.STATS)
    http = next(e for e in events if e["event"] == ev.HTTP)
    for path, value, where in [
        (("reports", 0, "packetsSent"), "12", "reports[0].packetsSent"),
        (("reports", 0, "id"), None, "reports[0].id"),
        (("reports", 0), [], "reports[0]"),
        (("request_headers", "Content-Type"), None, "request_headers.Content-Type"),
        (("request_headers",), None, "request_headers"),
        (("form_fields",), {"sdp": "x"}, "form_fields"),
        (("form_fields",), [["sdp"]], "form_fields[0]"),
        (("request_content_type",), ["multipart/form-data"], "request_content_type"),
    ]:
        record = copy.deepcopy(stats if path[0] == "reports" else http)
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        problem = check_event(record)
        assert problem is not None and where in problem, (path, problem)


def test_schema_versions(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    header, events = demo
    for schema in ("rtcprobe-capture/999", "rtcprobe-capture/2.0", "rtcprobe-capture/0", "rtcprobe-capture/x", 1):
        path = write(tmp_path / "c.jsonl", dict(header, schema=schema), events)
        with pytest.raises(InputError, match="schema"):
            load(path)
        run = run_cli("analyze", str(path))
        assert run.status == 2 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
        assert str(path) in run.stderr and "schema" in run.stderr
    cap = load(write(tmp_path / "c.jsonl", dict(header, schema="rtcprobe-capture/1.7"), events))
    assert len(cap.events) == len(events) and "newer rtcprobe" in cap.problems[0]
    assert load(write(tmp_path / "c.jsonl", dict(header, schema="rtcprobe-capture/1.0"), events)).problems == []


def test_last_line_cut_inside_a_utf8_character_loses_only_that_line(demo: tuple[dict, list[dict]],
                                                                    tmp_path: Path) -> None:
    header, events = demo
    body = [e for e in events if e["event"] != ev.END]
    last = json.dumps({"event": "error", "t": 9.0, "phase": "media", "message": "caf\u00e9 \u6f22"},
                      ensure_ascii=False).encode()
    cut = last[: last.index("\u6f22".encode()) + 1]  # inside the 3-byte character
    cap = load(write(tmp_path / "cut.jsonl", header, body, tail=cut))
    assert len(cap.events) == len(body) and cap.cut
    assert any(":" + str(len(body) + 2) + ": last line is incomplete" in p for p in cap.problems)


def test_unreadable_lines_in_the_middle_are_skipped_and_counted(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    header, events = demo
    path = tmp_path / "c.jsonl"
    bad_lines = [b"\xff\xfe not utf-8", b"[" * 100_000, b'{"event": "state", "t": ' + b"9" * 5000 + b"}",
                 b"{not json", b"42", b'"text"']
    with path.open("wb") as f:
        f.write(json.dumps(header).encode() + b"\n")
        for i, record in enumerate(events):
            f.write(json.dumps(record).encode() + b"\n")
            if i < len(bad_lines):
                f.write(bad_lines[i] + b"\n")
    cap = load(path)
    assert len(cap.events) == len(events) and not cap.cut
    skipped = [p for p in cap.problems if "skipped" in p]
    assert len(skipped) == len(bad_lines)
    assert [int(p.split(":")[1]) for p in skipped] == [3 + 2 * i for i in range(len(bad_lines))]


def test_many_bad_lines_give_a_count_not_a_flood(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    header, events = demo
    bad = [{"event": "rtcp", "t": 1.0, "direction": "sent", "packet_type": "SR", "pt": "200", "fmt": 0,
            "size": 28}] * 500
    cap = load(write(tmp_path / "c.jsonl", header, events + bad))
    assert len(cap.events) == len(events)
    assert len(cap.problems) == 21 and "500 lines skipped in all" in cap.problems[-1]


def test_unknown_events_and_fields_are_kept(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    header, events = demo
    extra = [{"event": "quic_stream", "t": 1.0, "id": 4}, dict(events[0], future_field=[1, 2])]
    cap = load(write(tmp_path / "c.jsonl", header, events + extra))
    assert len(cap.events) == len(events) + 2 and cap.events[-1]["future_field"] == [1, 2]
    assert any("'quic_stream' (1)" in p for p in cap.problems)


def test_cli_report_and_analyze_on_a_damaged_capture(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    """What the 194 broken files did: null headers, odd form fields, strings for numbers, lists for objects."""
    header, events = demo
    damaged = []
    for record in events:
        record = copy.deepcopy(record)
        if record["event"] == ev.HTTP:
            record.update(request_headers=None, form_fields="sdp", request_content_type={"a": 1})
        elif record["event"] == ev.STATS:
            record["reports"][0]["bytesSent"] = "1000"
        elif record["event"] == ev.RTCP:
            record["lost"] = {"0": 1}
        elif record["event"] == ev.CANDIDATE:
            record["mline_index"] = "0"
        damaged.append(record)
    path = write(tmp_path / "damaged.jsonl", header, damaged)
    report = run_cli("report", str(path), "-o", str(tmp_path / "r.html"))
    assert report.status == 0 and "Traceback" not in report.stderr, report.stderr
    assert f"{path}:" in report.stderr and "skipped" in report.stderr
    analyze = run_cli("analyze", "--json", str(path))
    assert analyze.status == 0 and "Traceback" not in analyze.stderr, analyze.stderr


# -- fuzz: events drawn from the vocabulary itself, and mutated real captures --------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=8)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def from_shape(shape: ev.Shape) -> st.SearchStrategy:
    """Any value the vocabulary allows for `shape` (so views must take it), with extra keys in objects."""
    options = []
    for kind in shape.kinds:
        if kind == "str":
            options.append(st.sampled_from(shape.choices) if shape.choices else st.text(max_size=12))
        elif kind == "int":
            options.append(st.integers(-(2**63), 2**63 - 1))
        elif kind == "number" and shape.bounds is not None:
            options.append(st.floats(*shape.bounds))
        elif kind == "number":
            options.append(st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False))
        elif kind == "bool":
            options.append(st.booleans())
        elif kind == "null":
            options.append(st.none())
        elif kind == "list":
            options.append(st.lists(from_shape(shape.items) if shape.items else JSON_VALUES, max_size=4))
        elif kind == "object" and shape.fields is not None:
            options.append(st.fixed_dictionaries(
                {k: from_shape(f.shape) for k, f in shape.fields.items() if f.required},
                optional={**{k: from_shape(f.shape) for k, f in shape.fields.items() if not f.required},
                          "extra": JSON_VALUES}))
        elif kind == "object":
            options.append(st.dictionaries(st.text(max_size=10), from_shape(shape.values) if shape.values
                                           else JSON_VALUES, max_size=4))
        else:
            options.append(JSON_VALUES)
    return st.one_of(options)


EVENT_SHAPES = {name: ev.Shape(("object",), fields={"t": ev.req(ev.CLOCK), **fields})
                for name, fields in ev.VOCABULARY.items()}
vocabulary_event = st.sampled_from(sorted(EVENT_SHAPES)).flatmap(
    lambda name: from_shape(EVENT_SHAPES[name]).map(lambda e: {"event": name, **e})) | st.fixed_dictionaries(
    {"event": st.text(max_size=8).filter(lambda n: n not in EVENT_SHAPES and n != ev.HEADER),
     "t": from_shape(ev.CLOCK)}, optional={"extra": JSON_VALUES})  # a newer rtcprobe's event: kept


def views(path: Path) -> None:
    """What `report`, `analyze` and a notebook do with a capture: none may raise but InputError."""
    cap = load(path)
    for frame in (cap.candidates, cap.timeline, cap.stats, cap.stats_wide, cap.rtcp, cap.datachannel,
                  cap.latency):
        frame()
    repr(cap)
    try:
        negotiations = load_negotiations(path)
    except InputError as exc:
        assert "no session description" in str(exc)
        negotiations = []
    for negotiation in negotiations:
        jsonout.dumps(_analysis_document(negotiation))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_vocabulary_events_through_every_view(demo: tuple[dict, list[dict]], tmp_path: Path,
                                                   data: st.DataObject) -> None:
    header, events = demo
    kept = data.draw(st.lists(st.sampled_from(events), max_size=20))
    drawn = data.draw(st.lists(vocabulary_event, max_size=12))
    mixed = data.draw(st.permutations(kept + drawn))
    path = write(tmp_path / "f.jsonl", header, mixed)
    assert len(load(path).events) == len(mixed)  # all fit: none dropped
    views(path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_mutated_real_captures_through_every_view(demo: tuple[dict, list[dict]], tmp_path: Path,
                                                       data: st.DataObject) -> None:
    header, events = demo
    mutated = copy.deepcopy(events)
    for _ in range(data.draw(st.integers(1, 8))):
        record = data.draw(st.sampled_from(mutated))
        key = data.draw(st.sampled_from(sorted(record)))
        record[key] = data.draw(JSON_VALUES | st.sampled_from(WRONG))
    path = write(tmp_path / "m.jsonl", header, mutated)
    views(path)


def test_report_renders_fuzzed_captures(demo: tuple[dict, list[dict]], tmp_path: Path) -> None:
    """The HTML report (slow: a few drawn captures, fixed seed) of vocabulary events and mutations."""
    header, events = demo
    found = []

    @settings(max_examples=12, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(drawn=st.lists(vocabulary_event, min_size=1, max_size=15))
    def render(drawn: list[dict]) -> None:
        path = write(tmp_path / "r.jsonl", header, events + drawn)
        render_report([path])
        found.append(path)

    render()
    assert found
