"""Benchmark harness: each model is measured in its own worker process (``worker``), driven by
``runner``; ``report`` renders the same results as a table, JSON, Markdown and PNG plots."""
