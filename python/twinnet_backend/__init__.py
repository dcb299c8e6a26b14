"""twinnet_backend: your own network as a twinnet backend.

Write a class with ``__init__(params, settings)``, ``step(x, y, lr)``, ``evaluate(x, y)`` and
``params()`` (see ``serve``), end your file with ``serve(Net)``, and twinnet runs it beside its
own backends::

    twinnet train --backend process --command "python3 my_net.py"
    twinnet check --command "python3 my_net.py"

``serve`` speaks twinnet's process protocol (version 2, ``docs/protocol.md`` in the repository)
over stdin and stdout: it loads the data files once, slices each batch, converts what the class
returns, keeps the parameters before each step sent ahead (so twinnet can take it back), and
turns a Python exception into a protocol error carrying its traceback. It needs only the
standard library and numpy. Anything the class prints goes to stderr, never into the protocol.
"""

import copy
import json
import os
import platform
import sys
import traceback

import numpy as np

__all__ = ["serve", "PROTOCOL", "NAMES", "names", "shapes", "report_network_only",
           "plain_sgd"]
__version__ = "2.1.0"

#: The protocol version this module speaks.
PROTOCOL = 2
#: The report's network's parameter names, in PyTorch's layout: fc1.weight [hidden, 784],
#: fc1.bias [hidden], fc2.weight [10, hidden], fc2.bias [10]. Any network: ``names(layers)``.
NAMES = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
#: Steps sent ahead share a checkpoint every this many; a rewind restores the last one before
#: its target and replays the steps since (implementations are deterministic for the same
#: inputs), so keeping the parameters costs a copy per 16 steps, not per step.
EVERY = 16


#: The most characters of an error message or traceback sent back (twinnet caps a protocol
#: line at 1 MiB; a message of megabytes is cut, marked, keeping the traceback's end).
MAX_ERROR = 8000


def _cut(text, limit, tail=False):
    """``text`` cut to ``limit`` characters, its start (or with ``tail`` its end) kept."""
    if len(text) <= limit:
        return text
    note = f" [... cut: {len(text)} characters in all] "
    return note + text[-limit:] if tail else text[:limit] + note


def _num(x):
    """A float as the protocol writes it: non-finite values as text (JSON cannot hold them)."""
    x = float(x)
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def shapes(layers):
    """The parameters of the network of widths ``layers`` (input first, e.g. [784, 30, 10]) in
    file order: {"fc1.weight": (30, 784), "fc1.bias": (30,), "fc2.weight": (10, 30), ...}."""
    out = {}
    for l, (n_in, n_out) in enumerate(zip(layers, layers[1:]), start=1):
        out[f"fc{l}.weight"] = (n_out, n_in)
        out[f"fc{l}.bias"] = (n_out,)
    return out


def names(layers):
    """The parameter names of the network of widths ``layers``: fc1.weight, fc1.bias, ..."""
    return tuple(shapes(layers))


def plain_sgd(settings):
    """Whether ``settings`` train with plain SGD (no momentum, no weight decay): always so
    unless ``settings["optimizer"]`` says otherwise."""
    o = settings.get("optimizer") or {"name": "sgd"}
    return o["name"] == "sgd" and not o.get("momentum") and not o.get("weight_decay")


def report_network_only(settings, who):
    """Raises unless ``settings`` describe the report's family — one hidden layer, ReLU, a
    softmax or double-softmax head, plain SGD — naming the first setting ``who`` does not
    implement."""
    if not plain_sgd(settings):
        raise ValueError(f"{who} trains with plain SGD, not optimizer {settings['optimizer']}")
    if settings["head"] not in ("softmax", "double-softmax"):
        raise ValueError(f"{who} has no head {settings['head']!r} "
                         "(it trains softmax and double-softmax)")
    layers = settings.get("layers") or [784, settings["hidden"], 10]
    if len(layers) != 3:
        raise ValueError(f"{who} has one hidden layer, not layers {list(layers)}")
    if settings.get("activation", "relu") != "relu":
        raise ValueError(f"{who} has ReLU hidden units, not activation {settings['activation']!r}")


def _layers(settings):
    """The widths of ``init``'s settings: ``layers`` (version 2), else the report's network of
    width ``hidden``."""
    if settings.get("layers") is not None:
        return [int(w) for w in settings["layers"]]
    return [784, int(settings["hidden"]), 10]


def _load_params(paths, layers):
    out = {}
    for name, shape in shapes(layers).items():
        a = np.load(paths[name])
        if a.shape != shape or a.dtype != np.float32:
            raise ValueError(f"{name}: expected float32 {shape}, got {a.dtype} {a.shape}")
        out[name] = a
    return out


