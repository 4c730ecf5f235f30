#!/usr/bin/env python3
"""Converts the RFC 7208 test suite (rfc7208-tests.yml, shipped with pyspf: `pip download --no-deps
--no-binary :all: pyspf` and look in test/) into rfc7208-tests.json, so the Swift tests need no YAML parser.

Only the format changes: each YAML document becomes one scenario object with its `description`, `tests`
(`result` always a list) and `zonedata` exactly as written (records as one-key objects, bare `TIMEOUT`
entries as the string "TIMEOUT"). The driver rules of pyspf's test/testspf.py (SPF records copied to TXT
when a name has no TXT entry, `TXT: NONE`, `TIMEOUT`) are applied by the Swift fake resolver, not here.

Usage: python3 convert.py path/to/rfc7208-tests.yml > rfc7208-tests.json   (needs PyYAML)
Licence of the suite: rfc7208-tests.LICENSE beside this file.
"""
import json
import sys

import yaml


def main(path):
    scenarios = []
    with open(path, "rb") as f:
        for doc in yaml.safe_load_all(f):
            tests = {}
            for name, t in doc["tests"].items():
                t = dict(t)
                if not isinstance(t["result"], list):
                    t["result"] = [t["result"]]
                for key in ("description", "comment"):
                    t.pop(key, None)
                tests[name] = t
            scenarios.append({
                "description": doc.get("description", ""),
                "tests": tests,
                "zonedata": doc.get("zonedata", {}),
            })
    json.dump({"source": "rfc7208-tests.yml (openspf.org test suite, release 2014.04, from pyspf 2.0.14)",
               "scenarios": scenarios}, sys.stdout, indent=1, ensure_ascii=True, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
