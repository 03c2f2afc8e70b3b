"""The lessons' computations: closed forms, 1D distributions, the dual critic, the Lipschitz lab and
Compare experiments, the digits. Imports the engine and draw."""
