"""What PyTorch draws for `twinnet init --init-rng torch`: the reference of tests/pytorch.rs.

python3 init.py SEED HIDDEN INIT OUT writes fc1.weight, fc1.bias, …, fcL.weight, fcL.bias as
little-endian float32, concatenated, to OUT. HIDDEN is `30`, `128,64` or `none`.

torch-default: torch.manual_seed(SEED); one nn.Linear per layer, input side first.
Otherwise torch.manual_seed(SEED), then each layer's weight then bias, in that order:
uniform: torch.empty(shape).uniform_(-0.5, 0.5);
normal: torch.empty(shape).normal_(0, 1);
normal-scaled: weight normal_(0, 1/sqrt(fan_in)), bias normal_(0, 1).
"""
import math
import sys

import torch
from torch import nn

seed, hidden, init, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
widths = [784] + ([] if hidden == "none" else [int(h) for h in hidden.split(",")]) + [10]
torch.manual_seed(seed)
tensors = []
for fan_in, fan_out in zip(widths, widths[1:]):
    if init == "torch-default":
        layer = nn.Linear(fan_in, fan_out)
        tensors += [layer.weight, layer.bias]
        continue
    w, b = torch.empty(fan_out, fan_in), torch.empty(fan_out)
    if init == "uniform":
        w.uniform_(-0.5, 0.5)
        b.uniform_(-0.5, 0.5)
    elif init == "normal":
        w.normal_(0, 1)
        b.normal_(0, 1)
    elif init == "normal-scaled":
        w.normal_(0, 1 / math.sqrt(fan_in))
        b.normal_(0, 1)
    else:
        sys.exit(f"unknown init {init}")
    tensors += [w, b]
with open(out, "wb") as f:
    for t in tensors:
        f.write(t.detach().contiguous().numpy().astype("<f4").tobytes())
