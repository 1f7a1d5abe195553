# Reference values for test/ops/losses-options.test.ts: torch 1.13's F.cross_entropy with the options
# weight, ignore_index, reduction and label_smoothing, on class indices and probability targets, in
# float64. Each case stores the inputs, the upstream gradient gy, the loss y and the gradients of Σ y·gy.
# Run: /usr/bin/python3 test/reference/losses_options.py  (PyTorch 1.13); writes losses_options.json beside this file.
import json
import os
import torch
import torch.nn.functional as F

torch.manual_seed(1515)
torch.set_default_dtype(torch.float64)


def lst(t):
    return t.detach().reshape(-1).tolist()


cases = []


def case(name, shape, target, options, probs=False):
    x = (torch.randn(*shape) * 2).requires_grad_(True)
    if probs:
        t = torch.softmax(torch.randn(*shape) * 2, dim=1 if len(shape) > 1 else 0).requires_grad_(True)
    else:
        t = torch.tensor(target, dtype=torch.long)
    kw = {}
    if 'weight' in options:
        kw['weight'] = torch.tensor(options['weight'])
    if 'ignoreIndex' in options:
        kw['ignore_index'] = options['ignoreIndex']
    if 'reduction' in options:
        kw['reduction'] = options['reduction']
    if 'labelSmoothing' in options:
        kw['label_smoothing'] = options['labelSmoothing']
    y = F.cross_entropy(x, t, **kw)
    gy = torch.randn(tuple(y.shape))
    y.backward(gy)
    cases.append({
        'name': name, 'options': options, 'probs': probs,
        'x': [lst(x), list(x.shape)],
        't': [lst(t), list(t.shape)],
        'gy': lst(gy), 'y': [lst(y), list(y.shape)],
        'gx': lst(x.grad), 'gt': lst(t.grad) if probs else None,
    })


W4 = [0.5, 2.0, 1.0, 3.0]
case('weight, mean', (5, 4), [0, 3, 1, 1, 2], {'weight': W4})
case('weight, sum', (5, 4), [0, 3, 1, 1, 2], {'weight': W4, 'reduction': 'sum'})
case('weight, none', (5, 4), [0, 3, 1, 1, 2], {'weight': W4, 'reduction': 'none'})
case('ignore_index, mean', (5, 4), [0, 3, -100, 1, -100], {'ignoreIndex': -100})
case('ignore_index in range, mean', (5, 4), [0, 2, 2, 1, 3], {'ignoreIndex': 2})
case('ignore_index, none', (5, 4), [0, 3, -100, 1, -100], {'ignoreIndex': -100, 'reduction': 'none'})
case('weight + ignore_index, mean', (6, 4), [0, 3, 2, 1, 2, 3], {'weight': W4, 'ignoreIndex': 2})
case('weight + ignore_index + smoothing, mean', (6, 4), [0, 3, 2, 1, 2, 3], {'weight': W4, 'ignoreIndex': 2, 'labelSmoothing': 0.2})
case('weight + ignore_index + smoothing, sum', (6, 4), [0, 3, 2, 1, 2, 3], {'weight': W4, 'ignoreIndex': 2, 'labelSmoothing': 0.2, 'reduction': 'sum'})
case('weight + ignore_index + smoothing, none', (6, 4), [0, 3, 2, 1, 2, 3], {'weight': W4, 'ignoreIndex': 2, 'labelSmoothing': 0.2, 'reduction': 'none'})
case('smoothing, no weight, ignore, mean', (5, 4), [-1, 3, 0, -1, 2], {'ignoreIndex': -1, 'labelSmoothing': 0.1})
case('smoothing, sum', (3, 4), [1, 3, 0], {'labelSmoothing': 0.3, 'reduction': 'sum'})
case('[N, C, d] weight + ignore, none', (2, 3, 4), [[0, 2, 1, 1], [2, -100, 0, 1]], {'weight': [1.5, 0.25, 2.0], 'ignoreIndex': -100, 'reduction': 'none'})
case('[N, C, d] weight + ignore + smoothing, mean', (2, 3, 4), [[0, 2, 1, 1], [2, -100, 0, 1]], {'weight': [1.5, 0.25, 2.0], 'ignoreIndex': -100, 'labelSmoothing': 0.15})
case('[C] logits, weight, none', (4,), 3, {'weight': W4, 'reduction': 'none'})
case('probabilities, weight, mean', (5, 4), None, {'weight': W4}, probs=True)
case('probabilities, weight + smoothing, mean', (5, 4), None, {'weight': W4, 'labelSmoothing': 0.2}, probs=True)
case('probabilities, weight, sum', (5, 4), None, {'weight': W4, 'reduction': 'sum'}, probs=True)
case('probabilities, weight + smoothing, none', (5, 4), None, {'weight': W4, 'labelSmoothing': 0.1, 'reduction': 'none'}, probs=True)
case('probabilities [N, C, d], weight, none', (2, 3, 2), None, {'weight': [1.5, 0.25, 2.0], 'reduction': 'none'}, probs=True)

# All positions ignored: the weighted mean is 0/0 = NaN in torch 1.13.
x = torch.randn(2, 3)
all_ignored = F.cross_entropy(x, torch.tensor([1, 1]), ignore_index=1).item()

# Errors torch raises: a weight of the wrong length, ignore_index ≥ 0 with probability targets.
errors = {}
try:
    F.cross_entropy(torch.randn(2, 3), torch.tensor([0, 1]), weight=torch.ones(4))
except RuntimeError as e:
    errors['weight_length'] = str(e).split('\n')[0]
try:
    F.cross_entropy(torch.randn(2, 3), torch.softmax(torch.randn(2, 3), 1), ignore_index=1)
except RuntimeError as e:
    errors['ignore_probs'] = str(e).split('\n')[0]

out = {'torch': torch.__version__, 'cases': cases, 'all_ignored_mean': 'nan' if all_ignored != all_ignored else all_ignored, 'errors': errors}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'losses_options.json'), 'w') as f:
    json.dump(out, f)
print(len(cases), 'cases', out['all_ignored_mean'], errors)
