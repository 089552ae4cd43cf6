package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.data.Prefetcher;
import dev.kqat.runtime.distill.CropBatch;
import dev.kqat.runtime.distill.CropPasses;
import dev.kqat.runtime.distill.SoftLabelReplay;
import dev.kqat.runtime.distill.StoredSoftLabels;
import dev.kqat.runtime.events.EpochMetrics;
import dev.kqat.runtime.events.EvalMetrics;
import dev.kqat.runtime.events.OscillationMetrics;
import dev.kqat.runtime.events.RunListener;
import dev.kqat.runtime.events.StepMetrics;
import dev.kqat.runtime.io.KerasH5Weights;
import dev.kqat.runtime.io.SafetensorsFile;
import dev.kqat.runtime.io.WeightImport;
import dev.kqat.runtime.models.KerasLayout;
import dev.kqat.runtime.quant.LayerInfo;
import dev.kqat.runtime.quant.Quantizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Session;

/**
 * The training loop: Java feeds batches and learning rates and fetches two scalars per step;
 * everything else happens inside the graph. Progress is reported through a {@link RunListener}.
 */
public final class Trainer {
  private final TrainingGraph graph;
  private final Session session;
  private final RunListener listener;

  public Trainer(TrainingGraph graph, Session session, RunListener listener) {
    this.graph = graph;
    this.session = session;
    this.listener = listener;
  }

  /**
   * Runs a phase.
   *
   * @param resumeFrom a checkpoint of this same phase to continue from, or null
   * @param initFrom a checkpoint (e.g. FP32 pre-training) whose matching variables start this
   *     phase, or Keras {@code .h5} or timm ViT {@code .safetensors} weights ({@link WeightImport}), or null; ignored when
   *     resuming
   */
  public PhaseResult run(PhasePlan plan, Path resumeFrom, Path initFrom) {
    int startEpoch = 0;
    long globalStep = 0;
    String lastCheckpoint = null;
    if (resumeFrom != null) {
      CheckpointState st = CheckpointStore.state(resumeFrom);
      if (!st.phase().equals(plan.phase())) {
        throw new IllegalArgumentException(
            resumeFrom + ": belongs to phase '" + st.phase() + "', not '" + plan.phase() + "'");
      }
      CheckpointStore.restore(session, graph, resumeFrom);
      graph.loadTeacher(session);
      startEpoch = st.epoch();
      globalStep = st.globalStep();
      lastCheckpoint = resumeFrom.toString();
    } else {
      session.initialize();
      graph.loadTeacher(session);
      Set<String> handedOver = Set.of();
      if (initFrom != null && (KerasH5Weights.isH5(initFrom) || SafetensorsFile.isSafetensors(initFrom))) {
        importWeights(plan.phase(), initFrom);
      } else if (initFrom != null) {
        handedOver = CheckpointStore.handOver(session, graph, initFrom);
      }
      // Quantizers that came trained from the previous phase keep their step sizes and ranges.
      Set<String> inherited = handedOver;
      calibrate(plan, graph.quantizers().stream()
          .filter(q -> !inherited.contains(q.scaleName())).toList());
    }
    if (plan.epochs() == 0) {
      listener.phaseStarted(plan.phase(), 0, plan.train().batchCount(plan.batchSize(), true), startEpoch);
      return postTraining(plan, globalStep);
    }
    StoredSoftLabels stored = graph.storedSoftLabels();
    List<CropPasses.Pass> passes = CropPasses.of(plan.epochs(), stored == null ? 1 : stored.crops());
    long totalSteps = 0;
    for (CropPasses.Pass pass : passes) {
      totalSteps += stepsIn(plan, pass);
      if (startEpoch > pass.firstEpoch() && startEpoch < pass.lastEpoch()) {
        throw new IllegalArgumentException(resumeFrom + ": epoch " + startEpoch + " lies inside the pass of epochs "
            + pass.firstEpoch() + ".." + pass.lastEpoch() + " (" + pass.crops() + " crops per image)");
      }
    }
    listener.phaseStarted(plan.phase(), plan.epochs(), stepsIn(plan, passes.get(0)), startEpoch);
    try (SoftLabelReplay replay = stored == null ? null : SoftLabelReplay.open(stored, plan.train())) {
      return train(plan, resumeFrom, passes, replay, startEpoch, globalStep, totalSteps, lastCheckpoint);
    }
  }

