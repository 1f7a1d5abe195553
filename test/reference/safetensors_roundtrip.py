# tensorkit → PyTorch: loads test/fixtures/tensorkit_mlp.safetensors (written by tensorkit, see
# test/io/safetensors.test.ts, regenerate with TENSORKIT_UPDATE_FIXTURES=1) into the equivalent
# torch.nn.Sequential with load_state_dict(strict=True) and records its outputs on a fixed input.
# Run: /usr/bin/python3 test/reference/safetensors_roundtrip.py   (PyTorch 1.13)
#
# With the `safetensors` package installed the load is the documented one-liner:
#   from safetensors.torch import load_file
#   model.load_state_dict(load_file('tensorkit_mlp.safetensors'))
# It is not installed here, so read_safetensors below parses the same layout with struct + json.
import json, os, struct
import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, '..', 'fixtures', 'tensorkit_mlp.safetensors')
NP = {'F32': '<f4', 'F64': '<f8', 'F16': '<f2', 'I64': '<i8'}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        arr = np.frombuffer(data[b:end], dtype=NP[e['dtype']]).reshape(e['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


state, meta = read_safetensors(PATH)
model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.1), nn.Linear(8, 3), nn.Softmax(dim=1))
model.load_state_dict(state, strict=True)  # raises on any missing/unexpected key or shape mismatch
model.eval()
x = torch.linspace(-2, 2, 4 * 5).reshape(4, 5)
with torch.no_grad():
    y = model(x)
with open(os.path.join(HERE, 'safetensors_roundtrip.json'), 'w') as f:
    json.dump({
        'torch_version': torch.__version__,
        'metadata': meta,
        'loaded_keys': list(state.keys()),
        'running_var': model[1].running_var.tolist(),
        'input': {'shape': list(x.shape), 'data': x.flatten().tolist()},
        'output': {'shape': list(y.shape), 'data': y.flatten().tolist()},
    }, f)
print('loaded', len(state), 'tensors into torch; wrote safetensors_roundtrip.json')
