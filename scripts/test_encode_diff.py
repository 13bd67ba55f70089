#!/usr/bin/env python3
"""`pprl encode` against clkhash 0.18.3 itself, on generated schemas and CSV files.

usage: build/peers/bin/python scripts/test_encode_diff.py PPRL_BINARY
       (plain `python3 scripts/test_encode_diff.py PPRL_BINARY` re-runs itself under
       build/peers/bin/python, the venv scripts/setup-peers.sh makes; without that venv
       the test fails and says to run scripts/setup-peers.sh)

A seeded generator makes CASES cases.  Each is a linkage schema (version 1, 2 or 3,
with every comparison, format, hash, KDF setting, strategy, missing value, ignored
feature and clkConfig value clkhash's master schemas allow, and some they do not), a
secret and a CSV file with a header and nasty values (whitespace, leading zeros,
underscores, Unicode digits and letters, impossible dates, floats, huge numbers, long
values, quotes and line breaks in fields, CR, CRLF, blank lines, ...).  Some cases are
"clean" (every value filtered through clkhash's own validation, so CLKs get compared),
the others "dirty" (values as generated, so refusals get compared).

Each case is encoded twice:
  - by clkhash, in this process, as `anonlink encode` calls it: the schema through
    clkhash.schema.from_json_dict (which validates it against the master schemas),
    then clkhash.clk.generate_clk_from_csv(open(csv, 'r', encoding='utf-8'), secret,
    schema, validate=True, header=True, progress_bar=False): a text-mode file, so
    universal newlines, as click.File('r') opens it;
  - by `PPRL_BINARY encode --schema S --secret-file F --threads 1 --output O CSV`.
A case passes when both accept and every CLK is identical (clkhash's bitarrays in
base64, as clkhash.serialization writes them), or both refuse (the schema or a
record, whichever).  pprl refusing what clkhash accepts passes only where one of the
DOCUMENTED_REFUSALS below holds: the bounds docs/encoding.md gives pprl on purpose.
Everything else is a mismatch: printed with a replay command and a short diagnosis
(for differing CLKs, the feature that differs, found by encoding the record with one
feature at a time), and grouped by kind at the end.

Environment:
  ENCODE_DIFF_SEED=N       the generator's seed (default 1)
  ENCODE_DIFF_CASES=N      how many cases (default 800: under a minute against an
                           optimised build, one to two against an ASan one, on 2 cores)
  ENCODE_DIFF_REPLAY=S:I   only case I of seed S: its files are written to
                           ENCODE_DIFF_OUT/S-I/ (default build/encode-diff/S-I/),
                           with both sides' results and the commands to rerun them
  ENCODE_DIFF_TIMEOUT=SEC  per side and case (default 60)
  ENCODE_DIFF_VERBOSE=1    a line for every case

Ends with "encode-diff: N passed, M failed" (one check per case); exit status 1 on
any mismatch.
"""
import base64
import copy
import csv
import datetime
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(ROOT, "build", "peers")
PEERS_PY = os.path.join(PEERS, "bin", "python")
sys.path.insert(0, HERE)
from pprl_testlib import check, summary  # noqa: E402

SUITE = "encode-diff"


# =============================================================================
# The peers: clkhash from build/peers, or a clear failure
# =============================================================================

def fail_setup(why):
    print("%s: %s" % (SUITE, why))
    print("%s: run scripts/setup-peers.sh, then build/peers/bin/python scripts/test_encode_diff.py PPRL_BINARY"
          % SUITE)
    print("%s: 0 passed, 1 failed" % SUITE)
    sys.exit(1)


def load_peers():
    """Import clkhash 0.18.3 from build/peers (re-running this script under its python if need be)."""
    in_venv = os.path.realpath(sys.prefix) == os.path.realpath(PEERS)
    if not in_venv and os.access(PEERS_PY, os.X_OK) and not os.environ.get("ENCODE_DIFF_REEXEC"):
        os.environ["ENCODE_DIFF_REEXEC"] = "1"
        os.execv(PEERS_PY, [PEERS_PY, os.path.abspath(__file__)] + sys.argv[1:])
    try:
        from importlib.metadata import version
        import importlib
        importlib.import_module("clkhash.clk")
        have = version("clkhash")
    except ImportError as e:
        fail_setup("clkhash is not importable (%s): the peers' venv %s is missing" % (e, PEERS))
    if have != "0.18.3":
        fail_setup("clkhash %s found, 0.18.3 wanted" % have)
    stamp = os.path.join(PEERS, ".requirements.sha256")
    if in_venv:
        import hashlib
        want = hashlib.sha256(open(os.path.join(HERE, "peers-requirements.txt"), "rb").read()).hexdigest()
        if not os.path.isfile(stamp) or open(stamp).read().strip() != want:
            fail_setup("%s is older than scripts/peers-requirements.txt" % PEERS)


load_peers()
import clkhash.bloomfilter  # noqa: E402
from clkhash import clk as ck_clk, schema as ck_schema  # noqa: E402
from clkhash.comparators import NumericComparison  # noqa: E402
from clkhash.serialization import serialize_bitarray  # noqa: E402
import jsonschema  # noqa: E402

warnings.simplefilter("ignore")         # re's FutureWarning on '[[', and the like


# =============================================================================
# The generator
# =============================================================================
# One random.Random per case, seeded with the seed and the case's index, so that any
# case can be made again alone.  gen_case() returns a Case: the schema (as JSON text),
# the secret, the CSV bytes, and tags naming the notable choices (shown in reports).

import random  # noqa: E402


class Case:
    def __init__(self, seed, index):
        self.seed, self.index = seed, index
        self.tags = []
        self.schema_text = self.secret = self.csv = None
        self.secret_file = b""
        self.version = None

    @property
    def name(self):
        return "%s:%d" % (self.seed, self.index)


class R(random.Random):
    """random.Random with the shorthands the generator uses.

    nasty: whether this case's schema may break clkhash's rules; bad(w) is the weight
    of such a choice (0 in a case whose schema should be valid).
    """
    nasty = False
    dirty = False                       # a dirty case's CSV file may be malformed too
    heavy = False                       # so many bits per token or feature that clkhash is slow

    def bad(self, w):
        return w * 4 if self.nasty else 0

    def p(self, prob):
        return prob > 0 and self.random() < prob

    def pick(self, weighted):
        """weighted: [(weight, value), ...] or a plain list."""
        if not isinstance(weighted[0], tuple):
            return self.choice(weighted)
        weighted = [(w, v) for w, v in weighted if w > 0]
        total = sum(w for w, _ in weighted)
        x = self.random() * total
        for w, v in weighted:
            x -= w
            if x < 0:
                return v
        return weighted[-1][1]


IDENTS = ["id", "name", "given name", "surname", "dob", "sex", "postcode", "phone", "city", "state",
          "pr\u00e9nom", "\u0438\u043c\u044f", "\u540d\u524d", "\u0627\u0633\u0645", "\u05e9\u05dd",
          "\U0001F4C5 date", "e\u0301t\u00e9", "age", "email", "street", "rec_id", "x"]
ODD_IDENTS = ["a,b", 'say "hi"', "", " padded ", "tab\there", "two\nlines", "\ufeffbom", "\u00a0nbsp"]

SECRETS = ["secret", "correct horse battery staple", "s3cr3t", "s\u00e9cret-\u00fc", "\U0001F511key", "a",
           "with space", "tab\tinside", "x" * 100, "\u05e1\u05d5\u05d3", "  lead", "trail "]

NAMES = ["anna", "bob", "Chlo\u00e9", "o'brien", "van der Berg", "MCDONALD", "li", "x", "Jean-Luc", "mary ann",
         "Smith", "SMITH", "smith", "peter", "Ng", "a", "zz", "12 Main St", "po box 7", "Unit 3/45"]
