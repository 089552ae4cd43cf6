package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.data.Prefetcher;
import dev.kqat.runtime.mixed.Candidates;
import dev.kqat.runtime.mixed.SubnetSampler;
import java.util.Iterator;
import java.util.List;
import org.tensorflow.Session;

/**
 * Measures training throughput of one setup: full optimizer steps with the data pipeline included,
 * graph construction, calibration and warm-up excluded. Used by {@code kqat bench}; never by tests.
 * A fixed-bit phase's step, or a supernet's (max + K random subnets, RFQuant §2.5).
 */
public final class StepBenchmark implements AutoCloseable {
  /** One training step on a batch; {@code step} counts from 1. */
  private interface Step {
    void run(Batch batch, long step);
  }

  private static final double LEARNING_RATE = 1e-4;
  private final Step trainStep;
  private final AutoCloseable resources;
  private final Dataset data;
  private final int batchSize;
  private long step;
  private long fewestImages = Long.MAX_VALUE;

  /** A fixed-bit phase of {@code setup}; oscillation schedules at their mid-training values. */
  public StepBenchmark(TrainingSetup setup, Dataset data, int batchSize) {
    TrainingGraph graph = new TrainingGraph(setup);
    Session session = graph.newSession();
    session.initialize();
    if (!graph.quantizers().isEmpty()) {
      withFirstBatch(data, batchSize, b -> graph.calibrate(session, graph.quantizers(), List.of(b)));
    }
    this.trainStep = (b, step) -> graph.trainStep(session, b, LEARNING_RATE, LEARNING_RATE, 0.5, 0, step);
    this.resources = () -> {
      session.close();
      graph.close();
    };
    this.data = data;
    this.batchSize = batchSize;
  }

  private StepBenchmark(Step trainStep, AutoCloseable resources, Dataset data, int batchSize) {
    this.trainStep = trainStep;
    this.resources = resources;
    this.data = data;
    this.batchSize = batchSize;
  }

  /** A supernet of {@code setup}'s mixed-precision policy: seeded random subnets, QE loss at mid-training. */
  public static StepBenchmark supernet(TrainingSetup setup, SupernetGraph.Spec spec, Dataset data, int batchSize) {
    SupernetGraph graph = new SupernetGraph(setup, spec);
    Session session = graph.newSession();
    session.initialize();
    withFirstBatch(data, batchSize, b -> graph.calibrate(session, List.of(b)));
    Candidates candidates = new Candidates(graph.candidates());
    Step step = (b, s) -> graph.trainStep(session, b, SubnetSampler.draw(candidates, graph.randomSubnets(), 0, s), candidates,
        LEARNING_RATE, LEARNING_RATE, 0.5, 0, s);
    return new StepBenchmark(step, () -> {
      session.close();
      graph.close();
    }, data, batchSize);
  }

  private static void withFirstBatch(Dataset data, int batchSize, java.util.function.Consumer<Batch> use) {
    try (Prefetcher it = new Prefetcher(data.batches(batchSize, true, 1, true), 2)) {
      try (Batch b = it.next()) {
        use.accept(b);
      }
    }
  }

  /** Runs {@code steps} training steps and returns images per second. */
  public double imagesPerSecond(int steps) {
    long images = 0;
    long start = System.nanoTime();
    Iterator<Batch> source = data.batches(batchSize, true, 1000 + step, true);
    try (Prefetcher batches = new Prefetcher(source, 3)) {
      for (int i = 0; i < steps && batches.hasNext(); i++) {
        try (Batch b = batches.next()) {
          trainStep.run(b, ++step);
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
    try {
      resources.close();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
