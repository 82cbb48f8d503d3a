"""JUnit XML of expectation outcomes (`--junit FILE`), as Jenkins, GitLab and GitHub reporters read it.

One <testsuite> per capture, one <testcase> per expectation: name = the expectation as written,
classname = `rtcprobe.<capture id>`; a failed one carries <failure message="..." type="expectation">,
an unmeasured one skipped by policy <skipped>why</skipped>. The shape is the common subset the tools
accept: Jenkins' junit-4.xsd (dtkit-junit-model), the strictest of them (no attributes on <skipped>,
no `skipped` count on <testsuites>, testsuite children in the order testcase*, system-out).
Views render, never compute: the outcomes come from rtcprobe.analyze.expect."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..analyze.expect import Outcome
from ..outputs import replacing

#: Characters XML 1.0 cannot carry even escaped: a capture id or a server's words may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("?", str(value))


@dataclass
class SuiteResult:
    """One capture's outcomes and the lines that explain it (the findings) for <system-out>."""

    capture: str
    outcomes: list[Outcome]
    notes: list[str]


def junit_xml(suites: list[SuiteResult]) -> str:
    root = ET.Element("testsuites", name="rtcprobe expectations",
                      tests=str(sum(len(s.outcomes) for s in suites)),
                      failures=str(sum(o.failed for s in suites for o in s.outcomes)), errors="0", time="0")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for suite in suites:
        element = ET.SubElement(root, "testsuite", name=_text(suite.capture), tests=str(len(suite.outcomes)),
                                failures=str(sum(o.failed for o in suite.outcomes)), errors="0",
                                skipped=str(sum(o.status == "skipped" for o in suite.outcomes)), time="0",
                                timestamp=stamp)
        for outcome in suite.outcomes:
            case = ET.SubElement(element, "testcase", name=_text(outcome.expectation),
                                 classname=_text(f"rtcprobe.{suite.capture}"), time="0")
            if outcome.failed:
                failure = ET.SubElement(case, "failure", message=_text(outcome.message), type="expectation")
                failure.text = _text(outcome.message)
            elif outcome.status == "skipped":
                ET.SubElement(case, "skipped").text = _text(outcome.message)  # junit-4.xsd: text, no attributes
            out = ET.SubElement(case, "system-out")
            out.text = _text(f"{outcome.metric} measured: {outcome.shown}")
        if suite.notes:
            ET.SubElement(element, "system-out").text = _text("\n".join(suite.notes))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str | Path, suites: list[SuiteResult]) -> None:
    """Written beside the target and renamed over it when complete (rtcprobe.outputs)."""
    with replacing(path) as file:
        file.write(junit_xml(suites))
