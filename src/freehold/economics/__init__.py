"""Economics: the cost and value of inference (planner, catalogues, report)."""
