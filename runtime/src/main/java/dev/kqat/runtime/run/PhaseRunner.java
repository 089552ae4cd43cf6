package dev.kqat.runtime.run;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.events.EvalMetrics;
import dev.kqat.runtime.export.OnnxExport;
import dev.kqat.runtime.events.OscillationMetrics;
import dev.kqat.runtime.quant.LayerCost;
import dev.kqat.runtime.events.RunListener;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.quant.QuantizerTarget;
import dev.kqat.runtime.tf.DeviceSetting;
import dev.kqat.runtime.train.CheckpointStore;
import dev.kqat.runtime.train.PhasePlan;
import dev.kqat.runtime.train.PhaseResult;
import dev.kqat.runtime.train.Trainer;
import dev.kqat.runtime.train.TrainingGraph;
import dev.kqat.runtime.train.TrainingSetup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * The one entry point from a resolved phase to TensorFlow (architecture.md): builds the phase's
 * graph, opens its session, trains it through the {@link Trainer} (checkpoints, BN re-estimation,
 * events) and reads tensors back for reports. Callers above the runtime (dsl, scripts) use this
 * and never touch TensorFlow types.
 *
 * <p>The setup's {@link DeviceSetting} is resolved first (a GPU TensorFlow does
 * not see fails before any graph is built), every op is placed on it, and the session gets its
 * thread counts and soft placement ({@link DeviceSetting#sessionConfig()}).
 */
public final class PhaseRunner implements AutoCloseable {
  private final TrainingGraph graph;
  private final Session session;

  public PhaseRunner(TrainingSetup setup) {
    this.graph = new TrainingGraph(setup);
    this.session = graph.newSession();
  }

  /**
   * Runs the phase.
   *
   * @param resumeFrom a checkpoint of this same phase to continue from, or null
   * @param initFrom another phase's checkpoint or Keras weights to start from, or null
   */
  public PhaseResult train(PhasePlan plan, Path resumeFrom, Path initFrom, RunListener listener) {
    return new Trainer(graph, session, listener).run(plan, resumeFrom, initFrom);
  }

  /** Loads every variable from a checkpoint of this setup. */
  public void restore(Path checkpoint) {
    CheckpointStore.restore(session, graph, checkpoint);
  }

  /**
   * A checkpoint evaluated on the plan's test data.
   *
   * @param stored with the BN statistics the checkpoint holds
   * @param bnReestimated after BN re-estimation over the plan's batches; null when the plan asks
   *     for none or the model has no BN
   */
  public record CheckpointEvaluation(EvalMetrics stored, EvalMetrics bnReestimated) {}

  /**
   * Restores {@code checkpoint} and evaluates it, then again after BN re-estimation. The
   * re-estimation draws the training batches the run drew after the checkpoint's epoch, so a
   * checkpoint of a run that re-estimated gives back that run's figure.
   */
  public CheckpointEvaluation evaluate(Path checkpoint, PhasePlan plan) {
    restore(checkpoint);
    Trainer trainer = new Trainer(graph, session, new RunListener() {});
    EvalMetrics stored = trainer.evaluate(plan.test(), plan.batchSize());
    if (plan.bnReestimationBatches() == 0 || !graph.hasBatchNorm()) {
      return new CheckpointEvaluation(stored, null);
    }
    trainer.reestimateBn(plan, CheckpointStore.state(checkpoint).epoch());
    return new CheckpointEvaluation(stored, trainer.evaluate(plan.test(), plan.batchSize()));
  }

  /**
   * Every weight layer of the network as the session holds it (restore a checkpoint first): cost,
   * quantizers' bits, signedness and step sizes, and the trackers' figures when the phase tracks.
   */
  public List<LayerInspection> inspect() {
    Map<String, LayerInspection.QuantizerState> states = quantizerStates();
    Map<String, OscillationMetrics.Layer> tracked = new HashMap<>();
    OscillationMetrics oscillations = graph.oscillationMetrics(session);
    if (oscillations != null) {
      oscillations.layers().forEach(l -> tracked.put(l.name(), l));
    }
    List<LayerInspection> rows = new ArrayList<>();
    for (LayerCost cost : graph.summary().costs()) {
      String weight = cost.name() + "/weight";
      String input = graph.layerInputQuantizers().get(cost.name());
      rows.add(new LayerInspection(cost, states.get(weight), input == null ? null : states.get(input), tracked.get(weight)));
    }
    return rows;
  }

  /** Every quantizer's state, read in one run (each new fetch list costs TensorFlow a graph prune). */
  private Map<String, LayerInspection.QuantizerState> quantizerStates() {
    List<Quantizer> quantizers = graph.quantizers();
    Map<String, LayerInspection.QuantizerState> states = new HashMap<>();
    if (quantizers.isEmpty()) {
      return states;
    }
    Session.Runner runner = session.runner();
    quantizers.forEach(q -> runner.fetch(q.currentStepSize()).fetch(q.lowest()));
    try (Result r = runner.run()) {
      for (int k = 0; k < quantizers.size(); k++) {
        Quantizer q = quantizers.get(k);
        float[] steps = values((TFloat32) r.get(2 * k));
        float lowest = values((TFloat32) r.get(2 * k + 1))[0];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (float step : steps) {
          min = Math.min(min, step);
          max = Math.max(max, step);
        }
        states.put(q.name(),
            new LayerInspection.QuantizerState(q.name(), q.spec().bits(), lowest < 0, q.spec().perChannel(), min, max));
      }
    }
    return states;
  }

  /**
   * A weight quantizer's latent weights in units of its step size, {@code w / s} (per-channel
   * steps follow the kernel's trailing axis).
   *
   * @param quantizer the quantizer's name, e.g. {@code block1/dw/weight}
   * @param bits its bit-width
   * @param valuesInSteps one value per kernel element
   */
  public record WeightsInSteps(String quantizer, int bits, float[] valuesInSteps) {}

  /** The latent weights of every weight quantizer of at most {@code maxBits} bits, in their steps. */
  public List<WeightsInSteps> weightsInSteps(int maxBits) {
    List<Quantizer> chosen = graph.quantizers().stream()
        .filter(q -> q.target() == QuantizerTarget.WEIGHT && q.spec().bits() <= maxBits)
        .toList();
    List<WeightsInSteps> out = new ArrayList<>();
    if (chosen.isEmpty()) {
      return out;
    }
    Session.Runner runner = session.runner();
    chosen.forEach(q -> runner.fetch(graph.quantizerInputs().get(q.name())).fetch(q.currentStepSize()));
    try (Result r = runner.run()) {
      for (int k = 0; k < chosen.size(); k++) {
        float[] w = values((TFloat32) r.get(2 * k));
        float[] s = values((TFloat32) r.get(2 * k + 1));
        float[] u = new float[w.length];
        for (int i = 0; i < w.length; i++) {
          u[i] = w[i] / Math.max(s[i % s.length], 1e-8f);
        }
        out.add(new WeightsInSteps(chosen.get(k).name(), chosen.get(k).spec().bits(), u));
      }
    }
    return out;
  }

  /**
   * Writes the network the session holds (restore a checkpoint first) as ONNX; see
   * {@link OnnxExport}.
   */
  public OnnxExport.Summary exportOnnx(Path file, String name) {
    return OnnxExport.write(graph, session, file, name);
  }

  /** The evaluation pass's logits of {@code batch}, [image][class]. */
  public float[][] logits(Batch batch) {
    return graph.logits(session, batch);
  }

  /**
   * Per image of {@code batch}, how near the evaluation pass brings a quantized activation to a
   * rounding tie: the least {@code |u - floor(u) - 0.5|} over every activation quantizer's
   * {@code u = x/s} inside its integer range (0.5: all on integers; near 0: one sits on a tie,
   * where two float implementations of the same network may round apart).
   */
  public float[] roundingMargins(Batch batch) {
    List<Quantizer> activations =
        graph.quantizers().stream().filter(q -> q.target() == QuantizerTarget.ACTIVATION).toList();
    float[] margins = new float[batch.size()];
    java.util.Arrays.fill(margins, 0.5f);
    if (activations.isEmpty()) {
      return margins;
    }
    // Quantizers that read the same tensor (a residual branch and its shortcut) share one fetch.
    Map<Operand<TFloat32>, Integer> fetchIndex = new java.util.LinkedHashMap<>();
    Session.Runner runner = session.runner().feed(graph.images(), batch.images());
    for (Quantizer q : activations) {
      fetchIndex.computeIfAbsent(graph.quantizerInputs().get(q.name()).asOutput(), x -> {
        runner.fetch(x);
        return fetchIndex.size();
      });
    }
    for (Quantizer q : activations) {
      runner.fetch(q.currentStepSize()).fetch(q.lowest()).fetch(q.highest());
    }
    try (Result r = runner.run()) {
      int inputs = fetchIndex.size();
      for (int k = 0; k < activations.size(); k++) {
        Quantizer q = activations.get(k);
        float[] x = values((TFloat32) r.get(fetchIndex.get(graph.quantizerInputs().get(q.name()).asOutput())));
        float s = Math.max(values((TFloat32) r.get(inputs + 3 * k))[0], 1e-8f);
        float n = values((TFloat32) r.get(inputs + 3 * k + 1))[0];
        float p = values((TFloat32) r.get(inputs + 3 * k + 2))[0];
        int perImage = x.length / batch.size();
        for (int i = 0; i < x.length; i++) {
          float u = x[i] / s;
          if (u >= n && u <= p) {
            int image = i / perImage;
            margins[image] = Math.min(margins[image], (float) Math.abs(u - Math.floor(u) - 0.5));
          }
        }
      }
    }
    return margins;
  }

  private static float[] values(TFloat32 t) {
    float[] out = new float[(int) Math.max(1, t.shape().size())];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
