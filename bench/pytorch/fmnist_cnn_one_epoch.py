"""One epoch of the first assignment's Fashion-MNIST CNN in PyTorch (Debian's torch 1.13, CPU, 1 thread or THREADS),
for the comparison in README.md: Conv 3x3 16 ReLU -> Conv 3x3 16 ReLU -> Dense 100 ReLU -> Dense 10,
Xavier-uniform weights, zero biases, SGD momentum 0.9, batch 32, on the vendored data.
Usage: /usr/bin/python3 bench/pytorch/fmnist_cnn_one_epoch.py LR [SEED] [THREADS]
(prints the test accuracy, the seconds of training plus the test pass, and the seconds of loading the data)
Results measured for the README are in fmnist_cnn_one_epoch.json beside this script.
"""
import gzip, numpy as np, torch, time, sys
from torch import nn
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv)>3 else 1)
def load(p, off): 
    return np.frombuffer(gzip.open(p).read(), np.uint8, offset=off)
import os
t_load=time.time()
d=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packages', 'datasets', 'fashion-mnist') + '/'
xtr=torch.tensor(load(d+'train-images-idx3-ubyte.gz',16).reshape(-1,1,28,28)/255.,dtype=torch.float32)
ytr=torch.tensor(load(d+'train-labels-idx1-ubyte.gz',8).astype(np.int64))
xte=torch.tensor(load(d+'t10k-images-idx3-ubyte.gz',16).reshape(-1,1,28,28)/255.,dtype=torch.float32)
yte=torch.tensor(load(d+'t10k-labels-idx1-ubyte.gz',8).astype(np.int64))
load_seconds=time.time()-t_load
lr=float(sys.argv[1])
torch.manual_seed(int(sys.argv[2]) if len(sys.argv)>2 else 0)
m=nn.Sequential(nn.Conv2d(1,16,3),nn.ReLU(),nn.Conv2d(16,16,3),nn.ReLU(),nn.Flatten(),nn.Linear(9216,100),nn.ReLU(),nn.Linear(100,10))
for l in m:
    if hasattr(l,'weight'): nn.init.xavier_uniform_(l.weight); nn.init.zeros_(l.bias)
opt=torch.optim.SGD(m.parameters(),lr=lr,momentum=0.9)
t=time.time()
perm=torch.randperm(60000)
for i in range(0,60000,32):
    idx=perm[i:i+32]; opt.zero_grad(); loss=nn.functional.cross_entropy(m(xtr[idx]),ytr[idx]); loss.backward(); opt.step()
with torch.no_grad(): acc=(m(xte).argmax(1)==yte).float().mean().item()
print(lr, 'acc', acc, 'time', time.time()-t, 'load', load_seconds)
