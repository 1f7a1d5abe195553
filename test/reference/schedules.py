# Reference learning-rate sequences from torch.optim.lr_scheduler (PyTorch 1.13).
# Run: /usr/bin/python3 test/reference/schedules.py  -> writes schedules.json next to this file.
# Each case starts an SGD optimizer at lr0, builds the scheduler, then records optimizer lr after each
# of `epochs` calls to scheduler.step(metric) (lrs[0] is the lr right after construction).
import json
import os

import torch

torch.set_default_dtype(torch.float64)
S = torch.optim.lr_scheduler

# A metric that improves, stalls, improves by less than the threshold, then worsens.
METRIC = [1.0, 0.9, 0.8, 0.8, 0.85, 0.8, 0.79, 0.7999, 0.6, 0.61, 0.62, 0.63, 0.6, 0.59, 0.65,
          0.7, 0.7, 0.7, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
ACC = [0.1, 0.2, 0.3, 0.3, 0.29, 0.3, 0.301, 0.35, 0.35, 0.35, 0.36, 0.34, 0.33, 0.33, 0.5,
       0.5, 0.5, 0.5, 0.5, 0.5]

CASES = [
    ('step', 'step', {'stepSize': 3, 'gamma': 0.5}, 0.1, 12, None,
     lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    ('exponential', 'exponential', {'gamma': 0.9}, 0.1, 12, None,
     lambda o: S.ExponentialLR(o, gamma=0.9)),
    ('cosine', 'cosine', {'tMax': 5, 'etaMin': 0.001}, 0.1, 16, None,
     lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.001)),
    ('cosine-zero-min', 'cosine', {'tMax': 8}, 0.05, 20, None,
     lambda o: S.CosineAnnealingLR(o, T_max=8)),
    ('plateau-default', 'reduce-on-plateau', {'patience': 2}, 0.1, len(METRIC), METRIC,
     lambda o: S.ReduceLROnPlateau(o, patience=2)),
    ('plateau-min', 'reduce-on-plateau',
     {'mode': 'min', 'factor': 0.5, 'patience': 1, 'threshold': 0.01, 'cooldown': 2, 'minLr': 0.02},
     0.1, len(METRIC), METRIC,
     lambda o: S.ReduceLROnPlateau(o, mode='min', factor=0.5, patience=1, threshold=0.01, cooldown=2,
                                   min_lr=0.02)),
    ('plateau-max-abs', 'reduce-on-plateau',
     {'mode': 'max', 'factor': 0.3, 'patience': 1, 'threshold': 0.005, 'thresholdMode': 'abs'},
     0.1, len(ACC), ACC,
     lambda o: S.ReduceLROnPlateau(o, mode='max', factor=0.3, patience=1, threshold=0.005,
                                   threshold_mode='abs')),
]

out = {'torch': torch.__version__, 'cases': []}
for name, kind, config, lr0, epochs, metrics, make in CASES:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make(opt)
    lrs = [opt.param_groups[0]['lr']]
    for e in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
        lrs.append(opt.param_groups[0]['lr'])
    out['cases'].append({'name': name, 'schedule': kind, 'config': config, 'lr0': lr0,
                         'metrics': metrics, 'lrs': lrs})

# Per-step schedules: the lr after each of `steps` optimizer steps (scheduler.step() once per batch).
# tensorkit's 'warmup' is SequentialLR([LinearLR(start_factor, 1, W), X], milestones=[W]).
def warmup_then(o, start_factor, warmup, after):
    return S.SequentialLR(o, [S.LinearLR(o, start_factor=start_factor, end_factor=1.0, total_iters=warmup), after(o)],
                          milestones=[warmup])


STEP_CASES = [
    ('warmup-constant', {'warmupSteps': 5, 'startFactor': 0.1}, 0.1, 9,
     lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5)),
    ('warmup-default-factor', {'warmupSteps': 3}, 0.05, 5,
     lambda o: S.LinearLR(o, total_iters=3)),
    ('warmup-cosine', {'warmupSteps': 4, 'startFactor': 0.25, 'decay': 'cosine', 'decaySteps': 10, 'etaMin': 0.001}, 0.1, 14,
     lambda o: warmup_then(o, 0.25, 4, lambda q: S.CosineAnnealingLR(q, T_max=10, eta_min=0.001))),
    ('warmup-linear', {'warmupSteps': 3, 'startFactor': 0.5, 'decay': 'linear', 'decaySteps': 6, 'endFactor': 0.1}, 0.2, 12,
     lambda o: warmup_then(o, 0.5, 3, lambda q: S.LinearLR(q, start_factor=1.0, end_factor=0.1, total_iters=6))),
    ('warmup-step', {'warmupSteps': 2, 'decay': 'step', 'stepSize': 3, 'gamma': 0.5}, 0.1, 12,
     lambda o: warmup_then(o, 1 / 3, 2, lambda q: S.StepLR(q, step_size=3, gamma=0.5))),
    ('cosine-no-warmup', {'warmupSteps': 0, 'decay': 'cosine', 'decaySteps': 8}, 0.1, 8,
     lambda o: S.CosineAnnealingLR(o, T_max=8)),
]
out['stepCases'] = []
for name, config, lr0, steps, make in STEP_CASES:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make(opt)
    lrs = [opt.param_groups[0]['lr']]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]['lr'])
    out['stepCases'].append({'name': name, 'schedule': 'warmup', 'config': config, 'lr0': lr0, 'lrs': lrs})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'schedules.json')
with open(path, 'w') as f:
    json.dump(out, f, indent=1)
print(f'wrote {path}: {len(CASES)} cases')
