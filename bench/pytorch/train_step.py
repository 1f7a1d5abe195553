"""PyTorch twins of the four assignment networks (bench/lib/networks.ts), timed like bench/train-step.ts:
training img/s (zero grads, forward, cross-entropy, backward, optimizer step) at each network's batch and
inference img/s (eval mode, no_grad) at batch 256, median of timed steps after 3 warm-up steps.
Spawned by bench/compare.ts once per thread count and BLAS variant (LD_LIBRARY_PATH picks the libblas.so.3).
Usage: /usr/bin/python3 bench/pytorch/train_step.py --threads N [--budget SECONDS] [--nets net000,net001]
Prints one JSON object: {"torch", "threads", "blas", "rows": [{net, batch, mode, medianMs, minMs, samples}]}.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn

NETS = {
    # name: (batch, optimizer, layers)
    'net000': (32, 'momentum', lambda: [
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.Conv2d(16, 16, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 24 * 24, 100), nn.ReLU(), nn.Linear(100, 10)]),
    'net004': (64, 'sgd', lambda: [
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 14 * 14, 10)]),
    'net001': (64, 'adam', lambda: [
        nn.Flatten(), nn.Linear(784, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(),
        nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 10)]),
    'net003': (100, 'adam', lambda: [
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 4, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 7 * 7, 10)]),
}
INFER_BATCH = 256


def blas_library():
    """The BLAS shared object this process actually mapped (LD_LIBRARY_PATH decides it)."""
    libs = set()
    with open('/proc/self/maps') as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ''
            if 'blas' in path:
                libs.add(path)
    return sorted(libs)


def timed(fn, budget):
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < 12 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) >= 10000:
            break
    return {'medianMs': statistics.median(times), 'minMs': min(times), 'samples': len(times)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, required=True)
    parser.add_argument('--budget', type=float, default=0.6)
    parser.add_argument('--nets', default=','.join(NETS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rows = []
    for name in args.nets.split(','):
        if name not in NETS:
            raise SystemExit(f'unknown network {name!r}; known: {", ".join(NETS)}')
        batch, opt_name, layers = NETS[name]
        model = nn.Sequential(*layers())
        if opt_name == 'momentum':
            opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        elif opt_name == 'sgd':
            opt = torch.optim.SGD(model.parameters(), lr=0.01)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(batch, 1, 28, 28)
        y = torch.randint(0, 10, (batch,))

        def step():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

        model.train()
        rows.append({'net': name, 'batch': batch, 'mode': 'train', **timed(step, args.budget)})
        xi = torch.rand(INFER_BATCH, 1, 28, 28)
        model.eval()

        def infer():
            with torch.no_grad():
                model(xi)

        rows.append({'net': name, 'batch': INFER_BATCH, 'mode': 'infer', **timed(infer, args.budget)})
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_library(), 'rows': rows}))


if __name__ == '__main__':
    main()
