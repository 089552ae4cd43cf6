package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.data.Prefetcher;
import java.util.Iterator;
import org.tensorflow.Session;

/**
 * Measures training throughput of one setup: full optimizer steps with the data pipeline included,
 * graph construction, calibration and warm-up excluded. Used by {@code kqat bench}; never by tests.
 */
public final class StepBenchmark implements AutoCloseable {
  private final TrainingGraph graph;
  private final Session session;
  private final Dataset data;
  private final int batchSize;
  private static final double LEARNING_RATE = 1e-4;
  private long step;
  private long fewestImages = Long.MAX_VALUE;

  public StepBenchmark(TrainingSetup setup, Dataset data, int batchSize) {
    this.graph = new TrainingGraph(setup);
    this.session = graph.newSession();
    this.data = data;
    this.batchSize = batchSize;
    session.initialize();
    if (!graph.quantizers().isEmpty()) {
      try (Prefetcher it = new Prefetcher(data.batches(batchSize, true, 1, true), 2)) {
        try (Batch b = it.next()) {
          graph.calibrate(session, graph.quantizers(), java.util.List.of(b));
        }
      }
    }
  }

  /**
   * Runs {@code steps} training steps and returns images per second. Oscillation schedules take
   * their mid-training values, where dampening and freezing are both active.
   */
  public double imagesPerSecond(int steps) {
    long images = 0;
    long start = System.nanoTime();
    Iterator<Batch> source = data.batches(batchSize, true, 1000 + step, true);
    try (Prefetcher batches = new Prefetcher(source, 3)) {
      for (int i = 0; i < steps && batches.hasNext(); i++) {
        try (Batch b = batches.next()) {
          graph.trainStep(session, b, LEARNING_RATE, LEARNING_RATE, 0.5, 0, ++step);
          images += b.size();
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    fewestImages = Math.min(fewestImages, images);
    return images / seconds;
  }

  /** The fewest images one {@link #imagesPerSecond} call trained on (warm-up included). */
  public long fewestImagesMeasured() {
    return fewestImages;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
