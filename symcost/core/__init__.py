"""The vocabulary every other package speaks: symbols, shapes, arguments, the safe expression parser,
errors, cost records, counting conventions and receptive fields. Nothing here imports a layer or higher."""
