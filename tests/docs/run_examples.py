"""Runs the shell examples of the documentation, so that they cannot rot (issue 6 item 4).

Run: /usr/bin/python3 -I tests/docs/run_examples.py --smemu build/bin/smemu --source-root . \
         README.md docs/runbook.md [--check-only] [--only FILE:LINE]

Marking. Every fenced code block of a checked file must be marked by an HTML comment on the line
right before its opening fence (the comment does not show on GitHub); blocks fenced as ```text
(output, diagrams) need none:

    <!-- example -->                   a ```sh block the test runs
    <!-- example: prelude -->          a ```sh block the test runs before every later example of
                                       the same file, in the same shell (starting smemu serve,
                                       setting the environment); a reader runs it once
    <!-- setup: not run by the test --> a block that installs packages or builds: skipped
    <!-- not run: REASON -->           any other block, with the reason it is not run

An unmarked block, or a marker on a block that is not ```sh, fails the test, so a new block must
say what it is.

Running. Each example runs on its own: its file's preludes followed by the block, as one script
under `bash -euo pipefail`, in a new empty directory that looks like the repository root (a
symbolic link to each top-level entry of the source tree, and build/bin/smemu linked to the
smemu under test, the path README.md uses). The environment is what a fresh login has: PATH is
/usr/bin:/bin behind a directory where `aws` is Debian's AWS CLI v2 (/usr/bin/aws; another aws
may come first on the caller's PATH), HOME is an empty directory, and no AWS_*, BOTO_*, PYTHON*,
SMEMU_* or proxy variable of the caller's is passed on: the examples set what a user sets. A block
that starts `smemu serve` binds port 0 and reads the announced port, and stops the server with a
trap; whatever it leaves behind is killed with its process group when the block ends. A block
fails when the script exits non-zero or runs longer than --timeout seconds; the test fails,
naming the file and line of the block (and the line where it stopped), when any block fails.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

AWS = "/usr/bin/aws"
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([^\s`]*)")
MARKER = re.compile(r"^<!--\s*(.*?)\s*-->\s*$")
RUNNABLE = {"sh"}
UNMARKED_OK = {"text"}
# The script line where a block stopped, as bash reports it through the ERR trap below.
FAILED_AT = re.compile(r"^smemu-docs-test: stopped at script line ([0-9]+)$", re.MULTILINE)


class Block:
    def __init__(self, path, line, info, marker, lines):
        self.path = path        # as given on the command line
        self.line = line        # 1-based line of the opening fence
        self.info = info        # the fence's language
        self.marker = marker    # the marker comment's text, or None
        self.lines = lines      # the block's content
        self.kind = None        # "example", "prelude" or "skip", once checked

    def where(self, offset=0):
        return f"{self.path}:{self.line + offset}"


def parse_blocks(root, path):
    """The fenced blocks of `path` (relative to `root`), each with the marker right before it."""
    with open(os.path.join(root, path), encoding="utf-8") as f:
        text = f.read().splitlines()
    blocks = []
    i = 0
    while i < len(text):
        fence = FENCE.match(text[i])
        if not fence:
            i += 1
            continue
        ticks, info = fence.group(1), fence.group(2)
        marker = MARKER.match(text[i - 1]) if i > 0 else None
        start = i
        i += 1
        content = []
        while i < len(text) and not (text[i].startswith(ticks) and text[i].strip() == ticks):
            content.append(text[i])
            i += 1
        if i == len(text):
            raise SystemExit(f"{path}:{start + 1}: the code block is never closed")
        blocks.append(Block(path, start + 1, info, marker.group(1) if marker else None, content))
        i += 1
    return blocks


def classify(block):
    """Sets block.kind; returns what is wrong with the block's marking, or None."""
    marker = block.marker
    if marker is None:
        if block.info in UNMARKED_OK:
            block.kind = "skip"
            return None
        return ("unmarked code block: put <!-- example -->, <!-- example: prelude -->, "
                "<!-- setup: not run by the test --> or <!-- not run: REASON --> on the line before it")
    if marker in ("example", "example: prelude"):
        if block.info not in RUNNABLE:
            return f"only ```sh blocks can be examples, not ```{block.info or '(no language)'}"
        block.kind = "prelude" if marker.endswith("prelude") else "example"
        return None
    if marker.startswith("setup:") or re.fullmatch(r"not run:\s*\S.*", marker):
        block.kind = "skip"
        return None
    return f"unknown marker <!-- {marker} -->"


