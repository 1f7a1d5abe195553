"""Reference values for Conv2D's Winograd dL/dW (test/tensor/winograd-grad.test.ts), from torch.nn.functional.conv2d.

Run with PyTorch's Python (`/usr/bin/python3 test/reference/winograd_grad.py`); writes winograd_grad.json
next to this file. 3×3 stride-1 convolutions at awkward shapes (odd sizes, channel counts that are not
multiples of 4, padding 0, 1, 2). Inputs, weights and upstream gradients come from torch.manual_seed(0),
rounded to float32 (so the TS side sees exactly the same numbers); the weight and bias gradients of
loss = Σ y·dy are computed in float64. Also per weight the magnitude sum Σ|dy·x| over its taps (the scale
the error bound is stated against), from conv2d of |x| and |dy|.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def f32(*shape):
    return torch.randn(*shape).float().double()


def flat(t):
    return t.detach().reshape(-1).tolist()


def flat32(t):
    """A float32-valued tensor, each value written with 9 significant digits (enough to round-trip float32)."""
    return [float('%.9g' % v) for v in t.detach().reshape(-1).tolist()]


cases = []
for batch, channels, filters, height, width, pad in [
    (3, 5, 6, 7, 9, 1), (1, 17, 3, 5, 5, 0), (2, 3, 17, 6, 11, 2), (3, 8, 8, 13, 10, 1), (1, 1, 1, 2, 2, 1),
]:
    x = f32(batch, channels, height, width).requires_grad_()
    w = f32(filters, channels, 3, 3).requires_grad_()
    b = f32(filters).requires_grad_()
    y = F.conv2d(x, w, b, padding=pad)
    dy = f32(*y.shape)
    y.backward(dy)
    # Σ|dy·x| per weight: the weight gradient of the convolution of |x| with upstream |dy|.
    xa = x.detach().abs().requires_grad_(False)
    wa = torch.zeros_like(w).requires_grad_()
    F.conv2d(xa, wa, None, padding=pad).backward(dy.abs())
    cases.append({
        'batch': batch, 'channels': channels, 'filters': filters, 'height': height, 'width': width, 'padding': pad,
        'x': flat32(x), 'weight': flat32(w), 'bias': flat32(b), 'dy': flat32(dy),
        'dW': flat(w.grad), 'db': flat(b.grad), 'dWMagnitude': flat(wa.grad),
    })

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'winograd_grad.json')
with open(out, 'w') as f:
    json.dump({'generator': 'test/reference/winograd_grad.py', 'torch': torch.__version__, 'cases': cases}, f)
print('wrote', out)
