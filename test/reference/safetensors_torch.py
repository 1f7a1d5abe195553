# PyTorch → tensorkit fixtures for test/io/safetensors.test.ts.
# Run: /usr/bin/python3 test/reference/safetensors_torch.py   (PyTorch 1.13)
# The `safetensors` Python package is not installed on this machine, so the files are written by hand
# with struct + json in exactly the layout safetensors.torch.save_file produces: u64 LE header length,
# JSON header padded with spaces to a multiple of 8, tensors back to back, little-endian, row-major.
# With the package installed, `safetensors.torch.save_file(model.state_dict(), path)` is equivalent.
import json, os, struct
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'fixtures')
DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64'}


def save_safetensors(tensors, path, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.BatchNorm2d(3), nn.Flatten(),
    nn.Linear(48, 6), nn.Tanh(), nn.Linear(6, 4),
)
with torch.no_grad():
    bn = model[3]
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
    bn.running_mean.uniform_(-0.2, 0.2)
    bn.running_var.uniform_(0.5, 2.0)
    bn.num_batches_tracked.fill_(7)
model.eval()
x = torch.randn(2, 1, 8, 8)
with torch.no_grad():
    y = model(x)
save_safetensors(model.state_dict(), os.path.join(FIXTURES, 'torch_cnn.safetensors'), {'producer': 'torch ' + torch.__version__})

# One tensor per dtype tensorkit converts to float32; the JSON holds each value as torch sees it.
vals = torch.tensor([0.0, -1.5, 3.140625, 65504.0, 1e-7, -2.0 ** -24])
special = {
    'f16': vals.to(torch.float16),
    'bf16': vals.to(torch.bfloat16),
    'f64': torch.tensor([[1.0 / 3.0, -2.5], [1e-300, 12345.678901]], dtype=torch.float64),
    'i64': torch.tensor([0, -3, 2 ** 40], dtype=torch.int64),
}
save_safetensors(special, os.path.join(FIXTURES, 'dtypes.safetensors'))

out = {
    'torch_version': torch.__version__,
    'state_dict_keys': list(model.state_dict().keys()),
    'input': {'shape': list(x.shape), 'data': x.flatten().tolist()},
    'output': {'shape': list(y.shape), 'data': y.flatten().tolist()},
    'dtypes': {k: {'shape': list(v.shape), 'data': v.double().flatten().tolist()} for k, v in special.items()},
}
with open(os.path.join(HERE, 'safetensors_torch.json'), 'w') as f:
    json.dump(out, f)
print('wrote torch_cnn.safetensors, dtypes.safetensors, safetensors_torch.json')