UNICODE = ["Jos\u00e9", "Jose\u0301", "Zo\u00eb", "\u00c6r\u00f8sk\u00f8bing", "stra\u00dfe", "STRASSE",
           "\u0130stanbul", "\u01c5emal", "\u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2", "M\u00fcller",
           "\U0001F600", "\U0001F469\u200d\U0001F469\u200d\U0001F467", "\U0001F1E6\U0001F1FA",
           "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "\u0645\u062d\u0645\u062f\u0661\u0662",
           "\u65e5\u672c\u8a9e", "\ud55c\uad6d\uc5b4", "\uff21\uff22\uff23", "\uff71\uff72\uff73",
           "\u200bzero", "a\u00a0b", "e\u0301\u0301", "\u210c", "\ufb01", "\u216b", "\u0130", "\u00df",
           "\u00e9", "\u00c9COLE", "\u00e9cole", "\u2126", "\u1e9e", "\u0345", "\U00010400", "\U0001d400",
           "\u202eRTL\u202c", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 abc", "\u00bd", "\u2460"]
WHITESPACE = ["", " ", "  ", "\t", "a ", " a", "\u00a0", "\u3000", " \u00a0 ", "\u2003x"]
SPECIAL = ["a,b", 'say "hi"', '"', '""', "line\nbreak", "cr\rhere", "crlf\r\nhere", "trail\n", "\n", ",",
           "a'b", "\\", "NULL", "N/A", "-", "?", "\x7f", "\x01ctl", "#", "=1+1", "\r", "\r\n", "a\n\nb"]
NUMERIC_STR = ["0", "1", "-1", "2.5", "-2.5", "0.125", "1e3", "1E-3", ".5", "5.", "inf", "-inf", "nan",
               "Infinity", "1e400", "-1e400", "1_000", "1_000.5", "\uff11.\uff15", "\u0661\u0662", "  3.25 ",
               "0x10", "1.5e308", "4.9e-324", "123456789.123456789", "9007199254740993", "-0.0", "+7", "007",
               "1__0", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1" * 25,
               "12abc", "", " ", "\u00a05", "0.5", "1.5", "-0.5", "2.675", "1e-7", "100", "99.99", "+.5e1"]
INT_STR = ["0", "7", "007", "-007", "+0012", "000", "-0", "+0", " 42 ", "\t5", "5\n", "1_000", "1__000", "_1",
           "1_", "\uff11\uff12\uff13", "\u0663\u0664", "\u0967\u0968", "\u00a042", "42\u2003", "0x1A", "1e3",
           "1.0", "", "-", "+", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
           "-9223372036854775809", "1" * 30, "\u00b2", "\u216b", "--1", "+-1", "1 000", "\u0660", "0b101",
           "18446744073709551616", "-1" + "0" * 20, "\u0661\u0669\u0668\u0664", "12\u0663", "\u200b1"]
ENUM_POOL = ["M", "F", "X", "U", "", "m", "\u00e9", "e\u0301", " M", "M ", "Mx", "N/A", "\u65e5\u672c",
             "\U0001F600", "a,b", '"q"', "0", "other", "NULL"]
SENTINELS = ["", "N/A", "null", "-", " ", "?", "0", "unknown", "\u00a0", "NA"]
REPLACEMENTS = ["", "MISSING", "0", "N/A", "\u00e9", "x y", "19000101", "-1", "  "]

# (pattern, class, example values).  class: 'same' (the same language in Python's re
# and POSIX ERE for ASCII values), 'diff' (valid in both, read differently), 'py'
# (Python syntax beyond ERE: pprl documents refusing it), 'bad' (Python refuses it).
PATTERNS = [
    ("[A-Z]{2}[0-9]+", "same", ["AB12", "ab12", "A1", "XY0", "ABC1", "AB"]),
    ("[a-z]*", "same", ["", "abc", "Abc", "\u00e9", "a b"]),
    ("(ab|cd)+", "same", ["ab", "abcd", "abc", "", "cdab"]),
    ("a.c", "same", ["abc", "a,c", "ac", "a\nc", "a\u00e9c", "a\rc"]),
    (".{3}", "same", ["abc", "ab", "\u00e9\u00e91", "\u65e5\u672c\u8a9e", "abcd", "a\nb"]),
    (".*", "same", ["", "anything", "a\nb", "\u00e9"]),
    (".+", "same", ["", "x", "a\r\nb"]),
    ("[^,]*", "same", ["abc", "a,b", "", "\u00e9"]),
    ("[0-9]{4}-[0-9]{2}", "same", ["2000-01", "200-01", "\u0662\u0660\u0660\u0660-01"]),
    ("x?y+z*", "same", ["y", "xyz", "xz", "yyzz"]),
    ("[A-Za-z ]+", "same", ["Ann Lee", "Ann-Lee", " "]),
    ("\\.", "same", [".", "a"]),
    ("\\(x\\)", "same", ["(x)", "x"]),
    ("[]a]+", "same", ["]a", "]", "b"]),
    ("[.]", "same", [".", "a"]),
    ("a{1,2}b{0,1}", "same", ["a", "aab", "b", "aaab"]),
    ("x*?", "same", ["", "xx", "y"]),
    ("", "same", ["", "a"]),
    ("a|", "same", ["", "a", "b"]),
    ("^ab$", "same", ["ab", "a"]),
    ("\u00e9+", "same", ["\u00e9", "\u00e9\u00e9", "e"]),
    ("[\u00e9a]+", "same", ["\u00e9a", "a", "\u00e9", "\u00e8"]),
    ("[[:alpha:]]+", "diff", ["abc", "a1", "a]", ":a]]", "la]"]),
    ("[[:digit:]]{3}", "diff", ["123", "12", "d]]]", ":]]]"]),
    ("a{,3}", "diff", ["", "aaa", "aaaa", "a{,3}"]),
    ("\\d+", "py", ["123", "abc", "\u0661\u0662"]),
    ("\\w+", "py", ["abc", "a b"]),
    ("(?i)abc", "py", ["ABC", "abc"]),
    ("a(?=b)b", "py", ["ab"]),
    ("(a)\\1", "py", ["aa"]),
    ("\\s*x", "py", [" x", "x"]),
    ("a**", "bad", ["a"]),
    ("*a", "bad", ["a"]),
    ("(", "bad", ["("]),
    ("[z-a]", "bad", ["a"]),
    ("a{2,1}", "bad", ["aa"]),
]

DATE_FORMATS = [
    (12, "%Y-%m-%d"), (6, "%d/%m/%Y"), (4, "%m/%d/%Y"), (5, "%Y%m%d"), (3, "%d.%m.%Y"), (2, "%Y-%m"),
    (2, "%Y"), (2, "%m/%d"), (2, "%d %b %Y"), (2, "%d %B %Y"), (1, "%b %d, %Y"), (1, "%A, %d %B %Y"),
    (1, "%a %d %b %Y"), (2, "%y-%m-%d"), (2, "%d/%m/%y"), (2, "%Y-%j"), (1, "%j/%Y"), (1, "%Y %W %w"),
    (1, "%Y %U %w"), (1, "%G-W%V-%u"), (2, "%Y-%m-%dT%H:%M:%S"), (1, "%Y-%m-%d %H:%M"),
    (1, "%Y-%m-%d %I:%M %p"), (1, "%Y-%m-%dT%H:%M:%S%z"), (1, "%Y-%m-%d %Z"), (1, "%x"), (1, "%c"),
    (1, "%Y%%%m%%%d"), (1, "born %Y"), (1, "%d-%m-%Y %f"), (1, "%m"), (1, "%d"), (1, "%B %Y"),
    (0.3, ""), (0.3, "x"), (0.3, "%e"), (0.3, "%F"), (0.3, "%Y-%m-%d "), (0.3, " %Y-%m-%d"), (0.3, "%s"),
    (0.3, "%Y-%m-%d%"), (0.3, "%-d/%-m/%Y"), (0.3, "%Y\u5e74%m\u6708%d\u65e5"), (0.3, "%H:%M"),
]

ARABIC_DIGITS = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
FULLWIDTH_DIGITS = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")


def b64_variant(r, tags, what):
    """A base64 salt or info, in one of the spellings clkhash reads (or refuses)."""
    raw = bytes(r.getrandbits(8) for _ in range(r.pick([(6, r.randint(0, 40)), (1, r.choice([200, 800, 1100]))])))
    s = base64.b64encode(raw).decode()
    kind = r.pick([(12, "plain"), (r.bad(1), "nopad"), (0.3, "nopad"), (1, "extrapad"), (1, "spaces"),
                   (1, "newlines"), (0.4, "urlsafe"), (0.4, "junk"), (1, "empty"), (r.bad(0.5), "nonascii"),
                   (0.4, "trailing")])
    if kind == "nopad":
        s = s.rstrip("=")
    elif kind == "extrapad":
        s += "=" * r.randint(1, 3)
    elif kind == "spaces" and s:
        i = r.randint(0, len(s))
        s = " " + s[:i] + "  " + s[i:] + "\t"
    elif kind == "newlines":
        s = "\n".join(s[i:i + 4] for i in range(0, len(s), 4)) + "\n"
    elif kind == "urlsafe":
        s = base64.urlsafe_b64encode(raw).decode()
    elif kind == "junk":
        s = "!" + s + "*"
    elif kind == "empty":
        s = ""
    elif kind == "nonascii":
        s = s + "\u00e9"
    elif kind == "trailing":
        s = s + ("=x" if s.endswith("=") else "==x")
    if kind != "plain" or len(raw) > 100:
        tags.append("%s:%s(%d bytes)" % (what, kind, len(raw)))
    return s


def gen_kdf(r, tags):
    kdf = {"type": "HKDF"}
    if r.p(0.6):
        kdf["hash"] = r.choice(["SHA256", "SHA512"])
    if r.p(r.bad(0.01)):
        kdf["hash"] = r.choice(["SHA1", "sha256", "MD5"])
        tags.append("kdf.hash=%s" % kdf["hash"])
    if r.p(0.6):
        kdf["salt"] = b64_variant(r, tags, "salt")
    if r.p(0.5):
        kdf["info"] = b64_variant(r, tags, "info")
    if r.p(0.5):
        kdf["keySize"] = r.pick([(10, 64), (5, 32), (3, 16), (1, 1), (2, 20), (1, 48), (1, 63),
                                 (0.4, 65), (0.4, 100), (0.3, 128), (r.bad(0.3), 64.0), (r.bad(0.2), 0),
                                 (r.bad(0.2), "64")])
        if kdf["keySize"] not in (64, 32, 16, 20, 48, 63) or isinstance(kdf["keySize"], float):
            tags.append("keySize=%r" % (kdf["keySize"],))
    if r.p(r.bad(0.01)):
        kdf["type"] = r.choice(["legacy", "hkdf", "PBKDF2"])
        tags.append("kdf.type=%s" % kdf["type"])
    if r.p(0.02):
        kdf["comment"] = "extra key"
    return kdf


def gen_l(r, tags):
    l = r.pick([(55, r.choice([64, 128, 256, 512, 1024, 2048])), (15, r.choice([8, 16, 32, 4096, 8192])),
                (12, r.choice([1000, 200, 520, 1016, 24, 2000])),
                (10, r.choice([1, 2, 3, 4, 5, 7, 9, 100, 37, 1001, 999, 12])),
                (2, r.choice([65536, 65537, 131072])),
                (0.3, True), (r.bad(1), r.choice([1024.0, "1024", 0, -8, None]))])
    if type(l) is not int or l not in (64, 128, 256, 512, 1024, 2048):
        tags.append("l=%r" % (l,))
    return l


def gen_folds(r, tags, l):
    kind = r.pick([(55, "none"), (35, "small"), (6, "big"), (0.7, "bound"), (0.5, "true"), (r.bad(1.5), "odd")])
    if kind == "none":
        return None if r.p(0.5) else 0
    if kind == "small":
        v = r.randint(1, 3)
    elif kind == "big":
        v = r.randint(4, 8)
    elif kind == "bound":
        v = r.randint(9, 10)
    elif kind == "true":
        v = r.choice([True, False])
    else:
        v = r.choice([True, False, 1.0, -1, "1", None, 2.5])
    if isinstance(l, int) and not isinstance(v, bool) and isinstance(v, int) and v > 0 and l > 0:
        while v > 0 and l << v > 1 << 22 and kind != "bound":    # keep clkhash quick
            v -= 1
    if kind != "small":
        tags.append("xor_folds=%r" % (v,))
    return v


def is_pow2(n):
    return isinstance(n, int) and n > 0 and n & (n - 1) == 0


def gen_format(r, tags, plan, version):
    t = r.pick([(40, "string"), (20, "integer"), (25, "date"), (15, "enum")])
    plan["type"] = t
    fmt = {"type": t}
    if r.p(0.1):
        fmt["description"] = r.choice(["a field", "\u00e9t\u00e9", ""])
    if t == "string":
        if r.p(0.5):
            fmt["encoding"] = r.pick([(25, "utf-8"), (15, "ascii"), (3, "utf-16"), (2, "utf-32"),
                                      (r.bad(1), "latin-1"), (r.bad(1), "UTF-8"), (r.bad(1), "utf8")])
            if fmt["encoding"] not in ("utf-8", "ascii"):
                tags.append("encoding=%s" % fmt["encoding"])
        plan["encoding"] = fmt.get("encoding", "utf-8")
        if r.p(0.2):
            pat, cls, examples = r.choice([x for x in PATTERNS if r.nasty or x[1] != "bad"])
            fmt["pattern"] = pat
            plan["pattern"], plan["examples"] = pat, examples
            tags.append("pattern(%s):%r" % (cls, pat))
            if r.p(r.bad(0.04)):
                fmt["case"] = "lower"
                tags.append("pattern+case")
        else:
            if r.p(0.3):
                fmt["case"] = r.pick([(4, "lower"), (4, "upper"), (2, "mixed"), (r.bad(0.2), "title"),
                                      (r.bad(0.2), "LOWER")])
                plan["case"] = fmt["case"]
            if r.p(0.2):
                fmt["minLength"] = r.pick([(5, r.randint(0, 3)), (1, r.randint(4, 12)), (r.bad(0.2), -1), (0.2, 1.0)])
            if r.p(0.25):
                fmt["maxLength"] = r.pick([(5, r.randint(1, 20)), (1, r.randint(21, 200)), (r.bad(0.2), 0), (0.2, 5.0)])
            if "minLength" in fmt and "maxLength" in fmt and r.p(0.2):
                tags.append("minLength>maxLength?")
    elif t == "integer":
        lo = hi = None
        if r.p(0.4):
            lo = fmt["minimum"] = r.pick([(5, 0), (3, 1), (3, -10), (2, r.randint(-1000, 1000)),
                                          (0.5, -2 ** 63), (0.5, -10 ** 20), (0.3, 1.0), (r.bad(0.2), "0")])
        if r.p(0.4):
            hi = fmt["maximum"] = r.pick([(5, 130), (3, 99999), (2, r.randint(-1000, 1000)),
                                          (0.5, 2 ** 63 - 1), (0.5, 10 ** 20), (0.3, 150.0)])
        plan["min"], plan["max"] = lo, hi
    elif t == "date":
        f = r.pick([(w if w >= 1 else r.bad(w), x) for w, x in DATE_FORMATS])
        fmt["format"] = f
        plan["format"] = f
        if f not in ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d.%m.%Y"):
            tags.append("date:%r" % f)
    else:
        values = r.sample(ENUM_POOL, r.randint(1, 5))
        if r.p(0.05):
            values = values + values[:1]
            tags.append("enum:duplicate")
        if r.p(0.02):
            values = []
            tags.append("enum:empty")
        fmt["values"] = values
        plan["values"] = values
    return fmt


def gen_comparison(r, tags, plan):
    t = plan["type"]
    weights = {"string": [(70, "ngram"), (20, "exact"), (10, "numeric")],
               "integer": [(40, "numeric"), (40, "ngram"), (20, "exact")],
               "date": [(70, "ngram"), (20, "exact"), (10, "numeric")],
               "enum": [(50, "exact"), (50, "ngram")]}[t]
    c = r.pick(weights)
    plan["comparison"] = c
    if c == "ngram":
        n = r.pick([(20, 2), (10, 1), (8, 3), (4, 4), (1, r.randint(5, 10)), (0.2, 64), (0.3, 65), (r.bad(0.3), 0),
                    (0.1, 2.0)])
        comp = {"type": "ngram", "n": n}
        if r.p(0.5):
            comp["positional"] = r.p(0.5)
        if type(n) is not int or n not in (1, 2, 3, 4):
            tags.append("n=%r" % (n,))
        plan["n"] = n
    elif c == "exact":
        comp = {"type": "exact"}
    else:
        td = r.pick([(5, 1), (5, 2), (4, 5), (3, 10), (2, 0.5), (2, 1.5), (2, 2.5), (2, 0.1), (1, 0.25),
                     (1, 3.7), (2, 100), (1, 1e-3), (1, 1e6), (0.3, 1e19), (r.bad(0.2), 0), (r.bad(0.2), -1)])
        comp = {"type": "numeric", "thresholdDistance": td,
                "resolution": r.pick([(10, r.randint(1, 5)), (3, r.randint(6, 20)), (0.5, r.randint(50, 200)),
                                      (0.1, 10000), (0.2, 10001), (r.bad(0.2), 0), (0.1, 2.0)])}
        if r.p(0.5):
            comp["fractional_precision"] = r.pick([(5, 0), (5, 1), (4, 2), (2, 3), (1, 4), (0.3, 10), (0.3, 16),
                                                   (0.2, 20), (0.1, 2.0), (r.bad(0.1), -1)])
        if td < 1 and not r.nasty:        # enough fractional precision for it, mostly
            comp["fractional_precision"] = max(comp.get("fractional_precision", 0), r.pick([(4, 3), (1, 2)]))
        if isinstance(comp["resolution"], int) and comp["resolution"] > 200:
            r.heavy = True
        tags.append("numeric(td=%r,res=%r,fp=%r)" % (td, comp["resolution"], comp.get("fractional_precision")))
        plan["numeric"] = True
    if r.p(0.03):
        comp["unknown"] = 1
    return comp


def gen_k(r, tags, what):
    k = r.pick([(30, r.randint(1, 30)), (5, r.randint(31, 200)), (1, r.randint(201, 2000)),
                (0.2, 65536), (0.3, 65537), (r.bad(0.2), 0), (0.2, 5.0), (r.bad(0.1), "5")])
    if isinstance(k, int) and k > 2000:
        r.heavy = True
    if not (isinstance(k, int) and 1 <= k <= 200) or isinstance(k, bool):
        tags.append("%s=%r" % (what, k))
    return k


def gen_bpf(r, tags, what):
    b = r.pick([(30, r.randint(1, 600)), (3, r.randint(601, 5000)), (0.2, 1 << 20), (0.3, (1 << 20) + 1),
                (r.bad(0.2), 0), (0.2, 100.0)])
    if isinstance(b, int) and b > 5000:
        r.heavy = True
    if not (isinstance(b, int) and 1 <= b <= 5000):
        tags.append("%s=%r" % (what, b))
    return b


def gen_hash(r, tags, plan, l):
    double = not is_pow2(l) and r.p(0.97)
    kind = r.pick([(1, "double"), (0.1, "double-ps"), (0.05, "double-nops")] if double else
                  [(35, "blake"), (15, "absent"), (25, "double"), (15, "double-ps"), (8, "double-nops"),
                   (r.bad(2), "blake-ps"), (r.bad(0.5), "other")])
    plan["hash"] = kind
    if kind == "absent":
        return None
    if kind == "blake":
        return {"type": "blakeHash"}
    if kind == "double":
        return {"type": "doubleHash"}
    if kind == "double-ps":
        return {"type": "doubleHash", "prevent_singularity": True}
    if kind == "double-nops":
        return {"type": "doubleHash", "prevent_singularity": False}
    tags.append("hash:%s" % kind)
    if kind == "blake-ps":
        return {"type": "blakeHash", "prevent_singularity": r.p(0.5)}
    return {"type": r.choice(["sha1", "md5Hash", "bloomHash"])}


def gen_missing(r, tags, plan):
    if not r.p(0.25):
        return None
    mv = {"sentinel": r.choice(SENTINELS)}
    if r.p(0.6):
        mv["replaceWith"] = r.choice(REPLACEMENTS)
    plan["sentinel"] = mv["sentinel"]
    return mv


def gen_ignored(r, tags, ident, version):
    f = {"identifier": ident, "ignored": True}
    if r.p(0.3):
        f["description"] = "not used"
    if r.p(r.bad(0.03)):
        f["format"] = {"type": "string"}
        tags.append("ignored+format")
    return f


def gen_feature(r, tags, ident, version, l, v1):
    """One feature of a schema of this version; (json, plan)."""
    plan = {"ident": ident}
    if r.p(0.12):
        plan["type"] = "ignored"
        return gen_ignored(r, tags, ident, version), plan
    fmt = gen_format(r, tags, plan, version)
    if version == 3:
        hashing = {"comparison": gen_comparison(r, tags, plan)}
        hashing["strategy"] = ({"bitsPerToken": gen_k(r, tags, "bitsPerToken")} if r.p(0.6) else
                               {"bitsPerFeature": gen_bpf(r, tags, "bitsPerFeature")})
        if r.p(r.bad(0.02)):
            hashing["strategy"]["bitsPerToken"] = 3
            tags.append("two strategies?")
        h = gen_hash(r, tags, plan, l)
        if h is not None:
            hashing["hash"] = h
    else:
        plan["comparison"] = "ngram"
        n = r.pick([(20, 2), (10, 1), (8, 3), (4, 4), (1, r.randint(5, 8)), (0.3, 65),
                    (r.bad(1 if version == 1 else 0.2), 0)])
        plan["n"] = n
        if n not in (1, 2, 3, 4):
            tags.append("ngram=%r" % n)
        hashing = {"ngram": n}
        if r.p(0.5):
            hashing["positional"] = r.p(0.5)
        if version == 2:
            hashing["strategy"] = ({"k": gen_k(r, tags, "k")} if r.p(0.6) else
                                   {"numBits": gen_bpf(r, tags, "numBits")})
            h = gen_hash(r, tags, plan, l)
            if h is not None:
                hashing["hash"] = h
        else:
            plan["hash"] = v1["hash"]
            if r.p(0.5):
                w = r.pick([(5, 1), (3, 0.5), (3, 1.5), (2, 2), (1, 0.25), (1, 3), (1, 0), (r.bad(0.5), 0.01),
                            (0.5, 2.5)])
                hashing["weight"] = w
                if w == 0:
                    plan["type"] = "ignored"
                if w not in (1, 2):
                    tags.append("weight=%r" % w)
            if r.p(0.03):
                hashing[r.choice(["hash", "strategy", "comparison"] + ["extra"] * r.nasty)] = {"type": "doubleHash"}
                tags.append("v1 hashing with extra key")
    mv = gen_missing(r, tags, plan)
    if mv is not None:
        hashing["missingValue"] = mv
    f = {"identifier": ident, "format": fmt, "hashing": hashing}
    if r.p(0.03):
        f["ignored"] = False
        tags.append("ignored:false")
    elif r.p(0.015 if version == 3 else r.bad(0.015)):
        f["ignored"] = True
        plan["type"] = "ignored"
        tags.append("ignored:true+format+hashing")
    if r.p(0.05):
        f["description"] = "feature " + ident
    return f, plan


def gen_schema(r, case, nfeatures_extra_ignored):
    tags = case.tags
    version = r.pick([(60, 3), (20, 2), (20, 1)])
    if r.p(0.005):
        version = r.choice([3.0, 1.0])
        tags.append("version=%r" % (version,))
    elif r.p(r.bad(0.01)):
        version = r.choice([4, "3", 0])
        tags.append("version=%r" % (version,))
    case.version = version
    vnum = version if version in (1, 2, 3) else 3
    tags.append("v%s" % vnum)
    l = gen_l(r, tags)
    cfg = {"l": l}
    folds = gen_folds(r, tags, l)
    if folds is not None:
        cfg["xor_folds"] = folds
    if r.p(0.05):
        cfg["xorFolds"] = r.pick([(5, r.randint(0, 3)), (r.bad(1), -1)])
        tags.append("xorFolds=%r" % cfg["xorFolds"])
    cfg["kdf"] = gen_kdf(r, tags)
    v1 = {}
    if vnum == 1:
        cfg["k"] = gen_k(r, tags, "clkConfig.k")
        hk = r.pick([(4, {"type": "blakeHash"}), (3, {"type": "doubleHash"}),
                     (2, {"type": "doubleHash", "prevent_singularity": True}),
                     (1, {"type": "doubleHash", "prevent_singularity": False})])
        if not is_pow2(l) and r.p(0.95):
            hk = {"type": "doubleHash"}
        cfg["hash"] = hk
        v1["hash"] = {"blakeHash": "blake", "doubleHash": "double"}[hk["type"]]
    nf = r.pick([(30, r.randint(1, 3)), (40, r.randint(4, 8)), (5, r.randint(9, 16)),
                 (0.5, r.randint(60, 70)), (0.2, 1025), (0.1, 0)])
    if nf >= 60:
        tags.append("%d features" % nf)
    names = []
    for i in range(nf):
        if r.p(0.04):
            ident = r.choice(ODD_IDENTS)
        elif r.p(0.6) and i < len(IDENTS):
            ident = r.choice(IDENTS)
        else:
            ident = "f%d" % i
        if ident in names and not r.p(0.05):
            ident = "%s_%d" % (ident, i)
        if ident in ODD_IDENTS:
            tags.append("identifier %r" % ident)
        names.append(ident)
    features, plans = [], []
    for ident in names:
        if nf >= 60 and r.p(0.9):
            f, p = gen_ignored(r, [], ident, vnum), {"ident": ident, "type": "ignored"}
        else:
            f, p = gen_feature(r, tags, ident, vnum, l, v1)
        features.append(f)
        plans.append(p)
    for i in range(nfeatures_extra_ignored):
        ident = "long%d" % i
        features.append({"identifier": ident, "ignored": True})
        plans.append({"ident": ident, "type": "ignored", "long": True})
    if nf == 1025:                       # keep HKDF within its limit
        cfg["kdf"]["keySize"] = 1
    schema = {"version": version, "clkConfig": cfg, "features": features}
    if r.p(0.02):
        schema["$comment"] = "extra top-level key"
    return schema, plans


# --- values ---------------------------------------------------------------------

def rand_date(r):
    y = r.pick([(20, r.randint(1930, 2025)), (2, r.randint(1000, 1929)), (1, r.randint(2026, 9999)),
                (0.5, 2000), (0.3, 1900)])
    m = r.randint(1, 12)
    d = r.randint(1, [31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31,
                      30, 31, 30, 31][m - 1])
    return datetime.datetime(y, m, d, r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), r.randint(0, 999999))


