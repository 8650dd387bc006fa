"""Ptychographic reconstruction with PyTorch autodiff: single-slice, multislice,
mixed-state probes, position and probe refinement, from raw or compressed stores.
Uses ``ptyflow.physics`` for every physical convention. Not implemented yet: see the issues.
"""
