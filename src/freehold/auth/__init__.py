"""Who is calling: API keys, and (later) budgets and rate limits."""