def date_value(r, fmt, nasty):
    dt = rand_date(r)
    if "%z" in fmt or "%Z" in fmt:
        off = r.choice([0, 60, -300, 330, 720, -720, 345])
        dt = dt.replace(tzinfo=datetime.timezone(datetime.timedelta(minutes=off)) if "%z" in fmt
                        else datetime.timezone.utc)
    try:
        v = dt.strftime(fmt)
    except ValueError:
        v = dt.strftime("%Y-%m-%d")
    if not nasty:
        return v
    kind = r.pick([(3, "unpadded"), (2, "case"), (3, "impossible"), (2, "space"), (1, "digits"),
                   (1, "empty"), (1, "word"), (2, "leap"), (1, "year"), (1, "other"), (1, "nbsp")])
    if kind == "unpadded":
        return re.sub(r"\b0(\d)", r"\1", v)
    if kind == "case":
        return r.choice([v.upper(), v.lower(), v.swapcase()])
    if kind == "impossible":
        if fmt == "%Y-%j" or fmt == "%j/%Y":
            j = r.choice(["000", "366", "367", "999", "0", "1"])
            return fmt.replace("%Y", str(r.choice([2000, 2001, 1900]))).replace("%j", j)
        y = r.choice([2001, 1900, 2100, 2000, 1999])
        m, d = r.choice([(2, 29), (2, 30), (4, 31), (13, 1), (0, 10), (1, 0), (12, 32), (6, 31), (2, 28)])
        return (fmt.replace("%Y", "%04d" % y).replace("%m", "%02d" % m).replace("%d", "%02d" % d)
                .replace("%y", "%02d" % (y % 100)))
    if kind == "space":
        return r.choice([" " + v, v + " ", v.replace(" ", "  "), v + "\n", "\t" + v])
    if kind == "nbsp":
        return v.replace(" ", "\u00a0") if " " in v else v.replace("-", "\u00a0")
    if kind == "digits":
        return v.translate(r.choice([ARABIC_DIGITS, FULLWIDTH_DIGITS]))
    if kind == "empty":
        return r.choice(["", " "])
    if kind == "word":
        return r.choice(["unknown", "0000-00-00", "N/A", "today", "1e3"])
    if kind == "leap":
        return r.choice(["2000-02-29", "1900-02-29", "2100-02-29", "2004-02-29", "29/02/2001", "02/29",
                         "2000-366", "2001-366"])
    if kind == "year":
        return r.choice(["0005-01-02", "0000-01-01", "9999-12-31", "10000-01-01", "0999-01-01", "5-01-02"])
    return r.choice(["2000-1-2", "2000/01/02", "20000102", "2000-01-02T03:04:05", "Jan 5 2000", "05 JAN 2000",
                     "31.12.1999", "1999-12-31 23:59", "12/31/99", "2000-01-02+0100"])


