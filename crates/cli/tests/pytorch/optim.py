"""The reference of tests/optim.rs: full-batch training with torch.optim itself from a
safetensors start, in float32 and in float64 (the float32 run's rounding floor), plus a
neighbouring optimizer (one setting changed) to show the test can tell them apart.

python3 optim.py SPEC.json, SPEC = {"data": DIR, "start": FILE, "widths": [784, ..., 10],
"activation": "relu", "head": "softmax" | "double-softmax", "steps": N, "lr": LR,
"optimizer": {...twinnet's settings...}, "neighbour": {...}, "out": DIR}; writes
OUT/float32.bin, OUT/float64.bin and OUT/neighbour.bin: every parameter, fc1.weight, fc1.bias,
..., as little-endian float64.
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn


def idx(path, magic):
    with open(path, "rb") as f:
        data = f.read()
    assert int.from_bytes(data[:4], "big") == magic, path
    return np.frombuffer(data, dtype=np.uint8, offset=16 if magic == 2051 else 8)


def optimizer(params, o, lr):
    """torch.optim's optimizer for twinnet's settings `o` over [(param, is_weight)]."""
    wd = o.get("weight_decay")
    name = o.get("name", "sgd")
    if wd is None:
        wd = 0.01 if name == "adamw" else 0.0
    if o.get("decay", "all") == "weights":
        groups = [{"params": [p for p, w in params if w], "weight_decay": wd},
                  {"params": [p for p, w in params if not w], "weight_decay": 0.0}]
    else:
        groups = [{"params": [p for p, _ in params], "weight_decay": wd}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=o.get("momentum", 0.0),
                               dampening=o.get("dampening", 0.0),
                               nesterov=o.get("nesterov", False))
    kind = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return kind(groups, lr=lr, betas=tuple(o.get("betas", (0.9, 0.999))), eps=o.get("eps", 1e-8))


def train(spec, o, dtype):
    x = torch.from_numpy(idx(os.path.join(spec["data"], "train-images-idx3-ubyte"), 2051)
                         .reshape(-1, 784).copy()).float() / 255
    y = torch.from_numpy(idx(os.path.join(spec["data"], "train-labels-idx1-ubyte"), 2049)
                         .astype(np.int64))
    x = x.to(dtype)
    start = load_file(spec["start"])
    w = spec["widths"]
    layers = []
    for i in range(len(w) - 1):
        lin = nn.Linear(w[i], w[i + 1]).to(dtype)
        with torch.no_grad():
            lin.weight.copy_(start[f"fc{i + 1}.weight"].to(dtype))
            lin.bias.copy_(start[f"fc{i + 1}.bias"].to(dtype))
        layers.append(lin)
    act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[spec["activation"]]
    params = [(t, is_w) for lin in layers for t, is_w in ((lin.weight, True), (lin.bias, False))]
    opt = optimizer(params, o, spec["lr"])
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(spec["steps"]):
        opt.zero_grad()
        z = x
        for lin in layers[:-1]:
            z = act(lin(z))
        z = layers[-1](z)
        if spec["head"] == "double-softmax":
            z = torch.softmax(z, dim=1)
        loss_fn(z, y).backward()
        opt.step()
    return np.concatenate([t.detach().double().numpy().ravel() for t, _ in params])


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(1)
    out = spec["out"]
    for name, o, dtype in [("float32", spec["optimizer"], torch.float32),
                           ("float64", spec["optimizer"], torch.float64),
                           ("neighbour", spec["neighbour"], torch.float32)]:
        train(spec, o, dtype).astype("<f8").tofile(os.path.join(out, name + ".bin"))


if __name__ == "__main__":
    main()
