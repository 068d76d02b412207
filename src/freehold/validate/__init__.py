"""Deterministic checks on stochastic answers: validators behind one small interface."""
