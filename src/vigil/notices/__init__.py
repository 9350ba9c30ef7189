"""Takedown notices: the machine form (`document`) and its renderings for people (`render`)."""
