"""Golden files of rendered mail, and the fixed contexts they are rendered from."""
