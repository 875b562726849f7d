#!/usr/bin/env python3
"""Check the bundled scenario folders against docs/scenario-format.md.

A stand-alone linter for the data files, independent of capplan itself: it
resolves `extends` chains, then checks every CSV and scenario.toml for column
names, number and time forms, fractions, duplicate demand rows, tranche and
outage windows, and what-if provider names. Python 3.11+, standard library only.

    python3 scripts/check_scenarios.py            # every folder under scenarios/
    python3 scripts/check_scenarios.py scenarios/quickstart

Exit status 1 when any error is found; warnings do not fail.
"""

import csv
import datetime as dt
import re
import sys
import tomllib
from pathlib import Path

COLUMNS = {
    "demand.csv": ({"period", "tokens_per_minute"}, {"region", "workload"}),
    "capacity.csv": (
        {"provider", "capacity_tpm"},
        {"region", "tranche", "start", "end", "cost_per_million_tokens",
         "commit_cost_per_hour", "min_commit"},
    ),
    "routes.csv": ({"demand_region", "supply_region"}, {"cost_per_million_tokens"}),
    "outages.csv": ({"provider", "start", "end"}, {"region", "capacity_factor"}),
}
NUMERIC = {"tokens_per_minute", "capacity_tpm", "cost_per_million_tokens",
           "commit_cost_per_hour", "min_commit", "capacity_factor"}
FRACTIONS = {"min_commit", "capacity_factor", "max_provider_share", "loss_coverage"}
TIMES = {"period", "start", "end"}

TOP_KEYS = {"name", "description", "extends", "horizon_end", "policy", "whatif"}
POLICY_KEYS = {"unserved_penalty", "max_provider_share", "survive_provider_loss",
               "loss_coverage", "resilience_penalty"}
WHATIF_KEYS = {"demand_scale", "only_providers", "exclude_providers", "delay",
               "price", "outage"}
TABLE_KEYS = {
    "delay": ({"provider", "days"}, set()),
    "price": ({"provider", "factor"}, set()),
    "outage": ({"provider", "start", "end"}, {"region", "capacity_factor"}),
}

NUMBER = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?([KMBT])?$")
SUFFIX = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$")
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


class Report:
    def __init__(self):
        self.errors, self.warnings = [], []

    def err(self, where, msg):
        self.errors.append(f"error: {where}: {msg}")

    def warn(self, where, msg):
        self.warnings.append(f"warning: {where}: {msg}")


def parse_number(text):
    m = NUMBER.match(text)
    if not m:
        raise ValueError(f"expected a non-negative number like 1.5e10 or 15B, got {text!r}")
    value = float(text[:-1] if m.group(1) else text)
    return value * SUFFIX.get(m.group(1), 1.0)


def parse_time(value):
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    text = str(value)
    if DATE.match(text):
        return dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    if NAIVE.match(text):
        fmt = "%Y-%m-%dT%H:%M:%S" if text.count(":") == 2 else "%Y-%m-%dT%H:%M"
        return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)
    if RFC3339.match(text):
        return dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    raise ValueError(f"expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or RFC 3339, got {text!r}")


