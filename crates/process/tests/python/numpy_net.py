"""A float32 NumPy implementation of any multilayer perceptron, written for twinnet's tests:
``settings["layers"]`` widths, ``settings["activation"]`` (relu, sigmoid, tanh) between them, any
of the four heads, the same math as the ndarray backend (examples as rows), served over the
process protocol.

``--float64`` computes in float64 (as the report's NumPy program does): correct, not wrong.
``--mistake NAME`` plants one of the mistakes `twinnet check` must catch: ``bias-grad-doubled``,
``relu-mask-missing``, ``softmax-wrong-axis``, ``lr-twice``, ``no-averaging``,
``derivative-at-activation`` (the hidden derivative taken at the activation a instead of at the
pre-activation z: σ′(a), tanh′(a), relu′(a)), ``quadratic-without-sigma-prime`` (the quadratic
cost's output error a − y without σ′(z)), ``middle-layer-scaled`` (fc2's gradients scaled by 1.5
in a network of three or more layers) (in the gradients); ``loss-summed``, ``loss-nan``,
``correct-after-update``, ``predictions-off-by-one``, ``evaluate-raises`` (in what the protocol
reports; the parameters are right); ``rewind-noop`` (the served program answers ``rewind``
without taking anything back); and in the optimizers (``settings["optimizer"]``, torch.optim's
rules): ``momentum-from-zero`` (SGD's buffer started at zero instead of the first gradient),
``adam-no-second-bias-correction`` (v used without its 1 − β₂ᵗ), ``adamw-coupled`` (AdamW's
decay added to the gradient, as Adam's, instead of decoupled), ``decay-skips-biases`` (weight
decay left off the biases when the setting says every parameter). ``--no-optimizers`` serves
without the ``optimizers`` capability (plain SGD only).
"""

import math
import sys

import numpy as np

from twinnet_backend import names, serve

MISTAKE = sys.argv[sys.argv.index("--mistake") + 1] if "--mistake" in sys.argv else None
DTYPE = np.float64 if "--float64" in sys.argv else np.float32


def softmax(z, axis=1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def logsumexp(z):
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]


def sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def activate(kind, z):
    if kind == "relu":
        return np.maximum(z, 0)
    if kind == "sigmoid":
        return sigmoid(z)
    return np.tanh(z)


def derivative(kind, z, a):
    """act′ at z, where a = act(z): 1[z > 0], a(1 − a), 1 − a²."""
    if MISTAKE == "derivative-at-activation":
        z, a = a, activate(kind, a)
    if kind == "relu":
        return (z > 0).astype(z.dtype) if MISTAKE != "relu-mask-missing" else np.ones_like(z)
    if kind == "sigmoid":
        return a * (1 - a)
    return 1 - a * a


class Optimizer:
    """torch.optim's SGD, Adam and AdamW on this net's arrays (``settings["optimizer"]``)."""

    def __init__(self, o):
        self.o = o or {"name": "sgd", "momentum": 0.0, "dampening": 0.0, "nesterov": False,
                       "weight_decay": 0.0, "decay": "all", "betas": [0.9, 0.999], "eps": 1e-8}
        self.state, self.t = {}, 0

    def update(self, key, p, g, lr, is_weight):
        """One update of the array ``p`` in place from its gradient ``g``; ``t`` counts steps."""
        o = self.o
        decay = o["weight_decay"] if is_weight or o["decay"] == "all" else 0.0
        if MISTAKE == "decay-skips-biases" and not is_weight:
            decay = 0.0
        if o["name"] == "sgd":
            if decay:
                g = g + DTYPE(decay) * p
            mu = o["momentum"]
            if mu:
                buf = self.state.get(key)
                keep = DTYPE(1 - o["dampening"])
                if buf is None:
                    buf = keep * g if MISTAKE == "momentum-from-zero" else g.copy()
                else:
                    buf = DTYPE(mu) * buf + keep * g
                self.state[key] = buf
                g = g + DTYPE(mu) * buf if o["nesterov"] else buf
            p -= DTYPE(lr) * g
            return
        if o["name"] == "adamw" and MISTAKE != "adamw-coupled":
            p *= DTYPE(1 - lr * decay)
        elif decay:
            g = g + DTYPE(decay) * p
        b1, b2 = o["betas"]
        m, v = self.state.get(key, (np.zeros_like(p), np.zeros_like(p)))
        m = m + DTYPE(1 - b1) * (g - m)
        v = DTYPE(b2) * v + DTYPE(1 - b2) * (g * g)
        bc2 = 1.0 if MISTAKE == "adam-no-second-bias-correction" else 1 - b2 ** self.t
        denom = np.sqrt(v) / DTYPE(math.sqrt(bc2)) + DTYPE(o["eps"])
        p -= DTYPE(lr / (1 - b1 ** self.t)) * (m / denom)
        self.state[key] = (m, v)


