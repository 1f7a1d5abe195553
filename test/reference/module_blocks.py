"""Reference trajectories of two user-module blocks trained 3 steps (PyTorch 1.13), for
test/model/module-reference.test.ts:
- "residual": stem conv → residual block (conv-BN-ReLU-conv-BN + skip, ReLU) → flatten → linear, SGD momentum;
- "transformer": a pre-norm transformer block on one sequence [1, T, D] written from primitive ops
  (LayerNorm from mean/var, two attention heads with their own projections, softmax(q·kᵀ/√d)·v, GELU MLP,
  two residuals), mean-pooled into a linear head, Adam with weight decay.
Float64 throughout, so the references are the exact values the float32 results are held to.
Writes module_blocks.json: initial state dict (attribute-path keys), input, targets, the 3 losses, final state dict.
Run: /usr/bin/python3 test/reference/module_blocks.py
"""
import json
import math
import os

import torch
from torch import nn
import torch.nn.functional as F

torch.manual_seed(0)


def sd_to_json(model):
    return {k: {"shape": list(v.shape), "data": v.detach().double().flatten().tolist()} for k, v in model.state_dict().items()}


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + x)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 3, 3, padding=1)
        self.block = Residual(3)
        self.head = nn.Linear(3 * 5 * 5, 4)

    def forward(self, x):
        h = self.block(F.relu(self.stem(x)))
        return self.head(torch.flatten(h, 1))


class LayerNorm(nn.Module):
    """LayerNorm over the last axis, written from ops: (x − mean) / sqrt(var_biased + eps) · weight + bias."""

    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(d))
        self.bias = nn.Parameter(0.1 * torch.randn(d))

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        c = x - mu
        var = (c * c).mean(-1, keepdim=True)
        return c / torch.sqrt(var + 1e-5) * self.weight + self.bias


class Head(nn.Module):
    def __init__(self, d, dh):
        super().__init__()
        self.q = nn.Linear(d, dh)
        self.k = nn.Linear(d, dh)
        self.v = nn.Linear(d, dh)
        self.out = nn.Linear(dh, d, bias=False)

    def forward(self, x):  # x [T, D]
        q, k, v = self.q(x), self.k(x), self.v(x)
        a = torch.softmax(q @ k.t() / math.sqrt(q.shape[-1]), dim=-1)
        return self.out(a @ v)


class Transformer(nn.Module):
    def __init__(self, d=8, heads=2, hidden=16, classes=3):
        super().__init__()
        self.norm1 = LayerNorm(d)
        self.heads = nn.ModuleList([Head(d, d // heads) for _ in range(heads)])
        self.proj_bias = nn.Parameter(torch.zeros(d))
        self.norm2 = LayerNorm(d)
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)
        self.cls = nn.Linear(d, classes)

    def forward(self, x):  # x [1, T, D]
        t = x.reshape(x.shape[1], x.shape[2])
        h = self.norm1(t)
        att = self.heads[0](h)
        for head in self.heads[1:]:
            att = att + head(h)
        t = t + att + self.proj_bias
        t = t + self.fc2(F.gelu(self.fc1(self.norm2(t))))
        return self.cls(t)  # one prediction per token: [T, classes]


def run(name, model, make_opt, x, y):
    model = model.double()
    x = x.double()
    init = sd_to_json(model)
    opt = make_opt(model.parameters())
    losses = []
    model.train()
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {
        "name": name,
        "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
        "target": y.tolist(),
        "initial": init,
        "losses": losses,
        "final": sd_to_json(model),
    }


cases = [
    run("residual", ResNet(), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        torch.randn(4, 1, 5, 5), torch.tensor([0, 1, 2, 3])),
    run("transformer", Transformer(), lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-2),
        torch.randn(1, 6, 8), torch.tensor([0, 1, 2, 0, 1, 2])),
]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "module_blocks.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print("wrote module_blocks.json:", [(c["name"], [round(l, 6) for l in c["losses"]]) for c in cases])