  /** Training batches of a pass: {@code ceil(batchSize / crops)} images per step, final partial batch dropped. */
  private static int stepsIn(PhasePlan plan, CropPasses.Pass pass) {
    return plan.train().batchCount(CropPasses.imagesPerStep(plan.batchSize(), pass.crops()), true);
  }

  private PhaseResult train(PhasePlan plan, Path resumeFrom, List<CropPasses.Pass> passes, SoftLabelReplay replay,
      int startEpoch, long globalStep, long totalSteps, String lastCheckpoint) {
    EvalMetrics beforeTraining = null;
    if (resumeFrom == null && plan.evaluateBeforeTraining()) {
      beforeTraining = evaluate(plan.test(), plan.batchSize());
      listener.evaluated(plan.phase(), 0, beforeTraining);
    }
    EvalMetrics last = null;
    EvalMetrics withoutBn = null;
    double seconds = 0;
    long images = 0;
    TrainingSetup setup = graph.setup();
    for (CropPasses.Pass pass : passes) {
      if (pass.lastEpoch() <= startEpoch) {
        continue;
      }
      // A pass of c crops counts as c epochs (§3.4); without stored crops every pass is one epoch.
      int epoch = pass.lastEpoch();
      int stepsInPass = stepsIn(plan, pass);
      double lossSum = 0;
      double correct = 0;
      long epochImages = 0;
      long epochStart = System.nanoTime();
      long passSeed = epochSeed(setup.seed(), pass.firstEpoch() + 1);
      int imagesPerStep = CropPasses.imagesPerStep(plan.batchSize(), pass.crops());
      Iterator<Batch> source = replay == null ? plan.train().batches(imagesPerStep, true, passSeed, true)
          : replay.batches(plan.train(), imagesPerStep, pass.crops(), passSeed);
      try (Prefetcher batches = new Prefetcher(source, 3)) {
        int inEpoch = 0;
        while (batches.hasNext()) {
          try (Batch b = batches.next()) {
            double progress = (double) globalStep / totalSteps;
            double lrW = setup.weights().learningRate().at(progress);
            double lrQ = setup.quantizers().learningRate().at(progress);
            globalStep++;
            inEpoch++;
            TrainingGraph.StepOutcome out;
            int examples;
            if (replay == null) {
              out = graph.trainStep(session, b, lrW, lrQ, progress, setup.seed(), globalStep);
              examples = b.size();
            } else {
              try (CropBatch crops = replay.crops(b, pass.crops(), passSeed)) {
                out = graph.trainStep(session, crops, lrW, lrQ, progress, setup.seed(), globalStep);
                examples = crops.size();
              }
            }
            if (!Float.isFinite(out.loss())) {
              throw new DivergenceException(plan.phase(), epoch, globalStep, out.loss(), lastCheckpoint);
            }
            lossSum += out.loss() * examples;
            correct += out.correct();
            epochImages += examples;
            double elapsed = (System.nanoTime() - epochStart) / 1e9;
            listener.stepEnded(new StepMetrics(plan.phase(), epoch, inEpoch, stepsInPass, globalStep,
                out.loss(), out.correct() / examples, lrW, epochImages / Math.max(elapsed, 1e-9)));
          }
        }
      }
      double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
      seconds += epochSeconds;
      images += epochImages;
      EvalMetrics running = evaluate(plan.test(), plan.batchSize());
      withoutBn = null;
      last = running;
      if (reestimatesBn(plan)) {
        reestimateBn(plan, epoch);
        withoutBn = running;
        last = evaluate(plan.test(), plan.batchSize());
      }
      listener.evaluated(plan.phase(), epoch, last);
      listener.epochEnded(new EpochMetrics(plan.phase(), epoch, lossSum / epochImages,
          correct / epochImages, last, withoutBn, epochImages / epochSeconds, epochSeconds, oscillations(),
          graph.binRegularizerMetrics(session, (double) (globalStep - 1) / totalSteps)));
      if (plan.checkpoints() != null) {
        Path saved = plan.checkpoints().save(session, graph,
            new CheckpointState(plan.phase(), epoch, plan.epochs(), globalStep));
        lastCheckpoint = saved.toString();
        listener.checkpointSaved(plan.phase(), epoch, saved);
      }
    }
    if (last == null) {
      last = evaluate(plan.test(), plan.batchSize());
    }
    listener.phaseEnded(plan.phase());
    return new PhaseResult(last, withoutBn, seconds > 0 ? images / seconds : 0, globalStep, seconds,
        oscillations(), beforeTraining);
  }