def read_csv(path, rep):
    """Rows as dicts of parsed values; None when the file is absent."""
    if not path.exists():
        return None
    required, optional = COLUMNS[path.name]
    raw = path.read_bytes()
    if b"\r" in raw:
        rep.warn(path, "CRLF line endings (accepted, but the bundled files use LF)")
    if raw.startswith(b"\xef\xbb\xbf"):
        rep.err(path, "starts with a UTF-8 byte-order mark")
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            rep.err(path, "empty file, a header row is required")
            return []
        header = [h.strip() for h in header]
        for col in header:
            if col not in required | optional:
                rep.err(f"{path}:1", f"unknown column {col!r}; accepted: "
                        f"{', '.join(sorted(required | optional))}")
        for col in sorted(required - set(header)):
            rep.err(f"{path}:1", f"missing required column {col!r}")
        for lineno, cells in enumerate(reader, start=2):
            if len(cells) != len(header):
                rep.err(f"{path}:{lineno}", f"{len(cells)} cells, header has {len(header)}")
                continue
            row = {"_line": lineno}
            for col, cell in zip(header, cells):
                cell = cell.strip()
                where = f"{path}:{lineno}:{col}"
                if cell == "":
                    if col in required:
                        rep.err(where, "required value is blank")
                    row[col] = None
                    continue
                try:
                    if col in NUMERIC:
                        row[col] = parse_number(cell)
                        if col in FRACTIONS and not 0 <= row[col] <= 1:
                            rep.err(where, f"fraction must be in [0, 1], got {cell}")
                    elif col in TIMES:
                        row[col] = parse_time(cell)
                    else:
                        row[col] = cell
                except ValueError as e:
                    rep.err(where, str(e))
                    row[col] = None
            rows.append(row)
    return rows


def check_toml(path, rep):
    if not path.exists():
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        rep.err(path, f"not valid TOML: {e}")
        return {}
    for key in doc:
        if key not in TOP_KEYS:
            rep.err(path, f"unknown key {key!r}")
    for key, value in doc.get("policy", {}).items():
        if key not in POLICY_KEYS:
            rep.err(path, f"unknown key policy.{key}")
        elif key in FRACTIONS and not 0 <= value <= 1:
            rep.err(path, f"policy.{key} must be in [0, 1], got {value}")
    whatif = doc.get("whatif", {})
    for key, value in whatif.items():
        if key not in WHATIF_KEYS:
            rep.err(path, f"unknown key whatif.{key}")
        if key in TABLE_KEYS:
            need, opt = TABLE_KEYS[key]
            for i, entry in enumerate(value):
                for k in entry:
                    if k not in need | opt:
                        rep.err(path, f"unknown key whatif.{key}[{i}].{k}")
                for k in need - set(entry):
                    rep.err(path, f"whatif.{key}[{i}] lacks {k!r}")
                if key == "outage":
                    try:
                        if parse_time(entry["end"]) <= parse_time(entry["start"]):
                            rep.err(path, f"whatif.outage[{i}]: end <= start")
                    except (KeyError, ValueError) as e:
                        rep.err(path, f"whatif.outage[{i}]: {e}")
                    cf = entry.get("capacity_factor", 0)
                    if not 0 <= cf <= 1:
                        rep.err(path, f"whatif.outage[{i}].capacity_factor not in [0, 1]")
    if "horizon_end" in doc:
        try:
            doc["horizon_end"] = parse_time(doc["horizon_end"])
        except ValueError as e:
            rep.err(path, f"horizon_end: {e}")
            del doc["horizon_end"]
    return doc


def resolve(folder, rep, seen=()):
    """Effective tables and merged toml of a scenario, following `extends`.

    Only the file-level inheritance is modelled; what-ifs are checked for
    validity (provider names) but not applied.
    """
    folder = folder.resolve()
    if folder in seen:
        rep.err(folder, "extends cycle: " + " -> ".join(str(s) for s in seen + (folder,)))
        return {}, {}
    doc = check_toml(folder / "scenario.toml", rep)
    tables, merged = {}, {}
    if "extends" in doc:
        parent = folder / doc["extends"]
        if not parent.is_dir():
            rep.err(folder / "scenario.toml", f"extends: no folder {parent}")
        else:
            tables, merged = resolve(parent, rep, seen + (folder,))
            merged.pop("name", None)
            merged.pop("description", None)
    for name in COLUMNS:
        rows = read_csv(folder / name, rep)
        if rows is not None:
            tables[name] = (rows, folder / name)
    for key, value in doc.items():
        if key == "policy":
            merged["policy"] = {**merged.get("policy", {}), **value}
        elif key == "whatif":
            providers = {r.get("provider") for r in tables.get("capacity.csv", ([], None))[0]}
            check_whatif_providers(folder / "scenario.toml", value, providers, rep)
            merged.setdefault("whatifs", []).append(value)
        else:
            merged[key] = value
    return tables, merged


