"""Explanations: Fréchet distance, latent activation maximisation, selection."""
