# Reference values for test/ops/reference-core.test.ts: every core op (elementwise with broadcasting,
# matmul forms, reductions, shape ops, softmax over an axis, losses) run by PyTorch (float32) with
# autograd. Each case records its inputs, the output, and the gradient of L = Σ w·out (w recorded too)
# for every input that requires grad. Written to ops_core.json.
# Run: python3 test/reference/ops_core.py  (PyTorch 1.13)
import json
import torch
import torch.nn.functional as F

torch.manual_seed(1513)
cases = {}


def lst(t):
    return t.detach().reshape(-1).tolist()


def rnd(*shape, scale=1.0, positive=False, gap=0.0, ties=False):
    t = torch.randn(shape) * scale
    if ties:
        t = torch.round(t * 2) / 2  # many exact ties
    if positive:
        t = t.abs() + 0.5
    if gap > 0:
        t = torch.where(t.abs() < gap, torch.sign(t) * gap + t, t)
        t = torch.where(t == 0, torch.full_like(t, gap), t)
    return t


def case(name, fn, grad=None, **inputs):
    """Runs fn on the inputs; `grad` names the inputs that require grad (default: all)."""
    names = list(inputs) if grad is None else grad
    leaves = {k: v.clone().requires_grad_(k in names) for k, v in inputs.items()}
    out = fn(**leaves)
    w = torch.rand(out.shape) + 0.5
    (out * w).sum().backward()
    cases[name] = {
        'inputs': {k: [lst(v), list(v.shape), k in names] for k, v in leaves.items()},
        'weight': lst(w),
        'out': [lst(out), list(out.shape)],
        'grads': {k: lst(v.grad) for k, v in leaves.items() if k in names},
    }


# ---- elementwise with broadcasting ----
case('add_broadcast', lambda a, b: a + b, a=rnd(2, 3, 1, 4), b=rnd(3, 5, 1))
case('sub_rank_mismatch', lambda a, b: a - b, a=rnd(4), b=rnd(2, 1, 4))
case('mul_scalar_tensor', lambda a, b: a * b, a=rnd(2, 3), b=rnd())
case('mul_size1_both', lambda a, b: a * b, a=rnd(3, 1), b=rnd(1, 4))
case('div_broadcast', lambda a, b: a / b, a=rnd(3, 1), b=rnd(1, 4, positive=True))
case('pow_number', lambda x: torch.pow(x, 2.5), x=rnd(2, 3, positive=True))
case('pow_square', lambda x: torch.pow(x, 2), x=rnd(2, 3))
case('pow_int_negative_base', lambda x: torch.pow(x, 3), x=rnd(5))
case('pow_tensor', lambda x, p: torch.pow(x, p), x=rnd(2, 3, positive=True), p=rnd(3))
case('exp', lambda x: torch.exp(x), x=rnd(2, 3))
case('log', lambda x: torch.log(x), x=rnd(2, 3, positive=True))
case('sqrt', lambda x: torch.sqrt(x), x=rnd(2, 3, positive=True))
case('abs', lambda x: torch.abs(x), x=rnd(3, 4, gap=0.05))
case('neg', lambda x: -x, x=rnd(3))
case('clamp', lambda x: torch.clamp(x, -0.5, 0.7), x=rnd(3, 4, gap=0.01))
case('clamp_min', lambda x: torch.clamp(x, min=0.2), x=rnd(3, 4))
case('where', lambda a, b: torch.where(torch.tensor([[True], [False], [True]]), a, b), a=rnd(3, 4), b=rnd(4))

# ---- activations ----
case('relu', lambda x: torch.relu(x), x=rnd(3, 4, gap=0.05))
case('leaky_relu', lambda x: F.leaky_relu(x, 0.2), x=rnd(3, 4, gap=0.05))
case('leaky_relu_default', lambda x: F.leaky_relu(x), x=rnd(3, 4, gap=0.05))
case('tanh', lambda x: torch.tanh(x), x=rnd(3, 4, scale=2))
case('sigmoid', lambda x: torch.sigmoid(x), x=rnd(3, 4, scale=3))
case('gelu', lambda x: F.gelu(x), x=rnd(3, 4, scale=2))
case('gelu_tanh', lambda x: F.gelu(x, approximate='tanh'), x=rnd(3, 4, scale=2))
case('silu', lambda x: F.silu(x), x=rnd(3, 4, scale=3))

# ---- matmul ----
case('matmul_1d_1d', lambda a, b: a @ b, a=rnd(4), b=rnd(4))
case('matmul_1d_2d', lambda a, b: a @ b, a=rnd(4), b=rnd(4, 3))
case('matmul_2d_1d', lambda a, b: a @ b, a=rnd(3, 4), b=rnd(4))
case('matmul_3d_1d', lambda a, b: a @ b, a=rnd(2, 3, 4), b=rnd(4))
case('matmul_1d_3d', lambda a, b: a @ b, a=rnd(4), b=rnd(2, 4, 3))
case('matmul_2d_3d', lambda a, b: a @ b, a=rnd(3, 4), b=rnd(2, 4, 5))
case('matmul_batch_broadcast', lambda a, b: a @ b, a=rnd(2, 1, 3, 4), b=rnd(3, 4, 5))
case('matmul_4d_2d', lambda a, b: a @ b, a=rnd(2, 2, 3, 4), b=rnd(4, 5))
case('matmul_transA', lambda a, b: a.transpose(-1, -2) @ b, a=rnd(4, 3), b=rnd(4, 5))
case('matmul_transB', lambda a, b: a @ b.transpose(-1, -2), a=rnd(3, 4), b=rnd(5, 4))
case('matmul_transAB_batched', lambda a, b: a.transpose(-1, -2) @ b.transpose(-1, -2), a=rnd(2, 4, 3), b=rnd(2, 5, 4))
case('matmul_transB_3d_2d', lambda a, b: a @ b.transpose(-1, -2), a=rnd(2, 3, 4), b=rnd(5, 4))
case('matmul_transA_broadcast', lambda a, b: a.transpose(-1, -2) @ b, a=rnd(1, 4, 3), b=rnd(2, 4, 5))

