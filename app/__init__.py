"""The physician's Streamlit app (pages stay thin: every action is reachable from the CLI)."""

__all__: list[str] = []
