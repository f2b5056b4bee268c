#!/usr/bin/env python3
"""Turn CBS's "Gemeenten alfabetisch" list into src/domain/gemeenten.tsv.

Input: the list of the year saved as CSV (see docs/gemeenten.md for where to download it and how
to save the XLSX as CSV). The columns used are GemeentecodeGM, Gemeentenaam and Provincienaam;
others are ignored. The separator (';', ',' or tab) is taken from the header line.

Output: one line per gemeente, "code<TAB>name<TAB>province", sorted by name, after one header
line naming the source and the reference date. The script refuses (exit status 1, nothing
written) a file with a missing column, a malformed code, an empty name, a name with control or
invisible characters, or a code or name that occurs twice. It prints the count per province and,
when the output file already exists, which codes were added, removed or renamed: a removed code
is a gemeente that merged and needs a data migration (docs/gemeenten.md).

Python 3 standard library only.
"""

import argparse
import csv
import io
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

COLUMNS = ("GemeentecodeGM", "Gemeentenaam", "Provincienaam")
CODE = re.compile(r"^GM[0-9]{4}$")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "src" / "domain" / "gemeenten.tsv"


def is_hidden(c):
    """Control and format characters (zero-width, text direction, soft hyphen, BOM)."""
    return unicodedata.category(c) in ("Cc", "Cf")


def sort_key(row):
    """Alphabetical as in CBS's list: "'s-Gravenhage" under G, "Súdwest-Fryslân" under S."""
    name = row[1]
    if name.startswith("'s-"):
        name = name[3:]
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    )
    return (bare.casefold(), row[0])


def read_rows(path, encoding):
    try:
        text = Path(path).read_text(encoding=encoding)
    except UnicodeDecodeError as e:
        sys.exit(f"{path}: not {encoding} ({e}); save it as UTF-8 CSV or pass --encoding cp1252")
    lines = text.splitlines()
    if not lines:
        sys.exit(f"{path}: empty file")
    header = lines[0]
    delimiter = max((";", ",", "\t"), key=header.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    names = [h.strip() for h in next(reader)]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        sys.exit(
            f"{path}: no column {', '.join(missing)} in the header {names!r}; "
            "is this the sheet Gemeenten_alfabetisch?"
        )
    index = [names.index(c) for c in COLUMNS]
    rows, errors = [], []
    for number, record in enumerate(reader, start=2):
        if not any(field.strip() for field in record):
            continue
        if len(record) < len(names):
            errors.append(f"line {number}: {len(record)} fields, the header has {len(names)}")
            continue
        code, name, province = (
            unicodedata.normalize("NFC", record[i].strip()) for i in index
        )
        if not CODE.match(code):
            errors.append(f"line {number}: code {code!r} is not GM and four digits")
        for label, value in (("name", name), ("province", province)):
            if not value:
                errors.append(f"line {number}: empty {label}")
            elif any(is_hidden(c) for c in value) or "\t" in value:
                errors.append(f"line {number}: {label} {value!r} holds a hidden character")
        rows.append((code, name, province))
    for label, column in (("code", 0), ("name", 1)):
        counts = Counter(row[column].casefold() for row in rows)
        twice = {row[column] for row in rows if counts[row[column].casefold()] > 1}
        errors += [f"{label} {v!r} occurs more than once" for v in sorted(twice)]
    if errors:
        sys.exit(f"{path}: refused, nothing written:\n  " + "\n  ".join(errors))
    return rows


def read_existing(path):
    if not path.exists():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name, _province = line.split("\t")
            rows[code] = name
    return rows


def report_changes(old, rows):
    if not old:
        return
    new = {code: name for code, name, _ in rows}
    for code in sorted(new.keys() - old.keys()):
        print(f"added    {code} {new[code]}", file=sys.stderr)
    for code in sorted(old.keys() - new.keys()):
        print(f"removed  {code} {old[code]}  (merged: needs a data migration)", file=sys.stderr)
    for code in sorted(new.keys() & old.keys()):
        if new[code] != old[code]:
            print(f"renamed  {code} {old[code]} -> {new[code]}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="the CBS list saved as CSV")
    parser.add_argument(
        "--year", type=int, required=True, help="the year of the indeling (reference date 1 January)"
    )
    parser.add_argument("--encoding", default="utf-8-sig", help="of the CSV (default utf-8-sig)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()

    rows = sorted(read_rows(args.csv, args.encoding), key=sort_key)
    report_changes(read_existing(args.output), rows)
    header = (
        f"# CBS, Gemeentelijke indeling op 1 januari {args.year} "
        f"(gemeenten-alfabetisch-{args.year}); reference date {args.year}-01-01; "
        f"{len(rows)} gemeenten; columns: code, name, province"
    )
    body = "".join(f"{code}\t{name}\t{province}\n" for code, name, province in rows)
    args.output.write_text(header + "\n" + body, encoding="utf-8")
    for province, n in sorted(Counter(row[2] for row in rows).items()):
        print(f"{n:4} {province}", file=sys.stderr)
    print(f"{len(rows):4} gemeenten written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
