#!/usr/bin/env python3
"""Cross-language conformance runner (Python standard library only).

Runs every testee of testees.json. A testee prints one JSON line per case:
{"case": NAME, "plan_base64": BYTES, "plan_json": JSON} (or {"case": NAME,
"error": TEXT}). For every case under cases/ the runner compares the bytes
with plan.binpb exactly, and plan_json (the testee's own protobuf library's
canonical JSON of its plan) with plan.json as parsed JSON values, so
whitespace and key order do not matter. A case listed in
known-failures/<language>.txt must fail; if it passes, the run fails, so the
list never goes stale.

Usage:  python3 integration/conformance/run.py [--testee LANG ...] [--verbose]
The last line printed is always "N passed, N failed"; the exit status is 0
only when nothing failed.
"""

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


def load_cases():
    cases_dir = os.path.join(HERE, "cases")
    names = sorted(
        d for d in os.listdir(cases_dir) if os.path.isdir(os.path.join(cases_dir, d))
    )
    cases = {}
    for name in names:
        d = os.path.join(cases_dir, name)
        with open(os.path.join(d, "plan.binpb"), "rb") as f:
            binpb = f.read()
        with open(os.path.join(d, "plan.json"), encoding="utf-8") as f:
            plan_json = json.load(f)
        cases[name] = (binpb, plan_json)
    return cases


def load_known_failures(language):
    path = os.path.join(HERE, "known-failures", f"{language}.txt")
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8") as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return {line for line in lines if line}


def run_testee(language, spec):
    """Runs one testee; returns ({case: line}, error text or None)."""
    # Environment variables in the command are expanded, so a testee can
    # name a binary under $CARGO_TARGET_DIR (the Makefile exports it).
    command = os.path.expandvars(spec["command"])
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    cwd = os.path.join(REPO, spec.get("cwd", "."))
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=spec.get("timeout_seconds", 1800),
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return {}, f"cannot run `{command}`: {e}"
    if proc.returncode != 0:
        return {}, f"`{command}` exited with {proc.returncode}:\n{proc.stderr[-4000:]}"
    lines = {}
    for number, text in enumerate(proc.stdout.splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            lines[line["case"]] = line
        except (ValueError, KeyError, TypeError):
            return {}, f"line {number} of the output is not a protocol line: {text[:200]!r}"
    return lines, None


def check_case(name, golden, line):
    """Returns None if the testee's plan matches the golden files, else why not."""
    binpb, plan_json = golden
    if line is None:
        return "the testee printed nothing for this case"
    if "error" in line:
        return f"the testee's builder failed: {line['error']}"
    try:
        plan = base64.b64decode(line["plan_base64"], validate=True)
    except (KeyError, ValueError) as e:
        return f"no valid plan_base64: {e}"
    if plan != binpb:
        return f"plan bytes differ from plan.binpb ({len(plan)} bytes, golden {len(binpb)})"
    if "plan_json" not in line:
        return "no plan_json in the testee's line"
    if line["plan_json"] != plan_json:
        return "plan_json differs from plan.json (as parsed JSON)"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testee", action="append", help="run only these languages")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args()

    with open(os.path.join(HERE, "testees.json"), encoding="utf-8") as f:
        testees = json.load(f)["testees"]
    cases = load_cases()
    passed = failed = 0
    for language, spec in testees.items():
        if args.testee and language not in args.testee:
            continue
        if not args.testee and not spec.get("enabled", True):
            print(f"[{language}] skipped: {spec.get('note', 'disabled in testees.json')}")
            continue
        known = load_known_failures(language)
        for stale in sorted(known - cases.keys()):
            print(f"[{language}] FAIL known-failures lists unknown case `{stale}`")
            failed += 1
        lines, error = run_testee(language, spec)
        if error:
            print(f"[{language}] FAIL testee: {error}")
            failed += 1
            continue
        for extra in sorted(lines.keys() - cases.keys()):
            print(f"[{language}] FAIL the testee printed an unknown case `{extra}`")
            failed += 1
        for name, golden in cases.items():
            why = check_case(name, golden, lines.get(name))
            if name in known:
                if why is None:
                    print(f"[{language}] FAIL {name}: listed in known-failures/{language}.txt "
                          "but passes; remove it from the list")
                    failed += 1
                else:
                    if args.verbose:
                        print(f"[{language}] ok   {name} (known failure: {why})")
                    passed += 1
            elif why is None:
                if args.verbose:
                    print(f"[{language}] ok   {name}")
                passed += 1
            else:
                print(f"[{language}] FAIL {name}: {why}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
