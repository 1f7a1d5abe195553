"""A small transformer-style nn.Sequential of the issue-15 layers trained 3 steps (PyTorch 1.13).

Embedding → LayerNorm → MultiheadAttention (batch_first, causal) → GELU → LayerNorm over [T, E] →
SiLU → Conv1d → Flatten → Linear, cross-entropy, AdamW (amsgrad) with the per-step warmup schedule
SequentialLR([LinearLR, CosineAnnealingLR]). float64 throughout, so the references are the exact values
the float32 library is held to. Writes layers_train.json: the initial state dict (nn.Sequential keys),
the batch, the loss and lr of each step and the final state dict.
Run: /usr/bin/python3 test/reference/layers_train.py
"""
import json
import os

import torch
from torch import nn

torch.manual_seed(3)
S = torch.optim.lr_scheduler
B, T, E, H, V, C = 4, 5, 8, 2, 11, 3


class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention as a Sequential stage: self-attention with a causal mask."""

    def forward(self, x):
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        return super().forward(x, x, x, need_weights=False, attn_mask=mask)[0]


def sd_to_json(model):
    return {k: {"shape": list(v.shape), "data": v.detach().double().flatten().tolist()} for k, v in model.state_dict().items()}


model = nn.Sequential(
    nn.Embedding(V, E), nn.LayerNorm(E), SelfAttention(E, H, batch_first=True), nn.GELU(), nn.LayerNorm([T, E]), nn.SiLU(),
    nn.Conv1d(T, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * E, C),
).double()
with torch.no_grad():
    model[2].in_proj_bias.normal_(0, 0.3)  # torch zero-initialises the attention biases; random ones are checked
    model[2].out_proj.bias.normal_(0, 0.3)
init = sd_to_json(model)
x = torch.randint(0, V, (B, T))
y = torch.randint(0, C, (B,))
# eps 1e-3, not 1e-8: the key part of in_proj_bias has an exactly zero gradient (softmax ignores a shift
# shared by a row's scores), and with a tiny eps Adam would turn its rounding noise (1e-17 in float64,
# 1e-8 in float32) into lr-sized steps of arbitrary sign.
opt = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.05, eps=1e-3, amsgrad=True)
sched = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.25, total_iters=2), S.CosineAnnealingLR(opt, T_max=4, eta_min=0.001)],
                       milestones=[2])
losses, lrs = [], []
for _ in range(3):
    opt.zero_grad()
    lrs.append(opt.param_groups[0]["lr"])
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())
out = {
    "torch": torch.__version__, "shape": [B, T], "x": [float(v) for v in x.flatten()], "y": [float(v) for v in y],
    "init": init, "losses": losses, "lrs": lrs, "final": sd_to_json(model),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers_train.json"), "w") as f:
    json.dump(out, f)
print("losses", losses, "lrs", lrs)
