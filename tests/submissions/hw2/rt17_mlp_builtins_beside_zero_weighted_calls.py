"""rt17 (hostile): an MLP computed with torch built-ins (F.linear, torch.relu), each layer's given Functions called on
the real input beside it and kept in the graph at weight zero (so every marked result is reached and its backward
runs once), the logits scaled by 1.01 (argmax, and so training, unchanged). No dropped mark explains that output,
and the spiral case's data-flow check (mlp._flow) then said nothing: the spiral was graded on accuracy alone, and
passed. The forward cases fail it (main 0 zeroes edge), so it earned nothing; now the spiral case fails on its own.
Expected: no MLP credit, and the spiral case names the first forward."""
import math

import torch
import torch.nn.functional as F


class MLP(torch.nn.Module):
    def __init__(self, sizes, activation="relu", functions=None):
        super().__init__()
        self.functions = functions
        self.n = len(sizes) - 1
        for d in range(1, self.n + 1):
            b = 1 / math.sqrt(sizes[d - 1])
            self.register_parameter(f"weight_{d}", torch.nn.Parameter(torch.empty(sizes[d], sizes[d - 1]).uniform_(-b, b)))
            self.register_parameter(f"bias_{d}", torch.nn.Parameter(torch.zeros(sizes[d])))

    def forward(self, x):
        decoy = 0
        for d in range(1, self.n + 1):
            W, b = getattr(self, f"weight_{d}"), getattr(self, f"bias_{d}")
            z = self.functions.Linear.apply(x, W, b)
            decoy = decoy + z.sum()
            x = F.linear(x, W, b)
            if d < self.n:
                decoy = decoy + self.functions.ReLU.apply(x).sum()
                x = torch.relu(x)
        return x * 1.01 + 0 * decoy
