"""SARIF 2.1.0 for GitHub code scanning (`python -m preflight --sarif FILE`).

One run; `tool.driver.rules` lists every policy of the pack (so code scanning can tell "ran,
found nothing" from "unknown rule") with help text, anchors and the settings that fix it.
One result per finding:

* a violation: kind "fail", level from the enforcement level (mandatory -> error, advisory ->
  warning); location = the stack file line of the setting its advice names, else the program
  file; the resource's URN as the logical location; an acknowledged one carries a SARIF
  suppression (kind "external", status "accepted", the waiver's reason);
* a "not checked while unknown" finding: kind "open" with level "none" (SARIF 2.1.0 §3.27.10:
  a result that is not a failure has level "none"), with how the update judged it;
* a warning about a stack setting (valid but most likely a mistake): rule
  `stack-setting-warning`, level warning, at the setting's line. The program's other warnings
  (about this machine, e.g. boot artifacts not built) are execution notifications.

No timings or absolute paths: two runs give the same file.
"""
from __future__ import annotations

import hashlib

from .analyzer_messages import NOT_CHECKED
from .check import SETTING_WARNING_RULE
from .rulemeta import rule_meta

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVELS = {"mandatory": "error", "remediate": "error", "advisory": "warning", "disabled": "none"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "7.5", "medium": "5.0", "low": "2.0"}


def _driver(rules: list) -> dict:
    return {"name": "preflight", "rules": rules}


def _rules(check) -> tuple[list, dict]:
    rules, index = [], {}
    for i, meta in enumerate(rule_meta(check)):
        index[meta.name] = i
        props = {"tags": ["policy", *meta.anchors], "enforcementLevel": meta.level}
        if meta.severity in _SECURITY_SEVERITY:
            props["security-severity"] = _SECURITY_SEVERITY[meta.severity]
        rules.append({
            "id": meta.name, "name": meta.name,
            "shortDescription": {"text": meta.description or meta.name},
            "fullDescription": {"text": meta.help_text()},
            "help": {"text": meta.help_text(), "markdown": meta.help_markdown()},
            "defaultConfiguration": {"level": _LEVELS.get(meta.level, "warning")},
            "properties": props,
        })
    return rules, index


def _location(check, f) -> dict:
    file, line = check.setting_location(f) if f.kind != NOT_CHECKED else (check.program_file, None)
    physical = {"artifactLocation": {"uri": file}}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical,
            "logicalLocations": [{"name": f.resource_name, "fullyQualifiedName": f.urn,
                                  "kind": "resource"}]}


def _result(check, f, index: dict) -> dict:
    fingerprint = hashlib.sha256(f"{f.policy}|{f.urn}|{f.kind}".encode()).hexdigest()[:32]
    text = f.message if f.kind != NOT_CHECKED else f"not checked while unknown in {f.phase}: {f.detail}"
    if f.advice is not None:
        text += f" Fix: {f.advice.text}"
    out = {"ruleId": f.policy, "ruleIndex": index[f.policy], "message": {"text": text},
           "locations": [_location(check, f)], "partialFingerprints": {"preflightFinding/v1": fingerprint},
           "properties": {"phase": f.phase, "enforcementLevel": f.level, "findingKind": f.kind}}
    if f.kind == NOT_CHECKED:
        out.update(kind="open", level="none")
        if f.judged:
            out["properties"]["judgedAtUpdate"] = f.judged
    else:
        out.update(kind="fail", level=_LEVELS.get(f.level, "warning"))
        if f.advice is not None:
            out["properties"]["advice"] = {"kind": f.advice.kind, "setting": f.advice.setting,
                                           "argument": f.advice.argument}
    if f.waiver is not None:
        w = f.waiver
        out["suppressions"] = [{
            "kind": "external", "status": "accepted",
            "justification": w.reason + (f" (until {w.expires.isoformat()})" if w.expires else ""),
            "location": {"physicalLocation": {"artifactLocation": {"uri": w.file},
                                              "region": {"startLine": w.line}}}}]
    return out


def _setting_warning_rule() -> dict:
    text = ("A stack setting that is valid but most likely a mistake (a documentation address range, the whole "
            "internet on a public host, the plain-HTTP opt-in, a placeholder domain ...). Advisory; it fails the "
            "run with --fail-on advisory.")
    return {"id": SETTING_WARNING_RULE, "name": SETTING_WARNING_RULE,
            "shortDescription": {"text": "stack setting that is most likely a mistake"},
            "fullDescription": {"text": text}, "help": {"text": text},
            "defaultConfiguration": {"level": "warning"}, "properties": {"tags": ["settings"]}}


def _setting_warning_result(check, w, rule_index: int) -> dict:
    physical: dict = {"artifactLocation": {"uri": w.file}}
    if w.line:
        physical["region"] = {"startLine": w.line}
    fingerprint = hashlib.sha256(f"{SETTING_WARNING_RULE}|{w.key}|{w.text}".encode()).hexdigest()[:32]
    return {"ruleId": SETTING_WARNING_RULE, "ruleIndex": rule_index, "kind": "fail", "level": "warning",
            "message": {"text": w.text}, "locations": [{"physicalLocation": physical}],
            "partialFingerprints": {"preflightFinding/v1": fingerprint},
            "properties": {"setting": w.key, "findingKind": "setting-warning"}}


def to_sarif(check) -> dict:
    rules, index = _rules(check)
    settings = check.setting_warnings
    if settings:
        index[SETTING_WARNING_RULE] = len(rules)
        rules.append(_setting_warning_rule())
    for f in check.findings:   # a diagnostic from a policy GetAnalyzerInfo did not list
        if f.policy not in index:
            index[f.policy] = len(rules)
            rules.append({"id": f.policy, "shortDescription": {"text": f.description or f.policy}})
    notes = [{"level": "error", "message": {"text": f"waiver expired on {s.waiver.expires.isoformat()}: "
                                                    f"{s.waiver.rule} on {s.waiver.resource} ({s.waiver.where})"}}
             for s in check.expired]
    notes += [{"level": "warning", "message": {"text": f"waiver matches nothing: {s.waiver.rule} on "
                                                       f"{s.waiver.resource} ({s.waiver.where})"}}
              for s in check.unmatched]
    shown = {w.text for w in settings}
    program = [{"level": "warning", "message": {"text": w}} for w in check.warnings if w not in shown]
    invocation = {"executionSuccessful": True, "exitCode": check.exit_code}
    if notes:
        invocation["toolConfigurationNotifications"] = notes
    if program:
        invocation["toolExecutionNotifications"] = program
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [{
        "tool": {"driver": _driver(rules)},
        "automationDetails": {"id": f"preflight/{check.stack}/"},
        "invocations": [invocation],
        "results": [_result(check, f, index) for f in check.findings]
        + [_setting_warning_result(check, w, index[SETTING_WARNING_RULE]) for w in settings],
        "properties": {"stack": check.stack, "mode": check.mode,
                       "policyPack": f"{check.primary.pack_name}@v{check.primary.pack_version}"},
    }]}


def error_sarif(stack: str, message: str) -> dict:
    """A valid SARIF log for a run that stopped with an error (exit 2)."""
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [{
        "tool": {"driver": _driver([])},
        "automationDetails": {"id": f"preflight/{stack}/"},
        "invocations": [{"executionSuccessful": False, "exitCode": 2,
                         "toolExecutionNotifications": [{"level": "error", "message": {"text": message}}]}],
        "results": []}]}
