"""After stage 1: the stage-2 MLP on f(e), the CNN baseline, the
disentanglement measures, the subject-independent protocol and its report,
a run's folder with every trained part on disk, and using them (inference)."""
