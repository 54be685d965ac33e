"""The catalogue of mechanisms (gene sets, hypotheses) and drug classes."""
