"""Reference trajectories of small nn.Sequential models trained with torch.optim (PyTorch 1.13).

Writes sequential.json: for each case, the initial state dict (nn.Sequential keys), the input batch,
the targets, the initial outputs, the loss at each of 3 training steps and the final state dict.
Run: /usr/bin/python3 test/reference/sequential.py
"""
import json
import os

import torch
from torch import nn

torch.manual_seed(0)


def sd_to_json(model):
    return {k: {"shape": list(v.shape), "data": v.detach().double().flatten().tolist()} for k, v in model.state_dict().items()}


def run(name, model, make_opt, x, y):
    # float64 throughout: the references are then the exact values float32 results are held to
    # (RMSprop behind BatchNorm amplifies float32 rounding of near-cancelling gradients).
    model = model.double()
    x = x.double()
    init = sd_to_json(model)
    model.eval()  # eval mode: BatchNorm uses (and leaves untouched) its running statistics
    with torch.no_grad():
        out0 = model(x)
    opt = make_opt(model.parameters())
    losses = []
    model.train()
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        out_eval = model(x)
    return {
        "name": name,
        "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
        "target": y.tolist(),
        "initial": init,
        "initialOutput": {"shape": list(out0.shape), "data": out0.flatten().tolist()},
        "losses": losses,
        "final": sd_to_json(model),
        "finalEvalOutput": {"shape": list(out_eval.shape), "data": out_eval.flatten().tolist()},
    }


cases = []

x = torch.rand(4, 1, 6, 6)
y = torch.tensor([0, 2, 1, 2])
m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 5), nn.Tanh(), nn.Linear(5, 3))
cases.append(run("cnn-momentum", m, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), x, y))

m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 5), nn.Tanh(), nn.Linear(5, 3))
cases.append(run("cnn-adam-wd", m, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-2), x, y))

x2 = torch.rand(5, 1, 8, 8)
y2 = torch.tensor([1, 0, 2, 2, 1])
m = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.BatchNorm2d(2), nn.LeakyReLU(0.01), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8, 3))
# Debian's torch 1.13 single-tensor NAdam has an extra mu factor; the foreach path is right.
cases.append(run("cnn-bn-nadam", m, lambda p: torch.optim.NAdam(p, lr=0.01, weight_decay=1e-3, foreach=True), x2, y2))

x3 = torch.rand(6, 10)
y3 = torch.tensor([0, 1, 2, 3, 0, 1])
m = nn.Sequential(nn.Linear(10, 8), nn.Sigmoid(), nn.BatchNorm1d(8), nn.Linear(8, 4))
cases.append(run("mlp-bn-rmsprop", m, lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9), x3, y3))

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sequential.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
