"""The report's PyTorch model (section 2.3), served over twinnet's process protocol:
``python3 -m twinnet_backend.pytorch_model`` (needs PyTorch).

``PyTorchModel`` is an ``nn.Module`` with ``fc1 = nn.Linear(784, hidden)`` and
``fc2 = nn.Linear(hidden, 10)``, softmax in ``forward`` (the report's model; the ``softmax``
head, the fix, returns the logits), trained with ``nn.CrossEntropyLoss`` and ``optim.SGD`` by
the report's loop (``zero_grad``, forward, loss, ``backward``, ``step``), on
``torch.set_num_threads(settings["threads"])`` threads. Adapted only at the API boundary: the
starting weights are copied in, batches arrive as NumPy arrays.
"""

import numpy as np
import torch
from torch import nn, optim

from twinnet_backend import report_network_only, serve


class PyTorchModel(nn.Module):
    def __init__(self, hidden=10, softmax_in_forward=True):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, 10)
        self.softmax_in_forward = softmax_in_forward

    def forward(self, x):
        x = self.fc1(x)
        x = torch.relu(x)
        x = self.fc2(x)
        return torch.softmax(x, dim=1) if self.softmax_in_forward else x


class Net:
    """The API boundary: twinnet's starting weights and NumPy batches in, the report's loop
    inside."""

    def __init__(self, params, settings):
        report_network_only(settings, "the report's PyTorch model")
        torch.set_num_threads(int(settings["threads"]))
        self.model = PyTorchModel(int(settings["hidden"]), settings["head"] == "double-softmax")
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                p.copy_(torch.from_numpy(np.ascontiguousarray(params[name])))
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = optim.SGD(self.model.parameters(), lr=float(settings["lr"]))

    def step(self, x, y, lr):
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        images, labels = torch.from_numpy(x), torch.from_numpy(y)
        self.optimizer.zero_grad()
        outputs = self.model(images)
        loss = self.criterion(outputs, labels)
        loss.backward()
        self.optimizer.step()
        correct = int((outputs.argmax(dim=1) == labels).sum())
        return loss.item(), correct

    def evaluate(self, x, y):
        with torch.no_grad():
            outputs = self.model(torch.from_numpy(x))
            loss = self.criterion(outputs, torch.from_numpy(y))
            return loss.item(), outputs.argmax(dim=1).numpy()

    def params(self):
        return {k: v.detach().numpy() for k, v in self.model.state_dict().items()}


if __name__ == "__main__":
    serve(Net, name="the report's PyTorch model", libraries={"torch": torch.__version__})
