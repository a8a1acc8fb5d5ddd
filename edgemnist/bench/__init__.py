"""Benchmark harness: each model is measured in its own worker process (``worker``) on a target
(``edgemnist.targets``), driven by ``runner``; ``schema`` holds the job and the row all of them share;
``report`` renders the same results as a table, JSON, Markdown and PNG plots."""
