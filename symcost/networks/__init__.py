"""Networks built from layers: containers (Sequential, Residual, Concat, Repeat, Model), DAG graphs,
the per-row Report with its totals, and floor modes (exact / divisible)."""
