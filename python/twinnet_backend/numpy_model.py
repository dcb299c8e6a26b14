"""The report's NumPy model (section 2.2), as the report wrote it, served over twinnet's process
protocol: ``python3 -m twinnet_backend.numpy_model``.

float64, examples as columns, the report's functions under the report's names (``ReLU``,
``softmax``, ``forward_prop``, ``one_hot``, ``ReLU_deriv``, ``backward_prop``,
``update_params``, ``get_predictions``); softmax as the report writes it,
``exp(z) / sum(exp(z))``, and ``dZ2 = A2 - Y`` for softmax with cross-entropy. Adapted only at
the API boundary (``Net`` below): the parameters arrive as float32 arrays in PyTorch's layout
(biases as vectors, turned into the report's columns), batches arrive as rows and are turned into
columns, and the step returns the forward pass's loss and correct count.

One addition the report does not have, marked below: the PyTorch model's head (softmax in
``forward``, then ``CrossEntropyLoss``), so that the report's two models can both run on this
implementation in twinnet's ``frameworks`` experiment. Its gradient is derived in
``twinnet_ndarray::reference::head_grad``.
"""

import numpy as np

from twinnet_backend import report_network_only, serve


def ReLU(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    return np.exp(Z) / np.sum(np.exp(Z), axis=0, keepdims=True)


def forward_prop(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = ReLU(Z1)
    Z2 = W2.dot(A1) + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def one_hot(Y):
    one_hot_Y = np.zeros((Y.size, 10))
    one_hot_Y[np.arange(Y.size), Y] = 1
    return one_hot_Y.T


def ReLU_deriv(Z):
    return Z > 0


def backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y, double_softmax=False):
    m = Y.size
    one_hot_Y = one_hot(Y)
    dZ2 = A2 - one_hot_Y
    if double_softmax:
        # Not in the report: the PyTorch model's head, CrossEntropyLoss of softmax(Z2).
        G = softmax(A2) - one_hot_Y
        dZ2 = A2 * (G - np.sum(A2 * G, axis=0, keepdims=True))
    dW2 = 1 / m * dZ2.dot(A1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = W2.T.dot(dZ2) * ReLU_deriv(Z1)
    dW1 = 1 / m * dZ1.dot(X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return dW1, db1, dW2, db2


def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
    W1 = W1 - alpha * dW1
    b1 = b1 - alpha * db1
    W2 = W2 - alpha * dW2
    b2 = b2 - alpha * db2
    return W1, b1, W2, b2


def get_predictions(A2):
    return np.argmax(A2, 0)


def get_accuracy(predictions, Y):
    return np.sum(predictions == Y) / Y.size


def cross_entropy(P, Y):
    """Mean of −log P[y] over the columns (the report's L = −Σ y_k log A2_k, averaged)."""
    return float(np.mean(-np.log(P[Y, np.arange(Y.size)])))


class Net:
    """The API boundary: twinnet's rows and float32 tensors in, the report's functions inside."""

    def __init__(self, params, settings):
        report_network_only(settings, "the report's NumPy model")
        self.W1 = params["fc1.weight"].astype(np.float64)
        self.b1 = params["fc1.bias"].astype(np.float64).reshape(-1, 1)
        self.W2 = params["fc2.weight"].astype(np.float64)
        self.b2 = params["fc2.bias"].astype(np.float64).reshape(-1, 1)
        self.double = settings["head"] == "double-softmax"
        self.rows, self.columns = None, None

    def as_columns(self, x):
        """``x`` as the report's float64 columns. A full-batch run sends the same training set at
        every step: it is converted once and kept, as the report's program converts its data once."""
        if x is not self.rows:
            self.rows, self.columns = x, x.T.astype(np.float64)
        return self.columns

    def loss(self, A2, Y):
        return cross_entropy(softmax(A2) if self.double else A2, Y)

    def step(self, x, y, lr):
        X = self.as_columns(x)
        Z1, A1, Z2, A2 = forward_prop(self.W1, self.b1, self.W2, self.b2, X)
        loss, correct = self.loss(A2, y), int(np.sum(get_predictions(A2) == y))
        grads = backward_prop(Z1, A1, Z2, A2, self.W1, self.W2, X, y, self.double)
        self.W1, self.b1, self.W2, self.b2 = update_params(
            self.W1, self.b1, self.W2, self.b2, *grads, lr)
        return loss, correct

    def evaluate(self, x, y):
        _, _, _, A2 = forward_prop(self.W1, self.b1, self.W2, self.b2, x.T.astype(np.float64))
        return self.loss(A2, y), get_predictions(A2)

    def params(self):
        return {"fc1.weight": self.W1, "fc1.bias": self.b1.ravel(),
                "fc2.weight": self.W2, "fc2.bias": self.b2.ravel()}


if __name__ == "__main__":
    serve(Net, name="the report's NumPy model (float64)")
