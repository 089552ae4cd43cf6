package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.mixed.BitScheduler;
import dev.kqat.runtime.mixed.Candidates;
import dev.kqat.runtime.oscillation.BnReestimation;
import dev.kqat.runtime.models.ModelInspector;
import dev.kqat.runtime.nn.ModelState;
import dev.kqat.runtime.nn.NetContext;
import dev.kqat.runtime.nn.PassBits;
import dev.kqat.runtime.nn.PassMode;
import dev.kqat.runtime.nn.QuantHooks;
import dev.kqat.runtime.quant.BitConfiguration;
import dev.kqat.runtime.quant.BitRange;
import dev.kqat.runtime.quant.Calibration;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.LayerInfo;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.tf.Param;
import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.CheckpointVariables;
import dev.kqat.runtime.tf.DeviceSetting;
import dev.kqat.runtime.tf.FeatureMse;
import dev.kqat.runtime.tf.ParamStore;
import java.util.ArrayList;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The graph of a supernet training phase (RFQuant, algorithms.md §2.5): the max subnet and K random
 * subnets as K+1 training passes over the same variables, each reading its bit-widths from inputs of
 * its own. The max subnet's loss is cross-entropy; each random subnet's is half cross-entropy and half
 * KL divergence from the max subnet's detached softmax (in-place distillation), plus IDM: the mean
 * squared difference of its switchable BN outputs from the max subnet's, at the layers that drew their
 * lowest current weight bit-width (fed per step), weighted {@code idmWeight}. One gradient of the summed
 * loss equals the reference's accumulated backward passes; every element is clipped to ±{@code clip};
 * SGD updates the weights (decay on convolution kernels only), the step-size optimizer the
 * quantizers. An evaluation pass and a batch-statistics pass (the search's scoring, §2.10), each with
 * bit inputs of its own, run any configuration. Running BN statistics of a switchable BN are updated by
 * every pass that selects their row; an evaluation of a found configuration recalibrates them first.
 */
public final class SupernetGraph implements AutoCloseable {
  /**
   * How a supernet trains.
   *
   * @param randomSubnets random subnets per step besides the max one (K, reference 3)
   * @param idmWeight weight of the feature loss (reference 0.01; 0: off)
   * @param clip every gradient element is clipped to ±clip (reference 1)
   * @param emaDecay decay of the model's exponential moving average, updated after every step
   *     (reference 0.9997; 0: no EMA). Evaluation and search use the EMA ({@link #useEma}).
   * @param qeWeight final weight of the random subnets' QE loss, reached by a cosine from 0 (reference 0.1; 0: off)
   * @param qeStart progress at which the QE loss starts (reference: epoch 40 of 150)
   * @param regionDecay multiplier of the random subnets' adaptive-region term ({@link AdaptiveRegionDecayLoss}):
   *     adaptive-region decay − the kernels' weight decay (reference 0 − 2.5e-5; 0: off)
   */
  public record Spec(int randomSubnets, double idmWeight, double clip, double emaDecay, double qeWeight, double qeStart,
      double regionDecay) {
    public static final Spec DEFAULT = new Spec(3, 0.01, 1.0, 0.0, 0.1, 40.0 / 150, -2.5e-5);

    /** The QE loss's weight at {@code progress}: 0 before {@link #qeStart}, then a cosine from 0 to {@link #qeWeight}. */
    public double qeWeightAt(double progress) {
      return progress < qeStart ? 0 : new dev.kqat.runtime.schedule.Schedule.Cosine(0, qeWeight, qeStart).at(progress);
    }
  }

  private final Graph graph;
  private final Ops tf;
  private final TrainingSetup setup;
  private final ParamStore params;
  private final ModelState state;
  private final ModelInspector.Summary summary;
  private final Map<String, BitRange> candidates;
  private final Placeholder<TFloat32> images;
  private final Placeholder<TInt32> labels;
  private final Placeholder<TFloat32> lrWeights;
  private final Placeholder<TFloat32> lrQuantizers;
  private final Placeholder<TInt64> stepKey;
  private final Operand<TFloat32> qeWeight;
  /** Per searchable layer, its weight quantizer (QE loss, turbulence). */
  private final Map<String, Quantizer> weightQuantizers = new LinkedHashMap<>();
  /** Per searchable layer, its lowest current weight candidate (QE loss), fed per step. */
  private final Map<String, Operand<TInt32>> lowestWeightBits = new LinkedHashMap<>();
  private final List<PassBits> subnetBits = new ArrayList<>();
  private final List<Map<String, Operand<TFloat32>>> idmMasks = new ArrayList<>();
  private final Operand<TFloat32> totalLoss;
  private final Operand<TFloat32> maxLoss;
  private final Operand<TFloat32> maxCorrect;
  private final Spec spec;
  private final Op step;
  private final Op emaReset;
  private final Op emaUse;
  private final BnReestimation bnCalibration;
  private final PassBits evalBits;
  private final Operand<TFloat32> evalLossSum;
  private final Operand<TFloat32> evalCorrect;
  private final Operand<TFloat32> evalHits;
  private final PassBits searchBits;
  private final Operand<TFloat32> searchCorrect;
  private final Operand<TFloat32> searchLossSum;
  /** The search pass's input of every searchable layer, in forward order ({@link SearchBatch}). */
  private final Map<String, Operand<TFloat32>> searchLayerInputs = new LinkedHashMap<>();
  /** The keys of {@link #searchLayerInputs}, in forward order. */
  private final List<String> searchLayers;
  private final Map<String, Operand<TFloat32>> quantizerInputs;
  /** Suffix of a switchable BN's tables ({@code Layers}): {@code <bn>/gamma_per_bits} holds the rows of {@code <bn>/gamma}. */
  private static final String PER_BITS = "_per_bits";

  /** A supernet graph that trains ({@link #trainStep}), evaluates and searches. */
  public SupernetGraph(TrainingSetup requested, Spec spec) {
    this(requested, spec, true);
  }

  /**
   * A graph that only evaluates and searches a trained supernet ({@link #loadTrained}): no random
   * passes, gradients, optimizer or EMA, which take most of a training graph's build time (tiny-MBV2
   * on 2 cores: 2.7 s against 26–34 s).
   */
  public static SupernetGraph forEvaluation(TrainingSetup setup, Spec spec) {
    return new SupernetGraph(setup, spec, false);
  }

  private SupernetGraph(TrainingSetup requested, Spec spec, boolean training) {
    this.spec = spec;
    DeviceSetting device = requested.device().resolve();
    this.setup = requested.withDevice(device).withKernel(requested.kernel().on(device));
    this.summary = ModelInspector.inspect(setup.model());
    Map<String, BitRange> found = new LinkedHashMap<>();
    for (LayerInfo l : summary.layers()) {
      BitRange r = this.setup.policy().candidates(l);
      if (r != null) {
        found.put(l.name(), r);
      }
    }
    if (found.isEmpty()) {
      throw new IllegalArgumentException("a supernet needs a policy that gives layers candidate bit-widths (mixed precision)");
    }
    this.candidates = Collections.unmodifiableMap(found);
    this.graph = new Graph();
    this.tf = Ops.create(graph).withDevice(device.deviceSpec());
    this.params = new ParamStore(tf, setup.seed());
    this.state = new ModelState(params, setup.policy(), summary.layers(), setup.kernel(), QuantHooks.NONE);
    int[] in = setup.model().inputShape();
    int classes = setup.model().numClasses();
    images = tf.withName("images").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, in[0], in[1], in[2])));
    labels = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    lrWeights = tf.withName("lr_weights").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    lrQuantizers = tf.withName("lr_quantizers").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    stepKey = tf.withName("step_key").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    qeWeight = tf.withName("qe_weight").placeholderWithDefault(tf.constant(0f), Shape.scalar());
    Ops qeLowest = tf.withSubScope("qe_lowest"); // once: withSubScope scans every op of the graph
    for (Map.Entry<String, BitRange> c : candidates.entrySet()) {
      lowestWeightBits.put(c.getKey(), qeLowest.withName(c.getKey().replace('/', '.'))
          .placeholderWithDefault(tf.constant(c.getValue().lowest()), Shape.scalar()));
    }
    NetContext max = new NetContext(state, PassMode.TRAIN, stepKey, new PassBits("max"));
    Operand<TFloat32> maxLogits = setup.model().forward(max, images);
    maxLoss = tf.math.mean(Losses.crossEntropy(tf, maxLogits, labels, classes, setup.labelSmoothing()), tf.constant(0));
    maxCorrect = Losses.correctCount(tf, maxLogits, labels);
    // The max pass created every quantizer.
    for (String layer : candidates.keySet()) {
      weightQuantizers.put(layer, state.quantizers().stream().filter(q -> q.name().equals(layer + "/weight")).findFirst()
          .orElseThrow(() -> new IllegalStateException("searchable layer '" + layer + "' has no weight quantizer")));
    }
    if (training) {
      TrainingOps ops = buildTraining(max, maxLogits, classes);
      totalLoss = ops.totalLoss();
      step = ops.step();
      emaReset = ops.emaReset();
      emaUse = ops.emaUse();
    } else {
      totalLoss = null;
      step = null;
      emaReset = null;
      emaUse = null;
    }

    evalBits = new PassBits("eval");
    NetContext eval = new NetContext(state, PassMode.EVAL, null, evalBits);
    Operand<TFloat32> evalLogits = setup.model().forward(eval, images);
    evalLossSum = tf.reduceSum(Losses.crossEntropy(tf, evalLogits, labels, classes, 0.0), tf.constant(0));
    evalHits = Losses.hits(tf, evalLogits, labels);
    evalCorrect = tf.reduceSum(evalHits, tf.constant(0));
    quantizerInputs = eval.quantizerInputs();
    searchBits = new PassBits("search");
    NetContext search = new NetContext(state, PassMode.BN_STATISTICS, null, searchBits);
    Operand<TFloat32> searchLogits = setup.model().forward(search, images);
    searchCorrect = Losses.correctCount(tf, searchLogits, labels);
    searchLossSum = tf.reduceSum(Losses.crossEntropy(tf, searchLogits, labels, classes, 0.0), tf.constant(0));
    for (String layer : candidates.keySet()) {
      searchLayerInputs.put(layer, search.quantizerInputs().get(layer + "/input"));
    }
    searchLayers = List.copyOf(searchLayerInputs.keySet());
    bnCalibration = new BnReestimation(params, search.batchStatistics());
    // The gradient ops TensorFlow's C++ gradient builder added carry no device yet.
    device.placeUnplacedOps(graph);
  }

  /** The training step's ops; the EMA's are null without an EMA. */
  private record TrainingOps(Operand<TFloat32> totalLoss, Op step, Op emaReset, Op emaUse) {}

  /**
   * The K random passes with their losses, the clipped gradient of the summed loss, the optimizer
   * updates and the EMA (§2.5, §2.7), after the max pass {@code max}.
   */
  private TrainingOps buildTraining(NetContext max, Operand<TFloat32> maxLogits, int classes) {
    Operand<TFloat32> teacherLog = tf.nn.logSoftmax(tf.stopGradient(maxLogits));
    Operand<TFloat32> teacher = tf.math.exp(teacherLog);
    Operand<TFloat32> total = maxLoss;
    List<Op> bnUpdates = new ArrayList<>(max.updates());
    for (int k = 1; k <= spec.randomSubnets(); k++) {
      PassBits bits = new PassBits("subnet" + k);
      // Each pass draws dropout masks of its own.
      Operand<TInt64> key = tf.math.add(stepKey, tf.constant(new long[] {0L, 7919L * k}));
      Map<String, Operand<TFloat32>> masks = new LinkedHashMap<>();
      List<Operand<TFloat32>> idmTerms = new ArrayList<>();
      NetContext.FeatureTap idmTap = NetContext.FeatureTap.NONE;
      if (spec.idmWeight() > 0) {
        // Attached to each switched feature as the pass is built, so that the fused kernels can hand the
        // feature's gradient on untouched where the mask is 0 (most layers of most steps).
        Ops maskScope = tf.withSubScope("idm_subnet" + k);
        idmTap = (layer, feature) -> {
          Operand<TFloat32> mask = maskScope.withName(layer.replace('/', '.'))
              .placeholderWithDefault(tf.constant(0f), Shape.scalar());
          masks.put(layer, mask);
          Operand<TFloat32> reference = max.switchedFeatures().get(layer);
          FeatureMse.Tapped idm = setup.kernel() == FakeQuantKernel.FUSED
              ? FeatureMse.fused(tf, feature, reference, mask) : FeatureMse.plain(tf, feature, reference, mask);
          idmTerms.add(idm.loss());
          return idm.feature();
        };
      }
      NetContext pass = new NetContext(state, PassMode.TRAIN, key, bits, idmTap);
      Operand<TFloat32> logits = setup.model().forward(pass, images);
      Operand<TFloat32> ce = tf.math.mean(Losses.crossEntropy(tf, logits, labels, classes, setup.labelSmoothing()),
          tf.constant(0));
      Operand<TFloat32> kl = tf.math.mean(tf.reduceSum(tf.math.mul(teacher, tf.math.sub(teacherLog, tf.nn.logSoftmax(logits))),
          tf.constant(1)), tf.constant(0));
      Operand<TFloat32> loss = tf.math.add(tf.math.mul(tf.constant(0.5f), ce), tf.math.mul(tf.constant(0.5f), kl));
      if (!idmTerms.isEmpty()) {
        loss = tf.math.add(loss, tf.math.mul(tf.constant((float) spec.idmWeight()), tf.math.addN(idmTerms)));
      }
      if (spec.qeWeight() > 0 || spec.regionDecay() != 0) {
        // Both terms sum over the pass's convolution kernels (§2.5).
        Operand<TFloat32> qe = tf.constant(0f);
        Operand<TFloat32> region = tf.constant(0f);
        for (PassBits.LayerBits lb : bits.layers().values()) {
          Param kernel = params.get(lb.layer() + "/kernel");
          if (kernel.shape().numDimensions() != 4) {
            continue;
          }
          Operand<TFloat32> scale = weightQuantizers.get(lb.layer()).scale();
          long out = kernel.shape().get(3) == 1 ? kernel.shape().get(2) : kernel.shape().get(3);
          if (spec.qeWeight() > 0) {
            qe = tf.math.add(qe, QuantizationErrorLoss.term(tf, kernel.variable(), scale, lb.weight(),
                lowestWeightBits.get(lb.layer()), out));
          }
          if (spec.regionDecay() != 0) {
            region = tf.math.add(region, AdaptiveRegionDecayLoss.term(tf, kernel.variable(), scale, lb.weight()));
          }
        }
        if (spec.qeWeight() > 0) {
          loss = tf.math.add(loss, tf.math.mul(qeWeight, qe));
        }
        if (spec.regionDecay() != 0) {
          loss = tf.math.add(loss, tf.math.mul(tf.constant((float) spec.regionDecay()), region));
        }
      }
      subnetBits.add(bits);
      idmMasks.add(masks);
      bnUpdates.addAll(pass.updates());
      total = tf.math.add(total, loss);
    }

    List<Param> kernels = new ArrayList<>();
    List<Param> otherWeights = new ArrayList<>();
    for (Param p : params.withRole(ParamRole.WEIGHT)) {
      (p.shape().numDimensions() == 4 ? kernels : otherWeights).add(p);
    }
    List<Param> quantParams = params.withRole(ParamRole.QUANTIZER);
    List<Param> trainable = new ArrayList<>(kernels);
    trainable.addAll(otherWeights);
    trainable.addAll(quantParams);
    Gradients grads = tf.gradients(total, trainable.stream().map(Param::variable).toList());
    List<Output<TFloat32>> clipped = new ArrayList<>();
    List<Op> gradOps = new ArrayList<>();
    for (int i = 0; i < trainable.size(); i++) {
      var g = tf.clipByValue(grads.<TFloat32>dy(i), tf.constant((float) -spec.clip()), tf.constant((float) spec.clip()));
      clipped.add(g.asOutput());
      gradOps.add(g);
    }
    Ops gated = tf.withControlDependencies(gradOps);
    List<Op> updates = new ArrayList<>();
    int a = kernels.size();
    int b = a + otherWeights.size();
    updates.addAll(Optimizers.apply(params, gated, "kernels", setup.weights(), kernels, clipped.subList(0, a), lrWeights));
    updates.addAll(Optimizers.apply(params, gated, "other_weights", withoutDecay(setup.weights()), otherWeights,
        clipped.subList(a, b), lrWeights));
    List<Op> quantizerUpdates = Optimizers.apply(params, gated, "quantizers", setup.quantizers(), quantParams,
        clipped.subList(b, clipped.size()), lrQuantizers);
    updates.addAll(quantizerUpdates);
    Ops afterQuantizerUpdates = tf.withControlDependencies(quantizerUpdates);
    for (Quantizer q : state.quantizers()) {
      updates.add(q.clampStepSize(afterQuantizerUpdates));
    }
    updates.addAll(bnUpdates);
    Op trained = tf.withControlDependencies(updates).withName("supernet_trained").noOp();
    List<Op> emaUpdates = new ArrayList<>();
    List<Op> emaResets = new ArrayList<>();
    List<Op> emaUses = new ArrayList<>();
    if (spec.emaDecay() > 0) {
      // Every variable of the model (weights, BN tables with their statistics, step sizes), as the
      // reference's EMA of all parameters and buffers; read after the step's updates.
      Ops afterStep = tf.withControlDependencies(List.of(trained));
      Operand<TFloat32> decay = tf.constant((float) spec.emaDecay());
      for (Param p : params.all()) {
        if (hasMovingAverage(p)) {
          var ema = params.getOrCreate("ema/" + p.name(), p.shape(), ParamRole.STATE, sh -> params.fill(sh, 0f));
          emaUpdates.add(afterStep.assign(ema, afterStep.math.add(afterStep.math.mul(decay, ema),
              afterStep.math.mul(afterStep.math.sub(afterStep.constant(1f), decay), p.variable()))));
          emaResets.add(tf.assign(ema, p.variable()));
          emaUses.add(tf.assign(p.variable(), ema));
        }
      }
    }
    return new TrainingOps(total,
        tf.withControlDependencies(emaUpdates.isEmpty() ? List.of(trained) : emaUpdates).withName("supernet_step").noOp(),
        emaResets.isEmpty() ? null : tf.withControlDependencies(emaResets).withName("ema_reset").noOp(),
        emaUses.isEmpty() ? null : tf.withControlDependencies(emaUses).withName("ema_use").noOp());
  }

  /** Whether the EMA averages {@code p}: weights, BN statistics and step sizes, the reference's parameters and buffers. */
  private static boolean hasMovingAverage(Param p) {
    return p.role() == ParamRole.WEIGHT || p.role() == ParamRole.BN_STATISTIC || p.role() == ParamRole.QUANTIZER;
  }

  private static OptimizerConfig withoutDecay(OptimizerConfig c) {
    return new OptimizerConfig(c.kind(), c.learningRate(), c.momentum(), c.nesterov(), 0.0, c.beta1(), c.beta2(), c.epsilon());
  }

  public Graph graph() {
    return graph;
  }

  /** The searchable layers and their candidates, in forward order. */
  public Map<String, BitRange> candidates() {
    return candidates;
  }

  public ModelInspector.Summary summary() {
    return summary;
  }

  public List<Quantizer> quantizers() {
    return state.quantizers();
  }

  /** Every variable of the graph, as checkpoints save and restore them. */
  public List<Param> params() {
    return params.all();
  }

  public Ops tf() {
    return tf;
  }

  public TrainingSetup setup() {
    return setup;
  }

  /** Random subnets per step besides the max one (K). */
  public int randomSubnets() {
    return spec.randomSubnets();
  }

  /** Whether the graph keeps a moving average of the model ({@link Spec#emaDecay()} > 0). */
  public boolean hasEma() {
    return emaReset != null;
  }

  /** Sets the moving average to the model as it is now (the start of training). */
  public void resetEma(Session session) {
    if (emaReset != null) {
      session.runner().addTarget(emaReset).run();
    }
  }

  /** Whether this graph trains (else built {@link #forEvaluation}). */
  public boolean trains() {
    return step != null;
  }

  /**
   * Loads a trained supernet's checkpoint into an evaluation graph ({@link #forEvaluation}): every
   * variable from its moving average where the supernet kept one (§2.1), else from itself.
   */
  public void loadTrained(Session session, Path checkpoint) {
    if (trains()) {
      throw new IllegalStateException("loadTrained is for evaluation graphs; a training graph restores its checkpoint and calls useEma");
    }
    List<Param> model = params.all();
    List<String> sources = model.stream().map(p -> spec.emaDecay() > 0 && hasMovingAverage(p) ? "ema/" + p.name() : p.name()).toList();
    CheckpointVariables.restore(session, tf, checkpoint, model, sources);
  }

  /** Replaces the model by its moving average, for evaluation and search (§2.1); training stops here. */
  public void useEma(Session session) {
    if (emaUse == null) {
      throw new IllegalStateException("this supernet keeps no moving average (emaDecay 0)");
    }
    session.runner().addTarget(emaUse).run();
  }

  /**
   * BN calibration of {@code config} (algorithms.md §2.8): its BN rows' running statistics := the
   * averages of the statistics of {@code count} batches in training mode (the cumulative average of
   * a reset BN with momentum None); the other rows keep theirs.
   *
   * @return batches used
   */
  public int calibrateBn(Session session, Iterator<Batch> batches, int count, BitConfiguration config) {
    session.runner().addTarget(bnCalibration.reset()).run();
    int done = 0;
    for (; done < count && batches.hasNext(); done++) {
      List<Tensor> fed = new ArrayList<>();
      try (Batch b = batches.next()) {
        Session.Runner r = session.runner().feed(images, b.images());
        feedBits(r, searchBits, config, fed);
        r.addTarget(bnCalibration.accumulate()).run();
      } finally {
        fed.forEach(Tensor::close);
      }
    }
    session.runner().addTarget(bnCalibration.apply()).run();
    return done;
  }

  /**
   * Each searchable layer's weight turbulence now (§2.6, {@link BitScheduler#turbulence}) over its
   * current weight candidates.
   */
  public Map<String, Double> turbulence(Session session, Candidates current) {
    Session.Runner r = session.runner();
    List<String> layers = new ArrayList<>(candidates.keySet());
    for (String layer : layers) {
      r.fetch(params.get(layer + "/kernel").variable()).fetch(weightQuantizers.get(layer).scale());
    }
    Map<String, Double> out = new LinkedHashMap<>();
    try (Result values = r.run()) {
      for (int i = 0; i < layers.size(); i++) {
        out.put(layers.get(i), BitScheduler.turbulence(floats((TFloat32) values.get(2 * i)),
            floats((TFloat32) values.get(2 * i + 1)), current.weights(layers.get(i))));
      }
    }
    return out;
  }

  private static float[] floats(TFloat32 t) {
    float[] a = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  /**
   * Starts from the weights of a network of fixed bits (e.g. the FP32 checkpoint, §2.1): every
   * variable the checkpoint holds under the same name and shape, and each switchable BN table from
   * that BN's plain parameters and statistics, repeated in every (weight, input) row. Step sizes are
   * left to {@link #calibrate}.
   *
   * @return the names of the variables set
   */
  public Set<String> initFrom(Session session, Path checkpoint) {
    Map<String, String> manifest = CheckpointVariables.manifest(checkpoint);
    List<Param> same = CheckpointVariables.sameNameAndShape(params.all(), manifest);
    List<Param> tables = new ArrayList<>();
    List<String> sources = new ArrayList<>();
    for (Param p : params.all()) {
      if (p.role().isHandedOver() && p.name().endsWith(PER_BITS) && !same.contains(p)) {
        String source = p.name().substring(0, p.name().length() - PER_BITS.length());
        if (CheckpointVariables.shapeText(Shape.of(p.shape().get(1))).equals(manifest.get(source))) {
          tables.add(p);
          sources.add(source);
        }
      }
    }
    if (same.isEmpty() && tables.isEmpty()) {
      throw new IllegalStateException(checkpoint + ": holds none of this model's variables");
    }
    if (!same.isEmpty()) {
      CheckpointVariables.load(session, tf, checkpoint, same);
    }
    if (!tables.isEmpty()) {
      CheckpointVariables.loadRepeated(session, tf, checkpoint, tables, sources);
    }
    Set<String> names = new LinkedHashSet<>();
    same.forEach(p -> names.add(p.name()));
    tables.forEach(p -> names.add(p.name()));
    return names;
  }

  /** Initialises every quantizer's step sizes, all bit-widths, from {@code batches} (§2.3). */
  public void calibrate(Session session, List<Batch> batches) {
    Calibration.run(session, state.quantizers(), quantizerInputs, images, batches);
  }

  /** What one step reports: the summed loss, and the max subnet's loss and correct count. */
  public record StepOutcome(float loss, float maxLoss, float maxCorrect) {}

  /**
   * One supernet step on {@code batch}: the max subnet and {@code subnets} (one per random pass),
   * IDM at the layers where a subnet drew {@code candidates}' lowest current weight bit-width, the QE
   * loss at its weight for {@code progress} (0..1 of the phase) against those lowest bit-widths.
   */
  public StepOutcome trainStep(Session session, Batch batch, List<BitConfiguration> subnets, Candidates current,
      double lrW, double lrQ, double progress, long seed, long globalStep) {
    if (!trains()) {
      throw new IllegalStateException("this supernet graph was built for evaluation (SupernetGraph.forEvaluation) and does not train");
    }
    if (subnets.size() != subnetBits.size()) {
      throw new IllegalArgumentException(subnetBits.size() + " random subnets per step, " + subnets.size() + " given");
    }
    List<Tensor> fed = new ArrayList<>();
    try {
      Session.Runner r = session.runner().feed(images, batch.images()).feed(labels, batch.labels());
      r.feed(lrWeights, keep(fed, TFloat32.scalarOf((float) lrW)));
      r.feed(lrQuantizers, keep(fed, TFloat32.scalarOf((float) lrQ)));
      r.feed(stepKey, keep(fed, TInt64.vectorOf(seed, globalStep)));
      r.feed(qeWeight, keep(fed, TFloat32.scalarOf((float) spec.qeWeightAt(progress))));
      for (Map.Entry<String, Operand<TInt32>> l : lowestWeightBits.entrySet()) {
        r.feed(l.getValue(), keep(fed, TInt32.scalarOf(current.weights(l.getKey()).lowest())));
      }
      for (int k = 0; k < subnets.size(); k++) {
        BitConfiguration subnet = subnets.get(k);
        feedBits(r, subnetBits.get(k), subnet, fed);
        for (Map.Entry<String, Operand<TFloat32>> m : idmMasks.get(k).entrySet()) {
          boolean lowest = subnet.layers().get(m.getKey()).weight() == current.weights(m.getKey()).lowest();
          r.feed(m.getValue(), keep(fed, TFloat32.scalarOf(lowest ? 1f : 0f)));
        }
      }
      try (Result out = r.fetch(totalLoss).fetch(maxLoss).fetch(maxCorrect).addTarget(step).run()) {
        return new StepOutcome(((TFloat32) out.get(0)).getFloat(), ((TFloat32) out.get(1)).getFloat(),
            ((TFloat32) out.get(2)).getFloat());
      }
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  /** Loss sum and correct count of {@code config} on {@code batch}, with running BN statistics. */
  public TrainingGraph.EvalOutcome evaluate(Session session, Batch batch, BitConfiguration config) {
    return fetch(session, batch, evalBits, config, List.of(evalLossSum, evalCorrect),
        out -> new TrainingGraph.EvalOutcome(out.get(0), out.get(1)));
  }

  /** Loss sum of {@code config} on {@code batch} and whether each example's top-1 is right, with running BN statistics. */
  public ExampleOutcome evaluateExamples(Session session, Batch batch, BitConfiguration config) {
    return run(session, batch, evalBits, config, List.of(evalLossSum, evalHits), out -> {
      TFloat32 hits = (TFloat32) out.get(1);
      boolean[] right = new boolean[(int) hits.size()];
      for (int i = 0; i < right.length; i++) {
        right[i] = hits.getFloat(i) > 0.5f;
      }
      return new ExampleOutcome(((TFloat32) out.get(0)).getFloat(), right);
    });
  }

  /** One batch's summed cross-entropy and, per example, whether the arg-max logit is the label. */
  public record ExampleOutcome(float lossSum, boolean[] hits) {}

  /** Correct count of {@code config} on {@code batch}, every BN normalising with the batch's own statistics (§2.10). */
  public float batchStatisticsCorrect(Session session, Batch batch, BitConfiguration config) {
    return batchStatisticsScore(session, batch, config).correct();
  }

  /** Correct count and summed cross-entropy of {@code config} on {@code batch}, batch-statistics BN. */
  public SearchScore batchStatisticsScore(Session session, Batch batch, BitConfiguration config) {
    return fetch(session, batch, searchBits, config, List.of(searchCorrect, searchLossSum),
        out -> new SearchScore(out.get(0), out.get(1)));
  }

  /**
   * Scores configurations on one batch as {@link #batchStatisticsCorrect} does, for a greedy step whose
   * moves each differ from {@code base} from some layer on (§2.10): {@code base}'s pass runs once and
   * keeps every searchable layer's input; a configuration's pass is fed the kept inputs of the layers up
   * to its first different one and computes only the rest. Exact: those inputs depend only on layers
   * before them (forward order), whose bits are {@code base}'s.
   */
  public SearchBatch searchBatch(Session session, Batch batch, BitConfiguration base) {
    return new SearchBatch(session, batch, base);
  }

  /** A configuration's correct count and summed cross-entropy on a search batch, every BN on the batch's statistics. */
  public record SearchScore(float correct, float lossSum) {}

  /** One batch of a greedy search step and the layer inputs of the step's configuration on it ({@link #searchBatch}). */
  public final class SearchBatch implements AutoCloseable {
    private final Session session;
    private final Batch batch;
    private final BitConfiguration base;
    /** {@code base}'s correct count and loss sum, then every searchable layer's input. */
    private final Result baseRun;

    private SearchBatch(Session session, Batch batch, BitConfiguration base) {
      this.session = session;
      this.batch = batch;
      this.base = base;
      List<Tensor> fed = new ArrayList<>();
      try {
        Session.Runner r = session.runner().feed(images, batch.images()).feed(labels, batch.labels())
            .fetch(searchCorrect).fetch(searchLossSum);
        feedBits(r, searchBits, base, fed);
        searchLayerInputs.values().forEach(r::fetch);
        baseRun = r.run();
      } finally {
        fed.forEach(Tensor::close);
      }
    }

    /** Correct count of {@code config} on the batch, every BN normalising with the batch's statistics. */
    public float correct(BitConfiguration config) {
      return score(config).correct();
    }

    /** Correct count and summed cross-entropy of {@code config} on the batch, from one pass. */
    public SearchScore score(BitConfiguration config) {
      List<String> layers = searchLayers;
      int first = 0;
      while (first < layers.size() && base.layers().get(layers.get(first)).equals(config.layers().get(layers.get(first)))) {
        first++;
      }
      if (first == layers.size()) {
        return new SearchScore(((TFloat32) baseRun.get(0)).getFloat(), ((TFloat32) baseRun.get(1)).getFloat());
      }
      List<Tensor> fed = new ArrayList<>();
      try {
        Session.Runner r = session.runner().feed(images, batch.images()).feed(labels, batch.labels())
            .fetch(searchCorrect).fetch(searchLossSum);
        feedBits(r, searchBits, config, fed);
        for (int i = 0; i <= first; i++) {
          r.feed(searchLayerInputs.get(layers.get(i)), baseRun.get(i + 2));
        }
        try (Result out = r.run()) {
          return new SearchScore(((TFloat32) out.get(0)).getFloat(), ((TFloat32) out.get(1)).getFloat());
        }
      } finally {
        fed.forEach(Tensor::close);
      }
    }

    /** Frees the kept layer inputs (not the batch). */
    @Override
    public void close() {
      baseRun.close();
    }
  }

  /** Runs one pass of {@code config} on {@code batch} and reads the scalar {@code fetches}. */
  private <T> T fetch(Session session, Batch batch, PassBits bits, BitConfiguration config,
      List<Operand<TFloat32>> fetches, java.util.function.Function<List<Float>, T> read) {
    return run(session, batch, bits, config, fetches, out -> {
      List<Float> values = new ArrayList<>();
      for (int i = 0; i < fetches.size(); i++) {
        values.add(((TFloat32) out.get(i)).getFloat());
      }
      return read.apply(values);
    });
  }

  /** Runs one pass of {@code config} on {@code batch} and reads {@code fetches} from the result while it is open. */
  private <T> T run(Session session, Batch batch, PassBits bits, BitConfiguration config,
      List<Operand<TFloat32>> fetches, java.util.function.Function<Result, T> read) {
    List<Tensor> fed = new ArrayList<>();
    try {
      Session.Runner r = session.runner().feed(images, batch.images()).feed(labels, batch.labels());
      feedBits(r, bits, config, fed);
      fetches.forEach(r::fetch);
      try (Result out = r.run()) {
        return read.apply(out);
      }
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  private static void feedBits(Session.Runner r, PassBits bits, BitConfiguration config, List<Tensor> fed) {
    for (Map.Entry<String, BitConfiguration.LayerBits> e : config.layers().entrySet()) {
      PassBits.LayerBits inputs = bits.layers().get(e.getKey());
      if (inputs == null) {
        throw new IllegalArgumentException("layer '" + e.getKey() + "' does not switch bit-widths; searchable layers: "
            + bits.layers().keySet());
      }
      if (!inputs.candidates().contains(e.getValue().weight()) || !inputs.candidates().contains(e.getValue().input())) {
        throw new IllegalArgumentException(e.getKey() + ": W" + e.getValue().weight() + "A" + e.getValue().input()
            + " outside its candidates " + inputs.candidates());
      }
      r.feed(inputs.weight(), keep(fed, TInt32.scalarOf(e.getValue().weight())));
      r.feed(inputs.input(), keep(fed, TInt32.scalarOf(e.getValue().input())));
    }
  }

  private static <T extends Tensor> T keep(List<Tensor> fed, T t) {
    fed.add(t);
    return t;
  }

  /**
   * A session on this graph. Grappler is off: its rewrite of the K+1 passes and their gradients took
   * 12–17 s before the first step on 2 cores, without it 2 s, and steps ran as fast either way (0.29 s
   * at batch 32, tiny-MBV2).
   */
  public Session newSession() {
    org.tensorflow.proto.ConfigProto base = setup.device().sessionConfig();
    return new Session(graph, base.toBuilder().setGraphOptions(base.getGraphOptions().toBuilder().setRewriteOptions(
        base.getGraphOptions().getRewriteOptions().toBuilder().setDisableMetaOptimizer(true))).build());
  }

  @Override
  public void close() {
    graph.close();
  }
}
