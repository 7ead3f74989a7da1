"""The pure domain of Placet: records, transitions, prompts and audit hashing."""
