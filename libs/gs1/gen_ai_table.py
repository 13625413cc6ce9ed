#!/usr/bin/env python3
"""Generates libs/gs1/ai_table.cc from the GS1 Barcode Syntax Dictionary.

Usage:
  libs/gs1/gen_ai_table.py [--dictionary FILE] [--biip-json FILE] > libs/gs1/ai_table.cc

The dictionary (gs1-syntax-dictionary.txt, GS1 AISBL, Apache-2.0) is the
source of truth: AI ranges, the predefined-length flag, the component formats
and their linter names, and the association rules (req= and ex= attributes),
carried over in the dictionary's own notation once every AI or pattern they
name is found to match an AI of the table. Biip's _application_identifiers.json
is used only to fill in data titles the dictionary leaves empty (8110, 8112),
and to cross-check the separator flag; disagreements are printed to stderr and
fail the run.

The output is committed, so the build never runs this script. Re-run it after
updating the reference files and review the diff.
"""

import argparse
import hashlib
import json
import os
import re
import sys

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "third_party", "gs1", "syntax")

CHARSETS = {"N": "kNumeric", "X": "kCset82", "Y": "kCset39", "Z": "kCset64"}

# Dictionary linter name -> Check flag in ai_table.h. Linters missing here are
# not enforced by the library; the table keeps their names so the gap is
# visible (AiSpec::unchecked_linters).
CHECKS = {
    "csum": "kCheckDigit",
    "yymmd0": "kDateYymmd0",
    "yymmdd": "kDateYymmdd",
    "yyyymmdd": "kDateYyyymmdd",
    "hhmi": "kHourMinute",
    "hh": "kHour",
    "mi": "kMinute",
    "ss": "kSecond",
    "nonzero": "kNonZero",
    "zero": "kZero",
    "yesno": "kYesNo",
    "hyphen": "kHyphen",
    "pieceoftotal": "kPieceOfTotal",
    "nozeroprefix": "kNoZeroPrefix",
    "hasnondigit": "kHasNonDigit",
}

MAX_COMPONENTS = 5
# kMaxRequisites in ai_table.h: the most req= clauses one entry has.
MAX_REQUISITES = 2

COMPONENT_RE = re.compile(r"^(\[)?([NXYZ])(\.\.)?(\d+)(\])?((?:,[a-z0-9]+)*)$")

# An AI or a pattern in req=/ex=: digits, 'n' standing for any digit.
PATTERN_RE = re.compile(r"^[0-9n]{2,4}$")


def parse_component(text):
    m = COMPONENT_RE.match(text)
    if not m:
        sys.exit(f"cannot parse component {text!r}")
    opt_open, kind, variable, length, opt_close, linters = m.groups()
    if bool(opt_open) != bool(opt_close):
        sys.exit(f"unbalanced brackets in {text!r}")
    length = int(length)
    return {
        "charset": CHARSETS[kind],
        "min": 1 if variable else length,
        "max": length,
        "optional": bool(opt_open),
        "linters": [l for l in linters.split(",") if l],
    }


def parse_dictionary(path):
    entries = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            body, _, title = line.partition("#")
            tokens = body.split()
            ais = tokens.pop(0)
            flags = ""
            if tokens and re.fullmatch(r"[*!?\"$%&'()+,\-./:;<=>@\[\\\]^_`{|}~]+", tokens[0]):
                flags = tokens.pop(0)
            components = []
            while tokens and "=" not in tokens[0] and tokens[0] != "dlpkey":
                components.append(parse_component(tokens.pop(0)))
            # Attributes. Each req= is a clause of its own (all must hold);
            # ex= lists are merged (any match is refused).
            requisites = []
            exclusions = []
            for token in tokens:
                key, _, value = token.partition("=")
                if key == "req":
                    requisites.append(parse_rule(value, line, combinations=True))
                elif key == "ex":
                    exclusions += parse_rule(value, line, combinations=False).split(",")
                elif key != "dlpkey":
                    sys.exit(f"unknown attribute {token!r} in {line!r}")
            if len(requisites) > MAX_REQUISITES:
                sys.exit(f"more than {MAX_REQUISITES} req= clauses in {line!r}: "
                         "raise kMaxRequisites in ai_table.h and MAX_REQUISITES")
            if not components or len(components) > MAX_COMPONENTS:
                sys.exit(f"bad component count in {line!r}")
            variable = [c for c in components if c["min"] != c["max"]]
            if variable and components[-1] is not variable[-1]:
                sys.exit(f"variable component not last in {line!r}")
            first, _, last = ais.partition("-")
            last = last or first
            if len(first) != len(last):
                sys.exit(f"bad range {ais!r}")
            for n in range(int(first), int(last) + 1):
                entries.append({
                    "ai": str(n).zfill(len(first)),
                    "predefined": "*" in flags,
                    "components": components,
                    "title": title.strip(),
                    "requisites": requisites,
                    "exclusions": ",".join(dict.fromkeys(exclusions)),
                })
    return entries


