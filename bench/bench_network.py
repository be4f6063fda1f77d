"""Network speed per variant, reference vs optimised: FLOPs per evaluation, seconds per megapixel per
evaluation, their ratio, and the fraction of this machine's float32 matrix-multiply rate each reaches (all
measured in the same run).

    python bench/bench_network.py [--device cpu|cuda] [--size 512] [--variants T,S,B,L] [--repeat 4]
                                  [--threads 2] [--precision-size 256] [--json FILE]

The allocator setting is process-wide, so each setting runs in its own child process: glibc's default (the
engine as it was) and the engine's setting (`engine.device.tune_cpu_allocator`, part of the optimised path).
In each, the reference network and `engine.fastnet.FastUnet` alternate, so both see the same moments of a
shared machine. Random weights: speed does not depend on the weight values. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import torch

from engine.network import VARIANTS, UnetRes, count_flops

ALLOCATORS = {"default": "glibc's default allocator (the engine before this work)",
              "tuned": "the engine's allocator setting (`engine.device.tune_cpu_allocator`)"}
NETWORKS = {"ref": "reference network", "opt": "optimised network (`engine.fastnet.FastUnet`)"}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_rate(device: str, n: int = 2048, seconds: float = 3.0) -> float:
    """Sustained float32 GEMM rate in FLOP/s (the machine's practical peak for dense work)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(2):
        a @ b
    sync(device)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
        sync(device)
    return 2 * n**3 * count / (time.perf_counter() - start)


def build(variant: str, device: str, network: str, precision: str = "float32"):
    torch.manual_seed(0)
    net = UnetRes(variant).to(device).eval().requires_grad_(False)
    net.freeze_weights()
    if network == "opt":
        from engine.fastnet import FastUnet

        return FastUnet(net, precision).eval()
    return net


def gemm_seconds(device: str, n: int = 2048, count: int = 3) -> list[float]:
    """Seconds of single n×n float32 matrix products (after one warm-up)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    sync(device)
    out = []
    for _ in range(count):
        start = time.perf_counter()
        a @ b
        sync(device)
        out.append(time.perf_counter() - start)
    return out


def time_networks(variant: str, device: str, size: int, repeat: int) -> dict[str, list[float]]:
    """Seconds of single evaluations at size×size, the two networks alternating (after a warm-up each), so
    both see the same moments of a shared, noisy machine; a few 2048² matrix products run between rounds,
    so the matmul rate is sampled at the same moments too (key "gemm")."""
    nets = {name: build(variant, device, name) for name in NETWORKS}
    x = torch.randn(1, 6, size, size, device=device)
    t = torch.tensor([500.0], device=device)
    times: dict[str, list[float]] = {name: [] for name in nets}
    times["gemm"] = gemm_seconds(device)
    with torch.inference_mode():
        for net in nets.values():
            net(x, t)
        sync(device)
        for _ in range(repeat):
            for name, net in nets.items():
                start = time.perf_counter()
                net(x, t)
                sync(device)
                times[name].append(time.perf_counter() - start)
            times["gemm"] += gemm_seconds(device)
    return times


def precision_check(variant: str, device: str, size: int, precisions=("bfloat16", "float16")) -> list[dict]:
    """Max and mean |Δ| of the optimised network in reduced precision against the float32 reference, and the
    seconds per evaluation of each (on a CPU without bf16/fp16 units these are emulated: slow)."""
    torch.manual_seed(1)
    ref = build(variant, device, "ref")
    x = torch.randn(1, 6, size, size, device=device)
    t = torch.tensor([900.0], device=device)
    rows = []
    with torch.inference_mode():
        want = ref(x, t)
        for p in ("float32", *precisions):
            from engine.fastnet import FastUnet

            net = FastUnet(ref, p).eval()
            net(x, t)
            sync(device)
            start = time.perf_counter()
            got = net(x, t)
            sync(device)
            sec = time.perf_counter() - start
            d = (got - want).abs()
            rows.append({"precision": p, "max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean()),
                         "s_per_eval": sec, "size": size})
    return rows


def describe(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def _child(args) -> int:
    torch.set_num_threads(args.threads)
    if args.child == "tuned" and not args.device.startswith("cuda"):
        from engine.device import tune_cpu_allocator

        tune_cpu_allocator()
    times = time_networks(args.variant, args.device, args.size, args.repeat)
    print(json.dumps({"variant": args.variant, "allocator": args.child, "times": times}))
    return 0


def run_child(allocator: str, variant: str, args) -> dict[str, list[float]]:
    cmd = [sys.executable, __file__, "--child", allocator, "--variant", variant, "--size", str(args.size),
           "--repeat", str(args.repeat), "--device", args.device, "--threads", str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": _root()})
    return json.loads(out.stdout.strip().splitlines()[-1])["times"]


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(args) -> dict:
    """Per variant: a child process with the default allocator and one with the engine's setting, each
    timing both networks alternately; the fastest of `repeat` evaluations is the figure (on a shared
    machine the minimum is the least disturbed), the median is kept in the JSON."""
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    sustained = matmul_rate(args.device)
    mp = args.size * args.size / 1e6
    allocators = ["default", "tuned"] if not args.device.startswith("cuda") else ["default"]
    rows, results = [], []
    for v in args.variants.split(","):
        for alloc in allocators:
            results.append((v, alloc, run_child(alloc, v, args)))
    # The matmul rate: the fastest 2048² product seen in any child (the same best-case reading as the
    # networks' fastest evaluation), or the sustained rate measured here if that is higher.
    gemm = min(min(times["gemm"]) for *_, times in results)
    rate = max(sustained, 2 * 2048**3 / gemm)
    for v in args.variants.split(","):
        flops = count_flops(VARIANTS[v], args.size, args.size)
        row = {"variant": v, "gflop_per_eval": flops / 1e9, "kflop_per_pixel": flops / (args.size**2) / 1e3}
        for alloc in allocators:
            times = next(r for vv, a, r in results if vv == v and a == alloc)
            for net, ts in times.items():
                if net == "gemm":
                    continue
                key = f"{net}_{alloc}"
                row[f"{key}_s_per_eval"] = min(ts)
                row[f"{key}_s_per_eval_median"] = sorted(ts)[len(ts) // 2]
                row[f"{key}_s_per_mp_per_eval"] = min(ts) / mp
                row[f"{key}_fraction_of_matmul"] = flops / min(ts) / rate
                print(f"{v} {NETWORKS[net]}, {alloc} allocator: {min(ts):.3f} s per evaluation (min of {len(ts)})",
                      file=sys.stderr, flush=True)
        best = "tuned" if "tuned" in allocators else "default"
        row["reference_s_per_mp_per_eval"] = row["ref_default_s_per_mp_per_eval"]  # the engine before
        row["optimised_s_per_mp_per_eval"] = row[f"opt_{best}_s_per_mp_per_eval"]  # the engine's optimised path
        row["speedup"] = row["ref_default_s_per_eval"] / row[f"opt_{best}_s_per_eval"]
        row["speedup_network_only"] = row[f"ref_{best}_s_per_eval"] / row[f"opt_{best}_s_per_eval"]
        row["reference_fraction_of_matmul"] = row["ref_default_fraction_of_matmul"]
        row["optimised_fraction_of_matmul"] = row[f"opt_{best}_fraction_of_matmul"]
        rows.append(row)
    precision = precision_check("T", args.device, args.precision_size) if args.precision_size else []
    return {"device": describe(args.device), "torch": torch.__version__, "threads": args.threads,
            "matmul_gflops": rate / 1e9, "matmul_sustained_gflops": sustained / 1e9, "size": args.size, "repeat": args.repeat, "rows": rows,
            "precision": precision, "loadavg_before": load_before, "loadavg_after": os.getloadavg()}


def markdown(res: dict) -> str:
    lines = [(f"Device: {res['device']}; torch {res['torch']}; input {res['size']}×{res['size']}; float32 matmul "
              f"rate measured now: {res['matmul_gflops']:.1f} GFLOP/s (the fastest 2048² product, sampled between "
              f"the evaluations); fastest of {res['repeat']} evaluations after a "
              f"warm-up, the two networks alternating, each allocator setting in its own process; load average "
              f"{res['loadavg_before'][0]:.1f} before, {res['loadavg_after'][0]:.1f} after."), "",
             ("| variant | GFLOP / eval | reference s / MP / eval | optimised s / MP / eval | speed-up | "
              "network alone | fraction of matmul rate (ref → opt) |"), "|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['variant']} | {r['gflop_per_eval']:.1f} | {r['reference_s_per_mp_per_eval']:.2f} | "
                     f"{r['optimised_s_per_mp_per_eval']:.2f} | {r['speedup']:.2f}× | "
                     f"{r['speedup_network_only']:.2f}× | "
                     f"{r['reference_fraction_of_matmul']:.2f} → {r['optimised_fraction_of_matmul']:.2f} |")
    lines += ["", ("*reference*: the reference network with glibc's default allocator (the engine before this work); "
                   "*optimised*: `FastUnet` with the engine's allocator setting (what `optimize=True` runs); "
                   "*network alone*: both networks with the allocator setting.")]
    if res.get("precision"):
        size = res["precision"][0]["size"]
        lines += ["", f"Reduced precision (optimised T, random weights, {size}×{size}, against the float32 reference):",
                  "", "| precision | max abs diff | mean abs diff | s / eval |", "|---|---|---|---|"]
        for p in res["precision"]:
            lines.append(f"| {p['precision']} | {p['max_abs_diff']:.2e} | {p['mean_abs_diff']:.2e} | "
                         f"{p['s_per_eval']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--variants", default="T,S,B,L")
    p.add_argument("--repeat", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision-size", type=int, default=256, help="input side for the bf16/fp16 check (0: skip)")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--child", choices=tuple(ALLOCATORS), help=argparse.SUPPRESS)
    p.add_argument("--variant", default="T", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return _child(args)
    res = measure(args)
    print("\n" + markdown(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
