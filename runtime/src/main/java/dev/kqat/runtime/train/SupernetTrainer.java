package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.data.Prefetcher;
import dev.kqat.runtime.events.EpochMetrics;
import dev.kqat.runtime.events.EvalMetrics;
import dev.kqat.runtime.events.RunListener;
import dev.kqat.runtime.events.StepMetrics;
import dev.kqat.runtime.mixed.BitScheduler;
import dev.kqat.runtime.mixed.Candidates;
import dev.kqat.runtime.mixed.SubnetSampler;
import dev.kqat.runtime.quant.BitConfiguration;
import dev.kqat.runtime.tf.CheckpointVariables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Session;

/**
 * Trains a {@link SupernetGraph} (RFQuant, algorithms.md §2.1, §2.5–2.7): epochs of steps that each
 * train the max subnet and K random subnets drawn from the current candidates, the bit-width
 * scheduler's events at the reference's epochs mapped onto this run's progress, a checkpoint with the
 * scheduler's state after every epoch. The random subnets are a function of (seed, global step) and
 * the scheduler's events a function of the global step, so a run resumed from a checkpoint draws the
 * subnets the uninterrupted run would have drawn.
 */
public final class SupernetTrainer {
  /** The scheduler's state in a checkpoint folder: one dropped layer per line. */
  public static final String DROPPED_FILE = "dropped-candidates.txt";
  /** Batches of BN calibration when a plan gives none: the reference's {@code floor(7000 / 128) + 1}. */
  public static final int DEFAULT_BN_CALIBRATION_BATCHES = 7000 / 128 + 1;

  /**
   * How a supernet phase runs.
   *
   * @param calibrationBatches training batches that initialise the step sizes (§2.3) on a fresh start
   * @param bitScheduler whether the bit-width scheduler runs (§2.6)
   * @param bnCalibrationBatches training batches of the BN calibration before each final evaluation (§2.8)
   * @param uniformBits uniform subnets evaluated after training (each BN-calibrated first)
   */
  public record Plan(String phase, int epochs, int batchSize, Dataset train, Dataset test, CheckpointStore checkpoints,
      int calibrationBatches, boolean bitScheduler, int bnCalibrationBatches, List<Integer> uniformBits) {
    public Plan {
      // The fixed-bit phases' bounds of epochs and batch size (no BN re-estimation there).
      PhasePlan.requireValid(epochs, batchSize, 0, train);
    }
  }

  /**
   * @param uniform uniform bit-width to the BN-calibrated evaluation of that uniform subnet (on the EMA when kept)
   * @param uniformBeforeTraining the same of the starting network, after step-size calibration (post-training
   *     quantization of it at each uniform bit-width); empty for a resumed run
   * @param maxRunning the max subnet after the last epoch with its running BN statistics
   * @param dropped layers without their lowest weight candidate at the end
   */
  public record Result(Map<Integer, EvalMetrics> uniform, Map<Integer, EvalMetrics> uniformBeforeTraining, EvalMetrics maxRunning, double imagesPerSecond, long steps,
      double seconds, List<String> dropped) {}

  private final SupernetGraph graph;
  private final Session session;
  private final RunListener listener;
  private final Candidates candidates;

  public SupernetTrainer(SupernetGraph graph, Session session, RunListener listener) {
    this.graph = graph;
    this.session = session;
    this.listener = listener;
    this.candidates = new Candidates(graph.candidates());
  }

  /** The candidates as the scheduler leaves them now. */
  public Candidates candidates() {
    return candidates;
  }

