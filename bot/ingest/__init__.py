"""The poll (the orchestrator), recording what rules decided, validation and the file store."""
