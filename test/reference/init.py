"""Reference values for src/init: torch.nn.init's gains, fans, and the std/bound of each initializer.

Run with PyTorch's Python (`/usr/bin/python3 test/reference/init.py`); writes init.json next to this file.
For every initializer config the JSON holds the analytic std (and uniform bound) as torch computes them
and the empirical mean/std/min/max of one torch sample of the given shape, so the TS test can hold its
own samples to both.
"""
import json
import math
import os

import torch

torch.manual_seed(0)
init = torch.nn.init

gains = []
for nl, param in [('linear', None), ('conv1d', None), ('conv2d', None), ('conv3d', None),
                  ('conv_transpose2d', None), ('sigmoid', None), ('tanh', None), ('relu', None),
                  ('leaky_relu', None), ('leaky_relu', 0.2), ('leaky_relu', math.sqrt(5)),
                  ('leaky_relu', 0), ('selu', None)]:
    gains.append({'nonlinearity': nl, 'param': param, 'gain': init.calculate_gain(nl, param)})

fans = []
for shape in [[3, 4], [10, 784], [8, 3, 5, 5], [16, 1, 3, 2], [2, 3, 4, 5, 6], [7, 5, 1]]:
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(torch.empty(shape))
    fans.append({'shape': shape, 'fanIn': fan_in, 'fanOut': fan_out})

SQ3 = math.sqrt(3)


def xavier_std(t, gain):
    fi, fo = init._calculate_fan_in_and_fan_out(t)
    return gain * math.sqrt(2.0 / (fi + fo))


def kaiming_std(t, a, mode, nl):
    fan = init._calculate_correct_fan(t, mode)
    return init.calculate_gain(nl, a) / math.sqrt(fan)


cases = []


def case(name, config, shape, fill, std, bound, mean=0.0):
    t = torch.empty(shape, dtype=torch.float64)
    fill(t)
    cases.append({
        'name': name, 'config': config, 'shape': shape,
        'expected': {'mean': mean, 'std': std, 'bound': bound},
        'torch': {'mean': t.mean().item(), 'std': t.std().item(), 'min': t.min().item(), 'max': t.max().item()},
    })


DENSE = [256, 512]
CONV = [64, 32, 5, 5]
for shape in (DENSE, CONV):
    t = torch.empty(shape)
    for gain in (1.0, 2.0):
        s = xavier_std(t, gain)
        case('xavier-uniform', {'gain': gain}, shape, lambda x, g=gain: init.xavier_uniform_(x, g), s, SQ3 * s)
        case('xavier-normal', {'gain': gain}, shape, lambda x, g=gain: init.xavier_normal_(x, g), s, None)
    for a, mode, nl in [(0, 'fan_in', 'leaky_relu'), (0, 'fan_out', 'relu'), (math.sqrt(5), 'fan_in', 'leaky_relu'),
                        (0.2, 'fan_out', 'leaky_relu'), (0, 'fan_in', 'tanh'), (0, 'fan_in', 'linear')]:
        s = kaiming_std(t, a, mode, nl)
        cfg = {'a': a, 'mode': mode, 'nonlinearity': nl}
        case('kaiming-uniform', cfg, shape,
             lambda x, a=a, mode=mode, nl=nl: init.kaiming_uniform_(x, a, mode, nl), s, SQ3 * s)
        case('kaiming-normal', cfg, shape,
             lambda x, a=a, mode=mode, nl=nl: init.kaiming_normal_(x, a, mode, nl), s, None)
    # PyTorch's Linear/Conv default bias init: U(±1/√fanIn) with the weight's fan-in.
    fan_in, _ = init._calculate_fan_in_and_fan_out(t)
    b = 1 / math.sqrt(fan_in)
    case('fan-in-uniform', {}, shape, lambda x, b=b: init.uniform_(x, -b, b), b / SQ3, b)

case('random-normal', {}, DENSE, lambda x: init.normal_(x), 1.0, None)
case('random-normal', {'mean': 0.5, 'std': 0.01}, DENSE, lambda x: init.normal_(x, 0.5, 0.01), 0.01, None, 0.5)
case('random-uniform', {}, DENSE, lambda x: init.uniform_(x), 1 / math.sqrt(12), None, 0.5)
case('random-uniform', {'low': -3, 'high': 1}, DENSE, lambda x: init.uniform_(x, -3, 1), 4 / math.sqrt(12), None, -1.0)

# PyTorch's default Linear/Conv2d weight init is kaiming_uniform_(a=√5): check it equals U(±1/√fanIn).
lin = torch.nn.Linear(512, 256)
conv = torch.nn.Conv2d(32, 64, 5)
defaults = {
    'linearWeightMaxAbs': lin.weight.abs().max().item(), 'linearBound': 1 / math.sqrt(512),
    'convWeightMaxAbs': conv.weight.abs().max().item(), 'convBound': 1 / math.sqrt(32 * 25),
}

out = {'torch': torch.__version__, 'gains': gains, 'fans': fans, 'cases': cases, 'defaults': defaults}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'init.json'), 'w') as f:
    json.dump(out, f, indent=1)
