"""Corpora in the Jamendo layout, the synthetic default corpus, and tf.data."""
