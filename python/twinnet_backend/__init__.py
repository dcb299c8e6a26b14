"""twinnet_backend: your own network as a twinnet backend.

Write a class with ``__init__(params, settings)``, ``step(x, y, lr)``, ``evaluate(x, y)`` and
``params()`` (see ``serve``), end your file with ``serve(Net)``, and twinnet runs it beside its
own backends::

    twinnet train --backend process --command "python3 my_net.py"
    twinnet check --command "python3 my_net.py"

``serve`` speaks twinnet's process protocol (version 1, ``docs/protocol.md`` in the repository)
over stdin and stdout: it loads the data files once, slices each batch, converts what the class
returns, keeps the parameters before each step sent ahead (so twinnet can take it back), and
turns a Python exception into a protocol error carrying its traceback. It needs only the
standard library and numpy. Anything the class prints goes to stderr, never into the protocol.
"""

import json
import os
import platform
import sys
import traceback

import numpy as np

__all__ = ["serve", "PROTOCOL", "NAMES"]
__version__ = "1.0.0"

#: The protocol version this module speaks.
PROTOCOL = 1
#: The parameters' names, in PyTorch's layout: fc1.weight [hidden, 784], fc1.bias [hidden],
#: fc2.weight [10, hidden], fc2.bias [10].
NAMES = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
#: The most checkpoints kept for rewinding (twinnet sends at most 32 steps ahead).
KEEP = 64


def _num(x):
    """A float as the protocol writes it: non-finite values as text (JSON cannot hold them)."""
    x = float(x)
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def _shapes(hidden):
    return {"fc1.weight": (hidden, 784), "fc1.bias": (hidden,),
            "fc2.weight": (10, hidden), "fc2.bias": (10,)}


def _load_params(paths, hidden):
    out = {}
    for name, shape in _shapes(hidden).items():
        a = np.load(paths[name])
        if a.shape != shape or a.dtype != np.float32:
            raise ValueError(f"{name}: expected float32 {shape}, got {a.dtype} {a.shape}")
        out[name] = a
    return out


def _checked_params(d, hidden, copy=False):
    """The class's params() as float32 arrays of PyTorch's names and shapes, or an error;
    ``copy``: arrays of their own (a checkpoint must not follow later in-place updates)."""
    if not isinstance(d, dict) or set(d) != set(NAMES):
        got = sorted(d) if isinstance(d, dict) else type(d).__name__
        raise ValueError(f"params() must return a dict of {list(NAMES)}, got {got}")
    out = {}
    for name, shape in _shapes(hidden).items():
        a = np.array(d[name], dtype=np.float32, copy=True) if copy else np.asarray(d[name], dtype=np.float32)
        if a.shape != shape:
            raise ValueError(f"params()[{name!r}] has shape {a.shape}, expected {shape}")
        out[name] = a
    return out


