# Reference trajectories for tensorkit's optimizers from torch.optim (PyTorch 1.13, float64).
# Run: /usr/bin/python3 test/reference/optimizers.py  -> writes optimizers.json next to this file.
#
# Two parameters (shapes [2, 3] and [4]) start from fixed values; each step feeds a fixed gradient
# (given in the JSON), so no model is needed. Inputs are float32-representable so the TypeScript
# side starts from exactly the same numbers; torch runs in float64 so the references are the exact
# math, and the float32 implementation is compared with tolerances.
# NAdam uses foreach=True: Debian's torch 1.13 single-tensor NAdam multiplies mu_product_next by an
# extra mu (fixed in torch 2.x); the foreach path is right.
import json
import os

import torch

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

SHAPES = [[2, 3], [4]]
NAMES = ['0.weight', '0.bias']
STEPS = 10


def f32(t):
    return t.float().double()


INIT = [f32(torch.randn(s)) for s in SHAPES]
GRADS = [[f32(torch.randn(s)) for s in SHAPES] for _ in range(STEPS)]

# name, tensorkit optimizer, tensorkit config, decayMul per param, torch factory(groups)
CASES = []


def case(name, kind, config, decay_mul, make, decoupled_lr_wd=None):
    CASES.append((name, kind, config, decay_mul, make, decoupled_lr_wd))


def groups(params, wd, decay_mul):
    return [{'params': [p], 'weight_decay': wd * m} for p, m in zip(params, decay_mul)]


O = torch.optim
case('sgd', 'sgd', {'lr': 0.1}, [1, 1], lambda ps: O.SGD(ps, lr=0.1))
case('sgd-wd', 'sgd', {'lr': 0.1, 'weightDecay': 0.05}, [1, 0.5],
     lambda ps: O.SGD(groups(ps, 0.05, [1, 0.5]), lr=0.1))
case('momentum', 'momentum', {'lr': 0.05, 'momentum': 0.9}, [1, 1],
     lambda ps: O.SGD(ps, lr=0.05, momentum=0.9))
case('momentum-wd', 'momentum', {'lr': 0.05, 'momentum': 0.8, 'weightDecay': 0.1}, [1, 0],
     lambda ps: O.SGD(groups(ps, 0.1, [1, 0]), lr=0.05, momentum=0.8))
case('nag', 'nag', {'lr': 0.05, 'momentum': 0.9}, [1, 1],
     lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, nesterov=True))
case('nag-wd', 'nag', {'lr': 0.05, 'momentum': 0.9, 'weightDecay': 0.1}, [1, 1],
     lambda ps: O.SGD(groups(ps, 0.1, [1, 1]), lr=0.05, momentum=0.9, nesterov=True))
case('rmsprop', 'rmsprop', {}, [1, 1], lambda ps: O.RMSprop(ps))
case('rmsprop-wd', 'rmsprop', {'lr': 0.005, 'beta': 0.9, 'eps': 1e-6, 'weightDecay': 0.1}, [1, 0.5],
     lambda ps: O.RMSprop(groups(ps, 0.1, [1, 0.5]), lr=0.005, alpha=0.9, eps=1e-6))
case('rmsprop-momentum', 'rmsprop', {'lr': 0.01, 'momentum': 0.5}, [1, 1],
     lambda ps: O.RMSprop(ps, lr=0.01, momentum=0.5))
case('adam', 'adam', {}, [1, 1], lambda ps: O.Adam(ps))
case('adam-custom', 'adam', {'lr': 0.01, 'beta1': 0.8, 'beta2': 0.99, 'eps': 1e-6}, [1, 1],
     lambda ps: O.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6))
case('adam-wd', 'adam', {'lr': 0.01, 'weightDecay': 0.1}, [1, 0],
     lambda ps: O.Adam(groups(ps, 0.1, [1, 0]), lr=0.01))
case('adamw', 'adam', {'lr': 0.01, 'weightDecay': 0.1, 'decoupledWeightDecay': True}, [1, 0.5],
     lambda ps: O.AdamW(groups(ps, 0.1, [1, 0.5]), lr=0.01))
case('nadam', 'nadam', {}, [1, 1], lambda ps: O.NAdam(ps, foreach=True))
case('nadam-wd', 'nadam', {'lr': 0.01, 'weightDecay': 0.1}, [1, 0.5],
     lambda ps: O.NAdam(groups(ps, 0.1, [1, 0.5]), lr=0.01, foreach=True))
case('nadam-dozat', 'nadam', {'lr': 0.01, 'momentumDecay': 0}, [1, 1],
     lambda ps: O.NAdam(ps, lr=0.01, momentum_decay=0.0, foreach=True))
# 'adamw' by name: torch.optim.AdamW's defaults (weight_decay 0.01), custom values, and AMSGrad.
case('adamw-named', 'adamw', {}, [1, 1], lambda ps: O.AdamW(ps))
case('adamw-named-custom', 'adamw', {'lr': 0.02, 'beta1': 0.8, 'beta2': 0.99, 'eps': 1e-6, 'weightDecay': 0.2}, [1, 0.5],
     lambda ps: O.AdamW(groups(ps, 0.2, [1, 0.5]), lr=0.02, betas=(0.8, 0.99), eps=1e-6))
case('adamw-amsgrad', 'adamw', {'lr': 0.01, 'weightDecay': 0.1, 'amsgrad': True}, [1, 0],
     lambda ps: O.AdamW(groups(ps, 0.1, [1, 0]), lr=0.01, amsgrad=True))
# torch 1.13 NAdam has no decoupled option: apply p *= 1 - lr*wd*decayMul by hand before each step.
case('nadam-decoupled', 'nadam', {'lr': 0.01, 'weightDecay': 0.1, 'decoupledWeightDecay': True}, [1, 0.5],
     lambda ps: O.NAdam(ps, lr=0.01, foreach=True), decoupled_lr_wd=(0.01, 0.1))


def flat(t):
    return t.detach().reshape(-1).tolist()


out = {
    'torch': torch.__version__,
    'steps': STEPS,
    'params': [{'name': n, 'shape': s, 'value': flat(v)} for n, s, v in zip(NAMES, SHAPES, INIT)],
    'grads': [[flat(g) for g in step] for step in GRADS],
    'cases': [],
}
for name, kind, config, decay_mul, make, dec in CASES:
    params = [v.clone().requires_grad_(True) for v in INIT]
    opt = make(params)
    traj = []
    for step in range(STEPS):
        for p, g in zip(params, GRADS[step]):
            p.grad = g.clone()
        if dec is not None:
            with torch.no_grad():
                for p, m in zip(params, decay_mul):
                    p.mul_(1 - dec[0] * dec[1] * m)
        opt.step()
        traj.append([flat(p) for p in params])
    out['cases'].append({'name': name, 'optimizer': kind, 'config': config, 'decayMul': decay_mul,
                         'trajectory': traj})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'optimizers.json')
with open(path, 'w') as f:
    json.dump(out, f)
print(f'wrote {path}: {len(CASES)} cases x {STEPS} steps')
