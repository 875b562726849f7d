#!/usr/bin/env python3
"""Benchmark twin of capplan's planning LP in PyPSA: reads a capplan scenario folder, builds the
same linear program as a PyPSA network (solved by HiGHS through linopy) and prints one JSON line
{objective, seconds_build, seconds_solve, seconds_total, ...} on stdout.

Supported: what the synthetic generator writes (demand.csv, capacity.csv with start/end/min_commit,
routes.csv, outages.csv, scenario.toml with horizon_end and [policy], both layouts) on any time
grid, including the share cap (max_provider_share < 1) and N-1 (survive_provider_loss), and
workloads.csv with `max_delay` (deferral) and `unserved_penalty` (spec v3). Refused, with an error
naming the reason: `extends`, `[whatif]`, workloads.csv's `model` column (and throughput.csv, GPU
capacity), and route sets on which flows through an intermediate region could beat the direct
route (the bus model would then allow paths capplan does not).

How the model is built. The plan itself is a plain PyPSA network: each tranche a generator
(extendable between min_commit·cap and cap with the commitment as capital cost when it has a
reservation decision, fixed at cap otherwise) with p_max_pu = A(k,t) at its region's bus, routes
as one-way links between region buses at their price, unserved demand as a generator at the
penalty. Demand sits on the buses in one of two layouts:
- one bus per region carrying the region's merged workloads (load, unserved generator), when every
  workload has the same penalty and none waits — always so without workloads.csv, and then the LP
  is exactly the one this script built before it read workloads.csv;
- otherwise one sink bus per demand class, fed by a free link from its region's bus, with the
  class's load and its unserved generator at the class's penalty. A class is the workloads of one
  region with the same max_delay and penalty: every constraint treats them alike, so merging them
  is exact (the spec's settled details; capplan's LP merges them the same way). The unserved
  generators sit on sink buses so that one class's penalty cannot stand in for another's.

Deferral: the storage form, with the same optimum as the spec's delay-window flows
x(k,r,w,t,t′). S(w,t) = t … last(t), the later periods that end by start(t) + max_delay (integer
milliseconds; t itself when none does). A class that waits gets a PyPSA Store on its bus whose
energy is minus its backlog: e(t) = −b(t) ≤ 0, e_initial = 0, not cyclic. Its dispatch p(t) (> 0
feeds the bus) is what arrives in t and is neither served in t nor written off, so the bus balance
Σ served(t) + u(t) + p(t) = d(t) and PyPSA's e(t) = e(t−1) − Δt·p(t) are the spec's
"served + never served = arrived" with the backlog b(t) = b(t−1) + Δt·(d − served − u)(t), in
flow × hours. What waits must still be servable; that row is added to the linopy
model as the N-1 rows are, for every t where some arrival's window reaches past t:
  b(t) + Σ(τ ∈ V(t)) u(τ)·Δτ ≤ Σ(τ ∈ V(t)) d(τ)·Δτ,   V(t) = {τ ≤ t with d(τ) > 0, last(τ) > t},
with e_min_pu(t) = 0 (nothing waits) where V(t) is empty, including the last period, and the
unserved generator bounded per period by u(t) ≤ d(t) (p_max_pu = d/peak). By Hall's condition for
interval windows ending in arrival order (docs/solving.md, "Deferral"), these rows admit exactly
the schedules that the x(k,r,w,t,t′) flows can assign to arrivals within their windows, with the
same never-served tokens, so both forms price the same plans: the same optimum.
Link bounds: a link carries at most what could be served in one period, max over t of
Σ(classes) Σ(τ ≤ t ≤ last(τ)) d(τ)·Δτ/Δt (the peak total demand when nothing waits), which no
optimum exceeds; HiGHS gets finite bounds.

PyPSA's component model has no constraint across generators of one provider and no second
dispatch sharing the first one's capacities, so the share cap and N-1 are added to the linopy
model PyPSA builds (`n.optimize.create_model()`), before it is solved, exactly as the scenario
format's planning model states them — what PyPSA's `extra_functionality` hook is for:
- share cap s < 1, for every provider p and period t:
  Σ(generators k of p) p(k,t) ≤ s · B(t), B(t) = Σr d(r,t) when nothing waits, else the spec's
  B(t) = Σ(all tranches) p(k,t) + Σ(classes) u(c,t) (served in t plus never-served arrivals of t);
- N-1, for every provider q with a tranche: flows y_q(k,t) ≥ 0 of the tranches of the other
  providers, y_q(k,t) ≤ A(k,t) · p_nom(k) (the same reserved capacity variable as the plan's,
  or the fixed cap of an on-demand tranche), free flows f_q over the same links (with the same
  bounds as the plan's), a shortfall v_q(t) ≥ 0 per demand bus, at most loss_coverage · d(t),
  and for a class that waits a backlog b_q(t) ≥ 0 with the plan's rows at loss_coverage · d; one
  balance per bus and period: Σ(k at the bus) y_q + Σ inflows f_q − Σ outflows f_q + v_q
  + (b_q(t) − b_q(t−1))/Δt = loss_coverage · d(t); the objective gains
  resilience_penalty · Σ v_q · Δt / 1e6 (whatever the workload, as the spec says).

Usage: pypsa_hourly.py SCENARIO_DIR [--io-api lp|mps|direct] [--highs KEY=VALUE ...] [--verbose]
"""

import time

# Taken before the heavy imports so seconds_total covers them, as a user running it would wait.
T_START = time.perf_counter()

import argparse  # noqa: E402
import calendar  # noqa: E402
import contextlib  # noqa: E402
import csv  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import linopy  # noqa: E402
import pypsa  # noqa: E402
import xarray as xr  # noqa: E402

T_IMPORTED = time.perf_counter()

