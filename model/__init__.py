"""The maths: the network, MNIST, preprocessing. Knows nothing of the web."""
