# Reference values for test/ops/nn-reference.test.ts: the nn ops (conv2d, conv1d, maxPool2d, avgPool2d,
# layerNorm, batchNorm, embedding) run by PyTorch in float32 with autograd. Each case stores the inputs,
# the upstream gradient gy, the output y = op(inputs) and the gradient of Σ y·gy for every input.
# Run: python3 test/reference/ops_nn.py  (PyTorch 1.13); writes ops_nn.json beside this file.
import json
import os
import torch
import torch.nn.functional as F

torch.manual_seed(1513)


def lst(t):
    return t.detach().reshape(-1).tolist()


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


cases = []


def add(name, op, options, inputs, fn, extra=None):
    """inputs: ordered dict name -> tensor (float leaves require grad; others are constants)."""
    y = fn(**inputs)
    gy = torch.randn(*y.shape)
    y.backward(gy)
    case = {
        'name': name, 'op': op, 'options': options,
        'inputs': {k: [lst(v), list(v.shape)] for k, v in inputs.items()},
        'gy': lst(gy), 'y': [lst(y), list(y.shape)],
        'grads': {k: lst(v.grad) for k, v in inputs.items() if v.requires_grad},
    }
    if extra is not None:
        case.update(extra())
    cases.append(case)


def conv2d_case(name, xs, ws, bias=True, **kw):
    inputs = {'x': leaf(*xs), 'weight': leaf(*ws, scale=0.5)}
    if bias:
        inputs['bias'] = leaf(ws[0], scale=0.5)
    add(name, 'conv2d', kw, inputs, lambda x, weight, bias=None: F.conv2d(x, weight, bias, **kw))


conv2d_case('basic 3x3', (2, 3, 5, 5), (4, 3, 3, 3))
conv2d_case('stride 2 pad 1 on 7x7', (2, 3, 7, 7), (2, 3, 3, 3), stride=2, padding=1)
conv2d_case('per-axis stride and padding', (1, 1, 7, 5), (3, 1, 3, 2), stride=(2, 1), padding=(1, 0))
conv2d_case('dilation 2', (2, 2, 7, 7), (3, 2, 3, 3), dilation=2, padding=2)
conv2d_case('dilation per axis, stride 2', (1, 2, 7, 6), (2, 2, 2, 3), dilation=(2, 1), stride=(1, 2), padding=(0, 1))
conv2d_case('groups 2', (2, 4, 5, 5), (6, 2, 3, 3), groups=2, padding=1)
conv2d_case('depthwise, stride 2, dilation 2', (1, 3, 5, 5), (3, 1, 3, 3), groups=3, stride=2, padding=1, dilation=2)
conv2d_case('same, odd kernel', (1, 3, 5, 5), (2, 3, 3, 3), padding='same')
conv2d_case('same, even kernel (asymmetric)', (1, 2, 5, 6), (2, 2, 2, 4), padding='same')
conv2d_case('same, dilation 2', (2, 2, 6, 5), (3, 2, 4, 2), padding='same', dilation=(1, 2))
conv2d_case('valid', (1, 1, 5, 5), (1, 1, 2, 2), padding='valid')
conv2d_case('1x1, no bias', (2, 3, 4, 4), (5, 3, 1, 1), bias=False)
conv2d_case('1x1 stride 2', (1, 3, 5, 5), (2, 3, 1, 1), stride=2)
conv2d_case('1 pixel', (1, 1, 1, 1), (1, 1, 1, 1))
conv2d_case('2x2 input to 1 pixel', (1, 3, 2, 2), (2, 3, 2, 2))
conv2d_case('7x7 kernel, padding 3', (1, 1, 7, 7), (2, 1, 7, 7), padding=3)
conv2d_case('large padding', (1, 2, 2, 2), (2, 2, 3, 3), padding=3, stride=2)


def conv1d_case(name, xs, ws, bias=True, **kw):
    inputs = {'x': leaf(*xs), 'weight': leaf(*ws, scale=0.5)}
    if bias:
        inputs['bias'] = leaf(ws[0], scale=0.5)
    add(name, 'conv1d', kw, inputs, lambda x, weight, bias=None: F.conv1d(x, weight, bias, **kw))


conv1d_case('conv1d stride 2 pad 1', (2, 3, 7), (4, 3, 3), stride=2, padding=1)
conv1d_case('conv1d groups 2, dilation 2, same', (1, 4, 5), (2, 2, 2), groups=2, dilation=2, padding='same')
conv1d_case('conv1d length 1', (1, 1, 1), (2, 1, 1), bias=False)