class _Server:
    def __init__(self, cls, out, name, libraries, device, rewind):
        self.cls, self.out = cls, out
        self.name = name or cls.__name__
        self.libraries = {"numpy": np.__version__, **(libraries or {})}
        self.device, self.rewind = device, rewind
        self.net = None
        self.settings = None
        self.hidden = None
        self.x = self.y = None
        self.splits = {}
        self.checkpoints = {}

    def reply(self, msg):
        self.out.write(json.dumps(msg) + "\n")
        self.out.flush()

    def split(self, x, y):
        key = (x, y)
        if key not in self.splits:
            self.splits[key] = (np.load(x), np.load(y))
        return self.splits[key]

    def handle(self, req):
        op = req.get("op")
        if op == "hello":
            return {"protocol": PROTOCOL, "capabilities": ["rewind"] if self.rewind else [],
                    "implementation": {"name": self.name,
                                       "language": f"python {platform.python_version()}",
                                       "libraries": self.libraries, "device": self.device}}
        if op == "init":
            self.settings = req["settings"]
            self.hidden = int(self.settings["hidden"])
            params = _load_params(req["params"], self.hidden)
            train = req.get("train")
            self.x, self.y = self.split(train["x"], train["y"]) if train else (None, None)
            self.checkpoints.clear()
            self.net = self.cls(params, dict(self.settings))
            return {}
        if self.net is None:
            raise RuntimeError(f"`{op}` before `init`")
        if op == "step":
            if req.get("checkpoint"):
                self.checkpoints[req["id"]] = _checked_params(self.net.params(), self.hidden, copy=True)
                while len(self.checkpoints) > KEEP:
                    del self.checkpoints[min(self.checkpoints)]
            if self.x is None:
                raise RuntimeError("`step` after an `init` without a training set")
            batch = req["batch"]
            if batch == "all":
                x, y = self.x, self.y
            else:
                ix = np.asarray(batch, dtype=np.int64)
                x, y = self.x[ix], self.y[ix]
            loss, correct = self.net.step(x, y, float(req["lr"]))
            return {"loss": _num(loss), "correct": int(correct), "size": int(len(y))}
        if op == "evaluate":
            x, y = self.split(req["x"], req["y"])
            loss, predictions = self.net.evaluate(x, y)
            p = np.asarray(predictions).astype(np.int64).reshape(-1)
            if p.shape != (len(y),):
                raise ValueError(f"evaluate() returned {p.shape[0]} predictions for {len(y)} images")
            np.save(req["predictions"], p)
            return {"loss": _num(loss)}
        if op == "params":
            for name, a in _checked_params(self.net.params(), self.hidden).items():
                np.save(os.path.join(req["dir"], name + ".npy"), a)
            return {}
        if op == "rewind":
            to = req["to"]
            if to not in self.checkpoints:
                raise RuntimeError(f"no checkpoint before step {to} to rewind to")
            params = self.checkpoints[to]
            self.checkpoints = {k: v for k, v in self.checkpoints.items() if k < to}
            self.net = self.cls(params, dict(self.settings))
            return {}
        raise ValueError(f"unknown op `{op}`")


def serve(cls, name=None, libraries=None, device="cpu", rewind=True):
    """Serves instances of ``cls`` over twinnet's process protocol on stdin/stdout.

    ``cls(params, settings)``: ``params`` a dict of float32 arrays in PyTorch's names and layout
    (``NAMES``), ``settings`` a dict with at least ``head`` ("softmax" | "double-softmax"),
    ``hidden``, ``lr``, ``regime``, ``batch_size``, ``seed``, ``threads``, ``normalize`` and
    ``dataset``. ``step(x, y, lr)``: ``x`` float32 [n, 784] (normalized), ``y`` int64 [n]; one
    SGD update on the batch's mean loss; returns (mean loss, number correct) of the forward pass
    before the update. ``evaluate(x, y)``: returns (mean loss, predictions [n]), parameters
    unchanged. ``params()``: the dict of ``__init__``'s form.

    ``name``, ``libraries`` (e.g. ``{"torch": torch.__version__}``) and ``device`` describe the
    implementation in twinnet's results. ``rewind=False`` if the class's state is more than its
    parameters (momentum, say): twinnet then never sends steps ahead.
    """
    # The protocol owns the real stdout; anything else printed (by the class, or by C code)
    # goes to stderr, which twinnet shows when something fails.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server = _Server(cls, out, name, libraries, device, rewind)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = {}
            try:
                req = json.loads(line)
                if req.get("op") == "shutdown":
                    server.reply({"id": req.get("id"), "ok": True})
                    return
                server.reply({"id": req.get("id"), "ok": True, **server.handle(req)})
            except Exception as e:  # every failure is the protocol's error, with its traceback
                server.reply({"id": req.get("id"), "ok": False,
                              "error": f"{type(e).__name__}: {e}",
                              "traceback": traceback.format_exc()})
    except KeyboardInterrupt:
        sys.exit(130)
