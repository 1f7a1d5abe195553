// Seeded randomness for tests.
import { Rng } from '../../src/tensor/rng.js';
import { Tensor } from '../../src/tensor/tensor.js';

export function testRng(seed = 1234): Rng {
  return new Rng(seed);
}

/** Uniform random tensor in [low, high). */
export function randomTensor(shape: number[], rng: Rng, low = -1, high = 1): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = low + (high - low) * rng.next();
  return new Tensor(data, shape);
}
