"""`smemu replay FILE --html OUT` and `smemu lab --html OUT` (issue 6 item 3), checked in the DOM that
headless Chromium renders.

The truth comes from elsewhere than the page: the labels per step from replay's own per-step
tables (`smemu replay FILE`, the tables being the contract the scenario expectations check), the
setup's versions from the scenario file, the failed steps and the events per step from the
scenario's expectations (replay passes, so they hold), and the values from
`smemu replay --show-secrets`. Chromium runs with the network off (a dead proxy, every host
unresolvable) and a throwaway profile; a missing Chromium fails the test (the set-up installs
Debian's chromium). With --lab the pages come from `smemu lab --html`, which plays the scenario
FILE (scenarios/examples/lab.json) on the same runner: replay's tables are its truth too.

usage: timeline_test.py --smemu PATH --scenario FILE --chromium PATH --work DIR [--lab]
"""

import argparse
import html.parser
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
    return condition


def run(command, timeout=120):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def replay(smemu, scenario, *extra):
    result = run([smemu, "replay", scenario, *extra])
    if result.returncode != 0:
        sys.exit(f"smemu replay {' '.join(extra)} exited {result.returncode}: {result.stderr}")
    return result.stdout


# --- the truth, from replay's tables and the scenario file -----------------------------------

ROW_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  (.*)$")


def parse_tables(stdout):
    """{step: {secret name: [(version id, set(labels), value text)]}} for the steps that printed a table.

    A table is "  NAME", then "    VersionId  LABEL...  Created  Value", then a row per version with
    an X under each label it holds (left-aligned under the label's name).
    """
    tables = {}
    step = None
    lines = stdout.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"step (\d+)(?::| \(at )", line)
        if heading:
            step = int(heading.group(1))
            # A deferred call's heading names its own step; the state it prints is mid-step.
            if " (at " in line:
                step = None
        elif step is not None and i + 1 < len(lines) and lines[i + 1].startswith("    VersionId"):
            name = line.strip()
            name = re.sub(r"  \(marked for deletion\)$", "", name)
            header = lines[i + 1]
            created = header.index("Created")
            columns = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", header[:created])][1:]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("    ") and not lines[i].startswith("    rotation "):
                row = lines[i]
                version = row.split()[0]
                labels = {label for start, label in columns if row[start:start + 1] == "X"}
                value = ROW_TIME.search(row)
                rows.append((version, labels, value.group(1) if value else ""))
                i += 1
            tables.setdefault(step, {})[name] = rows
            continue
        i += 1
    return tables


def truth_per_step(scenario, tables):
    """{step: {secret: {version: labels}}} for steps 0..N, carrying a state forward over steps that printed none,
    and {secret: [versions in creation order]}."""
    state = {}
    for secret in scenario["setup"]["secrets"]:
        token = secret.get("ClientRequestToken")
        if token and ("SecretString" in secret or "SecretBinary" in secret):
            state[secret["Name"]] = {token: {"AWSCURRENT"}}
    order = {name: list(versions) for name, versions in state.items()}
    truth = {0: {name: dict(versions) for name, versions in state.items()}}
    for step in range(1, len(scenario["steps"]) + 1):
        for name, rows in tables.get(step, {}).items():
            state[name] = {version: labels for version, labels, _ in rows}
            for version, _, _ in rows:
                if version not in order.setdefault(name, []):
                    order[name].append(version)
        truth[step] = {name: dict(versions) for name, versions in state.items()}
    return truth, order


def failed_steps(scenario):
    """The steps whose expectations say the action failed: a call's error, a rotation step's bad outcome,
    or a rotation failure among the step's events."""
    failed = set()
    for index, step in enumerate(scenario["steps"], start=1):
        expect = step.get("expect", {})
        rotation = expect.get("rotation", {})
        events = expect.get("events") or []
        if ("error" in expect or expect.get("ok") is False
                or rotation.get("outcome") not in (None, "ok")
                or any(name in ("RotationFailed", "TestRotationFailed", "RotationAbandoned") for name in events)):
            failed.add(index)
    return failed


def plain_values(scenario, shown_stdout):
    """Every secret value the run held: the scenario's own, and what --show-secrets' tables print."""
    values = set()

    def collect(node):
        if isinstance(node, dict):
            for key, member in node.items():
                if key in ("SecretString", "RandomPassword") and isinstance(member, str) and member:
                    values.add(member)
                    try:
                        inner = json.loads(member)
                    except ValueError:
                        inner = None
                    if isinstance(inner, dict) and isinstance(inner.get("password"), str):
                        values.add(inner["password"])
                else:
                    collect(member)
        elif isinstance(node, list):
            for member in node:
                collect(member)

    collect(scenario)
    for steps in parse_tables(shown_stdout).values():
        for rows in steps.values():
            for _, _, text in rows:
                if text.startswith('"'):
                    value = json.loads(text)
                    values.add(value)
                    try:
                        inner = json.loads(value)
                    except ValueError:
                        inner = None
                    if isinstance(inner, dict) and isinstance(inner.get("password"), str):
                        values.add(inner["password"])
    return values


