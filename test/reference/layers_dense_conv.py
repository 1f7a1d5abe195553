"""Reference values for Dense, Conv2D and the activation layers, from torch.nn.Linear, Conv2d and torch.nn.functional.

Run with PyTorch's Python (`/usr/bin/python3 test/reference/layers_dense_conv.py`); writes
layers_dense_conv.json next to this file. Inputs, weights and upstream gradients are drawn from
torch.manual_seed(0), rounded to float32 (so the TS side sees exactly the same numbers) and the
outputs are computed in float64. For each case: forward output y, and for loss = Σ y·dy the
gradients dx, dW, db.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def f32(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).double()


def flat(t):
    return t.detach().reshape(-1).tolist()


linear = []
for batch, n_in, n_out, bias in [(4, 5, 3, True), (1, 7, 2, True), (3, 6, 4, False)]:
    x = f32(batch, n_in).requires_grad_()
    w = f32(n_out, n_in).requires_grad_()
    b = f32(n_out).requires_grad_() if bias else None
    y = F.linear(x, w, b)
    dy = f32(*y.shape)
    y.backward(dy)
    linear.append({
        'batch': batch, 'in': n_in, 'units': n_out, 'useBias': bias,
        'x': flat(x), 'weight': flat(w), 'bias': flat(b) if bias else None, 'dy': flat(dy),
        'y': flat(y), 'dx': flat(x.grad), 'dW': flat(w.grad), 'db': flat(b.grad) if bias else None,
    })

conv = []
for cfg in [
    {'batch': 2, 'inC': 2, 'H': 5, 'W': 6, 'filters': 3, 'kernel': [3, 3], 'stride': [1, 1], 'padding': [0, 0]},
    {'batch': 2, 'inC': 2, 'H': 6, 'W': 5, 'filters': 3, 'kernel': [3, 3], 'stride': [2, 2], 'padding': [1, 1]},
    {'batch': 1, 'inC': 3, 'H': 5, 'W': 7, 'filters': 2, 'kernel': [2, 3], 'stride': [2, 1], 'padding': [1, 0]},
    {'batch': 2, 'inC': 1, 'H': 4, 'W': 5, 'filters': 2, 'kernel': [3, 5], 'stride': [1, 1], 'padding': 'same'},
    {'batch': 3, 'inC': 2, 'H': 7, 'W': 7, 'filters': 4, 'kernel': [5, 5], 'stride': [3, 2], 'padding': [2, 1], 'useBias': False},
    {'batch': 2, 'inC': 4, 'H': 3, 'W': 3, 'filters': 2, 'kernel': [1, 1], 'stride': [1, 1], 'padding': [0, 0]},
]:
    use_bias = cfg.get('useBias', True)
    x = f32(cfg['batch'], cfg['inC'], cfg['H'], cfg['W']).requires_grad_()
    w = f32(cfg['filters'], cfg['inC'], *cfg['kernel']).requires_grad_()
    b = f32(cfg['filters']).requires_grad_() if use_bias else None
    y = F.conv2d(x, w, b, stride=cfg['stride'], padding=cfg['padding'])
    dy = f32(*y.shape)
    y.backward(dy)
    conv.append({**cfg, 'useBias': use_bias, 'yShape': list(y.shape),
                 'x': flat(x), 'weight': flat(w), 'bias': flat(b) if use_bias else None, 'dy': flat(dy),
                 'y': flat(y), 'dx': flat(x.grad), 'dW': flat(w.grad), 'db': flat(b.grad) if use_bias else None})

activations = []
act_fns = {
    'relu': ({}, F.relu),
    'leaky-relu': ({}, lambda t: F.leaky_relu(t, 0.01)),
    'leaky-relu-0.2': ({'negativeSlope': 0.2}, lambda t: F.leaky_relu(t, 0.2)),
    'tanh': ({}, torch.tanh),
    'sigmoid': ({}, torch.sigmoid),
    'softmax': ({}, lambda t: F.softmax(t, dim=-1)),
}
for name, (config, fn) in act_fns.items():
    for shape, scale in [([3, 5], 2.0), ([2, 3, 4], 3.0)]:
        x = f32(*shape, scale=scale)
        if name in ('sigmoid', 'softmax', 'tanh'):
            # Large magnitudes exercise the overflow-safe paths.
            x[0, 0] = 60.0 if len(shape) == 2 else x[0, 0]
            x.view(-1)[1] = -80.0
        x.requires_grad_()
        y = fn(x)
        dy = f32(*shape)
        y.backward(dy)
        activations.append({'kind': 'leaky-relu' if name.startswith('leaky') else name, 'config': config,
                            'shape': shape, 'x': flat(x), 'dy': flat(dy), 'y': flat(y), 'dx': flat(x.grad)})

out = {'torch': torch.__version__, 'linear': linear, 'conv': conv, 'activations': activations}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'layers_dense_conv.json'), 'w') as f:
    json.dump(out, f)
