"""Backends behind one small interface (``base.Provider``)."""
