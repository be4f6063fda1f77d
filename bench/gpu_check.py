"""GPU check: all four DiffUIR variants on CUDA. Verifies that CUDA output agrees with the CPU output on a
small input (reference and optimised paths, and the optimised path in bfloat16/float16), exercises the
tiled and batched restore paths on the GPU, then prints the same speed table as `bench/bench_network.py`
for the GPU.

    python bench/gpu_check.py            # needs torch with CUDA and a GPU
"""

from __future__ import annotations

import sys

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import bench_network

from engine.network import VARIANTS, UnetRes
from engine.pipeline import restore_array
from engine.schedule import stock_times


def main() -> int:
    if not torch.cuda.is_available():
        print("No CUDA device: this check needs a GPU.", file=sys.stderr)
        return 2
    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rng = np.random.default_rng(0)
    image = rng.random((96, 128, 3), dtype=np.float32)
    for v in VARIANTS:
        torch.manual_seed(0)
        net = UnetRes(v).eval().requires_grad_(False)
        cpu = restore_array(net, image, stock_times(3), seed=0, device="cpu", tile=1024)
        net.cuda()
        gpu = restore_array(net, image, stock_times(3), seed=0, device="cuda", tile=1024)
        tiled = restore_array(net, image, stock_times(3), seed=0, device="cuda", tile=64, overlap=16)
        fast = restore_array(net, image, stock_times(3), seed=0, device="cuda", tile=1024, optimize=True)
        batched = restore_array(net, image, stock_times(3), seed=0, device="cuda", tile=64, overlap=16,
                                optimize=True, batch=4)
        half = {p: np.abs(restore_array(net, image, stock_times(3), seed=0, device="cuda", tile=1024,
                                        optimize=True, precision=p) - cpu).max() for p in ("bfloat16", "float16")}
        print(f"{v}: max |CUDA − CPU| = {np.abs(gpu - cpu).max():.2e}; optimised {np.abs(fast - cpu).max():.2e}; "
              f"bf16 {half['bfloat16']:.2e}; fp16 {half['float16']:.2e}; tiled on CUDA finite: "
              f"{bool(np.isfinite(tiled).all())}; batched vs one by one {np.abs(batched - tiled).max():.2e}; "
              f"peak CUDA memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
        torch.cuda.reset_peak_memory_stats()
    return bench_network.main(["--device", "cuda", "--repeat", "10"])


if __name__ == "__main__":
    sys.exit(main())
