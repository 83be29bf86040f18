"""The build: plan, parts, dumps, the claims table, the store, the VoID description, the release."""
