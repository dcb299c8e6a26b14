"""The report's own training loops, timed on the same machine as twinnet (`make bench`).

- numpy: one iteration of the report's NumPy `gradient_descent` (float64, examples as columns,
  the functions of section 2.2 exactly as the widely copied tutorial writes them);
- torch-tight: one epoch of its PyTorch model (softmax in forward + CrossEntropyLoss, SGD lr 0.1)
  on pre-normalized tensors, batches by index;
- torch-dataloader: one epoch as the report ran it, through torch.utils.data.DataLoader with
  batch 64, shuffle, and a per-item ToTensor + Normalize(0.5, 0.5) equivalent (the report used
  torchvision.datasets.MNIST; torchvision is not installed here, so the per-item transform is
  re-created with tensor ops, without PIL: if anything, this is faster than the report's loop).

Prints one JSON object: per loop the median, min and max seconds per iteration/epoch over
REPS samples (after one warm-up), and the thread count. Usage:
    OMP_NUM_THREADS=T OPENBLAS_NUM_THREADS=T MKL_NUM_THREADS=T python3 report_loops.py MNIST_DIR T REPS
(NumPy's BLAS reads its thread count from the environment when it loads, so the caller sets it;
PyTorch's intra-op threads are set here with torch.set_num_threads(T).)
"""
import json
import statistics
import sys
import time

import numpy as np
import torch

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
torch.set_num_threads(THREADS)


def idx(path, header):
    with open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def load(d):
    x = idx(f"{d}/train-images-idx3-ubyte", 16).reshape(-1, 784)
    y = idx(f"{d}/train-labels-idx1-ubyte", 8).astype(np.int64)
    return x, y


# --- the report's NumPy model (section 2.2) ---
def init_params():
    W1 = np.random.rand(10, 784) - 0.5
    b1 = np.random.rand(10, 1) - 0.5
    W2 = np.random.rand(10, 10) - 0.5
    b2 = np.random.rand(10, 1) - 0.5
    return W1, b1, W2, b2


def ReLU(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    return np.exp(Z) / sum(np.exp(Z))


def forward_prop(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = ReLU(Z1)
    Z2 = W2.dot(A1) + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def one_hot(Y):
    o = np.zeros((Y.size, Y.max() + 1))
    o[np.arange(Y.size), Y] = 1
    return o.T


def backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y, m):
    dZ2 = A2 - one_hot(Y)
    dW2 = 1 / m * dZ2.dot(A1.T)
    db2 = 1 / m * np.sum(dZ2)
    dZ1 = W2.T.dot(dZ2) * (Z1 > 0)
    dW1 = 1 / m * dZ1.dot(X.T)
    db1 = 1 / m * np.sum(dZ1)
    return dW1, db1, dW2, db2


def numpy_iteration(params, X, Y, m, alpha=0.1):
    W1, b1, W2, b2 = params
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X)
    dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y, m)
    return W1 - alpha * dW1, b1 - alpha * db1, W2 - alpha * dW2, b2 - alpha * db2


# --- the report's PyTorch model ---
class PyTorchModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 10)
        self.fc2 = torch.nn.Linear(10, 10)

    def forward(self, x):
        return torch.softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)


class Mnist(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.x, self.y = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        img = self.x[i].view(1, 28, 28).float().div(255)  # ToTensor
        img = (img - 0.5) / 0.5  # Normalize((0.5,), (0.5,))
        return img, self.y[i]


def epoch(model, opt, loss_fn, batches):
    for xb, yb in batches:
        opt.zero_grad()
        loss = loss_fn(model(xb.view(-1, 784)), yb)
        loss.backward()
        opt.step()


def timed(f, reps):
    f()  # warm-up
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts), "samples": reps}


def main():
    x, y = load(sys.argv[1])
    np.random.seed(0)
    torch.manual_seed(0)
    X = (x / 255.0).T  # [784, m] float64, as the report's NumPy code
    m = X.shape[1]
    params = [init_params()]

    def np_step():
        params[0] = numpy_iteration(params[0], X, y, m)

    out = {"numpy_full_batch_iteration": timed(np_step, REPS)}

    xt = ((torch.from_numpy(x.copy()).float() / 255) - 0.5) / 0.5
    yt = torch.from_numpy(y)
    model = PyTorchModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()

    def tight():
        perm = torch.randperm(len(yt))
        epoch(model, opt, loss_fn, ((xt[i], yt[i]) for i in perm.split(64)))

    out["torch_tight_minibatch_epoch"] = timed(tight, REPS)

    loader = torch.utils.data.DataLoader(Mnist(x, y), batch_size=64, shuffle=True)
    out["torch_dataloader_minibatch_epoch"] = timed(
        lambda: epoch(model, opt, loss_fn, loader), REPS
    )
    out["torch_threads"] = torch.get_num_threads()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
