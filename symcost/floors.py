"""Floor modes of a report: ``exact`` keeps every floor, ``divisible`` assumes exact division."""

FLOOR_MODES = ("exact", "divisible")


def divisible_report(network, shape, convention, model):
    raise NotImplementedError