def string_value(r, plan, nasty):
    if plan.get("pattern") is not None and r.p(0.7):
        return r.choice(plan["examples"])
    pool = r.pick([(10, NAMES), (4 if nasty else 3, UNICODE), (2, WHITESPACE), (2 if nasty else 1, SPECIAL),
                   (1, NUMERIC_STR)])
    v = r.choice(pool)
    if r.p(0.1):
        v = v + " " + r.choice(NAMES)
    if r.p(0.02):
        v = r.choice(["x" * 1000, "ab" * 3000, "\u00e9" * 500, "\U0001F600" * 300])
    case = plan.get("case")
    if case == "lower" and not nasty:
        v = v.lower()
    elif case == "upper" and not nasty:
        v = v.upper()
    return v


def int_value(r, plan, nasty):
    lo, hi = plan.get("min"), plan.get("max")
    lo_i = lo if isinstance(lo, int) and not isinstance(lo, bool) else None
    hi_i = hi if isinstance(hi, int) and not isinstance(hi, bool) else None
    if nasty or r.p(0.3):
        v = r.choice(INT_STR)
        if r.p(0.005):
            v = "1" * r.choice([4300, 4301])
        return v
    a = lo_i if lo_i is not None else (hi_i - 200 if hi_i is not None else -1000)
    b = hi_i if hi_i is not None else a + 2000
    if a > b:
        a, b = b, a
    x = r.pick([(10, r.randint(a, b)), (1, a), (1, b), (0.5, a - 1), (0.5, b + 1)])
    s = str(x)
    if r.p(0.15):
        s = r.choice(["+" + s, " " + s, s + " ", "0" + s if x >= 0 else "-0" + s[1:],
                      s[:1] + "_" + s[1:] if len(s) > 1 and s[1:2].isdigit() and s[:1].isdigit() else s])
    return s


