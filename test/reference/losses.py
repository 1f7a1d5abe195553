# Reference values for tensorkit's losses (cross-entropy with indices / probabilities / label smoothing,
# MSE dense and on one-hot labels), from PyTorch in float64.
# Run: /usr/bin/python3 test/reference/losses.py  → writes losses.json next to this file.
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, pred, target, fn, **extra):
    p = pred.clone().requires_grad_(True)
    loss = fn(p, target)
    loss.backward()
    return dict(name=name, pred_shape=list(pred.shape), pred=flat(pred), target_shape=list(target.shape),
                target=flat(target), loss=float(loss), grad=flat(p.grad), **extra)


def main():
    batch, classes = 5, 4
    logits = torch.randn(batch, classes) * 3
    labels = torch.tensor([0, 3, 1, 1, 2])
    probs = torch.softmax(torch.randn(batch, classes), dim=1)
    big = torch.tensor([[1e4, 0.0, -1e4, 5e3], [-1e4, -1e4, 1e4, 1e4]])
    big_labels = torch.tensor([1, 3])
    cases = [
        case('ce-indices', logits, labels, lambda p, t: F.cross_entropy(p, t), labelSmoothing=0.0),
        case('ce-probs', logits, probs, lambda p, t: F.cross_entropy(p, t), labelSmoothing=0.0),
        case('ce-indices-smooth', logits, labels, lambda p, t: F.cross_entropy(p, t, label_smoothing=0.1),
             labelSmoothing=0.1),
        case('ce-probs-smooth', logits, probs, lambda p, t: F.cross_entropy(p, t, label_smoothing=0.2),
             labelSmoothing=0.2),
        case('ce-large-logits', big, big_labels, lambda p, t: F.cross_entropy(p, t), labelSmoothing=0.0),
        case('mse-dense', torch.randn(3, 4, 2), torch.randn(3, 4, 2), lambda p, t: F.mse_loss(p, t)),
        case('mse-indices', logits, labels,
             lambda p, t: F.mse_loss(p, F.one_hot(t, classes).to(torch.float64))),
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'losses.json')
    with open(path, 'w') as f:
        json.dump(dict(cases=cases), f)


if __name__ == '__main__':
    main()