def link_tree(source_root, smemu, work):
    """Makes `work` look like the repository root, with build/bin/smemu the binary under test."""
    for name in sorted(os.listdir(source_root)):
        if name == ".git" or name.startswith("build"):
            continue
        os.symlink(os.path.join(source_root, name), os.path.join(work, name))
    os.makedirs(os.path.join(work, "build", "bin"))
    os.symlink(os.path.abspath(smemu), os.path.join(work, "build", "bin", "smemu"))
    tools = os.path.join(work, ".docs-test-path")
    os.mkdir(tools)
    os.symlink(AWS, os.path.join(tools, "aws"))
    home = os.path.join(work, ".docs-test-home")
    os.mkdir(home)
    return tools, home


def environment(tools, home):
    keep = ("LANG", "LC_ALL", "TERM", "TZ", "USER", "LOGNAME")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"PATH": f"{tools}:/usr/bin:/bin", "HOME": home, "SHELL": "/bin/bash"})
    return env


def run_block(block, preludes, args):
    """Runs one example; returns None, or the report of its failure."""
    # The ERR trap (inherited by functions: set -E) names the line of the block where the script
    # stopped: the outermost caller's when it stopped inside a function.
    script = ["set -E; trap 'n=${#BASH_LINENO[@]}; echo \"smemu-docs-test: stopped at script line "
              "$(( n > 1 ? BASH_LINENO[n-2] : LINENO ))\" >&2' ERR"]
    where = [None]  # where[n - 1]: the (block, offset) of script line n
    for part in preludes + [block]:
        for offset, line in enumerate(part.lines, start=1):
            script.append(line)
            where.append((part, offset))
    with tempfile.TemporaryDirectory(prefix="smemu-docs-") as work:
        tools, home = link_tree(args.source_root, args.smemu, work)
        path = os.path.join(work, ".docs-test-script.sh")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(script) + "\n")
        started = time.monotonic()
        process = subprocess.Popen(["/bin/bash", "-euo", "pipefail", path], cwd=work,
                                   env=environment(tools, home), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            output, _ = process.communicate(timeout=args.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        finally:
            # Whatever the block started and left running (a server whose trap never ran).
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        seconds = time.monotonic() - started
    output = output.decode("utf-8", "replace")
    if not timed_out and process.returncode == 0:
        print(f"ok   {block.where()} ({seconds:.1f} s)", flush=True)
        return None
    stopped = ""
    found = FAILED_AT.findall(output)
    if found:
        line = int(found[-1])
        if 1 < line <= len(where) and where[line - 1]:
            part, offset = where[line - 1]
            stopped = f", stopped at {part.where(offset)}: {part.lines[offset - 1].strip()}"
    reason = f"timed out after {args.timeout} s" if timed_out else f"exit status {process.returncode}"
    return f"{block.where()}: example block failed ({reason}{stopped})\n--- its output ---\n{output}---"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smemu", required=True, help="the smemu executable under test")
    parser.add_argument("--source-root", required=True, help="the repository root")
    parser.add_argument("--timeout", type=int, default=180, help="seconds per block")
    parser.add_argument("--check-only", action="store_true", help="check the marking; run nothing")
    parser.add_argument("--only", help="run only the example at FILE:LINE")
    parser.add_argument("files", nargs="+", help="markdown files, relative to the source root")
    args = parser.parse_args()
    args.source_root = os.path.abspath(args.source_root)

    problems = []
    files = []
    for path in args.files:
        blocks = parse_blocks(args.source_root, path)
        for block in blocks:
            wrong = classify(block)
            if wrong:
                problems.append(f"{block.where()}: {wrong}")
        files.append(blocks)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    examples = sum(1 for blocks in files for b in blocks if b.kind == "example")
    if args.check_only:
        print(f"marking ok: {examples} examples in {len(files)} files")
        return 0
    if not os.access(args.smemu, os.X_OK):
        print(f"FAIL: smemu executable {args.smemu!r} is missing", file=sys.stderr)
        return 1
    if not os.access(AWS, os.X_OK):
        print(f"FAIL: {AWS} is missing: the set-up installs Debian's awscli (AWS CLI v2)", file=sys.stderr)
        return 1

    failures = []
    ran = 0
    for blocks in files:
        preludes = []
        for block in blocks:
            if block.kind == "prelude":
                preludes.append(block)
            elif block.kind == "example" and (args.only is None or args.only == block.where()):
                ran += 1
                failure = run_block(block, preludes, args)
                if failure:
                    print(failure, flush=True)
                    failures.append(block.where())
    if args.only and ran == 0:
        print(f"FAIL: no example at {args.only}", file=sys.stderr)
        return 1
    if failures:
        print(f"\n{len(failures)} of {ran} examples failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    print(f"\n{ran} examples ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