def _checked_params(d, layers, copy=False, why=""):
    """The class's params() as float32 arrays of PyTorch's names and shapes, or an error;
    ``copy``: arrays of their own (a checkpoint must not follow later in-place updates);
    ``why``: why params() was called, for the message."""
    want = names(layers)
    if not isinstance(d, dict) or set(d) != set(want):
        got = sorted(d) if isinstance(d, dict) else repr(d) if d is None else type(d).__name__
        raise ValueError(f"params() must return a dict of {list(want)}, got {got}{why}")
    out = {}
    for name, shape in shapes(layers).items():
        a = np.array(d[name], dtype=np.float32, copy=True) if copy else np.asarray(d[name], dtype=np.float32)
        if a.shape != shape:
            raise ValueError(f"params()[{name!r}] has shape {a.shape}, expected {shape}")
        out[name] = a
    return out


class _Server:
    def __init__(self, cls, out, name, libraries, device, rewind, optimizers):
        self.cls, self.out = cls, out
        self.name = name or cls.__name__
        self.libraries = {"numpy": np.__version__, **(libraries or {})}
        self.device, self.rewind, self.optimizers = device, rewind, optimizers
        self.net = None
        self.settings = None
        self.layers = None
        self.x = self.y = None
        self.splits = {}
        # What was kept before some steps sent ahead (the parameters, or with an optimizer's
        # state a copy of the whole net: see _keep), and every such step since the oldest:
        # [(id, kept)], [(id, batch, lr)].
        self.checkpoints = []
        self.log = []
        self.order = None

    def reply(self, msg):
        if set(msg) == {"id", "ok", "loss", "correct", "size"} and not isinstance(msg["loss"], str):
            # A step's reply, the one sent most often, written without the json module.
            line = '{"id": %d, "ok": true, "loss": %r, "correct": %d, "size": %d}\n' % (
                msg["id"], msg["loss"], msg["correct"], msg["size"])
        else:
            line = json.dumps(msg) + "\n"
        self.out.append(line)

    def split(self, x, y):
        key = (x, y)
        if key not in self.splits:
            self.splits[key] = (np.load(x), np.load(y))
        return self.splits[key]

    def _keep(self):
        """What a rewind restores: the parameters (``params()``), or, when the optimizer keeps
        state of its own (momentum, Adam's moments), a deep copy of the whole net, which holds
        that state wherever the class keeps it — nothing new asked of the class."""
        if plain_sgd(self.settings):
            return _checked_params(self.net.params(), self.layers, copy=True,
                                   why=" (called to keep a checkpoint before a step sent ahead)")
        try:
            return copy.deepcopy(self.net)
        except Exception as e:
            raise RuntimeError(
                f"cannot keep a checkpoint of the net (copy.deepcopy: {type(e).__name__}: {e}); "
                "serve it with rewind=False so that twinnet never sends steps ahead") from e

    def _restore(self, kept):
        if isinstance(kept, dict):
            self.net = self.cls(_checked_params(kept, self.layers, copy=True), dict(self.settings))
        else:
            self.net = copy.deepcopy(kept)

    def step(self, batch, lr):
        """One update on `batch` ("all", a list of rows, or {"order": [start, end]})."""
        if batch == "all":
            x, y = self.x, self.y
        else:
            if isinstance(batch, dict):
                start, end = batch["order"]
                ix = self.order[start:end]
            else:
                ix = np.asarray(batch, dtype=np.int64)
            x, y = self.x[ix], self.y[ix]
        loss, correct = self.net.step(x, y, float(lr))
        return {"loss": _num(loss), "correct": int(correct), "size": int(len(y))}

    def handle(self, req):
        op = req.get("op")
        if op == "hello":
            capabilities = (["rewind"] if self.rewind else []) + \
                (["optimizers"] if self.optimizers else [])
            return {"protocol": PROTOCOL, "capabilities": capabilities,
                    "implementation": {"name": self.name,
                                       "language": f"python {platform.python_version()}",
                                       "libraries": self.libraries, "device": self.device}}
        if op == "init":
            self.settings = req["settings"]
            self.settings.setdefault("activation", "relu")
            self.layers = _layers(self.settings)
            self.settings["layers"] = list(self.layers)
            if not self.optimizers and not plain_sgd(self.settings):
                raise ValueError(f"{self.name} trains with plain SGD only (serve it with "
                                 f"optimizers=True once it implements settings['optimizer'])")
            params = _load_params(req["params"], self.layers)
            train = req.get("train")
            self.x, self.y = self.split(train["x"], train["y"]) if train else (None, None)
            self.checkpoints, self.log = [], []
            self.net = self.cls(params, dict(self.settings))
            return {}
        if self.net is None:
            raise RuntimeError(f"`{op}` before `init`")
        if op == "step":
            if self.x is None:
                raise RuntimeError("`step` after an `init` without a training set")
            if req.get("checkpoint"):
                last = self.checkpoints[-1][0] if self.checkpoints else None
                if last is None or req["id"] - last >= EVERY:
                    self.checkpoints.append((req["id"], self._keep()))
                    if len(self.checkpoints) > 8:
                        del self.checkpoints[0]
                        oldest = self.checkpoints[0][0]
                        self.log = [e for e in self.log if e[0] >= oldest]
                self.log.append((req["id"], req["batch"], req["lr"]))
            else:
                # A step nobody can take back: nothing before it will be rewound to.
                self.checkpoints, self.log = [], []
            return self.step(req["batch"], req["lr"])
        if op == "order":
            self.order = np.load(req["path"])
            return {}
        if op == "evaluate":
            x, y = self.split(req["x"], req["y"])
            loss, predictions = self.net.evaluate(x, y)
            p = np.asarray(predictions).astype(np.int64).reshape(-1)
            if p.shape != (len(y),):
                raise ValueError(f"evaluate() returned {p.shape[0]} predictions for {len(y)} images")
            np.save(req["predictions"], p)
            return {"loss": _num(loss)}
        if op == "params":
            for name, a in _checked_params(self.net.params(), self.layers).items():
                np.save(os.path.join(req["dir"], name + ".npy"), a)
            return {}
        if op == "rewind":
            to = req["to"]
            kept = [c for c in self.checkpoints if c[0] <= to]
            if not kept or not any(e[0] == to for e in self.log):
                raise RuntimeError(f"no checkpoint before step {to} to rewind to")
            cid, state = kept[-1]
            self._restore(state)
            for sid, batch, lr in self.log:
                if cid <= sid < to:
                    self.step(batch, lr)
            self.checkpoints = kept
            self.log = [e for e in self.log if e[0] < to]
            return {}
        raise ValueError(f"unknown op `{op}`")