def numeric_value(r, plan, nasty):
    if nasty or r.p(0.4):
        return r.choice(NUMERIC_STR)
    x = r.pick([(5, str(r.randint(-1000, 1000))), (3, "%.*f" % (r.randint(0, 6), r.uniform(-1000, 1000))),
                (1, repr(r.uniform(-1e6, 1e6))), (1, "%g" % r.uniform(-1e9, 1e9))])
    return x


def enum_value(r, plan, nasty):
    vals = plan.get("values") or [""]
    if nasty or r.p(0.1):
        return r.choice(ENUM_POOL)
    return r.choice(vals)


def raw_value(r, plan, nasty):
    """A value for a feature, before any filtering."""
    t = plan["type"]
    if plan.get("sentinel") is not None and r.p(0.12):
        return plan["sentinel"]
    if t == "ignored":
        return r.choice(NAMES + UNICODE + SPECIAL + WHITESPACE)
    if plan.get("numeric") and t == "string":
        return numeric_value(r, plan, nasty)
    if t == "string":
        return string_value(r, plan, nasty)
    if t == "integer":
        return int_value(r, plan, nasty)
    if t == "date":
        return date_value(r, plan["format"], nasty)
    return enum_value(r, plan, nasty)


def clkhash_reads(v):
    """The value clkhash sees for a field written as v (universal newlines in text mode)."""
    return v.replace("\r\n", "\n").replace("\r", "\n")


def valid_for_clkhash(spec, v):
    """Whether clkhash validates, formats and tokenizes this value without an error."""
    v = clkhash_reads(v)
    try:
        spec.validate(v)
        fhp = spec.hashing_properties
        if fhp is None:
            return True
        toks = list(fhp.comparator.tokenize(spec.format_value(v)))
        if isinstance(fhp.comparator, NumericComparison) and any(abs(int(t)) >= 1 << 62 for t in toks):
            return False            # valid, but pprl documents refusing it: keep it for the rare cases
        for t in toks[:50]:
            t.encode(fhp.encoding)
        return True
    except Exception:
        return False


def gen_rows(r, case, plans, specs, clean):
    """The records: lists of values, one per feature."""
    n = r.pick([(3, 0), (30, r.randint(1, 5)), (55, r.randint(6, 20)), (5, r.randint(21, 100)),
                (1, r.randint(200, 400))])
    if len(plans) > 50:
        n = min(n, 5)
    if r.heavy:                         # a million bits per feature: a few records are enough
        n = min(n, 2)
    rows = []
    for _ in range(n):
        row = []
        for j, plan in enumerate(plans):
            nasty = not clean and r.p(0.15)
            v = raw_value(r, plan, nasty or r.p(0.2))
            if clean and specs is not None:
                tries = 0
                while not valid_for_clkhash(specs[j], v) and tries < 8:
                    v = raw_value(r, plan, r.p(0.3))
                    tries += 1
                if not valid_for_clkhash(specs[j], v):
                    for fallback in ([plan.get("sentinel")] + (plan.get("values") or []) +
                                     ["a", "1", "", "2000-01-02", "A", "AB1", "abc"]):
                        if fallback is not None and valid_for_clkhash(specs[j], fallback):
                            v = fallback
                            break
            row.append(v)
        rows.append(row)
    return rows


# --- the CSV file -----------------------------------------------------------------

def csv_field(r, v, quote_all, quote_some):
    need = any(c in v for c in ',"\r\n') or v.startswith('"')
    if need or quote_all or (quote_some and r.p(0.3)):
        return '"' + v.replace('"', '""') + '"'
    return v


