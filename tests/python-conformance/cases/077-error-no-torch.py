import numpy as np

print("numpy is here:", np.__version__ is not None)
import torch

x = torch.tensor([1.0, 2.0, 3.0])
print(x.mean())
