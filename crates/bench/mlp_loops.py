"""The loops twinnet's multilayer-perceptron speed is measured against (`make bench`), one epoch
on the first 50,000 MNIST training images (Nielsen's training set), pixels x/255:

- torch-nielsen: a tight PyTorch eager loop over Nielsen's chapter-1 network, [784, 30, 10],
  sigmoid hidden units, σ outputs with the quadratic cost ½‖σ(z) − y‖² averaged over the batch,
  SGD η = 3.0, mini-batches of 10 (pre-normalized tensors, batches by index, zero_grad /
  backward / step);
- torch-deep: the same loop over [784, 128, 64, 10], ReLU, CrossEntropyLoss, SGD η = 0.1,
  mini-batches of 64;
- network.py: Nielsen's own loop (``network.py``, chapter 1, MIT licence), its ``SGD`` epoch:
  shuffle, mini-batches of 10, ``update_mini_batch`` calling ``backprop`` once per example on
  float64 column vectors, exactly as the book's code does (written out below);
- numpy-gather: what handing a program each mini-batch of 64 costs before it computes anything:
  NumPy's ``x[ix], y[ix]`` for every batch of a shuffled epoch of all 60,000 training images,
  float32 [60000, 784] (the array `twinnet_backend.serve` slices for each step of the process
  protocol, which the protocol's overhead per step includes).

Prints one JSON object: per loop the median, min and max seconds per epoch over REPS samples
(after one warm-up), and the thread count. Usage:
    OMP_NUM_THREADS=T OPENBLAS_NUM_THREADS=T MKL_NUM_THREADS=T python3 mlp_loops.py MNIST_DIR T REPS
"""
import json
import random
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
N = 50_000
torch.set_num_threads(THREADS)


def idx(path, header):
    with open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def load(d, n=N):
    x = idx(f"{d}/train-images-idx3-ubyte", 16).reshape(-1, 784)[:n]
    y = idx(f"{d}/train-labels-idx1-ubyte", 8).astype(np.int64)[:n]
    return (x / np.float32(255)).astype(np.float32), y


def gather_epoch(x, y, batch):
    perm = np.random.permutation(len(y))
    for i in range(0, len(y), batch):
        ix = perm[i:i + batch]
        x[ix], y[ix]


def torch_epoch(model, loss_fn, x, y, batch, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    perm = torch.randperm(len(y))
    for i in range(0, len(y), batch):
        ix = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[ix]), y[ix])
        loss.backward()
        opt.step()


def quadratic(z, y):
    a = torch.sigmoid(z)
    onehot = torch.nn.functional.one_hot(y, 10).to(a.dtype)
    return 0.5 * ((a - onehot) ** 2).sum(dim=1).mean()


# --- Nielsen's network.py (chapter 1), its training loop as the book writes it ---
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def SGD_epoch(self, training_data, mini_batch_size, eta):
        random.shuffle(training_data)
        n = len(training_data)
        mini_batches = [training_data[k:k + mini_batch_size] for k in range(0, n, mini_batch_size)]
        for mini_batch in mini_batches:
            self.update_mini_batch(mini_batch, eta)

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)


def timed(fn):
    fn()  # warm-up
    secs = []
    for _ in range(REPS):
        t = time.perf_counter()
        fn()
        secs.append(time.perf_counter() - t)
    return {"median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
            "samples": REPS}


def main():
    x, y = load(sys.argv[1])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    torch.manual_seed(0)
    nielsen = nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10))
    deep = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))
    out = {"threads": THREADS, "n": N, "torch": torch.__version__, "numpy": np.__version__}
    out["torch-nielsen"] = timed(lambda: torch_epoch(nielsen, quadratic, xt, yt, 10, 3.0))
    out["torch-deep"] = timed(
        lambda: torch_epoch(deep, nn.CrossEntropyLoss(), xt, yt, 64, 0.1))
    # network.py's data: (784×1 float64 column, 10×1 one-hot) pairs, as its mnist_loader makes.
    eye = np.eye(10)
    data = [(x[i].reshape(784, 1).astype(np.float64), eye[y[i]].reshape(10, 1)) for i in range(N)]
    net = Network([784, 30, 10])
    out["network.py"] = timed(lambda: net.SGD_epoch(data, 10, 3.0))
    del data
    xa, ya = load(sys.argv[1], None)
    out["numpy-gather"] = timed(lambda: gather_epoch(xa, ya, 64))
    out["numpy-gather"]["steps"] = -(-len(ya) // 64)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