# --- the rendered DOM -------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], []

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def ancestor(self, predicate):
        node = self.parent
        while node is not None and not predicate(node):
            node = node.parent
        return node

    def all_text(self):
        return "".join(self.text) + "".join(child.all_text() for child in self.children)


class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root
        self.nodes = []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.nodes.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.nodes.append(node)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text.append(data)


def parse_dom(text):
    tree = Tree()
    tree.feed(text)
    tree.close()
    return tree


def has_class(name):
    return lambda node: name in node.classes()


def dump_dom(chromium, page, work):
    profile = tempfile.mkdtemp(prefix="profile-", dir=work)
    try:
        result = run([
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
            # The network is off: every connection goes to a dead proxy and no host resolves.
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
            f"--user-data-dir={profile}", "file://" + os.path.abspath(page),
        ], timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if result.returncode != 0 or "<html" not in result.stdout:
        sys.exit(f"chromium --dump-dom {page} exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def check_static(page_text, page):
    """Nothing in the page could fetch anything."""
    lowered = page_text.lower()
    for needle in ("http://", "https://", "//cdn", " src=", " href=", "url(", "@import", "<link", "<img",
                   "<iframe", "<object", "<embed", "srcset", "fetch(", "xmlhttprequest", "websocket", "import("):
        check(needle not in lowered, f"{page}: holds {needle!r}: the page must fetch nothing")
    check("content-security-policy" in lowered and "default-src 'none'" in lowered,
          f"{page}: no Content-Security-Policy forbidding fetches")


def check_page(dom, scenario, truth, order, failed, values, shown, page):
    where = f"{page}:"
    nodes = dom.nodes
    steps = list(range(0, len(scenario["steps"]) + 1))

    # The inline script ran (under the page's policy): it selected step 0.
    first = [n for n in nodes if n.tag == "li" and "step" in n.classes() and n.attrs.get("data-step") == "0"]
    check(first and "sel" in first[0].classes(), f"{where} the inline script did not run (step 0 not selected)")

    for name, versions in order.items():
        sections = [n for n in nodes if n.tag == "section" and n.attrs.get("data-secret") == name]
        if not check(len(sections) == 1, f"{where} expected one section for {name}, got {len(sections)}"):
            continue
        section = sections[0]
        lanes = [n for n in nodes if "lane" in n.classes() and n.ancestor(lambda a: a is section)]
        lane_ids = [lane.attrs.get("data-version") for lane in lanes]
        # One lane per version, in creation order.
        check(lane_ids == versions, f"{where} {name}: lanes {lane_ids}, expected one per version {versions}")
        check([lane.attrs.get("data-order") for lane in lanes] == [str(k) for k in range(1, len(lanes) + 1)],
              f"{where} {name}: lanes' data-order is not 1..{len(lanes)}")
        check(all(lane.attrs.get("data-secret") == name for lane in lanes), f"{where} {name}: a lane names another secret")
        for lane in lanes:
            version = lane.attrs["data-version"]
            cells = [c for c in lane.children if "cell" in c.classes()]
            check([c.attrs.get("data-step") for c in cells] == [str(s) for s in steps],
                  f"{where} {name} {version}: cells for steps {[c.attrs.get('data-step') for c in cells]}")
            for cell in cells:
                step = int(cell.attrs["data-step"])
                chips = [n for n in nodes if "label" in n.classes() and n.ancestor(lambda a: a is cell)]
                got = {chip.attrs.get("data-label") for chip in chips}
                check(len(got) == len(chips), f"{where} {name} {version} step {step}: a label shows twice")
                for chip in chips:
                    check(chip.attrs.get("data-step") == str(step) and chip.attrs.get("data-version") == version
                          and chip.all_text() == chip.attrs.get("data-label"),
                          f"{where} {name} step {step}: chip {chip.attrs} stands in lane {version}")
                want = truth[step].get(name, {}).get(version)
                # A version the state does not list (yet, or any more) holds nothing.
                check(got == (want or set()),
                      f"{where} {name} step {step}: lane {version} holds {sorted(got)}, replay says {sorted(want or [])}")
                check((cell.attrs.get("data-present") == "true") == (want is not None),
                      f"{where} {name} step {step}: lane {version} present={cell.attrs.get('data-present')}, "
                      f"replay {'lists' if want is not None else 'does not list'} it")

    # Failed steps: on the step list and on the columns' heads, exactly the ones that failed.
    listed = {int(n.attrs["data-step"]) for n in nodes if n.tag == "li" and "step" in n.classes()}
    check(listed == set(steps), f"{where} steps listed {sorted(listed)}, expected {steps}")
    marked = {int(n.attrs["data-step"]) for n in nodes
              if n.tag == "li" and "step" in n.classes() and n.attrs.get("data-failed") == "true"}
    check(marked == failed, f"{where} failed steps marked {sorted(marked)}, the scenario's are {sorted(failed)}")
    check(failed, f"{where} the scenario has no failed step to show")
    heads = {int(n.attrs["data-step"]) for n in nodes
             if n.attrs.get("data-failed") == "true" and n.parent and "head" in n.parent.classes()}
    check(heads == failed, f"{where} failed columns {sorted(heads)}, the scenario's are {sorted(failed)}")
    check(not any(n.attrs.get("data-unmet") for n in nodes), f"{where} a step is marked unmet; replay passed")

    # Events: per step, the service and label events the scenario expects, in order.
    for index, step in enumerate(scenario["steps"], start=1):
        expected = step.get("expect", {}).get("events")
        if expected is None:
            continue
        items = [n for n in nodes if n.tag == "li" and "event" in n.classes() and n.attrs.get("data-step") == str(index)
                 and n.attrs.get("data-kind") != "api-call"]
        got = [n.attrs.get("data-name") for n in items]
        check(got == expected, f"{where} step {index}: events {got}, the scenario expects {expected}")

    # Values: masked unless shown.
    text = "\n".join(n.all_text() for n in dom.root.children) + "\n".join(
        value for n in nodes for value in n.attrs.values() if value)
    mode = [n.attrs.get("data-values") for n in nodes if "data-values" in n.attrs]
    check(mode == ["shown" if shown else "masked"], f"{where} data-values {mode}")
    for value in values:
        if shown:
            check(value in text, f"{where} a value the run held is not shown with --show-secrets")
        else:
            check(value not in text, f"{where} a secret value appears in the masked page")
    value_spans = [n for n in nodes if "value" in n.classes()]
    check(value_spans, f"{where} no values at all")
    if not shown:
        check(all(n.all_text() in ("****", "(no value)") for n in value_spans), f"{where} a value is not masked")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smemu", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--lab", action="store_true", help="check `smemu lab --html` instead of replay's")
    args = parser.parse_args()
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        sys.exit(f"{args.chromium} is missing: the set-up installs Debian's chromium (README's test command)")
    os.makedirs(args.work, exist_ok=True)
    with open(args.scenario, encoding="utf-8") as file:
        scenario = json.load(file)

    tables_stdout = replay(args.smemu, args.scenario)
    shown_stdout = replay(args.smemu, args.scenario, "--show-secrets")
    quiet_stdout = replay(args.smemu, args.scenario, "--quiet")
    truth, order = truth_per_step(scenario, parse_tables(tables_stdout))
    failed = failed_steps(scenario)
    values = plain_values(scenario, shown_stdout)
    check(len(values) >= 2, f"found {len(values)} plain values to look for; expected the setup's and rotation's")
    check(sum(len(v) for v in order.values()) >= 2, f"the scenario shows versions {order}; expected several")

    for shown in (False, True):
        page = os.path.join(args.work, "shown.html" if shown else "masked.html")
        if os.path.exists(page):
            os.remove(page)
        extra = ["--show-secrets"] if shown else []
        if args.lab:
            command = [args.smemu, "lab", *extra]
            with_html, without = run(command + ["--html", page]), run(command)
            # --html changes nothing else: the same output and exit code.
            check(with_html.returncode == without.returncode == 0 and with_html.stdout == without.stdout,
                  f"smemu lab --html exited {with_html.returncode} (without: {without.returncode}); "
                  f"same output: {with_html.stdout == without.stdout}; stderr {with_html.stderr!r}")
        else:
            stdout = replay(args.smemu, args.scenario, "--quiet", *extra, "--html", page)
            # --html changes nothing else: the same three lines (seed, digest, ok).
            check(stdout == quiet_stdout, f"replay --html printed {stdout!r}, without it {quiet_stdout!r}")
        check(stat.S_IMODE(os.stat(page).st_mode) == 0o600, f"{page}: mode {oct(os.stat(page).st_mode)}, expected 0600")
        with open(page, encoding="utf-8") as file:
            page_text = file.read()
        check_static(page_text, page)
        if not shown:
            check(not any(value in page_text for value in values), f"{page}: a secret value in the masked file")
        dom = parse_dom(dump_dom(args.chromium, page, args.work))
        check_page(dom, scenario, truth, order, failed, values, shown, page)

    if FAILURES:
        for failure in FAILURES:
            print("FAIL:", failure)
        sys.exit(1)
    print(f"ok: {len(truth)} steps, versions {order}, failed steps {sorted(failed)}")


if __name__ == "__main__":
    main()
