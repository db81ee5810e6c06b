"""JUnit XML (`python -m preflight --junit FILE`): one test case per rule x resource.

A test suite per rule; a test case per resource the rule applies to (the registry's resource
types for this repository's pack; every custom resource for a pack preflight knows nothing
about), plus every resource the rule reported a finding on. Outcome of a test case:

* failure  - a violation that fails the run (mandatory; advisory too with --fail-on advisory);
* skipped  - acknowledged by a waiver, or not checked while unknown (and not judged at update);
* passed   - no finding, or a non-blocking advisory (written to system-out, with its advice).

A suite `stack-setting-warning` has a case per warning about a stack setting (failure with
--fail-on advisory, else passed with the warning as output).

No timings: two runs give the same file.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from .analyzer_messages import NOT_CHECKED
from .check import SETTING_WARNING_RULE
from .report import short_urn
from .rulemeta import rule_meta


def _cases(check) -> dict[str, dict[str, list]]:
    """rule -> urn -> findings (empty list: the rule applies, nothing found)."""
    regs = [r for r in check.registrations if r.custom and not r.type.startswith("pulumi:providers:")]
    out: dict[str, dict[str, list]] = {}
    for meta in rule_meta(check):
        cases = out.setdefault(meta.name, {})
        for r in regs:
            if meta.types is None or r.type in meta.types:
                cases.setdefault(r.urn, [])
    for f in check.findings:
        out.setdefault(f.policy, {}).setdefault(f.urn, []).append(f)
    return out


def _outcome(check, findings: list, failing: set) -> tuple[str, str, str]:
    """(state, message, text) with state failure | skipped | passed."""
    fail = [f for f in findings if id(f) in failing]
    if fail:
        f = fail[0]
        text = "\n".join(f"[{x.phase}] {x.message}" + (f"\nfix: {x.advice.text}" if x.advice else "")
                         for x in fail)
        return "failure", f"{f.level}: {f.message}", text
    acked = [f for f in findings if f.waiver is not None]
    if acked:
        w = acked[0].waiver
        return "skipped", f"acknowledged by waiver ({w.where}): {w.reason}", ""
    open_ = [f for f in findings if f.kind == NOT_CHECKED and f.judged in (None, "unknown")]
    if open_:
        return "skipped", f"not checked while unknown in preview: {open_[0].detail}", ""
    notes = [f for f in findings if f.kind != NOT_CHECKED]
    notes += [f for f in findings if f.kind == NOT_CHECKED and f.judged == "passed"]
    text = "\n".join(
        (f"[{f.phase}] {f.level}: {f.message}" + (f"\nfix: {f.advice.text}" if f.advice else ""))
        if f.kind != NOT_CHECKED else
        f"[preview] not checked while unknown ({f.detail}); passed with mocked update values"
        for f in notes)
    return "passed", "", text


def to_junit(check) -> ET.ElementTree:
    failing = {id(f) for f in check.failing}
    names = {r.urn: short_urn(r.urn) for r in check.registrations}
    root = ET.Element("testsuites", name=f"preflight {check.project}-{check.stack}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for rule, cases in sorted(_cases(check).items()):
        suite = ET.SubElement(root, "testsuite", name=f"preflight.{check.stack}.{rule}")
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for urn in sorted(cases):
            state, message, text = _outcome(check, cases[urn], failing)
            case = ET.SubElement(suite, "testcase", classname=f"preflight.{check.stack}.{rule}",
                                 name=names.get(urn) or short_urn(urn))
            counts["tests"] += 1
            if state == "failure":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=message, type=cases[urn][0].level).text = text
            elif state == "skipped":
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=message)
            elif text:
                ET.SubElement(case, "system-out").text = text
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    _setting_warnings(check, root, totals)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return ET.ElementTree(root)


def _setting_warnings(check, root: ET.Element, totals: dict) -> None:
    """One test case per warning about a stack setting: a failure with --fail-on advisory, else
    passed with the warning as its output."""
    warnings = check.setting_warnings
    if not warnings:
        return
    name = f"preflight.{check.stack}.{SETTING_WARNING_RULE}"
    suite = ET.SubElement(root, "testsuite", name=name)
    blocking = check.fail_on == "advisory"
    for w in warnings:
        case = ET.SubElement(suite, "testcase", classname=name,
                             name=f"{w.key} ({w.file}:{w.line})" if w.line else w.key)
        if blocking:
            ET.SubElement(case, "failure", message=w.text, type="advisory").text = w.text
        else:
            ET.SubElement(case, "system-out").text = w.text
    counts = {"tests": len(warnings), "failures": len(warnings) if blocking else 0, "skipped": 0}
    for key, value in counts.items():
        suite.set(key, str(value))
        totals[key] += value
    suite.set("errors", "0")


def error_junit(stack: str, message: str) -> ET.ElementTree:
    """A run that stopped with an error (exit 2): one test case in error."""
    root = ET.Element("testsuites", name=f"preflight {stack}", tests="1", failures="0",
                      errors="1", skipped="0")
    suite = ET.SubElement(root, "testsuite", name=f"preflight.{stack}", tests="1", failures="0",
                          errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", classname=f"preflight.{stack}", name="preflight run")
    ET.SubElement(case, "error", message=message, type="error")
    ET.indent(root)
    return ET.ElementTree(root)


def write(tree: ET.ElementTree, path) -> None:
    tree.write(path, encoding="utf-8", xml_declaration=True)
