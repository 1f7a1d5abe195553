# Reference values for tensorkit's pooling kernels/layers and BatchNorm1d/2d, from PyTorch (float64).
# Run: /usr/bin/python3 test/reference/pool_norm.py  → writes pool_norm.json next to this file.
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def pool_cases():
    """Max / avg (count_include_pad True and False) pooling of one input under several geometries."""
    # Distinct values (a permutation scaled) so max pooling has no ties.
    x = (torch.randperm(2 * 3 * 7 * 6).to(torch.float64) / 50.0 - 2.5).reshape(2, 3, 7, 6)
    configs = [
        dict(kernel=[2, 2], stride=[2, 2], padding=[0, 0]),
        dict(kernel=[3, 3], stride=[2, 2], padding=[1, 1]),
        dict(kernel=[3, 2], stride=[2, 1], padding=[1, 0]),
        dict(kernel=[2, 3], stride=[1, 2], padding=[1, 1]),
        dict(kernel=[3, 3], stride=[1, 1], padding=[0, 0]),
    ]
    cases = []
    for op in ['max', 'avg', 'avg_exclude_pad']:
        for cfg in configs:
            xx = x.clone().requires_grad_(True)
            if op == 'max':
                y = F.max_pool2d(xx, cfg['kernel'], cfg['stride'], cfg['padding'])
            else:
                y = F.avg_pool2d(xx, cfg['kernel'], cfg['stride'], cfg['padding'],
                                 count_include_pad=(op == 'avg'))
            dy = torch.randn(y.shape)
            (y * dy).sum().backward()
            cases.append(dict(op=op, **cfg, y_shape=list(y.shape), y=flat(y), dy=flat(dy), dx=flat(xx.grad)))
    return dict(x_shape=list(x.shape), x=flat(x), cases=cases)


def bn_case(name, module, shapes):
    """Two training steps, then an eval step; loss = Σ w·y with a random w each step."""
    with torch.no_grad():
        module.weight.copy_(torch.rand(module.num_features) + 0.5)
        module.bias.copy_(torch.randn(module.num_features))
    init_weight, init_bias = flat(module.weight), flat(module.bias)
    steps = []
    for mode in ['train', 'train', 'eval']:
        module.train(mode == 'train')
        x = (torch.randn(shapes) * 2 + 0.7).requires_grad_(True)
        y = module(x)
        w = torch.randn(y.shape)
        module.zero_grad()
        (w * y).sum().backward()
        steps.append(dict(mode=mode, x=flat(x), w=flat(w), y=flat(y), dx=flat(x.grad),
                          dweight=flat(module.weight.grad), dbias=flat(module.bias.grad),
                          running_mean=flat(module.running_mean), running_var=flat(module.running_var),
                          num_batches_tracked=int(module.num_batches_tracked)))
    return dict(name=name, shape=list(shapes), momentum=module.momentum, eps=module.eps,
                weight=init_weight, bias=init_bias, steps=steps)


def main():
    out = dict(
        pool=pool_cases(),
        batchnorm=[
            bn_case('batch-norm1d', torch.nn.BatchNorm1d(4), (6, 4)),
            bn_case('batch-norm1d', torch.nn.BatchNorm1d(3, momentum=0.3, eps=1e-3), (4, 3, 5)),
            bn_case('batch-norm2d', torch.nn.BatchNorm2d(2), (3, 2, 4, 5)),
        ],
    )
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pool_norm.json')
    with open(path, 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main()
