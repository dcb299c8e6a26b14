"""An implementation that does nothing (`make bench`): every step answers at once, so what a
step costs through the process protocol is the protocol's own overhead (messages, wake-ups,
slicing the batch)."""

import numpy as np

from twinnet_backend import serve


class Idle:
    def __init__(self, params, settings):
        self.p = params

    def step(self, x, y, lr):
        return 0.0, 0

    def evaluate(self, x, y):
        return 0.0, np.zeros(len(y), dtype=np.int64)

    def params(self):
        return self.p


if __name__ == "__main__":
    serve(Idle, name="idle (does nothing)")
