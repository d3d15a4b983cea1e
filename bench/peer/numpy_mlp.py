#!/usr/bin/env python3
"""The bench's NumPy peer: one epoch of the 784-800-800-10 MNIST net, written in plain NumPy.

Usage: python3 numpy_mlp.py MNIST_DIR

MNIST_DIR holds the four uncompressed IDX files (train-images-idx3-ubyte, ...). The net and its
training are the bench's 800-800 row (Hinton et al. 2015, section 3): ReLU hidden layers, He-normal
weights and zero biases in float32, softmax cross-entropy, Adam (lr 1e-3, beta1 0.9, beta2 0.999,
eps 1e-8, bias-corrected), minibatches of 128 over a fresh shuffle of the whole training set each
epoch (the last batch holds the remainder). One generator seeded 0 draws the weights, then each
epoch's shuffle.

It trains two epochs; only the minibatch loop is timed (the first epoch warms NumPy and the BLAS up,
so `./dk bench` reads the second). After each epoch it prints one line, which the bench parses:

  numpy <version> 784-800-800-10 epoch=<k> s/epoch=<s> ex/s=<n/s> GFLOP/s=<6*weights*n/s/1e9> test_errors=<e>

NumPy runs as it does by default: its matrix products go to the BLAS it was built with, on the
threads that BLAS chooses; the bench leaves dk's own thread settings out of this process's environment.
"""
import struct
import sys
import time

try:
    import numpy as np
except ImportError as e:
    sys.exit(f"NumPy is not installed for {sys.executable} ({e}): the NumPy peer needs it "
             f"(e.g. apt-get install python3-numpy)")

LAYERS = (784, 800, 800, 10)
BATCH = 128
EPOCHS = 2
LEARNING_RATE, BETA1, BETA2, EPSILON = 1e-3, 0.9, 0.999, 1e-8


def read_idx(path):
    """An IDX file as a uint8 array of its declared shape (big-endian header: magic, then one size per dimension)."""
    with open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        shape = struct.unpack(f">{magic & 0xFF}I", f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def load(directory, split):
    images = read_idx(f"{directory}/{split}-images-idx3-ubyte")
    labels = read_idx(f"{directory}/{split}-labels-idx1-ubyte")
    return (images.reshape(len(images), -1) / 255).astype(np.float32), labels.astype(np.int64)


class Mlp:
    """ReLU hidden layers, linear output; weights[i] maps layer i to layer i + 1."""

    def __init__(self, sizes, rng):
        self.weights = [(rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(np.float32)
                        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(fan_out, np.float32) for fan_out in sizes[1:]]

    def parameters(self):
        return self.weights + self.biases

    def activations(self, x):
        """The input, each hidden layer's ReLU output, and the logits."""
        out = [x]
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = out[-1] @ w + b
            out.append(z if i == last else np.maximum(z, 0))
        return out

    def gradients(self, x, labels):
        """Gradients of the mean softmax cross-entropy, in the order of parameters()."""
        acts = self.activations(x)
        logits = acts[-1]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(labels)), labels] -= 1  # dL/dlogits = softmax - onehot, per example
        delta = p / len(labels)
        dw = [None] * len(self.weights)
        db = [None] * len(self.biases)
        for i in reversed(range(len(self.weights))):
            dw[i] = acts[i].T @ delta
            db[i] = delta.sum(axis=0)
            if i > 0:
                delta = (delta @ self.weights[i].T) * (acts[i] > 0)  # through layer i's ReLU
        return dw + db

    def errors(self, x, labels):
        return int((self.activations(x)[-1].argmax(axis=1) != labels).sum())


class Adam:
    """Kingma & Ba's Adam with both moment estimates bias-corrected, updating the arrays in place."""

    def __init__(self, params):
        self.params = params
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        c1, c2 = 1 - BETA1 ** self.t, 1 - BETA2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= BETA1
            m += (1 - BETA1) * g
            v *= BETA2
            v += (1 - BETA2) * g * g
            p -= LEARNING_RATE * (m / c1) / (np.sqrt(v / c2) + EPSILON)


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: python3 numpy_mlp.py MNIST_DIR")
    x_train, y_train = load(argv[1], "train")
    x_test, y_test = load(argv[1], "t10k")
    n = len(x_train)
    rng = np.random.default_rng(0)
    net = Mlp(LAYERS, rng)
    adam = Adam(net.parameters())
    weights = sum(p.size for p in net.parameters())
    name = "-".join(map(str, LAYERS))
    for epoch in range(1, EPOCHS + 1):
        order = rng.permutation(n)
        start = time.perf_counter()
        for first in range(0, n, BATCH):
            batch = order[first:first + BATCH]
            adam.step(net.gradients(x_train[batch], y_train[batch]))
        seconds = time.perf_counter() - start
        print(f"numpy {np.__version__} {name} epoch={epoch} s/epoch={seconds:.2f} ex/s={n / seconds:.0f} "
              f"GFLOP/s={6 * weights * n / seconds / 1e9:.1f} test_errors={net.errors(x_test, y_test)}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
