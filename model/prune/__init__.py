"""Structured and unstructured pruning with physical removal (issue 9).

| module | job |
|---|---|
| `channels` | channel dependency groups (torch.fx) and physical removal of channels |
| `resize` | rebuild a pruned network from its state dict |
| `tune` | the fine-tuning loop shared by the methods (extra loss, per-step hook) |
| `asfp` | seed 000: Ipt = α·L1 + β·L2, z-score per stage, soft-pruning rounds |
| `slimming` | seed 001: L1 on BN γ, global threshold, removal |
| `adw` | seed 002: adaptive drop-weight, connection redundancy analysis, k-means clustering |
"""
