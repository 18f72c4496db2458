"""Fetching the datasets and the MATLAB-compatible bicubic degradation."""