def parse_rule(value, line, combinations):
    """Checks a req= or ex= value ("01+21,02,35nn") and returns it as is."""
    for alternative in value.split(","):
        members = alternative.split("+")
        if len(members) > 1 and not combinations:
            sys.exit(f"'+' in an ex= list in {line!r}")
        for member in members:
            if not PATTERN_RE.match(member):
                sys.exit(f"bad AI pattern {member!r} in {line!r}")
    return value


def pattern_matches(pattern, ai):
    return len(pattern) == len(ai) and all(
        p == a or (p == "n" and a.isdigit()) for p, a in zip(pattern, ai))


def c_string(s):
    return json.dumps(s, ensure_ascii=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dictionary", default=f"{DEFAULT_DIR}/gs1-syntax-dictionary.txt")
    parser.add_argument("--biip-json", default=f"{DEFAULT_DIR}/_application_identifiers.json")
    args = parser.parse_args()

    entries = parse_dictionary(args.dictionary)
    entries.sort(key=lambda e: e["ai"])
    biip = {e["ai"]: e for e in json.load(open(args.biip_json, encoding="utf-8"))}

    problems = []
    ais = [e["ai"] for e in entries]
    if len(set(ais)) != len(ais):
        problems.append("duplicate AIs")
    # Splitting an unbracketed element string relies on no AI being a prefix
    # of another.
    for a in ais:
        for b in ais:
            if a != b and b.startswith(a):
                problems.append(f"AI {a} is a prefix of {b}")
    for e in entries:
        b = biip.get(e["ai"])
        if b is None:
            print(f"note: AI {e['ai']} not in biip JSON", file=sys.stderr)
            continue
        if b["separator_required"] == e["predefined"]:
            problems.append(f"AI {e['ai']}: separator flag disagrees with biip")
        if not e["title"]:
            e["title"] = b["data_title"] or b["description"]
    # Every AI or pattern a rule names must match an AI of the table, or the
    # rule could never be met (req=) or never fire (ex=).
    for e in entries:
        for rule in e["requisites"] + [e["exclusions"]]:
            for pattern in re.split(r"[,+]", rule) if rule else []:
                if not any(pattern_matches(pattern, a) for a in ais):
                    problems.append(f"AI {e['ai']}: rule names {pattern}, "
                                    "which matches no AI")
    for a in sorted(set(biip) - set(ais)):
        print(f"note: AI {a} only in biip JSON, not generated", file=sys.stderr)
    if problems:
        sys.exit("\n".join(problems))

    digest = hashlib.sha256(open(args.dictionary, "rb").read()).hexdigest()
    release = ""
    for line in open(args.dictionary, encoding="utf-8"):
        if line.startswith("# Release:"):
            release = line.split(":", 1)[1].strip()
            break

    out = []
    w = out.append
    w("// GENERATED by libs/gs1/gen_ai_table.py -- do not edit by hand.")
    w(f"// Source: gs1-syntax-dictionary.txt, release {release},")
    w(f"// sha256 {digest}")
    w("// (GS1 AISBL, Apache License 2.0); titles missing there from biip's")
    w("// _application_identifiers.json (Apache License 2.0).")
    w("// clang-format off")
    w('#include "libs/gs1/ai_table.h"')
    w("")
    w("#include <algorithm>")
    w("")
    w("namespace lotledger::gs1 {")
    w("namespace {")
    w("")
    w("constexpr AiSpec kAiTable[] = {")
    for e in entries:
        comps = []
        unchecked = []
        for c in e["components"]:
            checks = [CHECKS[l] for l in c["linters"] if l in CHECKS]
            unchecked += [l for l in c["linters"] if l not in CHECKS]
            mask = " | ".join(checks) if checks else "kNoCheck"
            comps.append(
                f"{{Charset::{c['charset']}, {c['min']}, {c['max']}, "
                f"{'true' if c['optional'] else 'false'}, {mask}}}")
        min_len = sum(0 if c["optional"] else c["min"] for c in e["components"])
        max_len = sum(c["max"] for c in e["components"])
        requisites = e["requisites"] + [""] * (MAX_REQUISITES - len(e["requisites"]))
        w(f"    {{{c_string(e['ai'])}, {c_string(e['title'])}, "
          f"{'true' if e['predefined'] else 'false'}, {min_len}, {max_len}, "
          f"{len(comps)}, {{{{{', '.join(comps)}}}}}, "
          f"{c_string(','.join(dict.fromkeys(unchecked)))}, "
          f"{{{{{', '.join(c_string(r) for r in requisites)}}}}}, "
          f"{c_string(e['exclusions'])}}},")
    w("};")
    w("")
    w("}  // namespace")
    w("")
    w("absl::Span<const AiSpec> AllAis() { return kAiTable; }")
    w("")
    w("const AiSpec* FindAi(std::string_view ai) {")
    w("  const auto* it = std::lower_bound(")
    w("      std::begin(kAiTable), std::end(kAiTable), ai,")
    w("      [](const AiSpec& spec, std::string_view key) { return spec.ai < key; });")
    w("  if (it == std::end(kAiTable) || it->ai != ai) return nullptr;")
    w("  return it;")
    w("}")
    w("")
    w("}  // namespace lotledger::gs1")
    print("\n".join(out))


if __name__ == "__main__":
    main()
