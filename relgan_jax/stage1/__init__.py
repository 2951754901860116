"""Stage 1, the reenactment GAN: its state and update programs, the training
loop, checkpoints, metrics, preemption, multi-host start-up, and reenactment
with a trained G (grids, x_bar for pairs)."""
