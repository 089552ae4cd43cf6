package dev.kqat.runtime.data;

import java.util.Random;

/**
 * Small generated data for tests and examples: each class is a fixed random prototype image plus
 * Gaussian noise, so a model can learn it in a few steps.
 */
public final class SyntheticDataset {
  private SyntheticDataset() {}

  public static InMemoryDataset generate(int count, int[] shape, int numClasses, double noise, long seed) {
    Random rnd = new Random(seed);
    int size = shape[0] * shape[1] * shape[2];
    float[][] prototypes = new float[numClasses][size];
    Random protoRnd = new Random(12345);
    for (float[] p : prototypes) {
      for (int i = 0; i < size; i++) {
        p[i] = (float) protoRnd.nextGaussian();
      }
    }
    float[] x = new float[count * size];
    int[] y = new int[count];
    for (int n = 0; n < count; n++) {
      y[n] = rnd.nextInt(numClasses);
      for (int i = 0; i < size; i++) {
        x[n * size + i] = prototypes[y[n]][i] + (float) (noise * rnd.nextGaussian());
      }
    }
    return new InMemoryDataset(x, y, shape, numClasses);
  }
}
