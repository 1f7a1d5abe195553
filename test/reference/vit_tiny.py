"""Reference for examples/fmnist-vit.ts (PyTorch 1.13, float64): the example's VisionTransformer rebuilt
with the same parameter names and the same computation (patches by reshape/permute, linear patch
embedding + learned positions, pre-norm blocks of multi-head self-attention and an exact-GELU MLP,
final LayerNorm, mean over tokens, linear head), on a tiny configuration: 28×28 images, 14×14 patches
(4 tokens), width 8, 2 heads, depth 2, MLP ratio 2, 10 classes, batch 3. Records the state dict, the
input, the targets, the logits, the mean cross-entropy and every parameter's gradient.
Writes vit_tiny.json, read by test/examples/module-examples.test.ts.
Run: /usr/bin/python3 test/reference/vit_tiny.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
IMAGE, PATCH, DIM, HEADS, DEPTH, RATIO, CLASSES, BATCH = 28, 14, 8, 2, 2, 2, 10, 3


class Dense(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(o, i) * 0.4)
        self.bias = nn.Parameter(torch.randn(o) * 0.1)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class LayerNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(1 + 0.2 * torch.randn(d))
        self.bias = nn.Parameter(0.1 * torch.randn(d))

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, 1e-5)


class SelfAttention(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.qkv = Dense(d, 3 * d)
        self.proj = Dense(d, d)
        self.heads = h

    def forward(self, x):
        n, t, d = x.shape
        h, dh = self.heads, d // self.heads
        qkv = self.qkv(x).reshape(n, t, 3, h, dh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), -1)
        return self.proj((a @ v).permute(0, 2, 1, 3).reshape(n, t, d))


class EncoderBlock(nn.Module):
    def __init__(self, d, h, r):
        super().__init__()
        self.norm1 = LayerNorm(d)
        self.attention = SelfAttention(d, h)
        self.norm2 = LayerNorm(d)
        self.fc1 = Dense(d, r * d)
        self.fc2 = Dense(r * d, d)

    def forward(self, x):
        h = x + self.attention(self.norm1(x))
        return h + self.fc2(F.gelu(self.fc1(self.norm2(h))))


class VisionTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.grid = IMAGE // PATCH
        # Registered first: the TS module lists its own parameters before its sub-modules'.
        self.position = nn.Parameter(0.3 * torch.randn(self.grid * self.grid, DIM))
        self.patchEmbed = Dense(PATCH * PATCH, DIM)
        self.blocks = nn.ModuleList([EncoderBlock(DIM, HEADS, RATIO) for _ in range(DEPTH)])
        self.norm = LayerNorm(DIM)
        self.head = Dense(DIM, CLASSES)

    def forward(self, x):
        n, g, p = x.shape[0], self.grid, PATCH
        patches = x.reshape(n, g, p, g, p).permute(0, 1, 3, 2, 4).reshape(n, g * g, p * p)
        h = self.patchEmbed(patches) + self.position
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h).mean(1))


model = VisionTransformer()
x = torch.rand(BATCH, 1, IMAGE, IMAGE)
y = torch.tensor([3, 7, 1])
logits = model(x)
loss = F.cross_entropy(logits, y)
loss.backward()


def arr(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


out = {
    "config": {"imageSize": IMAGE, "patch": PATCH, "dim": DIM, "heads": HEADS, "depth": DEPTH, "mlpRatio": RATIO, "classes": CLASSES},
    "input": arr(x),
    "target": y.tolist(),
    "initial": {k: arr(v) for k, v in model.state_dict().items()},
    "logits": arr(logits),
    "loss": loss.item(),
    "grads": {k: arr(p.grad) for k, p in model.named_parameters()},
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vit_tiny.json"), "w") as f:
    json.dump(out, f)
print(f"loss {loss.item():.6f}; {len(out['grads'])} gradients")