def gen_csv(r, case, header, rows):
    """The CSV text (as bytes), with the layout choices noted in the tags."""
    tags = case.tags
    eol_kind = r.pick([(60, "\n"), (35, "\r\n"), (2, "\r"), (3, "mixed")])
    if eol_kind != "\n":
        tags.append("csv:eol=%r" % eol_kind)
    quote_all = r.p(0.15)
    quote_some = not quote_all and r.p(0.15)

    def eol():
        return r.choice(["\n", "\r\n"]) if eol_kind == "mixed" else eol_kind

    def line(fields):
        if len(fields) == 1 and fields[0] == "":
            return '""'                  # as csv.writer writes it: a blank line would be no field
        return ",".join(csv_field(r, v, quote_all, quote_some) for v in fields)

    header = list(header)
    dirty = 1 if r.dirty else 0        # a clean case's file is well-formed
    hk = r.pick([(97, "ok"), (dirty, "renamed"), (dirty, "missing"), (dirty, "extra")])
    if hk != "ok" and header:
        tags.append("csv:header %s" % hk)
        if hk == "renamed":
            header[r.randrange(len(header))] += "_x"
        elif hk == "missing":
            header.pop()
        else:
            header.append("extra")
    lines = [line(header)]
    rows = [list(x) for x in rows]
    if rows and r.p(0.06 * dirty):
        i = r.randrange(len(rows))
        rows[i] = rows[i][:-1] if r.p(0.5) and len(rows[i]) > 1 else rows[i] + ["extra"]
        tags.append("csv:row %d has %d fields" % (i + 1, len(rows[i])))
    for row in rows:
        lines.append(line(row))
    if r.p(0.06 * dirty) and len(lines) > 1:
        i = r.randint(1, len(lines))
        lines.insert(i, r.choice(["", " ", ",".join([""] * len(header))]))
        tags.append("csv:inserted line %d %r" % (i, lines[i]))
    text = ""
    for i, s in enumerate(lines):
        text += s + (eol() if i < len(lines) - 1 else "")
    if r.p(0.8) or text.endswith('"') and r.p(0.5):
        text += eol()
    else:
        tags.append("csv:no final newline")
    if r.p(0.03 * dirty):
        text += eol()
        tags.append("csv:blank last line")
    if len(rows) > 0 and r.p(0.04 * dirty):
        kind = r.choice(["quote inside", "after quote", "unterminated"])
        tags.append("csv:malformed(%s)" % kind)
        if not text.endswith(("\n", "\r")):
            text += eol()
        rest = ",x" * (len(header) - 1)
        if kind == "quote inside":
            text += 'a"b' + rest + eol()
        elif kind == "after quote":
            text += '"ab"c' + rest + eol()
        else:
            text += "x," * (len(header) - 1) + '"unterminated' + eol() + "more"
    data = text.encode("utf-8", "surrogatepass")
    if r.p(0.02 * dirty):
        data = b"\xef\xbb\xbf" + data
        tags.append("csv:BOM")
    if r.p(0.02 * dirty) and len(data) > 10:
        i = r.randrange(len(data) // 2, len(data))
        data = data[:i] + r.choice([b"\xff", b"\xc3", b"\xe9", b"\xed\xa0\x80"]) + data[i:]
        tags.append("csv:invalid UTF-8")
    if r.p(0.02 * dirty) and rows:
        data = data.replace(b",", b",\x00", 1) if b"," in data else data + b"\x00"
        tags.append("csv:NUL")
    return data


def gen_case(seed, index):
    """Case `index` of `seed`: always the same."""
    case = Case(seed, index)
    r = R("encode-diff:%s:%d" % (seed, index))
    r.nasty = r.p(0.2)
    big_record = r.p(0.01)
    schema, plans = gen_schema(r, case, 9 if big_record else 0)
    case.schema_text = json.dumps(schema, ensure_ascii=r.p(0.5))
    if r.p(r.bad(0.005)):
        case.schema_text = case.schema_text[:-1]           # not JSON
        case.tags.append("schema not JSON")
    try:
        specs = ck_schema.from_json_dict(json.loads(case.schema_text)).fields
    except Exception:
        specs = None
    clean = r.p(0.65)
    r.dirty = not clean
    case.tags.append(("nasty schema, " if r.nasty else "") + ("clean" if clean else "dirty"))
    rows = gen_rows(r, case, plans, specs, clean)
    # rare long values: a field of about clkhash's csv field limit (131072 characters),
    # and records of more than 1 MiB (in ignored columns, so that hashing stays quick)
    if rows and r.p(0.02):
        cols = [j for j, p in enumerate(plans) if p["type"] in ("ignored", "string") and not p.get("long")]
        if cols:
            j = r.choice(cols)
            n = r.choice([10000, 131072, 131073, 200000])
            unit = r.choice(["a", "ab", "\u00e9", "x"])
            rows[r.randrange(len(rows))][j] = (unit * n)[:n]
            case.tags.append("long value %d characters (%r) in column %d" % (n, unit, j + 1))
    if big_record and rows:
        i = r.randrange(len(rows))
        for j, p in enumerate(plans):
            if p.get("long"):
                rows[i][j] = "y" * r.choice([120000, 130000])
        case.tags.append("record %d of more than 1 MiB" % (i + 1))
    case.csv = gen_csv(r, case, [p["ident"] for p in plans], rows)
    secret = r.choice(SECRETS)
    if r.p(0.01):
        secret = ""
        case.tags.append("empty secret")
    if r.p(0.005):
        secret = "k" * 5000
        case.tags.append("5000-byte secret")
    case.secret = secret
    case.secret_file = secret.encode() + (b"\n" if r.p(0.3) else b"")
    return case


# =============================================================================
# Deliberate refusals: what docs/encoding.md says pprl refuses where clkhash has no bound
# =============================================================================
# Each predicate gets the clkhash view of the case (Ctx) and says whether the case
# asks for something beyond one of pprl's documented bounds.  Only then may pprl
# refuse what clkhash accepts.

class Ctx:
    """clkhash's reading of a case it accepted: the schema (v3 dict and Schema) and the records."""

    def __init__(self, case, v3, schema, rows):
        self.case, self.v3, self.schema, self.rows = case, v3, schema, rows

    def hashed(self):
        for f in self.v3["features"]:
            if not f.get("ignored", False):
                yield f


def _ngram_over_64(c):
    return any(f["hashing"]["comparison"].get("type") == "ngram" and f["hashing"]["comparison"].get("n", 0) > 64
               for f in c.hashed())


def _bits_per_token(c):
    return any(f["hashing"]["strategy"].get("bitsPerToken", 0) > 65536 for f in c.hashed())


def _bits_per_feature(c):
    return any(f["hashing"]["strategy"].get("bitsPerFeature", 0) > 1 << 20 for f in c.hashed())


def _resolution(c):
    return any(f["hashing"]["comparison"].get("type") == "numeric" and
               f["hashing"]["comparison"].get("resolution", 0) > 10000 for f in c.hashed())


def _features(c):
    return len(c.v3["features"]) > 1024


def _l(c):
    return c.schema.l > 65536


def _xor_folds(c):
    x = c.schema.xor_folds
    return isinstance(x, int) and not isinstance(x, bool) and x > 8


def _blake_pow2(c):
    hl = c.schema.l * 2 ** c.schema.xor_folds
    return any(f.hashing_properties is not None and f.hashing_properties.hash_type == "blakeHash"
               for f in c.schema.fields) and not (isinstance(hl, int) and is_pow2(hl))


def _pattern_unsupported(c):
    """\\N{name}, the (?a) and (?L) flags, a pattern over 4,096 bytes (docs/encoding.md, Patterns)."""
    return any(re.search(r"\\N\{|\(\?[imsxu-]*[aL]", f["format"].get("pattern", "")) or
               len(f["format"].get("pattern", "").encode()) > 4096
               for f in c.hashed() if f["format"].get("type") == "string")


def _fractional_precision(c):
    return any(f["hashing"]["comparison"].get("type") == "numeric" and
               f["hashing"]["comparison"].get("fractional_precision", 0) > 15 for f in c.hashed())


def _lazy_real(c):
    """n, resolution or fractional_precision written as a real (2.0), and a value to tokenize."""
    for j, f in enumerate(c.v3["features"]):
        if f.get("ignored", False):
            continue
        cmp_ = f["hashing"]["comparison"]
        if any(isinstance(cmp_.get(k), float) for k in ("n", "resolution", "fractional_precision")) and \
                any(j < len(row) and row[j] != "" for row in c.rows):
            return True
    return False


def _blake_key(c):
    """blakeHash with keys over 64 bytes: pprl refuses the schema, clkhash fails once it hashes."""
    return c.v3["clkConfig"]["kdf"].get("keySize", 64) > 64 and \
        any(f["hashing"].get("hash", {}).get("type", "blakeHash") == "blakeHash" for f in c.hashed())


def _json_bigint(c):
    """An integer beyond 64 bits anywhere in the schema: pprl's JSON parser (jansson) refuses it."""
    def walk(x):
        if isinstance(x, bool):
            return False
        if isinstance(x, int):
            return not INT64[0] <= x <= INT64[1]
        if isinstance(x, dict):
            return any(walk(v) for v in x.values())
        if isinstance(x, list):
            return any(walk(v) for v in x)
        return False
    return walk(json.loads(c.case.schema_text))


def _no_features(c):
    return len(c.v3["features"]) == 0


def _date_format(c):
    return any(len(f["format"].get("format", "").encode()) > 1024 for f in c.hashed()
               if f["format"].get("type") == "date")


INT64 = (-(1 << 63), (1 << 63) - 1)


def _numeric_64(c):
    for j, spec in enumerate(c.schema.fields):
        fhp = spec.hashing_properties
        if fhp is None or not isinstance(fhp.comparator, NumericComparison):
            continue
        cmp_ = fhp.comparator
        if cmp_.distance_interval * cmp_.resolution > INT64[1]:
            return True                 # no value's neighbourhood fits, not even 0's
        for row in c.rows:
            try:
                toks = [int(t) for t in cmp_.tokenize(spec.format_value(row[j]))]
            except Exception:
                continue
            if any(not INT64[0] <= t <= INT64[1] for t in toks):
                return True
    return False


DOCUMENTED_REFUSALS = [
    ("n-gram size above 64", _ngram_over_64),
    ("more than 65,536 bits per token", _bits_per_token),
    ("more than 1,048,576 bits per feature", _bits_per_feature),
    ("numeric resolution above 10,000", _resolution),
    ("more than 1,024 features", _features),
    ("l above 65,536", _l),
    ("xor_folds above 8", _xor_folds),
    ("blakeHash with l * 2^xor_folds not a power of two (clkhash fails only once a token is hashed)", _blake_pow2),
    ("a pattern with \\N{name}, (?a) or (?L), or over 4,096 bytes", _pattern_unsupported),
    ("numeric neighbourhood beyond 64-bit integers", _numeric_64),
    ("fractional_precision above 15", _fractional_precision),
    ("n, resolution or fractional_precision written as a real, and a value to tokenize", _lazy_real),
    ("blakeHash with keySize above 64 (clkhash fails once it hashes a token)", _blake_key),
    ("a JSON integer beyond 64 bits in the schema", _json_bigint),
    ("a schema without features", _no_features),
    ("a date format over 1,024 bytes", _date_format),
]


def documented_refusal(ctx):
    """The reason pprl may refuse this case, or None."""
    for reason, pred in DOCUMENTED_REFUSALS:
        try:
            if pred(ctx):
                return reason
        except Exception:
            pass
    return None


# =============================================================================
# The runners
# =============================================================================

class Side:
    """One side's outcome: 'accept' (clks), 'refuse' (stage, msg), 'timeout' or 'crash' (msg)."""

    def __init__(self, outcome, clks=None, stage=None, msg="", kind=None, ctx=None, column=None):
        self.outcome, self.clks, self.stage, self.msg, self.kind, self.ctx = outcome, clks, stage, msg, kind, ctx
        self.column = column            # the feature (0-based) a record was refused for, when known

    def short(self):
        if self.outcome == "accept":
            return "accepts (%d CLKs)" % len(self.clks)
        return "%s%s: %s" % (self.outcome, " (%s)" % self.stage if self.stage else "", self.msg[:300])


class Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise Timeout()


def clear_clkhash_caches():
    bf = clkhash.bloomfilter
    for fn in (bf._double_hash_encode_ngrams, bf._double_hash_token, bf._double_hash_token_non_singular,
               bf._blake_encode_ngrams, bf.blake_hash_token):
        fn.cache_clear()


def describe_exc(e):
    """(kind, message) of a clkhash exception: the kind names the rule, for grouping."""
    name = type(e).__name__
    msg = str(e)
    cause = e.__cause__
    if isinstance(cause, jsonschema.exceptions.ValidationError):
        err, rules = cause, [cause.validator]
        while err.validator in ("oneOf", "anyOf") and err.context:     # the likeliest branch's reason
            err = jsonschema.exceptions.best_match(err.context)
            rules.append(err.validator)
        path = "/".join("*" if isinstance(p, int) else str(p) for p in err.absolute_path)
        return "schema invalid at %s (%s)" % (path or "top", " > ".join(rules)), msg.replace("\n", " ")[:400]
    if isinstance(e, ck_schema.SchemaError) and e.errors:
        inner = e.errors[0]
        return "schema: %s" % norm(str(inner)), str(inner)[:400]
    text = msg.splitlines()[0] if msg else ""
    if name == "EntryError":
        text = re.sub(r"^Invalid entry in row \d+, column '.*?'\. ", "", text)
    return "%s: %s" % (name, norm(text)), msg.replace("\n", " ")[:400]


def norm(s):
    """A message with its values taken out, for grouping."""
    s = re.sub(r"(?<![A-Za-z])'[^']*'(?![A-Za-z])", "'…'", s)
    s = re.sub(r"\[[^\]]*\]", "[…]", s)
    s = re.sub(r"\d+", "N", s)
    return s[:110]


def run_clkhash(case, d, timeout, want_ctx=True):
    """clkhash on the case's files in d, as `anonlink encode` runs it."""
    clear_clkhash_caches()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        try:
            with open(os.path.join(d, "schema.json"), encoding="utf-8") as f:
                sd = json.load(f)
            schema = ck_schema.from_json_dict(sd)
        except Exception as e:
            k, m = describe_exc(e)
            return Side("refuse", stage="schema", msg=m, kind=k)
        try:
            with open(os.path.join(d, "data.csv"), "r", encoding="utf-8") as f:
                bas = ck_clk.generate_clk_from_csv(f, case.secret, schema, validate=True, header=True,
                                                   progress_bar=False)
        except Exception as e:
            k, m = describe_exc(e)
            fs = getattr(e, "field_spec", None)
            col = next((j for j, f in enumerate(schema.fields) if f is fs), None)
            return Side("refuse", stage="records", msg=m, kind=k, column=col)
        clks = [serialize_bitarray(b) for b in bas]
        ctx = None
        if want_ctx:
            with open(os.path.join(d, "data.csv"), "r", encoding="utf-8") as f:
                rows = list(csv.reader(f))[1:]
            ctx = Ctx(case, ck_schema.convert_to_latest_version(json.loads(case.schema_text)), schema, rows)
        return Side("accept", clks=clks, ctx=ctx)
    except Timeout:
        return Side("timeout", msg="clkhash took more than %ss" % timeout)
    except RecursionError as e:
        return Side("refuse", stage="records", msg=str(e), kind="RecursionError")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        clear_clkhash_caches()


def write_case(case, d):
    os.makedirs(d, exist_ok=True)
    for name, data in (("schema.json", case.schema_text.encode("utf-8", "surrogatepass")),
                       ("secret.txt", case.secret_file), ("data.csv", case.csv)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def pprl_command(pprl, d):
    return [pprl, "encode", "--schema", os.path.join(d, "schema.json"), "--secret-file",
            os.path.join(d, "secret.txt"), "--threads", "1", "--output", os.path.join(d, "out.json"),
            os.path.join(d, "data.csv")]


def pprl_env():
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":exitcode=86").lstrip(":")
    env["UBSAN_OPTIONS"] = (env.get("UBSAN_OPTIONS", "") + ":exitcode=87:print_stacktrace=1").lstrip(":")
    return env


def start_pprl(pprl, d):
    try:
        os.unlink(os.path.join(d, "out.json"))
    except FileNotFoundError:
        pass
    for attempt in range(20):           # a binary being relinked cannot be run for a moment
        try:
            return subprocess.Popen(pprl_command(pprl, d), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, env=pprl_env())
        except OSError:
            if attempt == 19:
                raise
            time.sleep(0.5)


def finish_pprl(proc, d, timeout, started):
    try:
        _, err = proc.communicate(timeout=max(1, timeout - (time.time() - started)))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Side("timeout", msg="pprl took more than %ss" % timeout)
    err = err.decode("utf-8", "replace")
    rc = proc.returncode
    if rc not in (0, 1) or "Sanitizer" in err or "runtime error:" in err:
        return Side("crash", msg="exit status %s: %s" % (rc, "\n".join(err.strip().splitlines()[:14])[:1500]),
                    kind=crash_kind(rc, err))
    if rc == 1:
        first = next((x for x in err.splitlines() if x.strip()), "")
        k = re.sub(r"^pprl: (\S*schema\.json: )?", "", first)
        k = re.sub(r"(/[^/\s:]+)+/([^/\s:]+)", r"\2", k)          # a path: its file name
        k = re.sub(r"line \d+, column \d+ \(.*?\)", "line N, column N (…)", k)
        col = re.search(r"\bline \d+, column (\d+)", first)
        return Side("refuse", stage="records" if re.search(r"\bline \d+", first) else "schema", msg=err.strip(),
                    kind=norm(k), column=int(col.group(1)) - 1 if col else None)
    try:
        clks = json.load(open(os.path.join(d, "out.json")))["clks"]
        assert isinstance(clks, list)
    except Exception as e:
        return Side("crash", msg="exit status 0 but no {\"clks\": [...]} output (%s)" % e)
    return Side("accept", clks=clks)


def crash_kind(rc, err):
    """A crash named by its sanitizer report: the error and the first frame in pprl's own code."""
    m = re.search(r"([\w./-]+\.[ch]):(\d+):\d+: runtime error: ([^\n]*)", err)
    if m:
        return "UBSan at %s:%s: %s" % (os.path.basename(m.group(1)), m.group(2), m.group(3)[:80])
    m = re.search(r"ERROR: (\w+Sanitizer): ([\w-]+( memory leaks)?)", err)
    if m:
        frames = re.findall(r"#\d+ 0x[0-9a-f]+ in (\w+) (\S+?):(\d+)", err)
        own = [f for f in frames if ROOT in f[1] or f[1].startswith(("core/", "cli/"))]
        where = " in %s (%s:%s)" % (own[0][0], os.path.basename(own[0][1]), own[0][2]) if own else ""
        return "%s %s%s" % (m.group(1), m.group(2), where)
    return "exit status %s" % rc


def run_both(case, pprl, d, timeout):
    """pprl as a subprocess while clkhash runs here; (clkhash Side, pprl Side)."""
    write_case(case, d)
    started = time.time()
    proc = start_pprl(pprl, d)
    ck = run_clkhash(case, d, timeout)
    pp = finish_pprl(proc, d, timeout, started)
    return ck, pp


# =============================================================================
# Comparison and diagnosis
# =============================================================================

def feature_signature(f):
    """A feature's format, comparison and hash in a few words (a v3 feature dict)."""
    fmt, h = f.get("format", {}), f.get("hashing", {})
    t = fmt.get("type", "?")
    if t == "string":
        if "pattern" in fmt:
            t += "+pattern"
        if fmt.get("encoding", "utf-8") != "utf-8":
            t += "(%s)" % fmt["encoding"]
        if fmt.get("case", "mixed") != "mixed":
            t += "(%s)" % fmt["case"]
    elif t == "date":
        t += "(%s)" % fmt.get("format")
    c = h.get("comparison", {})
    ct = c.get("type", "?")
    if ct == "ngram":
        ct = "%sngram" % ("positional " if c.get("positional") else "")
    hs = h.get("hash", {"type": "blakeHash"})
    ht = hs.get("type", "?") + ("(prevent_singularity)" if hs.get("prevent_singularity") else "")
    st = "bitsPerToken" if "bitsPerToken" in h.get("strategy", {}) else "bitsPerFeature"
    return t, ct, ht, st


def isolate(schema, j):
    """The schema with every feature but j ignored (keys stay the same: they follow the schema's order)."""
    s = copy.deepcopy(schema)
    for i, f in enumerate(s["features"]):
        if i != j:
            s["features"][i] = {"identifier": f.get("identifier", ""), "ignored": True}
    return s


def sub_case(case, schema_text, rows, header):
    c = Case(case.seed, case.index)
    c.schema_text, c.secret, c.secret_file, c.version = schema_text, case.secret, case.secret_file, case.version
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    c.csv = buf.getvalue().encode("utf-8", "surrogatepass")
    return c


def diagnose_clks(case, ck, pp, pprl, d, timeout):
    """Why the CLKs differ: (kind, detail)."""
    if len(ck.clks) != len(pp.clks):
        return "different number of CLKs", "clkhash %d, pprl %d" % (len(ck.clks), len(pp.clks))
    bad = [i for i, (a, b) in enumerate(zip(ck.clks, pp.clks)) if a != b]
    i = bad[0]
    if len(base64.b64decode(ck.clks[i])) != len(base64.b64decode(pp.clks[i])):
        return "CLKs of different lengths", "record %d: clkhash %d bytes, pprl %d bytes" % (
            i + 1, len(base64.b64decode(ck.clks[i])), len(base64.b64decode(pp.clks[i])))
    ctx = ck.ctx
    row = ctx.rows[i]
    schema = json.loads(case.schema_text)
    header = [f.get("identifier", "") for f in schema["features"]]
    detail = ["%d of %d CLKs differ; the first is record %d: %r" % (len(bad), len(ck.clks), i + 1, row)[:600]]
    # the record alone, written plainly: does the difference survive?
    sd = os.path.join(d, "alone")
    alone = sub_case(case, case.schema_text, [row], header)
    ck1, pp1 = run_both(alone, pprl, sd, timeout)
    if ck1.outcome == pp1.outcome == "accept" and ck1.clks == pp1.clks:
        detail.append("the same record written plainly (LF, minimal quoting) gives the same CLK: "
                      "the CSV file is read differently")
        return "CLK differs: CSV reading", "\n      ".join(detail)
    v3 = ctx.v3

    def same(variant):
        one = sub_case(case, json.dumps(variant), [row], header)
        ckv, ppv = run_both(one, pprl, sd, timeout)
        return ckv.outcome == ppv.outcome == "accept" and ckv.clks == ppv.clks

    # one feature at a time (the keys stay: they follow the schema's order)
    differing = []
    for j, f in enumerate(v3["features"]):
        if f.get("ignored", False):
            continue
        one = sub_case(case, json.dumps(isolate(schema, j)), [row], header)
        ckj, ppj = run_both(one, pprl, sd, timeout)
        if not (ckj.outcome == ppj.outcome == "accept" and ckj.clks == ppj.clks):
            differing.append((j, f, ckj, ppj))
    folds = schema.get("clkConfig", {}).get("xor_folds")

    def without_folds(s):
        s = copy.deepcopy(s)
        s["clkConfig"].pop("xor_folds", None)
        return s

    if not differing:
        if folds not in (None, 0) and same(without_folds(schema)):
            detail.append("each feature alone gives the same CLK, and all of them without xor_folds (%r) too: "
                          "folding differs" % (folds,))
            return "CLK differs: xor_folds", "\n      ".join(detail)
        detail.append("each feature alone gives the same CLK: the features are combined (OR, xor_folds) differently")
        return "CLK differs: combining features", "\n      ".join(detail)
    j0 = differing[0][0]
    # the first differing feature alone: with a plain {"type": "HKDF"}, or without xor_folds?
    kdf = schema.get("clkConfig", {}).get("kdf")
    if isinstance(kdf, dict) and set(kdf) - {"type"}:
        plain = isolate(schema, j0)
        plain["clkConfig"]["kdf"] = {"type": kdf.get("type", "HKDF")}
        if same(plain):
            detail.append("feature %d alone differs, and is the same with kdf {\"type\": \"HKDF\"} instead of %s: "
                          "the keys differ" % (j0 + 1, json.dumps(kdf, ensure_ascii=False)[:300]))
            return "CLK differs: key derivation", "\n      ".join(detail)
    if folds not in (None, 0) and same(without_folds(isolate(schema, j0))):
        detail.append("feature %d alone differs, and is the same without xor_folds (%r): folding (or hashing at "
                      "l * 2^xor_folds bits) differs" % (j0 + 1, folds))
        return "CLK differs: xor_folds", "\n      ".join(detail)
    j, f, ckj, ppj = differing[0]
    spec = ctx.schema.fields[j]
    value = row[j]
    try:
        formatted = spec.format_value(value)
        tokens = list(spec.hashing_properties.comparator.tokenize(formatted))
    except Exception as e:
        formatted, tokens = "(%s)" % e, []
    t, ct, ht, st = feature_signature(f)
    detail.append("feature %d (%r) differs alone: %s / %s / %s / %s; value %r, clkhash formats it %r, "
                  "tokens %r" % (j + 1, f.get("identifier"), t, ct, ht, st, value[:80], formatted[:80],
                                 tokens[:12]))
    detail.append("feature alone: clkhash %s, pprl %s" % (
        ckj.clks[0] if ckj.outcome == "accept" else ckj.short(), ppj.clks[0] if ppj.outcome == "accept" else
        ppj.short()))
    if len(differing) > 1:
        detail.append("also differing alone: features %s" % ", ".join(str(x[0] + 1) for x in differing[1:]))
    tmain = t.split("(")[0].split("+")[0]
    if value == (spec.hashing_properties.missing_value.sentinel if spec.hashing_properties.missing_value else None):
        return "CLK differs: %s feature's missing value" % tmain, "\n      ".join(detail)
    return "CLK differs: %s / %s / %s" % (t, ct, ht), "\n      ".join(detail)


def pp_ctx(case):
    """A Ctx with clkhash's v3 reading of the case's schema (no records), or None."""
    try:
        return Ctx(case, ck_schema.convert_to_latest_version(json.loads(case.schema_text)), None, [])
    except Exception:
        return None


def column_note(ctx, j):
    """' [the format of feature j]' for a record refused for feature j, for grouping."""
    try:
        return " [%s]" % feature_signature(ctx.v3["features"][j])[0]
    except Exception:
        return ""


def compare(case, ck, pp, pprl, d, timeout):
    """(passed, kind, detail).  kind is None when passed (or names the documented refusal)."""
    tags = "tags: " + ", ".join(case.tags)
    if pp.outcome == "crash":
        return False, "pprl crashes: %s" % pp.kind, pp.msg + "\n      " + tags
    if pp.outcome == "timeout":
        return False, "pprl hangs", pp.msg + "\n      " + tags
    if ck.outcome == "timeout":
        return False, "clkhash too slow (the generator should not make this)", ck.msg + "\n      " + tags
    if ck.outcome == "accept" and pp.outcome == "accept":
        if ck.clks == pp.clks:
            return True, None, None
        kind, detail = diagnose_clks(case, ck, pp, pprl, d, timeout)
        return False, kind, detail + "\n      " + tags
    if ck.outcome == "refuse" and pp.outcome == "refuse":
        return True, None, None
    if ck.outcome == "accept":
        reason = documented_refusal(ck.ctx)
        if reason:
            return True, "documented: " + reason, None
        return False, "pprl refuses what clkhash accepts: %s%s" % (pp.kind, column_note(ck.ctx, pp.column)), (
            "clkhash accepts (%d CLKs); pprl: %s\n      %s" % (len(ck.clks), pp.msg[:400], tags))
    ctx = pp_ctx(case) if ck.column is not None else None
    return False, "pprl accepts what clkhash refuses: %s%s" % (ck.kind, column_note(ctx, ck.column)), (
        "clkhash refuses (%s): %s; pprl accepts (%d CLKs)\n      %s" % (ck.stage, ck.msg[:400], len(pp.clks), tags))


# =============================================================================
# Running, replaying, reporting
# =============================================================================

CLKHASH_ENCODE = '''"""clkhash on this directory's case, as test_encode_diff.py runs it; prints {"clks": [...]}."""
import json, os, sys
from clkhash import clk, schema, serialization
d = os.path.dirname(os.path.abspath(__file__))
secret = open(os.path.join(d, "secret.txt"), encoding="utf-8", newline="").read().removesuffix("\\n")
s = schema.from_json_dict(json.load(open(os.path.join(d, "schema.json"), encoding="utf-8")))
with open(os.path.join(d, "data.csv"), "r", encoding="utf-8") as f:
    clks = clk.generate_clk_from_csv(f, secret, s, validate=True, header=True, progress_bar=False)
json.dump({"clks": [serialization.serialize_bitarray(b) for b in clks]}, sys.stdout)
print()
'''


def replay_command(pprl, name):
    return "ENCODE_DIFF_REPLAY=%s build/peers/bin/python scripts/test_encode_diff.py %s" % (name, pprl)


def replay(pprl, spec, timeout):
    seed, _, index = spec.rpartition(":")
    case = gen_case(seed, int(index))
    out = os.environ.get("ENCODE_DIFF_OUT", os.path.join(ROOT, "build", "encode-diff"))
    d = os.path.abspath(os.path.join(out, "%s-%s" % (seed, index)))
    if os.path.isdir(d):
        shutil.rmtree(d)
    ck, pp = run_both(case, pprl, d, timeout)
    ok, kind, detail = compare(case, ck, pp, pprl, os.path.join(d, "diag"), timeout)
    shutil.rmtree(os.path.join(d, "diag"), ignore_errors=True)
    write_case(case, d)                 # the files as generated (diagnosis may have run beside them)
    cmd = " ".join("'%s'" % a if " " in a else a for a in pprl_command(pprl, d)[:-3] + [os.path.join(d, "data.csv")])
    with open(os.path.join(d, "clkhash_encode.py"), "w") as f:
        f.write(CLKHASH_ENCODE)
    ck_cmd = "%s %s" % (PEERS_PY, os.path.join(d, "clkhash_encode.py"))
    with open(os.path.join(d, "README.txt"), "w") as f:
        f.write("encode-diff case %s\ntags: %s\n\npprl:\n  %s\nclkhash:\n  %s\n\nclkhash: %s\npprl:    %s\n%s\n"
                % (case.name, ", ".join(case.tags), cmd, ck_cmd, ck.short(), pp.short(),
                   "" if ok else "MISMATCH %s\n  %s" % (kind, detail)))
    print("%s: case %s written to %s" % (SUITE, case.name, d))
    print("  tags:    %s" % ", ".join(case.tags))
    print("  schema:  %s" % case.schema_text[:1500])
    print("  secret:  %r" % case.secret)
    print("  run pprl:    %s" % cmd)
    print("  run clkhash: %s" % ck_cmd)
    print("  clkhash: %s" % ck.short())
    if ck.outcome == "accept":
        for c in ck.clks[:5]:
            print("           %s" % c)
    print("  pprl:    %s" % pp.short())
    if pp.outcome == "accept":
        for c in pp.clks[:5]:
            print("           %s" % c)
    check("case %s: %s" % (case.name, kind), ok, detail)
    return summary(SUITE)


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[0] + "\n" + "usage: build/peers/bin/python scripts/test_encode_diff.py PPRL_BINARY",
              file=sys.stderr)
        sys.exit(2)
    pprl = sys.argv[1]
    if not os.access(pprl, os.X_OK):
        print("%s: %s is not an executable (make -C cli builds build/pprl)" % (SUITE, pprl))
        print("%s: 0 passed, 1 failed" % SUITE)
        sys.exit(1)
    timeout = float(os.environ.get("ENCODE_DIFF_TIMEOUT", "60"))
    if os.environ.get("ENCODE_DIFF_REPLAY"):
        sys.exit(replay(pprl, os.environ["ENCODE_DIFF_REPLAY"], timeout))
    seed = os.environ.get("ENCODE_DIFF_SEED", "1")
    ncases = int(os.environ.get("ENCODE_DIFF_CASES", "800"))
    verbose = os.environ.get("ENCODE_DIFF_VERBOSE") == "1"
    tmp = tempfile.mkdtemp(prefix="pprl-encode-diff.")
    # run a copy: the binary may be rebuilt while the cases run (replays name the original)
    shown = pprl
    pprl = os.path.join(tmp, os.path.basename(pprl))
    shutil.copy2(shown, pprl)
    t0 = time.time()
    kinds = {}                           # kind -> [count, first case name, first detail]
    stats = {"identical": 0, "clks": 0, "both refuse": 0}
    documented = {}
    slowest = (0, None)
    print("%s: seed %s, %d cases, %s" % (SUITE, seed, ncases, shown), flush=True)
    try:
        for index in range(ncases):
            case = gen_case(seed, index)
            d = os.path.join(tmp, "case")
            shutil.rmtree(d, ignore_errors=True)
            t1 = time.time()
            ck, pp = run_both(case, pprl, d, timeout)
            slowest = max(slowest, (time.time() - t1, case.name))
            ok, kind, detail = compare(case, ck, pp, pprl, os.path.join(d, "diag"), timeout)
            if ok and kind:
                documented[kind] = documented.get(kind, 0) + 1
            elif ok and ck.outcome == "accept":
                stats["identical"] += 1
                stats["clks"] += len(ck.clks)
            elif ok:
                stats["both refuse"] += 1
            if verbose:
                print("case %s: %s; clkhash %s; pprl %s" % (case.name, "ok" if ok else kind, ck.short()[:100],
                                                            pp.short()[:100]), flush=True)
            check("case %s: %s" % (case.name, kind), ok,
                  None if ok else "\n      %s\n      replay: %s" % (detail, replay_command(shown, case.name)))
            if not ok:
                k = kinds.setdefault(kind, [0, case.name, detail])
                k[0] += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    took = time.time() - t0
    print("%s: %d cases in %.0f s: %d with identical CLKs (%d CLKs), %d refused by both, %d refused by pprl "
          "as documented" % (SUITE, ncases, took, stats["identical"], stats["clks"], stats["both refuse"],
                             sum(documented.values())))
    print("%s: the slowest case was %s (%.1f s)" % (SUITE, slowest[1], slowest[0]))
    for k, n in sorted(documented.items()):
        print("  %4d  %s" % (n, k))
    if kinds:
        print("%s: %d mismatches of %d kinds:" % (SUITE, sum(v[0] for v in kinds.values()), len(kinds)))
        for k, (n, name, detail) in sorted(kinds.items(), key=lambda x: (-x[1][0], x[0])):
            print("  %4d  %s\n        e.g. %s\n        %s" % (n, k, replay_command(shown, name),
                                                           detail.replace("\n      ", "\n        ")[:1200]))
    sys.exit(summary(SUITE))


if __name__ == "__main__":
    main()
