#!/usr/bin/env python3
"""Totals every TRX file under a directory and prints 'N passed, N failed, N skipped'.

Each failed test is named first (with the first lines of its message), so the end of a CI log says
which test failed even when only its last lines are kept.

Exit code: 0 when nothing failed and at least one test passed, 1 otherwise.
"""
import glob, os, sys
import xml.etree.ElementTree as ET

ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
sys.stdout.reconfigure(errors="replace")
passed = failed = skipped = 0
failures = []
files = sorted(glob.glob(os.path.join(sys.argv[1], "**", "*.trx"), recursive=True))
for path in files:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:  # a test host killed while writing it
        failures.append((path, "unreadable", [str(e)]))
        failed += 1
        continue
    for result in root.iter(f"{{{ns['t']}}}UnitTestResult"):
        if result.get("outcome") in ("Failed", "Error", "Timeout", "Aborted"):
            message = result.find("t:Output/t:ErrorInfo/t:Message", ns)
            text = (message.text or "").strip().splitlines() if message is not None else []
            failures.append((result.get("testName"), result.get("duration"), text[:3]))
    counters = root.find("t:ResultSummary/t:Counters", ns)
    if counters is None:
        continue
    c = {k: int(v) for k, v in counters.attrib.items()}
    passed += c.get("passed", 0)
    failed += c.get("failed", 0) + c.get("error", 0) + c.get("timeout", 0) + c.get("aborted", 0)
    skipped += c.get("total", 0) - c.get("executed", 0)
expected = int(sys.argv[2]) if len(sys.argv) > 2 else len(files)
if len(files) < expected:
    failed += expected - len(files)  # a test project that produced no results counts as a failure
for name, duration, lines in failures:
    print(f"FAILED {name} ({duration})")
    for line in lines:
        print(f"    {line[:300]}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if failed == 0 and passed > 0 else 1)