# Keep pandas 3's `str` dtype for names (PyPSA 2's behaviour); saying so also silences the
# FutureWarning PyPSA prints on every `add` while the option is unset.
pypsa.options.api.legacy_string_dtype = False

# Flows are handed to HiGHS in millions of tokens per minute: real demand is ~1e10 tpm, which
# would put bounds near 1e10 next to prices near 1e-2; in these units both are within 1e-2..1e6.
# Money stays in dollars, so the LP's objective is the dollar objective with no conversion.
FLOW_UNIT = 1e6
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
# Dollars per (tpm·hour) for a price of $1 per million tokens: 60 tokens per tpm-hour.
TOKENS_PER_TPM_HOUR = 60.0


class ScenarioError(Exception):
    """An input this script cannot read or does not model; printed without a traceback."""


# ---------------------------------------------------------------------------- reading the folder

NUMBER = re.compile(r"^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?([KMBT]?)$")
SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def number(text: str, where: str) -> float:
    """A non-negative decimal with an optional K/M/B/T suffix, as the scenario format allows."""
    m = NUMBER.match(text)
    if not m:
        raise ScenarioError(f"{where}: expected a non-negative number, found '{text}'")
    suffix = m.group(1)
    return float(text[: len(text) - len(suffix)]) * SUFFIX[suffix]


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def instant_ms(value, where: str) -> int:
    """Milliseconds since the epoch (UTC) of a CSV time string or a TOML date/datetime.

    Integer milliseconds, as capplan keeps them, so window and outage overlaps are exact."""
    if isinstance(value, str):
        if not re.match(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$", value):
            raise ScenarioError(f"{where}: expected a time like 2026-01-01 or 2026-01-01T00:00Z, found '{value}'")
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        t = value
    elif isinstance(value, dt.date):
        t = dt.datetime(value.year, value.month, value.day)
    else:
        raise ScenarioError(f"{where}: expected a time, found {value!r}")
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return (t - EPOCH) // dt.timedelta(milliseconds=1)


def add_months(ms: int, months: int) -> int:
    """The same wall-clock time `months` calendar months later (UTC), the day clamped to the
    month's end: the scenario format's rule for a monthly grid's last period."""
    t = EPOCH + dt.timedelta(milliseconds=ms)
    index = t.year * 12 + t.month - 1 + months
    year, month = divmod(index, 12)
    day = min(t.day, calendar.monthrange(year, month + 1)[1])
    return (t.replace(year=year, month=month + 1, day=day) - EPOCH) // dt.timedelta(milliseconds=1)


DURATION = re.compile(r"^(\d+\.?\d*|\.\d+)([mhdw]?)$")
MINUTES_PER_UNIT = {"m": 1.0, "h": 60.0, "d": 1440.0, "w": 10080.0}


def duration_ms(text: str, where: str) -> int:
    """A max_delay in integer milliseconds, as capplan rounds it: `0`, or a number (decimals
    allowed) and one lower-case unit m, h, d (24 h) or w; a number without a unit only if 0."""
    m = DURATION.match(text)
    if not m or (not m.group(2) and float(m.group(1)) != 0.0):
        raise ScenarioError(f"{where}: expected a duration such as 0, 90m, 36h, 2d or 1w, found '{text}'")
    if not m.group(2):
        return 0
    minutes = float(m.group(1)) * MINUTES_PER_UNIT[m.group(2)]
    return int(np.floor(minutes * MS_PER_MINUTE + 0.5))  # Rust's round(): half away from zero


def service_last(starts: np.ndarray, ends: np.ndarray, delay_ms: int) -> np.ndarray:
    """The spec's S(w,t) as its last period: the last t′ ≥ t whose end is at most
    start(t) + max_delay, else t itself (ends grow with t, so one search per arrival)."""
    arrivals = np.arange(len(starts))
    if delay_ms <= 0:
        return arrivals
    fits = np.searchsorted(ends, starts + delay_ms, side="right") - 1
    return np.maximum(fits, arrivals)


def read_table(path: Path, required: set[str], optional: set[str]):
    """Rows of a CSV as (physical line, {column: stripped text}); empty cells are left out so the
    caller's default applies. Unknown and missing columns are errors, as in capplan."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ScenarioError(f"{path}: no header row") from None
        accepted = required | optional
        for h in header:
            if h not in accepted:
                raise ScenarioError(f"{path}:1: unknown column '{h}'; accepted: {', '.join(sorted(accepted))}")
        for h in required:
            if h not in header:
                raise ScenarioError(f"{path}:1: missing required column '{h}'")
        rows = []
        for cells in reader:
            if all(not c.strip() for c in cells):
                continue  # blank lines and a spreadsheet's trailing ",,," are not data rows
            row = {h: c.strip() for h, c in zip(header, cells) if c.strip()}
            for h in required:
                if h not in row:
                    raise ScenarioError(f"{path}:{reader.line_num}: column '{h}' is empty")
            rows.append((reader.line_num, row))
        return rows


@dataclass
class Tranche:
    name: str
    provider: str
    region: str
    start: int | None
    end: int | None
    cap: float
    price: float
    commit: float
    min_commit: float


@dataclass
class DemandClass:
    """The workloads of one region with the same max_delay and penalty, merged (exact: every
    constraint treats them alike)."""
    region: str
    workloads: list[str]
    max_delay_ms: int
    penalty: float  # $ per million tokens never served
    demand: np.ndarray  # [period] tpm
    last: np.ndarray  # [period] the last service period of each arrival: S(t) = t … last[t]

    @property
    def bus(self) -> str:
        return f"{self.region}|{'+'.join(self.workloads)}"

    @property
    def waits(self) -> bool:
        """Some arrival with demand may be served in a later period."""
        return bool(((self.last > np.arange(len(self.last))) & (self.demand > 0)).any())


@dataclass
class Scenario:
    starts: np.ndarray  # period starts, ms, sorted
    ends: np.ndarray  # period ends, ms (start of the next period; the horizon end for the last)
    regions: list[str]  # demand regions, sorted
    demand: np.ndarray  # [region, period] tpm, workloads merged
    classes: list[DemandClass]  # sorted by (region, max_delay, penalty)
    tranches: list[Tranche]
    routes: dict[tuple[str, str], float] | None  # (supply, demand) → $/M, None without routes.csv
    outages: list[tuple[str, str | None, int, int, float]]  # provider, region, start, end, factor
    unserved_penalty: float
    max_provider_share: float  # s; 1 = no share cap
    survive_provider_loss: bool  # N-1
    loss_coverage: float
    resilience_penalty: float


def read_scenario(folder: Path) -> Scenario:
    settings = {}
    toml_path = folder / "scenario.toml"
    if toml_path.exists():
        with toml_path.open("rb") as f:
            settings = tomllib.load(f)
    for key in settings:
        if key not in {"name", "description", "extends", "horizon_end", "policy", "whatif"}:
            raise ScenarioError(f"{toml_path}: unknown key '{key}'")
    if "extends" in settings:
        raise ScenarioError(f"{toml_path}: `extends` is not supported here; give a folder with every file in it")
    if settings.get("whatif"):
        raise ScenarioError(f"{toml_path}: [whatif] is not supported here; apply it to the files first")
    policy = settings.get("policy", {})
    for key in policy:
        if key not in {"unserved_penalty", "max_provider_share", "survive_provider_loss", "loss_coverage", "resilience_penalty"}:
            raise ScenarioError(f"{toml_path}: unknown key 'policy.{key}'")
    unserved_penalty = float(policy.get("unserved_penalty", 10000.0))
    # The spec's defaults: no share cap, no N-1, full coverage, N-1 shortfall at the unserved price.
    max_provider_share = float(policy.get("max_provider_share", 1.0))
    survive_provider_loss = policy.get("survive_provider_loss", False)
    if not isinstance(survive_provider_loss, bool):
        raise ScenarioError(f"{toml_path}: policy.survive_provider_loss must be true or false")
    loss_coverage = float(policy.get("loss_coverage", 1.0))
    resilience_penalty = float(policy.get("resilience_penalty", unserved_penalty))
    for key, value in (("max_provider_share", max_provider_share), ("loss_coverage", loss_coverage)):
        if not 0.0 <= value <= 1.0:
            raise ScenarioError(f"{toml_path}: policy.{key} = {value} is outside [0, 1]")

    demand_path = folder / "demand.csv"
    cells: dict[tuple[int, str, str], float] = {}
    for line, row in read_table(demand_path, {"period", "tokens_per_minute"}, {"region", "workload"}):
        where = f"{demand_path}:{line}"
        key = (instant_ms(row["period"], where), row.get("region", "global"), row.get("workload", "default"))
        if key in cells:
            raise ScenarioError(f"{where}: a second row for this period, region and workload")
        cells[key] = number(row["tokens_per_minute"], where)
    if not cells:
        raise ScenarioError(f"{demand_path}: no demand rows")
    starts = np.array(sorted({p for p, _, _ in cells}), dtype=np.int64)
    if "horizon_end" in settings:
        last_end = instant_ms(settings["horizon_end"], f"{toml_path}: horizon_end")
        if last_end <= starts[-1]:
            raise ScenarioError(f"{toml_path}: horizon_end is not after the last period")
    elif len(starts) < 2:
        raise ScenarioError(f"{demand_path}: one period and no horizon_end in scenario.toml")
    else:
        # The last period repeats the step before it, in calendar months when that step is whole
        # months (a monthly grid's December lasts 31 days), otherwise in minutes.
        a, b = int(starts[-2]), int(starts[-1])
        ta, tb = EPOCH + dt.timedelta(milliseconds=a), EPOCH + dt.timedelta(milliseconds=b)
        months = (tb.year - ta.year) * 12 + tb.month - ta.month
        last_end = add_months(b, months) if months > 0 and add_months(a, months) == b else 2 * b - a
    ends = np.append(starts[1:], last_end)
    regions = sorted({r for _, r, _ in cells})
    demand = np.zeros((len(regions), len(starts)))
    region_index = {r: i for i, r in enumerate(regions)}
    period_index = {int(p): i for i, p in enumerate(starts)}
    for (p, r, _), tpm in cells.items():
        demand[region_index[r], period_index[p]] += tpm  # all workloads of the region

    for name in ("throughput.csv",):
        if (folder / name).exists():
            raise ScenarioError(f"{folder / name}: GPU capacity (spec v3) is not supported here")
    # workload → (max_delay ms, penalty); a workload without a row keeps the defaults.
    settings_of: dict[str, tuple[int, float]] = {}
    workloads_path = folder / "workloads.csv"
    if workloads_path.exists():
        used = {w for _, _, w in cells}
        lines: dict[str, int] = {}
        for line, row in read_table(workloads_path, {"workload"}, {"max_delay", "unserved_penalty", "model"}):
            where = f"{workloads_path}:{line}"
            name = row["workload"]
            if "model" in row:
                raise ScenarioError(f"{where}: the `model` column (workloads served only by tranches "
                                    "of one model) is not supported here")
            if name in lines:
                raise ScenarioError(f"{where}: workload '{name}' is listed twice (first at line {lines[name]})")
            if name not in used:
                raise ScenarioError(f"{where}: workload '{name}' is not a workload of demand.csv")
            lines[name] = line
            settings_of[name] = (
                duration_ms(row.get("max_delay", "0"), where),
                number(row["unserved_penalty"], where) if "unserved_penalty" in row else unserved_penalty,
            )
    # Classes: per region, the workloads with the same (max_delay, penalty), sorted like capplan's.
    grouped: dict[tuple[str, int, float], dict[str, np.ndarray]] = {}
    for (p, r, w), tpm in cells.items():
        delay, penalty = settings_of.get(w, (0, unserved_penalty))
        by_workload = grouped.setdefault((r, delay, penalty), {})
        by_workload.setdefault(w, np.zeros(len(starts)))[period_index[p]] += tpm
    classes = []
    for (r, delay, penalty), by_workload in sorted(grouped.items()):
        total = np.zeros(len(starts))
        for w in sorted(by_workload):
            total += by_workload[w]
        classes.append(DemandClass(r, sorted(by_workload), delay, penalty, total,
                                   service_last(starts, ends, delay)))

    capacity_path = folder / "capacity.csv"
    tranches = []
    names: dict[str, int] = {}
    for n, (line, row) in enumerate(read_table(
        capacity_path,
        {"provider", "capacity_tpm"},
        {"region", "tranche", "start", "end", "cost_per_million_tokens", "commit_cost_per_hour", "min_commit"},
    ), start=1):
        where = f"{capacity_path}:{line}"
        region = row.get("region", "global")
        name = row.get("tranche", f"{row['provider']}/{region}/#{n}")
        if name in names:
            raise ScenarioError(f"{where}: tranche name '{name}' already used on line {names[name]}")
        names[name] = line
        start = instant_ms(row["start"], where) if "start" in row else None
        end = instant_ms(row["end"], where) if "end" in row else None
        if start is not None and end is not None and end <= start:
            raise ScenarioError(f"{where}: end is not after start")
        min_commit = number(row.get("min_commit", "0"), where)
        if min_commit > 1:
            raise ScenarioError(f"{where}: min_commit {min_commit} is above 1")
        tranches.append(Tranche(
            name, row["provider"], region, start, end,
            number(row["capacity_tpm"], where),
            number(row.get("cost_per_million_tokens", "0"), where),
            number(row.get("commit_cost_per_hour", "0"), where),
            min_commit,
        ))

    routes = None
    routes_path = folder / "routes.csv"
    if routes_path.exists():
        routes = {}
        for line, row in read_table(routes_path, {"demand_region", "supply_region"}, {"cost_per_million_tokens"}):
            where = f"{routes_path}:{line}"
            pair = (row["supply_region"], row["demand_region"])
            if pair in routes:
                raise ScenarioError(f"{where}: this route is listed twice")
            if pair[0] != pair[1]:  # a listed same-region pair is ignored: it is always free
                routes[pair] = number(row.get("cost_per_million_tokens", "0"), where)

    outages = []
    outages_path = folder / "outages.csv"
    if outages_path.exists():
        for line, row in read_table(outages_path, {"provider", "start", "end"}, {"region", "capacity_factor"}):
            where = f"{outages_path}:{line}"
            start, end = instant_ms(row["start"], where), instant_ms(row["end"], where)
            if end <= start:
                raise ScenarioError(f"{where}: end is not after start")
            factor = number(row.get("capacity_factor", "0"), where)
            if factor > 1:
                raise ScenarioError(f"{where}: capacity_factor {factor} is above 1")
            outages.append((row["provider"], row.get("region"), start, end, factor))

    return Scenario(starts, ends, regions, demand, classes, tranches, routes, outages, unserved_penalty,
                    max_provider_share, survive_provider_loss, loss_coverage, resilience_penalty)


# ------------------------------------------------------------------------------- model quantities


def route_cost(s: Scenario, supply: str, demand: str) -> float | None:
    """ρ(g, r) in $/M where tranches of region g may serve demand of region r, else None."""
    if supply == demand:
        return 0.0
    if s.routes is None:
        return 0.0 if "global" in (supply, demand) else None
    return s.routes.get((supply, demand))


def availability(s: Scenario, k: Tranche) -> tuple[np.ndarray, float]:
    """A(k,t) for every period and H(k) in hours.

    The window and the tranche's outages cut the horizon into segments of constant availability
    (the smallest overlapping factor, 1 outside outages, 0 outside the window); A(k,t) is the
    overlap of each segment with period t, in integer milliseconds, times its factor, over Δt."""
    t0, t1 = int(s.starts[0]), int(s.ends[-1])
    lo = t0 if k.start is None else max(t0, k.start)
    hi = t1 if k.end is None else min(t1, k.end)
    lengths = (s.ends - s.starts).astype(np.float64)
    if hi <= lo:
        return np.zeros(len(s.starts)), 0.0
    mine = [(a, b, f) for p, r, a, b, f in s.outages if p == k.provider and (r is None or r == k.region)]
    cuts = sorted({lo, hi, *(min(max(a, lo), hi) for a, _, _ in mine), *(min(max(b, lo), hi) for _, b, _ in mine)})
    covered = np.zeros(len(s.starts))
    for a, b in zip(cuts, cuts[1:]):
        factor = min([f for oa, ob, f in mine if oa <= a and b <= ob], default=1.0)
        overlap = np.clip(np.minimum(s.ends, b) - np.maximum(s.starts, a), 0, None)
        covered += factor * overlap
    return covered / lengths, (hi - lo) / MS_PER_HOUR


def check_routes_compose(s: Scenario, supply_regions: list[str], buses: list[str]) -> None:
    """Refuses route sets on which the bus model would be looser than capplan's LP.

    capplan's x(k, r) goes straight from a tranche's region to a demand region. On buses, flow can
    also go g → r → s. That never helps when every such chain has a direct route g → s at most as
    expensive, which by induction covers longer chains too; otherwise the two LPs could differ."""
    links = {(g, r): route_cost(s, g, r) for g in supply_regions for r in buses if r != g}
    links = {pair: c for pair, c in links.items() if c is not None}
    for (g, r), first in links.items():
        for (r2, q), second in links.items():
            if r2 != r or q == g:
                continue
            direct = links.get((g, q))
            if direct is None or direct > first + second + 1e-12:
                raise ScenarioError(
                    f"routes: {g} → {r} → {q} is allowed on buses but {g} → {q} is "
                    + ("not a route" if direct is None else f"dearer ({direct} > {first} + {second})")
                    + "; this script's one-bus-per-region model would differ from capplan's LP"
                )


# ------------------------------------------------------------------------------------ the network


@dataclass
class Sink:
    """A bus where demand is met: a region's (merged layout) or a demand class's."""
    bus: str
    demand: np.ndarray  # [period] flow units
    unserved: str  # the unserved generator's name
    # For a class that waits: its backlog Store, each arrival's last service period, the window
    # terms of waiting_terms() and room(t) = Σ(τ ∈ V(t)) d(τ)·Δτ (flow units × hours).
    store: str | None = None
    last: np.ndarray | None = None
    taus: np.ndarray | None = None
    valid: np.ndarray | None = None
    room: np.ndarray | None = None


def waiting_terms(demand: np.ndarray, last: np.ndarray, hours: np.ndarray):
    """V(t) = {τ ≤ t with d(τ) > 0 and last(τ) > t} (the arrivals that may still wait after t) as
    [period, j] arrays: τ = t − j and whether τ is in V(t), for j below the longest window; and
    room(t) = Σ(τ ∈ V(t)) d(τ)·Δτ, summed term by term (no running sum to drift)."""
    periods = np.arange(len(demand))
    longest = int((last - periods).max())
    taus = periods[:, None] - np.arange(longest)[None, :]
    clipped = np.clip(taus, 0, None)
    valid = (taus >= 0) & (demand[clipped] > 0) & (last[clipped] > periods[:, None])
    room = np.where(valid, demand[clipped] * hours[clipped], 0.0).sum(axis=1)
    return taus, valid, room


def window_rows(m, backlog_labels: np.ndarray, backlog_coeff: float, shortfall_labels: np.ndarray,
                sink: Sink, hours: np.ndarray, snapshots: pd.Index, name: str, scale: float = 1.0) -> None:
    """Adds "what waits after t is at most what arrived and may still be served", for every t
    with V(t) non-empty: backlog_coeff · backlog(t) + Σ(τ ∈ V(t)) u(τ)·Δτ ≤ scale · room(t), with
    the backlog and the never-served (or N-1 shortfall) columns given by their linopy labels."""
    taus, valid = sink.taus, sink.valid
    clipped = np.clip(taus, 0, None)
    variables = np.where(valid, shortfall_labels[clipped], -1)  # -1: no term, linopy's "missing"
    coeffs = np.where(valid, hours[clipped], 0.0)
    variables = np.concatenate([backlog_labels[:, None], variables], axis=1)
    coeffs = np.concatenate([np.full((len(hours), 1), backlog_coeff), coeffs], axis=1)
    dims = ("snapshot", "_term")
    lhs = linopy.LinearExpression(
        xr.Dataset({"coeffs": (dims, coeffs), "vars": (dims, variables)}, coords={"snapshot": snapshots}), m)
    rhs = xr.DataArray(scale * sink.room, coords={"snapshot": snapshots})
    mask = xr.DataArray(valid.any(axis=1), coords={"snapshot": snapshots})
    m.add_constraints(lhs <= rhs, name=name, mask=mask)


def build_network(s: Scenario) -> tuple[pypsa.Network, float, float, list[Sink]]:
    """The PyPSA network of the LP, the dollars added outside it (commitments of zero-capacity
    tranches, which serve nothing but still pay min_commit), the bound of every link (scaled) and
    the buses where demand is met."""
    snapshots = pd.DatetimeIndex(pd.to_datetime(s.starts, unit="ms"), name="snapshot")
    hours = (s.ends - s.starts) / MS_PER_HOUR
    n = pypsa.Network()
    n.set_snapshots(snapshots)
    # Δt in hours weights each period's dispatch costs, like Δt/60 in capplan's objective, and is
    # each period's length in the Stores' energy balance.
    n.snapshot_weightings.loc[:, :] = np.repeat(hours[:, None], n.snapshot_weightings.shape[1], axis=1)

    supply_regions = sorted({k.region for k in s.tranches})
    region_buses = sorted(set(s.regions) | set(supply_regions))
    check_routes_compose(s, supply_regions, region_buses)
    per_tpm_hour = TOKENS_PER_TPM_HOUR * FLOW_UNIT / 1e6  # $ per (FLOW_UNIT·hour) at $1/M
    # The merged layout (one bus per region, the LP this script built before workloads.csv) when
    # the classes of a region differ in nothing; a class bus per class otherwise.
    merged = (len({c.region for c in s.classes}) == len(s.classes) and len({c.penalty for c in s.classes}) == 1
              and not any(c.waits for c in s.classes))
    sinks: list[Sink] = []
    if merged:
        n.add("Bus", region_buses)
        demand = s.demand / FLOW_UNIT
        n.add(
            "Load", [f"load {r}" for r in s.regions], bus=s.regions,
            p_set=pd.DataFrame(demand.T, index=snapshots, columns=[f"load {r}" for r in s.regions]),
        )
        sinks = [Sink(r, demand[i], f"unserved {r}") for i, r in enumerate(s.regions)]
        # Links bound flows by the peak total demand: some optimum never carries more (the route
        # check means no flow needs to pass through a region), and HiGHS gets a finite bound.
        link_bound = float(demand.sum(axis=0).max())
    else:
        classes = [c for c in s.classes if c.demand.max() > 0]
        n.add("Bus", region_buses + [c.bus for c in classes])
        servable = np.zeros(len(s.starts))
        for c in classes:
            demand = c.demand / FLOW_UNIT
            sink = Sink(c.bus, demand, f"unserved {c.bus}")
            served_by = demand
            if c.waits:
                sink.last = c.last
                sink.taus, sink.valid, sink.room = waiting_terms(demand, c.last, hours)
                sink.store = f"backlog {c.bus}" if sink.room.max() > 0 else None
                # Served in t at most: t's arrivals and what waits from before t.
                served_by = demand + np.append(0.0, sink.room[:-1]) / hours
            servable += served_by
            sinks.append(sink)
        link_bound = float(servable.max())
        n.add(
            "Load", [f"load {x.bus}" for x in sinks], bus=[x.bus for x in sinks],
            p_set=pd.DataFrame(np.array([x.demand for x in sinks]).T, index=snapshots,
                               columns=[f"load {x.bus}" for x in sinks]),
        )
        # A free link from the region's bus to each of its classes' sink buses.
        n.add(
            "Link", [f"to {c.bus}" for c in classes], bus0=[c.region for c in classes],
            bus1=[c.bus for c in classes], p_nom=link_bound, efficiency=1.0, p_min_pu=0.0,
            marginal_cost=0.0,
        )
        stored = [x for x in sinks if x.store]
        if stored:
            # e = −backlog ∈ [−room(t), 0]: 0 wherever nothing may wait, as after the last period.
            e_nom = [float(x.room.max()) for x in stored]
            n.add(
                "Store", [x.store for x in stored], bus=[x.bus for x in stored],
                e_nom=e_nom, e_initial=0.0, e_cyclic=False, e_max_pu=0.0,
                e_min_pu=pd.DataFrame(np.array([-x.room / e for x, e in zip(stored, e_nom)]).T,
                                      index=snapshots, columns=[x.store for x in stored]),
            )

    offset = 0.0
    reserved, on_demand = [], []
    p_max_pu = {}
    for k in s.tranches:
        fraction, window_hours = availability(s, k)
        commit_total = k.commit * window_hours  # $ for z = 1 over the window inside the horizon
        if commit_total > 0 and k.cap == 0:
            offset += commit_total * k.min_commit  # z = min_commit is optimal; nothing to dispatch
            continue
        p_max_pu[k.name] = fraction
        (reserved if commit_total > 0 else on_demand).append((k, commit_total))
    frame = pd.DataFrame(p_max_pu, index=snapshots)
    if reserved:
        names = [k.name for k, _ in reserved]
        n.add(
            "Generator", names, bus=[k.region for k, _ in reserved],
            p_nom_extendable=True,
            # p_nom = z·cap: existing capacity 0, so PyPSA adds no constant for it.
            p_nom=0.0,
            p_nom_min=[k.min_commit * k.cap / FLOW_UNIT for k, _ in reserved],
            p_nom_max=[k.cap / FLOW_UNIT for k, _ in reserved],
            capital_cost=[c / (k.cap / FLOW_UNIT) for k, c in reserved],
            marginal_cost=[k.price * per_tpm_hour for k, _ in reserved],
            p_max_pu=frame[names],
        )
    if on_demand:
        # No reservation decision: z = 1 costs nothing, so the tranche is fixed at full size.
        names = [k.name for k, _ in on_demand]
        n.add(
            "Generator", names, bus=[k.region for k, _ in on_demand],
            p_nom=[k.cap / FLOW_UNIT for k, _ in on_demand],
            marginal_cost=[k.price * per_tpm_hour for k, _ in on_demand],
            p_max_pu=frame[names],
        )

    pairs = [(g, r, route_cost(s, g, r)) for g in supply_regions for r in s.regions if r != g]
    pairs = [(g, r, c) for g, r, c in pairs if c is not None]
    if pairs:
        n.add(
            "Link", [f"route {g}->{r}" for g, r, _ in pairs],
            bus0=[g for g, _, _ in pairs], bus1=[r for _, r, _ in pairs],
            p_nom=link_bound, efficiency=1.0, p_min_pu=0.0,
            marginal_cost=[c * per_tpm_hour for _, _, c in pairs],
        )
    if merged:
        # u(r,t) ≤ d(r,t) ≤ the region's peak, so this bound never binds either.
        peaks = demand.max(axis=1)
        served = [i for i, p in enumerate(peaks) if p > 0]
        n.add(
            "Generator", [f"unserved {s.regions[i]}" for i in served], bus=[s.regions[i] for i in served],
            p_nom=[peaks[i] for i in served],
            marginal_cost=s.classes[0].penalty * per_tpm_hour,
        )
    else:
        # At the class's penalty; u(t) ≤ d(t) is a bound of its own for a class that waits (the
        # balance no longer implies it: a late backlog must not be written off as t's arrivals).
        peaks = [float(x.demand.max()) for x in sinks]
        by_bus = {c.bus: c for c in s.classes}
        n.add(
            "Generator", [x.unserved for x in sinks], bus=[x.bus for x in sinks],
            p_nom=peaks,
            marginal_cost=[by_bus[x.bus].penalty * per_tpm_hour for x in sinks],
            p_max_pu=pd.DataFrame(
                np.array([x.demand / peak if x.store else np.ones(len(s.starts)) for x, peak in zip(sinks, peaks)]).T,
                index=snapshots, columns=[x.unserved for x in sinks]),
        )
    return n, offset, link_bound, sinks


def add_policy(n: pypsa.Network, s: Scenario, link_bound: float, sinks: list[Sink]) -> dict[str, list[str]]:
    """Adds the deferral rows, the share cap and the N-1 blocks (see the module docstring) to the
    linopy model that `n.optimize.create_model()` built, and returns the names of the N-1
    shortfall variables by lost provider, to read back after the solve."""
    m = n.model
    snapshots = n.snapshots
    hours_np = (s.ends - s.starts) / MS_PER_HOUR
    p = m.variables["Generator-p"]
    waiting = [x for x in sinks if x.store]
    for x in waiting:
        # backlog(t) = −e(t): −e(t) + Σ(τ ∈ V(t)) u(τ)·Δτ ≤ room(t).
        window_rows(m, m.variables["Store-e"].labels.sel(name=x.store).to_numpy(), -1.0,
                    p.labels.sel(name=x.unserved).to_numpy(), x, hours_np, snapshots,
                    f"waiting {x.bus}")

    provider_of = {k.name: k.provider for k in s.tranches}
    # The tranches that are generators (a zero-capacity tranche with a commitment is not one).
    tranches = [g for g in n.generators.index if g in provider_of]
    flow_unit_demand = s.demand / FLOW_UNIT  # [region, period]
    if s.max_provider_share < 1.0:
        total = xr.DataArray(flow_unit_demand.sum(axis=0), coords={"snapshot": snapshots})
        for provider in sorted({provider_of[g] for g in tranches}):
            mine = [g for g in tranches if provider_of[g] == provider]
            if waiting:
                # B(t) = served in t + never-served arrivals of t; a spec v3 row.
                base = p.sel(name=tranches).sum("name") + p.sel(name=[x.unserved for x in sinks]).sum("name")
                m.add_constraints(p.sel(name=mine).sum("name") - s.max_provider_share * base <= 0,
                                  name=f"share {provider}")
            else:
                m.add_constraints(p.sel(name=mine).sum("name") <= s.max_provider_share * total,
                                  name=f"share {provider}")
    shortfalls: dict[str, list[str]] = {}
    if not s.survive_provider_loss:
        return shortfalls

    generators = n.generators.loc[tranches]
    extendable = set(generators.index[generators.p_nom_extendable])
    available = xr.DataArray(n.generators_t.p_max_pu[tranches].to_numpy(),
                             coords={"snapshot": snapshots, "name": tranches})
    p_nom = m.variables["Generator-p_nom"]
    links = n.links
    hours = xr.DataArray(hours_np, coords={"snapshot": snapshots})
    per_tpm_hour = TOKENS_PER_TPM_HOUR * FLOW_UNIT / 1e6
    sink_at = {x.bus: x for x in sinks}
    penalties = []
    # "N-1 runs over every provider present": every provider with a tranche, even one whose
    # tranches serve nothing.
    for q in sorted({k.provider for k in s.tranches}):
        others = [g for g in tranches if provider_of[g] != q]
        # A fixed tranche's bound is A(k,t)·cap; a reserved one's, A(k,t)·p_nom(k), is a constraint.
        upper = available.sel(name=others).copy()
        for g in others:
            upper.loc[{"name": g}] = np.inf if g in extendable else upper.sel(name=g) * generators.p_nom[g]
        y = m.add_variables(lower=0.0, upper=upper, coords=[snapshots, pd.Index(others, name="name")],
                            name=f"N-1 {q} y") if others else None
        mine_ext = [g for g in others if g in extendable]
        if mine_ext:
            m.add_constraints(y.sel(name=mine_ext) - p_nom.sel(name=mine_ext) * available.sel(name=mine_ext) <= 0,
                              name=f"N-1 {q} capacity")
        f = m.add_variables(lower=0.0, upper=link_bound, coords=[snapshots, pd.Index(links.index, name="name")],
                            name=f"N-1 {q} f") if len(links) else None
        shortfalls[q] = []
        for bus in n.buses.index:
            terms = []
            here = [g for g in others if generators.bus[g] == bus]
            if here:
                terms.append(y.sel(name=here).sum("name"))
            if f is not None:
                inflow = list(links.index[links.bus1 == bus])
                outflow = list(links.index[links.bus0 == bus])
                if inflow:
                    terms.append(f.sel(name=inflow).sum("name"))
                if outflow:
                    terms.append(-f.sel(name=outflow).sum("name"))
            sink = sink_at.get(bus)
            need = np.zeros(len(snapshots))
            if sink is not None:
                need = s.loss_coverage * sink.demand
            if need.max() > 0:
                v = m.add_variables(lower=0.0, upper=xr.DataArray(need, coords={"snapshot": snapshots}),
                                    coords=[snapshots], name=f"N-1 {q} shortfall {bus}")
                terms.append(1.0 * v)
                shortfalls[q].append(v.name)
                penalties.append((v * (s.resilience_penalty * per_tpm_hour * hours)).sum())
                if sink.store:
                    # The plan's backlog rows at loss_coverage · d: b_q(t) ≤ coverage · room(t)
                    # (0 where nothing may wait) enters the balance as (b_q(t) − b_q(t−1))/Δt.
                    room = xr.DataArray(s.loss_coverage * sink.room, coords={"snapshot": snapshots})
                    b = m.add_variables(lower=0.0, upper=room, coords=[snapshots], name=f"N-1 {q} backlog {bus}")
                    terms.append(b / hours)
                    terms.append(-(b.shift(snapshot=1) / hours))
                    window_rows(m, b.labels.to_numpy(), 1.0, v.labels.to_numpy(), sink, hours_np, snapshots,
                                f"N-1 {q} waiting {bus}", scale=s.loss_coverage)
            if not terms:
                continue  # nothing there and nothing needed
            balance = terms[0]
            for term in terms[1:]:
                balance = balance + term
            m.add_constraints(balance == xr.DataArray(need, coords={"snapshot": snapshots}),
                              name=f"N-1 {q} balance {bus}")
    if penalties:
        extra = penalties[0]
        for term in penalties[1:]:
            extra = extra + term
        m.add_objective(m.objective.expression + extra, overwrite=True)
    return shortfalls


def highs_method(model, options: dict) -> str:
    """What HiGHS ran, from its own counters where linopy hands back the solver object: the
    `solver` option asked for, and the simplex, interior-point and crossover iterations."""
    asked = options.get("solver", "choose")
    h = getattr(model, "solver_model", None)
    try:
        info = h.getInfo()
        counts = {"simplex": info.simplex_iteration_count, "ipm": info.ipm_iteration_count,
                  "crossover": info.crossover_iteration_count}
    except Exception:  # another linopy version or solver object: say what was asked only
        return f"solver={asked}"
    ran = " + ".join(f"{name} ({count:,} iterations)" for name, count in counts.items() if count > 0) or "no iterations"
    if counts["simplex"] > 0 and counts["ipm"] == 0:
        strategy = {0: "choose", 1: "dual", 2: "dual (PAMI)", 3: "dual (SIP)", 4: "primal"}
        try:
            value = h.getOptionValue("simplex_strategy")
            value = value[1] if isinstance(value, tuple) else value  # highspy 1.16: (status, value)
            ran = f"{strategy.get(value, '?')} " + ran
        except Exception:
            pass
    return f"{asked} → {ran}"


@contextlib.contextmanager
def stdout_to_stderr():
    """Sends file descriptor 1 to stderr for the duration: HiGHS prints its banner from C++
    whatever output_flag says, and stdout must carry the JSON line only."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main() -> int:
    parser = argparse.ArgumentParser(description="Solve a capplan scenario's planning LP with PyPSA + HiGHS.")
    parser.add_argument("scenario", type=Path)
    # linopy's own default is an LP file, what a PyPSA user gets without asking; on the hourly
    # benchmark case it was also faster end to end than the in-memory "direct" path.
    parser.add_argument("--io-api", default="lp", choices=["direct", "lp", "mps"],
                        help="how linopy hands the model to HiGHS: an LP file (default), an MPS "
                        "file, or direct (in memory); seconds_solve includes writing and reading the file")
    parser.add_argument("--highs", action="append", default=[], metavar="KEY=VALUE",
                        help="a HiGHS option, e.g. --highs solver=ipm (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="solver and PyPSA logs on the console")
    args = parser.parse_args()
    if not args.verbose:
        for name in ("pypsa", "linopy"):
            logging.getLogger(name).setLevel(logging.ERROR)
    options = {"output_flag": args.verbose}
    for item in args.highs:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--highs takes KEY=VALUE, found '{item}'")
        # HiGHS options are typed; numbers and booleans are passed as such.
        lowered = value.lower()
        options[key] = (lowered == "true") if lowered in ("true", "false") else (
            int(value) if re.fullmatch(r"-?\d+", value) else
            float(value) if re.fullmatch(r"-?[\d.]+(e[+-]?\d+)?", lowered) else value)

    try:
        with stdout_to_stderr():
            t_read = time.perf_counter()
            scenario = read_scenario(args.scenario)
            t_build = time.perf_counter()
            network, offset, link_bound, sinks = build_network(scenario)
            network.optimize.create_model(include_objective_constant=False)
            shortfalls = add_policy(network, scenario, link_bound, sinks)
            t_solve = time.perf_counter()
            status, condition = network.optimize.solve_model(
                solver_name="highs", solver_options=options, io_api=args.io_api,
                log_to_console=args.verbose)
            t_done = time.perf_counter()
    except ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if status != "ok" or condition != "optimal":
        # linopy reports HiGHS's kMemoryLimit (an allocation failed) as resource_interrupt.
        why = " (HiGHS ran out of memory)" if condition == "resource_interrupt" else ""
        print(f"error: HiGHS ended with status {status}, condition {condition}{why}", file=sys.stderr)
        return 3

    hours = (scenario.ends - scenario.starts) / MS_PER_HOUR
    unserved = network.generators_t.p.filter(like="unserved ").sum(axis=1).to_numpy()
    shortfall = sum(float((network.model.variables[name].solution.to_numpy() * hours).sum())
                    for names in shortfalls.values() for name in names)
    reserved = network.generators.index[network.generators.p_nom_extendable]
    print(json.dumps({
        "objective": float(network.objective) + offset,
        "commit_cost": float((network.generators.p_nom_opt[reserved] * network.generators.capital_cost[reserved]).sum()) + offset,
        # tokens = tpm × minutes
        "unserved_tokens": float((unserved * hours * 60).sum() * FLOW_UNIT),
        # summed over periods and lost providers, like capplan's summary
        "resilience_shortfall_tokens": shortfall * 60 * FLOW_UNIT,
        "max_provider_share": scenario.max_provider_share,
        "survive_provider_loss": scenario.survive_provider_loss,
        # The merged layout (one bus per region) or one sink bus per demand class, and the
        # classes that wait (one backlog Store each).
        "demand_buses": "region" if all(x.bus in scenario.regions for x in sinks) else "class",
        "backlog_stores": sum(1 for x in sinks if x.store),
        "highs_method": highs_method(network.model, options),
        "periods": len(scenario.starts),
        "variables": int(network.model.nvars),
        "constraints": int(network.model.ncons),
        "io_api": args.io_api,
        "pypsa": pypsa.__version__,
        "seconds_import": T_IMPORTED - T_START,
        "seconds_read": t_build - t_read,
        "seconds_build": t_solve - t_build,
        "seconds_solve": t_done - t_solve,
        "seconds_total": t_done - T_START,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
