"""The data side: prepared records (format, reading, writing), the stage-1
pair rule and augmentation, folds, photo -> aligned face, the built-in
synthetic face set, and loading a run's prepared sets. data_prep/ (the raw
datasets) touches relgan_jax only here and in relgan_jax/cli.py."""