def serve(cls, name=None, libraries=None, device="cpu", rewind=True, optimizers=False):
    """Serves instances of ``cls`` over twinnet's process protocol on stdin/stdout.

    ``cls(params, settings)``: ``params`` a dict of float32 arrays in PyTorch's names and layout
    (``names(settings["layers"])``: fc1.weight, fc1.bias, ..., fcK.bias), ``settings`` a dict
    with at least ``layers`` (every width, input and output included, e.g. [784, 30, 10]),
    ``activation`` ("relu" | "sigmoid" | "tanh", every hidden layer), ``head`` ("softmax" |
    "double-softmax" | "sigmoid-quadratic" | "sigmoid-cross-entropy"), ``lr``, ``regime``,
    ``batch_size``, ``seed``, ``threads``, ``normalize`` and ``dataset`` (and ``hidden``, the
    width of a single hidden layer, for classes written for version 1). A class that does not
    implement a setting raises in ``__init__``: twinnet reports it (``check`` skips the
    scenario). ``step(x, y, lr)``: ``x`` float32 [n, 784] (normalized), ``y`` int64 [n]; one
    SGD update on the batch's mean loss; returns (mean loss, number correct) of the forward pass
    before the update. ``evaluate(x, y)``: returns (mean loss, predictions [n]), parameters
    unchanged. ``params()``: the dict of ``__init__``'s form.

    ``name``, ``libraries`` (e.g. ``{"torch": torch.__version__}``) and ``device`` describe the
    implementation in twinnet's results.

    ``optimizers=True`` once the class implements ``settings["optimizer"]`` (``name``: "sgd",
    "adam" or "adamw"; ``momentum``, ``dampening``, ``nesterov``, ``weight_decay``, ``decay``:
    "all" or "weights", ``betas``, ``eps``: torch.optim's meanings, every key present); without
    it twinnet trains the class with plain SGD only. A checkpoint before a step sent ahead is
    then a ``copy.deepcopy`` of the instance (its optimizer state included, wherever it keeps
    it); ``rewind=False`` if the instance cannot be deep-copied: twinnet then never sends steps
    ahead.
    """
    # The protocol owns the real stdout; anything else printed (by the class, or by C code)
    # goes to stderr, which twinnet shows when something fails.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    replies = []
    server = _Server(cls, replies, name, libraries, device, rewind, optimizers)
    pending = b""
    try:
        # Requests are read as they come, several at a time when twinnet has sent steps ahead;
        # the replies to one read go back in one write (one wake-up of twinnet, not one each).
        while True:
            chunk = os.read(0, 1 << 16)
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                req = {}
                try:
                    req = json.loads(line)
                    if req.get("op") == "shutdown":
                        server.reply({"id": req.get("id"), "ok": True})
                        os.write(out_fd, "".join(replies).encode())
                        return
                    server.reply({"id": req.get("id"), "ok": True, **server.handle(req)})
                except Exception as e:  # every failure is the protocol's error, with its traceback
                    server.reply({"id": req.get("id") if isinstance(req, dict) else None,
                                  "ok": False,
                                  "error": _cut(f"{type(e).__name__}: {e}", MAX_ERROR),
                                  "traceback": _cut(traceback.format_exc(), MAX_ERROR, tail=True)})
            if replies:
                data = "".join(replies).encode()
                replies.clear()
                while data:
                    data = data[os.write(out_fd, data):]
    except KeyboardInterrupt:
        sys.exit(130)