  /**
   * Runs the phase.
   *
   * @param resumeFrom a checkpoint of this phase to continue from, or null
   * @param initFrom the network of fixed bits to start from (the FP32 checkpoint, §2.1), or null
   */
  public Result run(Plan plan, Path resumeFrom, Path initFrom) {
    int stepsPerEpoch = plan.train().batchCount(plan.batchSize(), true);
    long totalSteps = (long) stepsPerEpoch * plan.epochs();
    int startEpoch = 0;
    long globalStep = 0;
    String lastCheckpoint = null;
    Map<Integer, EvalMetrics> before = new LinkedHashMap<>();
    session.initialize();
    if (resumeFrom != null) {
      CheckpointState st = CheckpointStore.state(resumeFrom);
      if (!plan.phase().equals(st.phase())) {
        throw new IllegalArgumentException(resumeFrom + ": a checkpoint of phase '" + st.phase() + "', not '" + plan.phase() + "'");
      }
      restore(resumeFrom);
      startEpoch = st.epoch();
      globalStep = st.globalStep();
      lastCheckpoint = resumeFrom.toString();
    } else {
      if (initFrom != null) {
        graph.initFrom(session, initFrom);
      }
      calibrate(plan);
      graph.resetEma(session);
      // Training normalises with batch statistics: calibrating BN rows here changes no step.
      for (int bits : plan.uniformBits()) {
        before.put(bits, calibratedEvaluation(BitConfiguration.uniform(graph.candidates(), bits), plan.train(), plan.test(),
            plan.batchSize(), plan.bnCalibrationBatches()));
        listener.evaluated(plan.phase() + "/W" + bits + "A" + bits, 0, before.get(bits));
      }
    }
    listener.phaseStarted(plan.phase(), plan.epochs(), stepsPerEpoch, startEpoch);
    TrainingSetup setup = graph.setup();
    // The reference epoch of the step before: a resumed run takes the event its next step starts.
    int referenceEpoch = globalStep == 0 ? -1 : referenceEpoch(globalStep - 1, totalSteps);
    double seconds = 0;
    long images = 0;
    EvalMetrics last = null;
    for (int epoch = startEpoch + 1; epoch <= plan.epochs(); epoch++) {
      double lossSum = 0;
      double correct = 0;
      long epochImages = 0;
      long epochStart = System.nanoTime();
      Iterator<Batch> source = plan.train().batches(plan.batchSize(), true, Trainer.epochSeed(setup.seed(), epoch), true);
      try (Prefetcher batches = new Prefetcher(source, 3)) {
        int inEpoch = 0;
        while (batches.hasNext()) {
          try (Batch b = batches.next()) {
            int reference = referenceEpoch(globalStep, totalSteps);
            if (plan.bitScheduler() && reference > referenceEpoch
                && BitScheduler.runsAt(reference, BitScheduler.REFERENCE_EPOCHS)) {
              List<String> dropped = BitScheduler.apply(candidates, graph.turbulence(session, candidates),
                  BitScheduler.ratio(reference, BitScheduler.REFERENCE_EPOCHS));
              listener.bitWidthsScheduled(plan.phase(), globalStep, reference, dropped);
            }
            referenceEpoch = reference;
            double progress = (double) globalStep / totalSteps;
            List<BitConfiguration> subnets =
                SubnetSampler.draw(candidates, graph.randomSubnets(), setup.seed(), globalStep);
            listener.subnetsSampled(plan.phase(), globalStep, subnets);
            double lrW = setup.weights().learningRate().at(progress);
            SupernetGraph.StepOutcome out = graph.trainStep(session, b, subnets, candidates, lrW,
                setup.quantizers().learningRate().at(progress), progress, setup.seed(), globalStep);
            globalStep++;
            inEpoch++;
            if (!Float.isFinite(out.loss())) {
              throw new DivergenceException(plan.phase(), epoch, globalStep, out.loss(), lastCheckpoint);
            }
            lossSum += out.maxLoss() * b.size();
            correct += out.maxCorrect();
            epochImages += b.size();
            double elapsed = (System.nanoTime() - epochStart) / 1e9;
            listener.stepEnded(new StepMetrics(plan.phase(), epoch, inEpoch, stepsPerEpoch, globalStep,
                out.loss(), out.maxCorrect() / b.size(), lrW, epochImages / Math.max(elapsed, 1e-9)));
          }
        }
      }
      double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
      seconds += epochSeconds;
      images += epochImages;
      last = evaluate(SubnetSampler.max(candidates), plan.test(), plan.batchSize());
      listener.evaluated(plan.phase(), epoch, last);
      listener.epochEnded(new EpochMetrics(plan.phase(), epoch, lossSum / epochImages, correct / epochImages, last, null,
          epochImages / epochSeconds, epochSeconds, null, null));
      if (plan.checkpoints() != null) {
        Path saved = save(plan.checkpoints(), new CheckpointState(plan.phase(), epoch, plan.epochs(), globalStep));
        lastCheckpoint = saved.toString();
        listener.checkpointSaved(plan.phase(), epoch, saved);
      }
    }
    if (last == null) {
      last = evaluate(SubnetSampler.max(candidates), plan.test(), plan.batchSize());
    }
    if (graph.hasEma()) {
      graph.useEma(session);
    }
    Map<Integer, EvalMetrics> uniform = new LinkedHashMap<>();
    for (int bits : plan.uniformBits()) {
      BitConfiguration config = BitConfiguration.uniform(graph.candidates(), bits);
      uniform.put(bits, calibratedEvaluation(config, plan.train(), plan.test(), plan.batchSize(), plan.bnCalibrationBatches()));
      listener.evaluated(plan.phase() + "/W" + bits + "A" + bits, plan.epochs(), uniform.get(bits));
    }
    listener.phaseEnded(plan.phase());
    return new Result(uniform, before, last, seconds > 0 ? images / seconds : 0, globalStep, seconds, candidates.droppedLayers());
  }

