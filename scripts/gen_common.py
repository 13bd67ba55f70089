"""What the generators of committed sources share (scripts/gen-*.py)."""
import os
import sys


def write_or_check(out, text, generator, what):
    """Write text to out, or with --check on the command line compare it with out.

    --check (make check-encode) prints a "generated: N passed, N failed" line and exits
    non-zero when the committed file is not what the generator makes now.
    """
    if "--check" in sys.argv:
        same = os.path.exists(out) and open(out).read() == text
        print("%s: %s" % (os.path.relpath(out), "as generated" if same else
                          "DIFFERS from what %s generates: run it" % os.path.basename(generator)))
        print("generated: %d passed, %d failed" % ((1, 0) if same else (0, 1)))
        sys.exit(0 if same else 1)
    with open(out, "w") as f:
        f.write(text)
    print("wrote", os.path.relpath(out), "from", what)
