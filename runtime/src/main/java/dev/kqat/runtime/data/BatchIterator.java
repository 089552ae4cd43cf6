package dev.kqat.runtime.data;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.function.Function;

/**
 * Walks a fixed order of example indices in batches; what a batch holds is the dataset's
 * business ({@code assemble} gets the indices of one batch).
 */
public final class BatchIterator implements Iterator<Batch> {
  private final int[] order;
  private final int batchSize;
  private final int count;
  private final Function<int[], Batch> assemble;
  private int next;

  BatchIterator(int[] order, int batchSize, int count, Function<int[], Batch> assemble) {
    this.order = order;
    this.batchSize = batchSize;
    this.count = count;
    this.assemble = assemble;
  }

  /** {@code 0..n-1}, shuffled by a Fisher–Yates pass seeded with {@code seed} when asked. */
  public static int[] order(int n, boolean shuffle, long seed) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    if (shuffle) {
      Random rnd = new Random(seed);
      for (int i = n - 1; i > 0; i--) {
        int j = rnd.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    return order;
  }

  @Override
  public boolean hasNext() {
    return next < count;
  }

  @Override
  public Batch next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    int start = next * batchSize;
    int[] indices = Arrays.copyOfRange(order, start, Math.min(start + batchSize, order.length));
    next++;
    return assemble.apply(indices);
  }
}
