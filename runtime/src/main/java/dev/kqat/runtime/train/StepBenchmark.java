package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.data.Prefetcher;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.Session;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Measures training throughput of one setup: full optimizer steps with the data pipeline included,
 * graph construction, calibration and warm-up excluded. Used by {@code kqat bench}; never by tests.
 */
public final class StepBenchmark implements AutoCloseable {
  private final TrainingGraph graph;
  private final Session session;
  private final Dataset data;
  private final int batchSize;
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
          dev.kqat.runtime.quant.Calibration.run(session, graph.quantizers(), graph.quantizerInputs(),
              graph.images(), java.util.List.of(b));
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
    Map<Placeholder<TFloat32>, TFloat32> schedules = new LinkedHashMap<>();
    graph.oscillationFeeds(0.5).forEach((p, v) -> schedules.put(p, TFloat32.scalarOf(v)));
    try (Prefetcher batches = new Prefetcher(source, 3);
        TFloat32 lr = TFloat32.scalarOf(1e-4f)) {
      for (int i = 0; i < steps; i++) {
        if (!batches.hasNext()) {
          break;
        }
        try (Batch b = batches.next();
            TInt64 key = TInt64.vectorOf(0, ++step)) {
          Session.Runner runner = session.runner();
          schedules.forEach(runner::feed);
          runner
              .feed(graph.images(), b.images())
              .feed(graph.labels(), b.labels())
              .feed(graph.lrWeights(), lr)
              .feed(graph.lrQuantizers(), lr)
              .feed(graph.stepKey(), key)
              .addTarget(graph.step())
              .run()
              .close();
          images += b.size();
        }
      }
    } finally {
      schedules.values().forEach(TFloat32::close);
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
