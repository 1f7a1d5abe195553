# Reference values for test/ops/reference.test.ts: composites of differentiable ops run by PyTorch
# (float32) with autograd; inputs and outputs are written to ops.json.
# Run: python3 test/reference/ops.py  (PyTorch 1.13)
import json
import torch
import torch.nn.functional as F

torch.manual_seed(15)


def lst(t):
    return t.detach().reshape(-1).tolist()


def leaf(*shape, scale=1.0, positive=False):
    t = torch.randn(*shape) * scale
    if positive:
        t = t.abs() + 0.5
    return t.requires_grad_(True)


cases = {}

# 2-layer MLP with GELU and softmax cross-entropy (mean).
x = leaf(4, 5)
w1 = leaf(5, 6, scale=0.5)
b1 = leaf(6, scale=0.1)
w2 = leaf(6, 3, scale=0.5)
b2 = leaf(3, scale=0.1)
labels = [2, 0, 1, 2]
logits = F.gelu(x @ w1 + b1) @ w2 + b2
loss = F.cross_entropy(logits, torch.tensor(labels))
loss.backward()
cases['mlp'] = {
    'inputs': {'x': [lst(x), [4, 5]], 'w1': [lst(w1), [5, 6]], 'b1': [lst(b1), [6]], 'w2': [lst(w2), [6, 3]], 'b2': [lst(b2), [3]]},
    'labels': labels, 'loss': loss.item(), 'logits': lst(logits),
    'grads': {k: lst(v.grad) for k, v in {'x': x, 'w1': w1, 'b1': b1, 'w2': w2, 'b2': b2}.items()},
}

# Residual block on column vectors: y = x + W2·relu(W1·x), loss = mse(y, target).
x = leaf(4, 3)
w1 = leaf(5, 4, scale=0.5)
w2 = leaf(4, 5, scale=0.5)
target = torch.randn(4, 3)
y = x + w2 @ torch.relu(w1 @ x)
loss = F.mse_loss(y, target)
loss.backward()
cases['residual'] = {
    'inputs': {'x': [lst(x), [4, 3]], 'w1': [lst(w1), [5, 4]], 'w2': [lst(w2), [4, 5]]},
    'target': [lst(target), [4, 3]], 'loss': loss.item(), 'y': lst(y),
    'grads': {k: lst(v.grad) for k, v in {'x': x, 'w1': w1, 'w2': w2}.items()},
}

# Everything else in one scalar: broadcasting, batched matmul, transpose, reductions with keepDims,
# softmax / logSoftmax, tanh, sigmoid, exp, log, sqrt, pow, div, sub, neg.
a = leaf(2, 3, 4)
b = leaf(2, 4, 3)
c = leaf(3, 1, positive=True)
d = leaf(4, scale=0.5)
w = leaf(3, 4)
p = a @ b                                        # [2, 3, 3]
t1 = torch.softmax(p, -1).sum(dim=(0, 2), keepdim=False)         # [3]
t2 = torch.log_softmax(a, -1).mean(dim=1, keepdim=True)         # [2, 1, 4]
t3 = torch.tanh(a - d) * torch.sigmoid(d)                        # [2, 3, 4]
t4 = torch.sqrt(torch.exp(c) + 1) / (torch.pow(c, 3) + 0.5)      # [3, 1]
t5 = torch.log(c).neg() + w.t().sum(dim=0, keepdim=True).t()     # [3, 1]
t6 = (a.reshape(6, 4) @ w.t()).mean()                            # []
loss = t1.sum() + (t2 * t3).mean() + (t4 * t5).sum() - t6 + torch.pow(d, 2).sum() / 4
loss.backward()
cases['mixed'] = {
    'inputs': {'a': [lst(a), [2, 3, 4]], 'b': [lst(b), [2, 4, 3]], 'c': [lst(c), [3, 1]], 'd': [lst(d), [4]], 'w': [lst(w), [3, 4]]},
    'loss': loss.item(),
    'grads': {k: lst(v.grad) for k, v in {'a': a, 'b': b, 'c': c, 'd': d, 'w': w}.items()},
}

with open(__file__.replace('.py', '.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases}, f, indent=1)
