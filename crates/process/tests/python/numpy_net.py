"""A float32 NumPy implementation of the 784 → hidden → 10 network, written for twinnet's tests:
the same math as the ndarray backend (examples as rows), served over the process protocol.

``--float64`` computes in float64 (as the report's NumPy program does): correct, not wrong.
``--mistake NAME`` plants one of the mistakes `twinnet check` must catch: ``bias-grad-doubled``,
``relu-mask-missing``, ``softmax-wrong-axis``, ``lr-twice``, ``no-averaging`` (in the gradients);
``loss-summed``, ``loss-nan``, ``correct-after-update``, ``predictions-off-by-one``,
``evaluate-raises`` (in what the protocol reports; the parameters are right); ``rewind-noop``
(the served program answers ``rewind`` without taking anything back).
"""

import sys

import numpy as np

from twinnet_backend import serve

MISTAKE = sys.argv[sys.argv.index("--mistake") + 1] if "--mistake" in sys.argv else None
DTYPE = np.float64 if "--float64" in sys.argv else np.float32


def softmax(z, axis=1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def logsumexp(z):
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]


class Net:
    def __init__(self, params, settings):
        self.w1 = params["fc1.weight"].astype(DTYPE)
        self.b1 = params["fc1.bias"].astype(DTYPE)
        self.w2 = params["fc2.weight"].astype(DTYPE)
        self.b2 = params["fc2.bias"].astype(DTYPE)
        self.double = settings["head"] == "double-softmax"

    def forward(self, x):
        z1 = x @ self.w1.T + self.b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ self.w2.T + self.b2
        return z1, a1, z2

    def head(self, z2, y):
        """Mean loss and the output error dL/dZ2 (before averaging) of the head."""
        axis = 0 if MISTAKE == "softmax-wrong-axis" else 1
        p = softmax(z2, axis)
        rows = np.arange(len(y))
        if not self.double:
            loss = np.mean(logsumexp(z2) - z2[rows, y])
            d = p.copy()
            d[rows, y] -= 1
        else:
            loss = np.mean(logsumexp(p) - p[rows, y])
            g = softmax(p)
            g[rows, y] -= 1
            d = p * (g - (p * g).sum(axis=1, keepdims=True))
        return loss, d

    def step(self, x, y, lr):
        x = x.astype(DTYPE, copy=False)
        z1, a1, z2 = self.forward(x)
        correct = int((z2.argmax(axis=1) == y).sum())
        loss, dz2 = self.head(z2, y)
        if MISTAKE != "no-averaging":
            dz2 = dz2 / DTYPE(len(y))
        dz2 = dz2.astype(DTYPE)
        dw2 = dz2.T @ a1
        db2 = dz2.sum(axis=0)
        dz1 = dz2 @ self.w2
        if MISTAKE != "relu-mask-missing":
            dz1 = dz1 * (z1 > 0)
        dw1 = dz1.T @ x
        db1 = dz1.sum(axis=0)
        if MISTAKE == "bias-grad-doubled":
            db1, db2 = 2 * db1, 2 * db2
        step = DTYPE(lr * lr if MISTAKE == "lr-twice" else lr)
        self.w1 -= step * dw1
        self.b1 -= step * db1
        self.w2 -= step * dw2
        self.b2 -= step * db2
        if MISTAKE == "loss-summed":
            loss = loss * len(y)
        if MISTAKE == "loss-nan":
            loss = float("nan")
        if MISTAKE == "correct-after-update":
            correct = int((self.forward(x)[2].argmax(axis=1) == y).sum())
        return float(loss), correct

    def evaluate(self, x, y):
        if MISTAKE == "evaluate-raises":
            raise RuntimeError("evaluate is not written yet")
        _, _, z2 = self.forward(x.astype(DTYPE, copy=False))
        loss, _ = self.head(z2, y)
        predictions = z2.argmax(axis=1)
        if MISTAKE == "predictions-off-by-one":
            predictions = (predictions + 1) % 10
        return float(loss), predictions

    def params(self):
        return {"fc1.weight": self.w1, "fc1.bias": self.b1,
                "fc2.weight": self.w2, "fc2.bias": self.b2}


if __name__ == "__main__":
    if MISTAKE == "rewind-noop":
        import twinnet_backend
        handle = twinnet_backend._Server.handle

        def no_rewind(self, req):
            return {} if req.get("op") == "rewind" else handle(self, req)

        twinnet_backend._Server.handle = no_rewind
    kind = "float64" if DTYPE is np.float64 else "float32"
    serve(Net, name=f"numpy {kind} (twinnet's tests)" + (f", mistake {MISTAKE}" if MISTAKE else ""))
