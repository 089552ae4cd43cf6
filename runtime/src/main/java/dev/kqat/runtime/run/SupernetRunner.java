package dev.kqat.runtime.run;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.events.EvalMetrics;
import dev.kqat.runtime.events.RunListener;
import dev.kqat.runtime.mixed.EvolutionSearch;
import dev.kqat.runtime.mixed.GreedySearch;
import dev.kqat.runtime.mixed.RandomSearch;
import dev.kqat.runtime.quant.BitConfiguration;
import dev.kqat.runtime.quant.BitRange;
import dev.kqat.runtime.quant.ConfigurationCost;
import dev.kqat.runtime.quant.MixedPrecisionPolicy;
import dev.kqat.runtime.train.SupernetGraph;
import dev.kqat.runtime.train.SupernetTrainer;
import dev.kqat.runtime.train.TrainingSetup;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.tensorflow.Session;

/**
 * The entry point from a supernet phase (RFQuant, algorithms.md §2) to TensorFlow, as {@link
 * PhaseRunner} is for fixed-bit phases: builds the supernet graph and its session, trains it, and
 * evaluates and searches the subnets of a trained one, so that callers above the runtime never touch
 * TensorFlow types.
 */
public final class SupernetRunner implements AutoCloseable {
  /** What a search minimises the cost of. */
  public enum Metric { BITOPS, SIZE }

  /**
   * What a search scores a configuration by on its batch: the reference's top-1 error, or the mean
   * cross-entropy (finer than top-1 on the few hundred images a small machine scores on).
   */
  public enum Score {
    TOP1_ERROR, LOSS;

    double of(SupernetGraph.SearchScore s, int images) {
      return this == TOP1_ERROR ? 1.0 - s.correct() / images : s.lossSum() / images;
    }
  }

  private final SupernetGraph graph;
  private final Session session;
  private final SupernetTrainer trainer;

  /** A runner that trains a supernet, then evaluates and searches it. */
  public SupernetRunner(TrainingSetup setup, SupernetGraph.Spec spec) {
    this(new SupernetGraph(setup, spec));
  }

  private SupernetRunner(SupernetGraph graph) {
    this.graph = graph;
    this.session = graph.newSession();
    this.trainer = new SupernetTrainer(graph, session, new RunListener() {});
  }

  /** A runner that evaluates and searches a trained supernet ({@link #load}) and builds none of the training step. */
  public static SupernetRunner forEvaluation(TrainingSetup setup, SupernetGraph.Spec spec) {
    return new SupernetRunner(SupernetGraph.forEvaluation(setup, spec));
  }

  /** Trains the supernet (see {@link SupernetTrainer#run}); not on a runner {@link #forEvaluation}. */
  public SupernetTrainer.Result train(SupernetTrainer.Plan plan, Path resumeFrom, Path initFrom, RunListener listener) {
    return new SupernetTrainer(graph, session, listener).run(plan, resumeFrom, initFrom);
  }

  /** Loads a trained supernet's checkpoint for evaluation and search: its moving average when it keeps one (§2.1). */
  public void load(Path checkpoint) {
    session.initialize();
    if (!graph.trains()) {
      graph.loadTrained(session, checkpoint);
      return;
    }
    trainer.restore(checkpoint);
    if (graph.hasEma()) {
      graph.useEma(session);
    }
  }

  /** The searchable layers and their candidates, in forward order. */
  public Map<String, BitRange> candidates() {
    return graph.candidates();
  }

  /** BitOPs and size of {@code config} (§2.9); the fixed first and last layers at the policy's bits. */
  public ConfigurationCost cost(BitConfiguration config) {
    int fixed = graph.setup().policy() instanceof MixedPrecisionPolicy p ? p.fixedBits() : 8;
    return ConfigurationCost.of(graph.summary().costs(), config, fixed);
  }

  public double cost(BitConfiguration config, Metric metric) {
    ConfigurationCost c = cost(config);
    return metric == Metric.BITOPS ? c.bitOps() : c.sizeBits();
  }

  /** {@code config} after BN calibration on {@code bnBatches} training batches (§2.8), evaluated on {@code test}. */
  public EvalMetrics evaluate(BitConfiguration config, Dataset train, Dataset test, int batchSize, int bnBatches) {
    return trainer.calibratedEvaluation(config, train, test, batchSize, bnBatches);
  }