def pool_case(name, op, xs, x=None, **kw):
    t = x if x is not None else torch.randn(*xs)
    inputs = {'x': t.clone().requires_grad_(True)}
    fn = F.max_pool2d if op == 'maxPool2d' else F.avg_pool2d
    torch_kw = {'kernel_size': kw['kernelSize']}
    if 'stride' in kw:
        torch_kw['stride'] = kw['stride']
    if 'padding' in kw:
        torch_kw['padding'] = kw['padding']
    if 'countIncludePad' in kw:
        torch_kw['count_include_pad'] = kw['countIncludePad']
    add(name, op, kw, inputs, lambda x: fn(x, **torch_kw))


pool_case('max 3x3 stride 2 pad 1', 'maxPool2d', (2, 3, 5, 5), kernelSize=3, stride=2, padding=1)
pool_case('max 2x2 default stride on 7x7', 'maxPool2d', (1, 2, 7, 7), kernelSize=2)
pool_case('max 2x2 on 5x5, 3 channels', 'maxPool2d', (2, 3, 5, 5), kernelSize=2)
pool_case('max per-axis', 'maxPool2d', (1, 1, 6, 6), kernelSize=(3, 2), stride=(1, 2), padding=(1, 1))
# Ties everywhere (values in {0, 1, 2}) and overlapping windows: PyTorch routes each gradient to the
# first maximum of its window in row-major order.
pool_case('max ties, overlapping', 'maxPool2d', None, x=torch.randint(0, 3, (2, 2, 5, 5)).float(), kernelSize=3, stride=1, padding=1)
pool_case('max ties, 2x2', 'maxPool2d', None, x=torch.randint(0, 2, (1, 3, 4, 4)).float(), kernelSize=2)
pool_case('max 1 pixel', 'maxPool2d', (1, 1, 1, 1), kernelSize=1)
pool_case('avg 3x3 stride 2 pad 1', 'avgPool2d', (2, 3, 5, 5), kernelSize=3, stride=2, padding=1)
pool_case('avg 3x3 stride 2 pad 1, exclude pad', 'avgPool2d', (2, 3, 5, 5), kernelSize=3, stride=2, padding=1, countIncludePad=False)
pool_case('avg per-axis', 'avgPool2d', (1, 1, 7, 7), kernelSize=(2, 3), stride=(2, 1), padding=(1, 1))
pool_case('avg 2x2 on 5x5', 'avgPool2d', (1, 3, 5, 5), kernelSize=2)


def ln_case(name, xs, norm, affine=True, eps=1e-5):
    inputs = {'x': leaf(*xs)}
    if affine:
        inputs['weight'] = (1 + 0.3 * torch.randn(*norm)).requires_grad_(True)
        inputs['bias'] = leaf(*norm, scale=0.3)
    add(name, 'layerNorm', {'normalizedShape': list(norm), 'eps': eps}, inputs,
        lambda x, weight=None, bias=None: F.layer_norm(x, norm, weight, bias, eps))


ln_case('layerNorm last dim', (2, 3, 4), (4,))
ln_case('layerNorm two dims', (2, 3, 4), (3, 4))
ln_case('layerNorm no affine, eps 1e-3', (3, 5), (5,), affine=False, eps=1e-3)
ln_case('layerNorm one feature', (5, 1), (1,))
ln_case('layerNorm 7 features, shifted', (4, 7), (7,))


def bn_case(name, xs, training, momentum=0.1, eps=1e-5, affine=True):
    c = xs[1]
    inputs = {'x': (torch.randn(*xs) * 2 + 0.5).requires_grad_(True)}
    if affine:
        inputs['weight'] = (1 + 0.3 * torch.randn(c)).requires_grad_(True)
        inputs['bias'] = leaf(c, scale=0.3)
    rm = torch.randn(c) * 0.2
    rv = torch.rand(c) + 0.5
    stats = {'runningMean': lst(rm), 'runningVar': lst(rv)}
    rm2, rv2 = rm.clone(), rv.clone()
    add(name, 'batchNorm', {'training': training, 'momentum': momentum, 'eps': eps}, inputs,
        lambda x, weight=None, bias=None: F.batch_norm(x, rm2, rv2, weight, bias, training, momentum, eps),
        lambda: {'stats': stats, 'newStats': {'runningMean': lst(rm2), 'runningVar': lst(rv2)}})


