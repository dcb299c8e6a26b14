"""The reference of tests/pytorch.rs's eval test: a small model trained in PyTorch, its
state_dict saved with safetensors, and PyTorch's own confusion matrix on the test set.

python3 eval.py DATA_DIR OUT_DIR NORMALIZE writes OUT_DIR/model.safetensors and
OUT_DIR/confusion.json (10 x 10 counts, rows = true digit, columns = predicted).
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn


def idx(path, magic):
    with open(path, "rb") as f:
        data = f.read()
    assert int.from_bytes(data[:4], "big") == magic, path
    offset = 16 if magic == 2051 else 8
    return np.frombuffer(data, dtype=np.uint8, offset=offset)


def images(data_dir, name, norm):
    x = torch.from_numpy(idx(os.path.join(data_dir, name), 2051).reshape(-1, 784).copy()).float() / 255
    return (x - 0.5) / 0.5 if norm == "symmetric" else x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 10), nn.Linear(10, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


data_dir, out_dir, norm = sys.argv[1], sys.argv[2], sys.argv[3]
torch.manual_seed(1)
x = images(data_dir, "train-images-idx3-ubyte", norm)[:5000]
y = torch.from_numpy(idx(os.path.join(data_dir, "train-labels-idx1-ubyte"), 2049)[:5000].astype(np.int64))
net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for _ in range(30):
    opt.zero_grad()
    nn.functional.cross_entropy(net(x), y).backward()
    opt.step()
save_file(net.state_dict(), os.path.join(out_dir, "model.safetensors"))

xt = images(data_dir, "t10k-images-idx3-ubyte", norm)
yt = idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte"), 2049)
with torch.no_grad():
    pred = net(xt).argmax(1).numpy()
confusion = np.zeros((10, 10), dtype=np.int64)
np.add.at(confusion, (yt, pred), 1)
with open(os.path.join(out_dir, "confusion.json"), "w") as f:
    json.dump(confusion.tolist(), f)
