# Reference values for the built-in layers of issue 15: layer-norm, gelu (erf and tanh), silu, embedding,
# conv1d, global-avg-pool2d and multi-head-attention (torch.nn.MultiheadAttention, batch_first=True, with
# the weights copied in). For each case: inputs, parameters, the output y and the gradients of
# L = sum(y * w) with respect to the input and every parameter, from PyTorch 1.13 in float32.
# Run: /usr/bin/python3 test/reference/layers_new.py  → writes layers_new.json next to this file.
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(15)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def grads(y, x, params):
    w = torch.randn(y.shape)
    (y * w).sum().backward()
    out = {"w": flat(w), "y": flat(y)}
    if x is not None and x.grad is not None:
        out["dx"] = flat(x.grad)
    for name, p in params.items():
        out["d_" + name] = flat(p.grad) if p.grad is not None else [0.0] * p.numel()
    return out


def layer_norm_case(shape, norm, affine, eps):
    x = (torch.randn(shape) * 2 + 0.5).requires_grad_(True)
    ln = torch.nn.LayerNorm(norm, eps=eps, elementwise_affine=affine)
    params = {}
    case = {"shape": shape, "normalizedShape": norm, "affine": affine, "eps": eps, "x": flat(x)}
    if affine:
        with torch.no_grad():
            ln.weight.copy_(torch.randn(norm))
            ln.bias.copy_(torch.randn(norm))
        params = {"weight": ln.weight, "bias": ln.bias}
        case["weight"] = flat(ln.weight)
        case["bias"] = flat(ln.bias)
    case.update(grads(ln(x), x, params))
    return case


def activation_case(fn, n=64):
    x = torch.cat([torch.linspace(-7, 7, 57), torch.randn(n) * 3, torch.tensor([0.0, 1e-3, -1e-3, 20.0, -20.0, 60.0, -60.0])])
    x = x.reshape(1, -1).requires_grad_(True)
    return {"x": flat(x), **grads(fn(x), x, {})}


def embedding_case(num, dim, idx, padding_idx):
    emb = torch.nn.Embedding(num, dim, padding_idx=padding_idx)
    with torch.no_grad():
        emb.weight.copy_(torch.randn(num, dim))
        if padding_idx is not None:
            emb.weight[padding_idx].zero_()
    x = torch.tensor(idx)
    case = {"numEmbeddings": num, "embeddingDim": dim, "paddingIdx": padding_idx, "x": [float(v) for v in x.reshape(-1)],
            "shape": list(x.shape), "weight": flat(emb.weight)}
    case.update(grads(emb(x), None, {"weight": emb.weight}))
    return case


def conv1d_case(shape, filters, k, stride, padding, bias):
    x = torch.randn(shape).requires_grad_(True)
    conv = torch.nn.Conv1d(shape[1], filters, k, stride=stride, padding=padding, bias=bias)
    case = {"shape": shape, "filters": filters, "kernelSize": k, "stride": stride, "padding": padding, "useBias": bias,
            "x": flat(x), "weight": flat(conv.weight)}
    params = {"weight": conv.weight}
    if bias:
        case["bias"] = flat(conv.bias)
        params["bias"] = conv.bias
    case.update(grads(conv(x), x, params))
    return case


def gap_case(shape):
    x = torch.randn(shape).requires_grad_(True)
    return {"shape": shape, "x": flat(x), **grads(x.mean(dim=(2, 3)), x, {})}


def mha_case(batch, T, E, H, bias, causal):
    mha = torch.nn.MultiheadAttention(E, H, bias=bias, batch_first=True)
    with torch.no_grad():
        if bias:
            # torch zero-initialises both biases; random ones test that they are applied.
            mha.in_proj_bias.copy_(torch.randn(3 * E) * 0.5)
            mha.out_proj.bias.copy_(torch.randn(E) * 0.5)
    x = torch.randn(batch, T, E).requires_grad_(True)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1) if causal else None
    y, _ = mha(x, x, x, need_weights=False, attn_mask=mask)
    params = {"in_proj_weight": mha.in_proj_weight, "out_proj.weight": mha.out_proj.weight}
    case = {"batch": batch, "T": T, "embedDim": E, "numHeads": H, "useBias": bias, "causal": causal, "x": flat(x),
            "in_proj_weight": flat(mha.in_proj_weight), "out_proj.weight": flat(mha.out_proj.weight)}
    if bias:
        params["in_proj_bias"] = mha.in_proj_bias
        params["out_proj.bias"] = mha.out_proj.bias
        case["in_proj_bias"] = flat(mha.in_proj_bias)
        case["out_proj.bias"] = flat(mha.out_proj.bias)
    case.update(grads(y, x, params))
    return case


def main():
    out = {
        "torch": torch.__version__,
        "layer_norm": [
            layer_norm_case([2, 3, 5], [5], True, 1e-5),
            layer_norm_case([3, 2, 4], [2, 4], True, 1e-3),
            layer_norm_case([4, 6], [6], False, 1e-5),
        ],
        "gelu": activation_case(F.gelu),
        "gelu_tanh": activation_case(lambda x: F.gelu(x, approximate="tanh")),
        "silu": activation_case(F.silu),
        "embedding": [
            embedding_case(7, 4, [[1, 3, 3, 0], [6, 1, 1, 1]], None),
            embedding_case(5, 3, [[0, 2, 4], [2, 2, 0]], 2),
        ],
        "conv1d": [
            conv1d_case([2, 3, 11], 4, 3, 1, 1, True),
            conv1d_case([2, 2, 10], 3, 4, 2, 1, True),
            conv1d_case([1, 3, 7], 2, 5, 1, 0, False),
        ],
        "global_avg_pool2d": [gap_case([2, 3, 4, 5]), gap_case([1, 2, 1, 1])],
        "mha": [
            mha_case(2, 5, 8, 2, True, False),
            mha_case(2, 6, 12, 3, True, True),
            mha_case(1, 4, 6, 1, False, False),
        ],
    }
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers_new.json"), "w") as f:
        json.dump(out, f)


main()
