"""One module per ``recommender`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``."""