  /**
   * Post-training quantization (a plan of 0 epochs): the calibrated network is evaluated with the
   * running BN statistics, then, when the plan asks, after BN re-estimation; one checkpoint (epoch 0)
   * keeps it for export, inspection and evaluation.
   */
  private PhaseResult postTraining(PhasePlan plan, long globalStep) {
    EvalMetrics running = evaluate(plan.test(), plan.batchSize());
    EvalMetrics last = running;
    EvalMetrics withoutBn = null;
    if (reestimatesBn(plan)) {
      reestimateBn(plan, 0);
      withoutBn = running;
      last = evaluate(plan.test(), plan.batchSize());
    }
    listener.evaluated(plan.phase(), 0, last);
    if (plan.checkpoints() != null) {
      Path saved = plan.checkpoints().save(session, graph, new CheckpointState(plan.phase(), 0, 0, globalStep));
      listener.checkpointSaved(plan.phase(), 0, saved);
    }
    listener.phaseEnded(plan.phase());
    return new PhaseResult(last, withoutBn, 0, globalStep, 0, null, running);
  }

  private boolean reestimatesBn(PhasePlan plan) {
    return plan.bnReestimationBatches() > 0 && graph.hasBatchNorm();
  }

  /**
   * BN re-estimation (algorithms.md §1.8): running statistics := the average of the per-batch
   * statistics of {@code plan.bnReestimationBatches()} training batches (training augmentation),
   * quantizers in evaluation mode. The statistics stay in the model.
   */
  public void reestimateBn(PhasePlan plan, int epoch) {
    Iterator<Batch> source = plan.train().batches(
        plan.batchSize(), true, epochSeed(graph.setup().seed(), epoch) ^ 0x5eed, true);
    try (Prefetcher batches = new Prefetcher(source, 3)) {
      graph.reestimateBn(session, batches, plan.bnReestimationBatches());
    }
  }

  /** Top-1 and mean loss over a dataset with the evaluation pass (running BN statistics). */
  public EvalMetrics evaluate(Dataset data, int batchSize) {
    return evaluate(data, batchSize, b -> graph.evaluateBatch(session, b));
  }

  /** Top-1 and mean loss over a dataset, {@code pass} evaluating each batch. */
  static EvalMetrics evaluate(Dataset data, int batchSize, java.util.function.Function<Batch, TrainingGraph.EvalOutcome> pass) {
    double lossSum = 0;
    double correct = 0;
    int count = 0;
    try (Prefetcher batches = new Prefetcher(data.batches(batchSize, false, 0, false), 3)) {
      while (batches.hasNext()) {
        try (Batch b = batches.next()) {
          TrainingGraph.EvalOutcome out = pass.apply(b);
          lossSum += out.lossSum();
          correct += out.correct();
          count += b.size();
        }
      }
    }
    return new EvalMetrics(lossSum / count, correct / count, count);
  }

  private void importWeights(String phase, Path file) {
    List<LayerInfo> layers = graph.summary().layers();
    String classifier = layers.get(layers.size() - 1).name();
    WeightImport.Result r;
    if (SafetensorsFile.isSafetensors(file)) {
      r = WeightImport.timmVit(session, graph.params(), file, classifier);
    } else {
      Map<String, String> names =
          graph.setup().model() instanceof KerasLayout k ? k.kerasLayerNames() : null;
      r = WeightImport.keras(session, graph.params(), file, names, classifier);
    }
    listener.weightsImported(phase, file, r.loaded(), r.skipped());
  }


  private void calibrate(PhasePlan plan, List<Quantizer> quantizers) {
    if (quantizers.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    List<Batch> batches = new ArrayList<>();
    int images = graph.setup().policy().calibrationImages();
    Iterator<Batch> it = plan.train().batches(
        images > 0 ? images : plan.batchSize(), true, epochSeed(graph.setup().seed(), 0), true);
    try {
      for (int i = 0; i < Math.max(1, plan.calibrationBatches()) && it.hasNext(); i++) {
        batches.add(it.next());
      }
      graph.calibrate(session, quantizers, batches);
    } finally {
      batches.forEach(Batch::close);
    }
    listener.calibrated(plan.phase(), quantizers.size(), (System.nanoTime() - start) / 1e9);
  }

  /** The trackers' figures now, or null without tracking. */
  public OscillationMetrics oscillations() {
    return graph.oscillationMetrics(session);
  }

  static long epochSeed(long seed, int epoch) {
    return seed * 1_000_003L + epoch;
  }
}