# ---- reductions ----
case('sum_axes_keepdim', lambda x: x.sum(dim=(0, 2), keepdim=True), x=rnd(2, 3, 4))
case('sum_middle', lambda x: x.sum(dim=1), x=rnd(2, 3, 4))
case('mean_last', lambda x: x.mean(dim=-1), x=rnd(2, 3, 4))
case('mean_all', lambda x: x.mean(), x=rnd(2, 3, 4))
case('sum_empty_axis', lambda x: x.sum(dim=1), x=rnd(2, 0, 3))
case('max_dim_ties', lambda x: x.max(dim=1)[0], x=rnd(3, 5, 2, ties=True))
case('max_dim_keepdim', lambda x: x.max(dim=-1, keepdim=True)[0], x=rnd(3, 4, ties=True))
case('max_all_ties', lambda x: x.max(), x=torch.tensor([[1.0, 3.0, 3.0], [0.5, 3.0, -1.0]]))
case('amax_dims_ties', lambda x: torch.amax(x, dim=(0, 2)), x=rnd(3, 4, 2, ties=True))
case('min_dim', lambda x: x.min(dim=0)[0], x=rnd(4, 3, ties=True))
case('amin_all_ties', lambda x: torch.amin(x, dim=(0, 1)), x=torch.tensor([[1.0, -2.0], [-2.0, 0.0]]))
case('var_dim', lambda x: x.var(dim=1), x=rnd(2, 5, 3))
case('var_all_biased', lambda x: x.var(unbiased=False), x=rnd(3, 4))
case('var_axes_keepdim', lambda x: x.var(dim=(0, 2), keepdim=True), x=rnd(2, 3, 4))

# ---- shape ----
case('reshape', lambda x: x.reshape(4, -1) * 1.0, x=rnd(2, 3, 2))
case('permute', lambda x: x.permute(2, 0, 1), x=rnd(2, 3, 4))
case('transpose_4d', lambda x: x.transpose(0, 2), x=rnd(2, 3, 4, 2))
case('concat', lambda a, b, c: torch.cat([a, b, c], dim=1), grad=['a', 'c'], a=rnd(2, 1, 3), b=rnd(2, 2, 3), c=rnd(2, 3, 3))
case('stack', lambda a, b: torch.stack([a, b], dim=1), a=rnd(2, 3), b=rnd(2, 3))
case('slice', lambda x: x[:, 1:5:2, ::3], x=rnd(2, 6, 5))
case('slice_negative', lambda x: x[-3:, :-1], x=rnd(4, 3))
case('select', lambda x: x.select(1, -1), x=rnd(2, 3, 4))
case('index_select', lambda x: torch.index_select(x, 0, torch.tensor([2, 0, 2])), x=rnd(3, 4))
case('pad', lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), x=rnd(2, 2, 3))
case('squeeze_unsqueeze_flatten', lambda x: x.squeeze(1).unsqueeze(-1).flatten(1), x=rnd(2, 1, 3, 2))

# ---- softmax family ----
case('softmax_axis1', lambda x: torch.softmax(x, dim=1), x=rnd(2, 3, 4))
case('log_softmax_axis0', lambda x: torch.log_softmax(x, dim=0), x=rnd(3, 2, 2))
case('softmax_last', lambda x: torch.softmax(x, dim=-1), x=rnd(3, 5, scale=3))

# ---- losses (labels / targets stored as inputs that need no grad) ----
case('cross_entropy_indices', lambda x, t: F.cross_entropy(x, t.long()), grad=['x'], x=rnd(4, 5), t=torch.tensor([1.0, 4.0, 0.0, 1.0]))
case('cross_entropy_smoothing', lambda x, t: F.cross_entropy(x, t.long(), label_smoothing=0.1), grad=['x'], x=rnd(4, 5), t=torch.tensor([3.0, 0.0, 4.0, 2.0]))
case('cross_entropy_probs', lambda x, t: F.cross_entropy(x, t), x=rnd(3, 4), t=torch.softmax(torch.randn(3, 4), -1))
case('cross_entropy_probs_smoothing', lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2), x=rnd(3, 4), t=torch.softmax(torch.randn(3, 4), -1))
case('mse', lambda p, t: F.mse_loss(p, t), p=rnd(2, 3), t=rnd(2, 3))
case('cross_entropy_1d', lambda x, t: F.cross_entropy(x, t.long()), grad=['x'], x=rnd(5), t=torch.tensor(3.0))
case('cross_entropy_spatial', lambda x, t: F.cross_entropy(x, t.long(), label_smoothing=0.1), grad=['x'],
     x=rnd(2, 4, 3, 2), t=torch.randint(0, 4, (2, 3, 2)).float())
case('cross_entropy_spatial_probs', lambda x, t: F.cross_entropy(x, t), x=rnd(2, 3, 5), t=torch.softmax(torch.randn(2, 3, 5), 1))
case('pad_negative', lambda x: F.pad(x, (-1, 2, 1, -1), value=0.25), x=rnd(2, 3, 4))

with open(__file__.replace('.py', '.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases}, f, indent=None, separators=(',', ':'))
    f.write('\n')
print(f'{len(cases)} cases written')