def check_whatif_providers(path, whatif, providers, rep):
    named = list(whatif.get("only_providers", [])) + list(whatif.get("exclude_providers", []))
    for key in ("delay", "price", "outage"):
        named += [e.get("provider") for e in whatif.get(key, [])]
    for p in named:
        if p not in providers:
            rep.err(path, f"what-if names provider {p!r}, which has no tranche "
                    f"(known: {', '.join(sorted(filter(None, providers)))})")


def check_scenario(folder, rep):
    tables, merged = resolve(folder, rep)
    for name in ("demand.csv", "capacity.csv"):
        if name not in tables:
            rep.err(folder, f"no {name} here or in a parent")
    if rep.errors:
        return
    demand, dpath = tables["demand.csv"]
    capacity, cpath = tables["capacity.csv"]

    seen = {}
    for r in demand:
        key = (r["period"], r.get("region") or "global", r.get("workload") or "default")
        if key in seen:
            rep.err(f"{dpath}:{r['_line']}", f"duplicate (period, region, workload) "
                    f"{key[0]:%Y-%m-%d}/{key[1]}/{key[2]}, first on line {seen[key]}")
        seen[key] = r["_line"]
    periods = sorted({r["period"] for r in demand})
    horizon_end = merged.get("horizon_end")
    if len(periods) == 1 and horizon_end is None:
        rep.err(dpath, "one period and no horizon_end: its length is unknown")
    if horizon_end is not None and horizon_end <= periods[-1]:
        rep.err(folder, f"horizon_end {horizon_end} is not after the last period")

    names = {}
    for i, r in enumerate(capacity, start=1):
        where = f"{cpath}:{r['_line']}"
        if r.get("start") and r.get("end") and r["end"] <= r["start"]:
            rep.err(where, "tranche end <= start")
        name = r.get("tranche") or f"{r['provider']}/{r.get('region') or 'global'}/#{i}"
        if name in names:
            rep.warn(where, f"duplicate tranche name {name!r} (first on line {names[name]})")
        names[name] = r["_line"]
        active = [t for t in periods
                  if (r.get("start") is None or r["start"] <= t)
                  and (r.get("end") is None or t < r["end"])]
        if not active:
            rep.warn(where, f"tranche {name!r} is active in no period")

    if "outages.csv" in tables:
        rows, opath = tables["outages.csv"]
        for r in rows:
            if r.get("start") and r.get("end") and r["end"] <= r["start"]:
                rep.err(f"{opath}:{r['_line']}", "outage end <= start")

    demand_regions = {r.get("region") or "global" for r in demand}
    supply_regions = {r.get("region") or "global" for r in capacity}
    if "routes.csv" in tables:
        rows, rpath = tables["routes.csv"]
        pairs = set()
        for r in rows:
            where = f"{rpath}:{r['_line']}"
            pair = (r["demand_region"], r["supply_region"])
            if pair[0] == pair[1]:
                rep.warn(where, "same-region pair is always allowed; this row is ignored")
            if pair in pairs:
                rep.warn(where, f"route {pair} listed twice")
            pairs.add(pair)
            if pair[0] not in demand_regions:
                rep.warn(where, f"demand_region {pair[0]!r} has no demand")
            if pair[1] not in supply_regions:
                rep.warn(where, f"supply_region {pair[1]!r} has no capacity")


def main(argv):
    root = Path(__file__).resolve().parent.parent / "scenarios"
    folders = [Path(a) for a in argv] or sorted(p for p in root.iterdir() if p.is_dir())
    failed = False
    for folder in folders:
        rep = Report()
        check_scenario(folder, rep)
        for line in rep.warnings + rep.errors:
            print(line)
        print(f"{folder}: {'FAIL' if rep.errors else 'ok'}"
              f" ({len(rep.errors)} errors, {len(rep.warnings)} warnings)")
        failed |= bool(rep.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