class Net:
    def __init__(self, params, settings):
        self.layers = settings["layers"]
        keys = names(self.layers)
        self.w = [params[k].astype(DTYPE) for k in keys[0::2]]
        self.b = [params[k].astype(DTYPE) for k in keys[1::2]]
        self.act = settings["activation"]
        self.head_kind = settings["head"]
        self.opt = Optimizer(settings.get("optimizer"))
        if self.head_kind not in ("softmax", "double-softmax", "sigmoid-quadratic",
                                  "sigmoid-cross-entropy"):
            raise ValueError(f"no head {self.head_kind!r}")

    def forward(self, x):
        zs, acts = [], [x]
        for l, (w, b) in enumerate(zip(self.w, self.b)):
            z = acts[-1] @ w.T + b
            zs.append(z)
            acts.append(activate(self.act, z) if l < len(self.w) - 1 else z)
        return zs, acts

    def outputs(self, z):
        if self.head_kind in ("softmax", "double-softmax"):
            return softmax(z, 0 if MISTAKE == "softmax-wrong-axis" else 1)
        return sigmoid(z)

    def head(self, z, y):
        """Mean loss and the output error dL/dZ (before averaging) of the head."""
        p = self.outputs(z)
        rows = np.arange(len(y))
        if self.head_kind == "softmax":
            loss = np.mean(logsumexp(z) - z[rows, y])
            d = p.copy()
            d[rows, y] -= 1
        elif self.head_kind == "double-softmax":
            loss = np.mean(logsumexp(p) - p[rows, y])
            g = softmax(p)
            g[rows, y] -= 1
            d = p * (g - (p * g).sum(axis=1, keepdims=True))
        else:
            onehot = np.zeros_like(p)
            onehot[rows, y] = 1
            if self.head_kind == "sigmoid-quadratic":
                loss = np.mean(0.5 * ((p - onehot) ** 2).sum(axis=1))
                d = p - onehot
                if MISTAKE != "quadratic-without-sigma-prime":
                    d = d * p * (1 - p)
            else:
                softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
                loss = np.mean(softplus.sum(axis=1) - z[rows, y])
                d = p - onehot
        return loss, d

    def predict(self, z):
        """The arg-max of the outputs: of z itself, as σ and softmax keep its order."""
        return z.argmax(axis=1)

    def step(self, x, y, lr):
        x = x.astype(DTYPE, copy=False)
        zs, acts = self.forward(x)
        correct = int((self.predict(zs[-1]) == y).sum())
        loss, delta = self.head(zs[-1], y)
        if MISTAKE != "no-averaging":
            delta = delta / DTYPE(len(y))
        delta = delta.astype(DTYPE)
        grads = []
        for l in reversed(range(len(self.w))):
            gw, gb = delta.T @ acts[l], delta.sum(axis=0)
            if MISTAKE == "bias-grad-doubled":
                gb = 2 * gb
            if MISTAKE == "middle-layer-scaled" and l == 1 and len(self.w) >= 3:
                gw, gb = DTYPE(1.5) * gw, DTYPE(1.5) * gb
            grads.append((l, gw, gb))
            if l > 0:
                delta = (delta @ self.w[l]) * derivative(self.act, zs[l - 1], acts[l])
        step = lr * lr if MISTAKE == "lr-twice" else lr
        self.opt.t += 1
        for l, gw, gb in grads:
            self.opt.update(("w", l), self.w[l], gw.astype(DTYPE), step, True)
            self.opt.update(("b", l), self.b[l], gb.astype(DTYPE), step, False)
        if MISTAKE == "loss-summed":
            loss = loss * len(y)
        if MISTAKE == "loss-nan":
            loss = float("nan")
        if MISTAKE == "correct-after-update":
            correct = int((self.predict(self.forward(x)[0][-1]) == y).sum())
        return float(loss), correct

    def evaluate(self, x, y):
        if MISTAKE == "evaluate-raises":
            raise RuntimeError("evaluate is not written yet")
        zs, _ = self.forward(x.astype(DTYPE, copy=False))
        loss, _ = self.head(zs[-1], y)
        predictions = self.predict(zs[-1])
        if MISTAKE == "predictions-off-by-one":
            predictions = (predictions + 1) % 10
        return float(loss), predictions

    def params(self):
        keys = names(self.layers)
        return dict(zip(keys, (t for pair in zip(self.w, self.b) for t in pair)))


if __name__ == "__main__":
    if MISTAKE == "rewind-noop":
        import twinnet_backend
        handle = twinnet_backend._Server.handle

        def no_rewind(self, req):
            return {} if req.get("op") == "rewind" else handle(self, req)

        twinnet_backend._Server.handle = no_rewind
    kind = "float64" if DTYPE is np.float64 else "float32"
    serve(Net, name=f"numpy {kind} (twinnet's tests)" + (f", mistake {MISTAKE}" if MISTAKE else ""),
          optimizers="--no-optimizers" not in sys.argv)