  /** As {@link #evaluate}, with the test examples {@code config} classifies right (for paired comparisons). */
  public SupernetTrainer.SubnetEvaluation evaluateByExample(BitConfiguration config, Dataset train, Dataset test,
      int batchSize, int bnBatches) {
    return trainer.calibratedEvaluationByExample(config, train, test, batchSize, bnBatches, 0);
  }

  /**
   * As {@link #evaluate}, calibrated on the training batches of calibration {@code draw} (0: those of
   * {@link #evaluate}; each other draw its own).
   */
  public EvalMetrics evaluate(BitConfiguration config, Dataset train, Dataset test, int batchSize, int bnBatches, int draw) {
    return trainer.calibratedEvaluationByExample(config, train, test, batchSize, bnBatches, draw).metrics();
  }

  /**
   * The greedy search (§2.10) under {@code budget} ({@code metric}'s unit: BitOPs per image or bits):
   * each greedy step scores its moves by {@code score} on one fresh training batch of {@code batchSize},
   * every BN normalising with that batch's statistics; {@code progress} hears of every step.
   */
  public GreedySearch.Result search(double budget, Metric metric, GreedySearch.Settings settings, Score score,
      Dataset train, int batchSize, long seed, java.util.function.Consumer<GreedySearch.Progress> progress) {
    try (StepBatches batches = new StepBatches(train, batchSize, seed)) {
      GreedySearch.Scorer scorer = (current, move, step) -> {
        StepBatch b = batches.forStep(step, current);
        return score.of(b.scores().score(move), b.batch().size());
      };
      return GreedySearch.search(graph.candidates(), budget, settings, scorer, c -> cost(c, metric), progress);
    }
  }

  /**
   * The random search (§2.10's alternative) under {@code budget}: every configuration within the
   * tolerance scored by {@code score} on the same training batch of {@code batchSize}, batch-statistics BN.
   */
  public RandomSearch.Result randomSearch(double budget, Metric metric, RandomSearch.Settings settings, Score score,
      Dataset train, int batchSize, long seed, java.util.function.Consumer<RandomSearch.Progress> progress) {
    try (Batch batch = train.batches(batchSize, true, seed, true).next()) {
      return RandomSearch.search(graph.candidates(), budget, settings, seed,
          c -> score.of(graph.batchStatisticsScore(session, batch, c), batch.size()), c -> cost(c, metric), progress);
    }
  }

  /**
   * The evolutionary search (§2.10's alternative) under {@code budget}: fitness = minus {@code score} on
   * one training batch of {@code batchSize}, batch-statistics BN (the reference's fitness, a BN-calibrated
   * validation accuracy per candidate, takes ~12 s each on 2 cores: hours for its 1,000 candidates).
   */
  public EvolutionSearch.Result evolutionSearch(double budget, Metric metric, EvolutionSearch.Settings settings, Score score,
      Dataset train, int batchSize, long seed, java.util.function.Consumer<EvolutionSearch.Progress> progress) {
    try (Batch batch = train.batches(batchSize, true, seed, true).next()) {
      return EvolutionSearch.search(graph.candidates(), budget, settings, seed,
          c -> -score.of(graph.batchStatisticsScore(session, batch, c), batch.size()), c -> cost(c, metric), progress);
    }
  }

  private record StepBatch(Batch batch, SupernetGraph.SearchBatch scores) {}

  /** One fresh training batch per greedy step, walking through as many shuffled passes as the search needs. */
  private final class StepBatches implements AutoCloseable {
    private final Dataset train;
    private final int batchSize;
    private final long seed;
    private int pass;
    private Iterator<Batch> batches;
    private int step = -1;
    private StepBatch current;

    StepBatches(Dataset train, int batchSize, long seed) {
      this.train = train;
      this.batchSize = batchSize;
      this.seed = seed;
      this.batches = train.batches(batchSize, true, seed, true);
    }

    /** The batch of greedy step {@code step}, with {@code configuration}'s pass on it kept for scoring its moves. */
    StepBatch forStep(int step, BitConfiguration configuration) {
      if (step != this.step) {
        close();
        if (!batches.hasNext()) {
          pass++;
          batches = train.batches(batchSize, true, seed + 7919L * pass, true);
        }
        Batch batch = batches.next();
        current = new StepBatch(batch, graph.searchBatch(session, batch, configuration));
        this.step = step;
      }
      return current;
    }

    @Override
    public void close() {
      if (current != null) {
        current.scores().close();
        current.batch().close();
        current = null;
      }
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