  /** The epoch of the reference's 150 that {@code step} of {@code totalSteps} falls in. */
  static int referenceEpoch(long step, long totalSteps) {
    return (int) Math.min(BitScheduler.REFERENCE_EPOCHS - 1, step * BitScheduler.REFERENCE_EPOCHS / totalSteps);
  }

  private void calibrate(Plan plan) {
    long start = System.nanoTime();
    List<Batch> batches = new ArrayList<>();
    int images = graph.setup().policy().calibrationImages();
    Iterator<Batch> it = plan.train().batches(images > 0 ? images : plan.batchSize(), true,
        Trainer.epochSeed(graph.setup().seed(), 0), true);
    try {
      for (int i = 0; i < Math.max(1, plan.calibrationBatches()) && it.hasNext(); i++) {
        batches.add(it.next());
      }
      graph.calibrate(session, batches);
    } finally {
      batches.forEach(Batch::close);
    }
    listener.calibrated(plan.phase(), graph.quantizers().size(), (System.nanoTime() - start) / 1e9);
  }

  /**
   * {@code config} after BN calibration on {@code bnBatches} training batches (§2.8; drawn with a
   * fixed seed, so the same configuration gives the same figure), evaluated on {@code test}.
   */
  public EvalMetrics calibratedEvaluation(BitConfiguration config, Dataset train, Dataset test, int batchSize, int bnBatches) {
    return calibratedEvaluationByExample(config, train, test, batchSize, bnBatches, 0).metrics();
  }

  /**
   * As {@link #calibratedEvaluation}, with the test examples {@code config} classifies right. Calibration
   * {@code draw} 0 takes the batches every evaluation takes; each other draw its own fixed set, so that
   * repeating the calibration shows how much a figure owes to the batches it was calibrated on.
   */
  public SubnetEvaluation calibratedEvaluationByExample(BitConfiguration config, Dataset train, Dataset test, int batchSize,
      int bnBatches, int draw) {
    if (draw < 0) {
      throw new IllegalArgumentException("calibration draw must be >= 0, got " + draw);
    }
    long seed = (Trainer.epochSeed(graph.setup().seed(), 0) ^ 0x5eed) + draw * 0x9E3779B97F4A7C15L;
    Iterator<Batch> source = train.batches(batchSize, true, seed, true);
    try (Prefetcher batches = new Prefetcher(source, 3)) {
      graph.calibrateBn(session, batches, bnBatches, config);
    }
    BitSet right = new BitSet();
    int[] seen = {0}; // examples before the batch: Trainer.evaluate reads the test set in order
    EvalMetrics metrics = Trainer.evaluate(test, batchSize, b -> {
      SupernetGraph.ExampleOutcome out = graph.evaluateExamples(session, b, config);
      int correct = 0;
      for (int i = 0; i < out.hits().length; i++) {
        right.set(seen[0] + i, out.hits()[i]);
        correct += out.hits()[i] ? 1 : 0;
      }
      seen[0] += out.hits().length;
      return new TrainingGraph.EvalOutcome(out.lossSum(), correct);
    });
    return new SubnetEvaluation(metrics, right);
  }

  /**
   * A subnet's evaluation and, by index in the test set's order, the examples it classifies right: two
   * subnets' sets give a paired comparison on the same images.
   */
  public record SubnetEvaluation(EvalMetrics metrics, BitSet right) {}

  /** Top-1 and mean loss of {@code config} with the running BN statistics of its rows. */
  public EvalMetrics evaluate(BitConfiguration config, Dataset data, int batchSize) {
    return Trainer.evaluate(data, batchSize, b -> graph.evaluate(session, b, config));
  }

  /** Loads a supernet checkpoint: every variable and the scheduler's state. */
  public void restore(Path checkpoint) {
    CheckpointVariables.restore(session, graph.tf(), checkpoint, graph.params());
    Path dropped = checkpoint.resolve(DROPPED_FILE);
    try {
      candidates.setDropped(Files.isRegularFile(dropped)
          ? Arrays.stream(Files.readString(dropped).split("\n")).map(String::trim).filter(l -> !l.isEmpty()).toList()
          : List.of());
    } catch (IOException e) {
      throw new UncheckedIOException(dropped + ": unreadable: " + e.getMessage(), e);
    }
  }

  private Path save(CheckpointStore store, CheckpointState state) {
    String dropped = String.join("\n", candidates.droppedLayers());
    return store.save(session, graph.tf(), graph.params(), state, Map.of(DROPPED_FILE, dropped.isEmpty() ? "" : dropped + "\n"));
  }
}
