"""What PyTorch draws for `twinnet init --init-rng torch`: the reference of tests/pytorch.rs.

python3 init.py SEED HIDDEN INIT OUT writes fc1.weight, fc1.bias, fc2.weight, fc2.bias as
little-endian float32, concatenated, to OUT.

torch-default: torch.manual_seed(SEED); nn.Linear(784, HIDDEN); nn.Linear(HIDDEN, 10).
uniform: torch.manual_seed(SEED), then each of the four tensors, in that order,
torch.empty(shape).uniform_(-0.5, 0.5).
"""
import sys

import torch
from torch import nn

seed, hidden, init, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
torch.manual_seed(seed)
if init == "torch-default":
    fc1, fc2 = nn.Linear(784, hidden), nn.Linear(hidden, 10)
    tensors = [fc1.weight, fc1.bias, fc2.weight, fc2.bias]
elif init == "uniform":
    shapes = [(hidden, 784), (hidden,), (10, hidden), (10,)]
    tensors = [torch.empty(s).uniform_(-0.5, 0.5) for s in shapes]
else:
    sys.exit(f"unknown init {init}")
with open(out, "wb") as f:
    for t in tensors:
        f.write(t.detach().contiguous().numpy().astype("<f4").tobytes())
