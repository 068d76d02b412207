"""The shared language of freehold: types, errors, money and token counting.

Nothing in ``core`` imports any other freehold package.
"""