bn_case('batchNorm [N, C] training', (4, 3), True)
bn_case('batchNorm [N, C, H, W] training', (2, 3, 4, 4), True)
bn_case('batchNorm [N, C, L] training, momentum 0.3, no affine', (3, 2, 5), True, momentum=0.3, affine=False)
bn_case('batchNorm batch 1 training', (1, 2, 3, 3), True)
bn_case('batchNorm [N, C, H, W] eval', (2, 3, 5, 5), False)
bn_case('batchNorm [N, C] eval, eps 1e-3', (4, 1), False, eps=1e-3)


def emb_case(name, idx, v, d, padding_idx=None):
    inputs = {'weight': leaf(v, d)}
    add(name, 'embedding', {} if padding_idx is None else {'paddingIdx': padding_idx}, inputs,
        lambda weight: F.embedding(torch.tensor(idx), weight, padding_idx=padding_idx),
        lambda: {'indices': [sum(idx, []) if isinstance(idx[0], list) else idx,
                             [len(idx), len(idx[0])] if isinstance(idx[0], list) else [len(idx)]]})


emb_case('embedding 2-D indices, repeats', [[1, 2, 1], [9, 0, 1]], 10, 4)
emb_case('embedding paddingIdx', [3, 0, 3, 2], 5, 3, padding_idx=3)
emb_case('embedding negative paddingIdx', [4, 0, 4], 5, 2, padding_idx=-1)

# Composites, 3 SGD steps (lr 0.1) each: the losses of every step and the final parameters.
# 'cnn': conv 3×3 pad 1 → batchNorm (training) → relu → maxPool 2 → conv 3×3 stride 2 pad 1 groups 2 →
# avgPool 2 → flatten → linear → cross-entropy. 'tokens': embedding → layerNorm → conv1d 'same' (the 5
# positions as channels, the 4 features as length) → mse.
composites = {}


def sgd_steps(params, loss_fn, steps=3, lr=0.1):
    losses = []
    for _ in range(steps):
        for p in params.values():
            p.grad = None
        loss = loss_fn()
        loss.backward()
        losses.append(loss.item())
        with torch.no_grad():
            for p in params.values():
                p -= lr * p.grad
    return losses


x = torch.randn(2, 1, 7, 7)
labels = [1, 2]
params = {
    'w1': leaf(4, 1, 3, 3, scale=0.5), 'b1': leaf(4, scale=0.1),
    'g1': (1 + 0.1 * torch.randn(4)).requires_grad_(True), 'h1': leaf(4, scale=0.1),
    'w2': leaf(6, 2, 3, 3, scale=0.4), 'b2': leaf(6, scale=0.1),
    'w3': leaf(6, 3, scale=0.5),
}
init = {k: [lst(v), list(v.shape)] for k, v in params.items()}
rm, rv = torch.zeros(4), torch.ones(4)


def cnn_loss():
    p = params
    h = F.conv2d(x, p['w1'], p['b1'], padding=1)
    h = F.batch_norm(h, rm, rv, p['g1'], p['h1'], True, 0.1, 1e-5)
    h = F.max_pool2d(torch.relu(h), 2)
    h = F.conv2d(h, p['w2'], p['b2'], stride=2, padding=1, groups=2)
    h = F.avg_pool2d(h, 2).reshape(2, -1)
    return F.cross_entropy(h @ p['w3'], torch.tensor(labels))


composites['cnn'] = {'x': [lst(x), [2, 1, 7, 7]], 'labels': labels, 'init': init, 'losses': sgd_steps(params, cnn_loss),
                     'final': {k: lst(v) for k, v in params.items()}, 'runningMean': lst(rm), 'runningVar': lst(rv)}

tokens = [[3, 1, 4, 1, 5], [0, 2, 6, 5, 3]]
params = {'emb': leaf(7, 4), 'ln_w': (1 + 0.1 * torch.randn(4)).requires_grad_(True), 'ln_b': leaf(4, scale=0.1),
          'cw': leaf(3, 5, 3, scale=0.4), 'cb': leaf(3, scale=0.1)}
init = {k: [lst(v), list(v.shape)] for k, v in params.items()}
target = torch.randn(2, 3, 4)


def tokens_loss():
    p = params
    h = F.layer_norm(F.embedding(torch.tensor(tokens), p['emb']), (4,), p['ln_w'], p['ln_b'])
    h = F.conv1d(h, p['cw'], p['cb'], padding='same')
    return ((h - target) ** 2).mean()


composites['tokens'] = {'tokens': tokens, 'target': [lst(target), [2, 3, 4]], 'init': init, 'losses': sgd_steps(params, tokens_loss),
                        'final': {k: lst(v) for k, v in params.items()}}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ops_nn.json')
with open(out, 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': cases, 'composites': composites}, f)
print(f'{len(cases)} cases -> {out}')
