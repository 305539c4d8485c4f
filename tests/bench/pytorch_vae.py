#!/usr/bin/env python3
"""The PyTorch reference VAE (pytorch/examples vae/main.py: 784-400-20, ReLU, sigmoid output,
BCE(sum) + KL, Adam 1e-3, batch 128), trained on the CPU to time it against vae-webgpu's native
trainer. Figures only, nothing asserted; not part of the tests. scripts/bench.sh runs it in a
local venv (target/bench/torch-venv) with the same thread count as the machine's cores.

python3 tests/bench/pytorch_vae.py [--data data/mnist] [--runs 5] [--steps 100] [--threads N]
                                   [--device cpu|cuda]

With --device cuda (a real GPU, for the side-by-side on one) the data and model live on the GPU;
each step still reads its loss back with .item(), as the example script does.

Prints one line per run and a summary line
  pytorch: samples/s median M [min–max] over R runs of S steps, T threads, loss L
and, with --json FILE, writes the figures there."""
import argparse
import gzip
import json
import os
import pathlib
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

FLOP_PER_SAMPLE = 3.28e6


def load_images(data: pathlib.Path) -> np.ndarray:
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"):
        path = data / name
        if path.exists():
            raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
            if int.from_bytes(raw[0:4], "big") != 0x803:
                raise SystemExit(f"{path}: not an IDX image file")
            n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
            return np.frombuffer(raw, np.uint8, n * rows * cols, 16).reshape(n, rows * cols)
    raise SystemExit(f"{data}: no train-images-idx3-ubyte[.gz]; run scripts/fetch-mnist.sh")


class VAE(nn.Module):
    """pytorch/examples vae/main.py, unchanged."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/mnist", type=pathlib.Path)
    ap.add_argument("--runs", default=5, type=int)
    ap.add_argument("--steps", default=100, type=int)
    ap.add_argument("--batch", default=128, type=int)
    ap.add_argument("--threads", default=os.cpu_count() or 1, type=int)
    ap.add_argument("--seed", default=1, type=int)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--one-sync-per-run", action="store_true",
                    help="sum the losses on the device and read them once per run, instead of "
                    "loss.item() every step as the example script does (matters on a GPU)")
    ap.add_argument("--json", type=pathlib.Path)
    args = ap.parse_args()
    if args.runs < 1 or args.steps < 1 or args.batch < 1:
        raise SystemExit("--runs, --steps and --batch must be at least 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    # The whole training set as one resident float tensor in [0, 1], as ToTensor() gives; batches
    # are drawn from a shuffled order, as DataLoader(shuffle=True) does, without its worker
    # overhead (which would only slow PyTorch down).
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    device = torch.device(args.device)
    images = torch.from_numpy(load_images(args.data).astype(np.float32) / 255.0).to(device)
    n = images.shape[0]
    model = VAE().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(n, device=device)
    cursor = 0

    def step():
        nonlocal order, cursor
        if cursor + args.batch > n:
            order, cursor = torch.randperm(n, device=device), 0
        x = images[order[cursor:cursor + args.batch]]
        cursor += args.batch
        opt.zero_grad()
        recon, mu, logvar = model(x)
        loss = loss_function(recon, x, mu, logvar)
        loss.backward()
        opt.step()
        return loss.detach() / args.batch if args.one_sync_per_run else loss.item() / args.batch

    for _ in range(20):  # warm-up
        step()
    if args.device == "cuda":
        torch.cuda.synchronize()
    rates, losses = [], []
    for run in range(args.runs):
        start = time.perf_counter()
        run_losses = [step() for _ in range(args.steps)]
        if args.one_sync_per_run:
            run_losses = torch.stack(run_losses).tolist()  # the run's one wait for the device
        rate = args.steps * args.batch / (time.perf_counter() - start)
        rates.append(rate)
        losses.append(statistics.fmean(run_losses))
        print(f"pytorch run {run + 1}: {rate:.0f} samples/s, mean loss {losses[-1]:.1f}", flush=True)
    med = statistics.median(rates)
    print(
        f"pytorch {torch.__version__}: samples/s median {med:.0f} [{min(rates):.0f}–{max(rates):.0f}]"
        f" over {args.runs} runs of {args.steps} steps, "
        + (torch.cuda.get_device_name() if args.device == "cuda" else f"{args.threads} threads")
        + ","
        f" {med * FLOP_PER_SAMPLE / 1e9:.1f} GFLOP/s, last run's mean loss {losses[-1]:.1f}"
    )
    if args.json:
        args.json.write_text(json.dumps({
            "torch": torch.__version__, "device": args.device, "threads": args.threads,
            "batch": args.batch,
            "steps": args.steps, "rates": rates, "median": med, "losses": losses,
        }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
