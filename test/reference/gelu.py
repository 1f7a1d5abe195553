# Reference values for the built-in GELU layer (exact erf form, src/layers/activations.ts): y = gelu(x) and dL/dx for
# L = sum(gelu(x) * w), from PyTorch in float32 (the library's precision) and float64.
# Run: /usr/bin/python3 test/reference/gelu.py  → writes gelu.json next to this file.
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def main():
    x64 = torch.cat([torch.linspace(-6, 6, 97, dtype=torch.float64), torch.randn(64, dtype=torch.float64) * 2,
                     torch.tensor([0.0, 1e-4, -1e-4, 0.5, -0.5, 3.5, -3.5, 10.0, -10.0], dtype=torch.float64)])
    w64 = torch.randn(x64.shape[0], dtype=torch.float64)
    out = {"x": [float(v) for v in x64.float().double()], "w": [float(v) for v in w64.float().double()]}
    for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        x = x64.to(dtype).clone().requires_grad_(True)
        w = w64.to(dtype)
        y = F.gelu(x)
        (y * w).sum().backward()
        out[name] = {"y": [float(v) for v in y.detach()], "grad": [float(v) for v in x.grad]}
    out["torch"] = torch.__version__
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gelu.json"), "w") as f:
        json.dump(out, f)


main()
