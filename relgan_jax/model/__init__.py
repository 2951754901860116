"""The paper's networks (Ges, Get, Gde, D, the MLP, the CNN baseline), their
layer types (plain, and formulated for XLA:CPU) and the stage-1 losses."""
