"""The shipping decision, reproducible: compare a candidate's `make eval` results with the shipped model's.

    python -m engine.evaluation.compare SHIPPED/results.json CANDIDATE/results.json [--method ours-best]
        [--max-drop 0.5] [--json]

Both files must come from the same synthetic photos, tasks, crop and seeds (for example two runs of
`python -m engine.evaluation.evaluate --split validation --validation-photos 0 --parts synthetic`); the
comparison is refused otherwise. For each task it prints the mean PSNR of both, the mean per-photo change
and its standard error (the photos are paired, so the error is that of the differences), and the verdict of
the model card's rule: **ship if the mean over the tasks improves and no task drops by more than
`--max-drop` dB**. Exit status 0 when the candidate passes, 1 when it does not (2 for unusable input).

The standard error is printed because the rule's threshold is fixed in dB while the noise is not: with 8
photos per task the low-light change of one candidate had a standard error of 0.95 dB, which is why the
rule now runs on the wide validation split (34 photos per task).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_METHOD = "ours-best"
DEFAULT_MAX_DROP = 0.5


class IncomparableResults(ValueError):
    """The two results were not computed on the same inputs."""


def _keyed(results: dict, method: str) -> dict[tuple[str, str, str], tuple[int, float]]:
    syn = results.get("synthetic")
    if not syn or not syn.get("records"):
        raise IncomparableResults("no synthetic records in the results (run the evaluation with --parts synthetic)")
    out = {}
    for r in syn["records"]:
        if method not in r["scores"]:
            raise IncomparableResults(f"method {method!r} missing for {r['set']}/{r['photo']} {r['task']}")
        out[(r["set"], r["photo"], r["task"])] = (r["seed"], float(r["scores"][method]["psnr"]))
    return out


def compare(shipped: dict, candidate: dict, method: str = DEFAULT_METHOD,
            max_drop: float = DEFAULT_MAX_DROP) -> dict:
    """Per-task means, paired changes with standard errors, and the rule's verdict."""
    a, b = _keyed(shipped, method), _keyed(candidate, method)
    if set(a) != set(b):
        only = sorted(set(a) ^ set(b))[:3]
        raise IncomparableResults(f"the two results cover different photos or tasks (for example {only})")
    if any(a[k][0] != b[k][0] for k in a):
        raise IncomparableResults("the two results used different seeds")
    pa, pb = shipped["protocol"], candidate["protocol"]
    for field in ("crop", "split"):
        if pa.get(field) != pb.get(field):
            raise IncomparableResults(f"different {field}: {pa.get(field)!r} vs {pb.get(field)!r}")
    tasks = [t for t in pa.get("tasks", []) if any(k[2] == t for k in a)] or sorted({k[2] for k in a})
    rows = []
    for task in tasks:
        keys = sorted(k for k in a if k[2] == task)
        diffs = [b[k][1] - a[k][1] for k in keys]
        n = len(diffs)
        mean_diff = sum(diffs) / n
        se = (math.sqrt(sum((d - mean_diff) ** 2 for d in diffs) / (n - 1) / n) if n > 1 else float("nan"))
        rows.append({"task": task, "photos": n,
                     "shipped": sum(a[k][1] for k in keys) / n, "candidate": sum(b[k][1] for k in keys) / n,
                     "change": mean_diff, "se": se, "better": sum(d > 0 for d in diffs),
                     "worst": min(diffs), "best": max(diffs), "drop_ok": mean_diff >= -max_drop})
    mean_a = sum(r["shipped"] for r in rows) / len(rows)
    mean_b = sum(r["candidate"] for r in rows) / len(rows)
    failed = [r["task"] for r in rows if not r["drop_ok"]]
    passes = mean_b > mean_a and not failed
    if passes:
        why = f"mean {mean_a:.2f} → {mean_b:.2f} dB and no task drops by more than {max_drop} dB"
    elif mean_b <= mean_a:
        why = f"the mean does not improve ({mean_a:.2f} → {mean_b:.2f} dB)"
        if failed:
            why += f"; {', '.join(failed)} drop by more than {max_drop} dB"
    else:
        why = f"{', '.join(failed)} drop{'s' if len(failed) == 1 else ''} by more than {max_drop} dB"
    return {"method": method, "max_drop": max_drop, "tasks": rows, "mean_shipped": mean_a,
            "mean_candidate": mean_b, "passes": passes, "why": why,
            "models": [(pa.get("model") or {}).get("file"), (pb.get("model") or {}).get("file")]}


def render(cmp: dict) -> str:
    lines = ["| task | photos | shipped | candidate | change ± SE | better / worse | range |",
             "|---|---|---|---|---|---|---|"]
    for r in cmp["tasks"]:
        flag = "" if r["drop_ok"] else " **✗**"
        lines.append(f"| {r['task']} | {r['photos']} | {r['shipped']:.2f} | {r['candidate']:.2f} | "
                     f"{r['change']:+.2f} ± {r['se']:.2f}{flag} | {r['better']} / {r['photos'] - r['better']} | "
                     f"{r['worst']:+.1f} … {r['best']:+.1f} |")
    lines.append(f"| **mean** | | {cmp['mean_shipped']:.2f} | {cmp['mean_candidate']:.2f} | "
                 f"{cmp['mean_candidate'] - cmp['mean_shipped']:+.2f} | | |")
    verdict = "**ships**" if cmp["passes"] else "**does not ship**"
    lines += ["", f"PSNR (dB, Y) of `{cmp['method']}`. Verdict: {verdict}: {cmp['why']}."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.evaluation.compare", description=__doc__.split("\n")[0])
    ap.add_argument("shipped", type=Path, help="results.json of the shipped model")
    ap.add_argument("candidate", type=Path, help="results.json of the candidate")
    ap.add_argument("--method", default=DEFAULT_METHOD, help=f"row to compare (default {DEFAULT_METHOD})")
    ap.add_argument("--max-drop", type=float, default=DEFAULT_MAX_DROP,
                    help=f"largest allowed drop of a task's mean, dB (default {DEFAULT_MAX_DROP})")
    ap.add_argument("--json", action="store_true", help="print the comparison as JSON")
    args = ap.parse_args(argv)
    try:
        shipped, candidate = (json.loads(p.read_text(encoding="utf-8")) for p in (args.shipped, args.candidate))
        cmp = compare(shipped, candidate, args.method, args.max_drop)
    except (OSError, json.JSONDecodeError, KeyError, IncomparableResults) as exc:
        print(f"cannot compare: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(cmp, indent=1) if args.json else render(cmp))
    return 0 if cmp["passes"] else 1


if __name__ == "__main__":
    sys.exit(main())
