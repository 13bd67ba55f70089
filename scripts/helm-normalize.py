#!/usr/bin/env python3
"""A Helm render, normalised for comparison with its golden copy (scripts/helm-check.sh).

usage: helm-normalize.py < render.yaml > render.norm.yaml

Objects are sorted by kind and name (Helm orders them by its install order, which a
golden file must not depend on), each starting with "---", without Helm's "# Source:"
comments; the secrets the chart
generates, and the checksums over them, are masked (they differ on every render).
"""
import re
import sys

MASKS = [(re.compile(r"^(  (postgres-password|s3-access-key-id|s3-secret-access-key): ).*$", re.M), r"\1<generated>"),
         (re.compile(r"^( *checksum/secret: ).*$", re.M), r"\1<generated>")]


def key(doc):
    """(kind, metadata.name, the document) of one YAML document, by its top-level lines."""
    kind = re.search(r"^kind: *(\S+)", doc, re.M)
    meta = re.search(r"^metadata:\n((?:[ #].*\n?)*)", doc, re.M)
    name = re.search(r"^  name: *(\S+)", meta.group(1), re.M) if meta else None
    return (kind.group(1) if kind else "", name.group(1) if name else "", doc)


text = re.sub(r"^# Source: .*\n", "", sys.stdin.read(), flags=re.M)  # where Helm puts them depends on order
docs = [d.strip("\n") for d in re.split(r"^---[^\n]*\n", text, flags=re.M)]
docs = [d for d in docs if d.strip() and not all(l.startswith("#") or not l.strip() for l in d.split("\n"))]
for pattern, repl in MASKS:
    docs = [pattern.sub(repl, d) for d in docs]
for _, _, doc in sorted(key(d) for d in docs):
    print("---")
    print(doc)
