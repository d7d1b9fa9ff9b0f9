"""Training the embedded default model on the language of prompt programs (never on U15,2)."""
