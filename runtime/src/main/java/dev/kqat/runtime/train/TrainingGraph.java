package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.distill.CropBatch;
import dev.kqat.runtime.distill.OnlineTeacher;
import dev.kqat.runtime.distill.SoftLabelGenerator;
import dev.kqat.runtime.distill.StoredSoftLabels;
import dev.kqat.runtime.distill.Teacher;
import java.util.function.UnaryOperator;
import dev.kqat.runtime.events.BinRegularizerMetrics;
import dev.kqat.runtime.events.OscillationMetrics;
import dev.kqat.runtime.models.ModelInspector;
import dev.kqat.runtime.nn.ModelState;
import dev.kqat.runtime.nn.NetContext;
import dev.kqat.runtime.nn.PassMode;
import dev.kqat.runtime.tf.Param;
import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import dev.kqat.runtime.oscillation.BnReestimation;
import dev.kqat.runtime.oscillation.OscillationHooks;
import dev.kqat.runtime.oscillation.OscillationTracker;
import dev.kqat.runtime.quant.Calibration;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.tf.DeviceSetting;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * One TensorFlow graph holding everything a training phase runs (architecture.md rule 1): the
 * training forward pass with fake quantization, BN updates, oscillation tracking and dampening,
 * the loss, gradients and both optimizer groups' updates as a single step op, the evaluation
 * forward pass, and a BN-statistics pass for BN re-estimation, all over the same variables. It
 * runs each pass in a given session ({@link #trainStep}, {@link #evaluateBatch}, {@link
 * #reestimateBn}, {@link #calibrate}, {@link #oscillationMetrics}), so its feeds and fetches stay
 * inside; the loop around them is the {@link Trainer}'s.
 *
 * <p>Every op is placed on the setup's device, {@linkplain DeviceSetting#resolve() resolved} before
 * anything is built (a GPU that TensorFlow does not see fails here); on a GPU the fake-quant kernel
 * is {@link FakeQuantKernel#TF_OPS} ({@link FakeQuantKernel#on}).
 */
public final class TrainingGraph implements AutoCloseable {
  private final Graph graph;
  private final Ops tf;
  private final TrainingSetup setup;
  private final ParamStore params;
  private final ModelState state;
  private final OscillationHooks oscillation;
  private final Placeholder<TFloat32> images;
  private final Placeholder<TInt32> labels;
  private final Placeholder<TFloat32> lrWeights;
  private final Placeholder<TFloat32> lrQuantizers;
  private final Placeholder<TInt64> stepKey;
  private final Operand<TFloat32> trainLoss;
  private final Operand<TFloat32> trainCorrect;
  private final Op step;
  private final Operand<TFloat32> evalLossSum;
  private final Operand<TFloat32> evalCorrect;
  private final Operand<TFloat32> evalLogits;
  private final Op evalTracking;
  private final BnReestimation bnReestimation;
  private final Op bnAccumulate;
  private final Operand<TFloat32> oscillationStatistics;
  private final Map<String, Operand<TFloat32>> quantizerInputs;
  private final Map<String, String> layerInputQuantizers;
  private final Teacher teacher;
  private final StoredSoftLabels storedSoftLabels;
  private final Placeholder<TFloat32> cropBoxes;
  private final Placeholder<TInt32> cropImages;
  private final Placeholder<TFloat32> softTargets;
  private final ModelInspector.Summary summary;

  public TrainingGraph(TrainingSetup requested) {
    DeviceSetting device = requested.device().resolve();
    this.setup = requested.withDevice(device).withKernel(requested.kernel().on(device));
    this.summary = ModelInspector.inspect(setup.model());
    this.graph = new Graph();
    this.tf = Ops.create(graph).withDevice(device.deviceSpec());
    this.params = new ParamStore(tf, setup.seed());
    this.oscillation = new OscillationHooks(params, setup.oscillations());
    this.state = new ModelState(params, setup.policy(), summary.layers(), setup.kernel(), oscillation);
    int[] in = setup.model().inputShape();
    int classes = setup.model().numClasses();
    images = tf.withName("images").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(-1, in[0], in[1], in[2])));
    labels = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    lrWeights = tf.withName("lr_weights").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    lrQuantizers = tf.withName("lr_quantizers").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    stepKey = tf.withName("step_key").placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));

    // Stored soft labels: the step trains on crops the graph cuts out of the fed images (§3.4).
    storedSoftLabels = setup.distillation() instanceof StoredSoftLabels s ? s : null;
    Operand<TFloat32> trainImages = images;
    if (storedSoftLabels != null) {
      cropBoxes = tf.withName("crop_boxes").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      cropImages = tf.withName("crop_images").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      softTargets = tf.withName("soft_targets").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, classes)));
      trainImages = SoftLabelGenerator.cropAndResize(tf, images, cropBoxes, cropImages, in);
    } else {
      cropBoxes = null;
      cropImages = null;
      softTargets = null;
    }
    NetContext train = new NetContext(state, PassMode.TRAIN, stepKey);
    Operand<TFloat32> logits = setup.model().forward(train, trainImages);
    // With a teacher, its soft labels replace the labels in the loss (§3.4); accuracy still counts labels.
    teacher = setup.distillation() instanceof OnlineTeacher online ? new Teacher(tf, online, images) : null;
    Operand<TFloat32> softLabels = teacher != null ? teacher.probabilities() : softTargets;
    Operand<TFloat32> taskLoss = tf.math.mean(softLabels != null
        ? Losses.softCrossEntropy(tf, logits, softLabels)
        : Losses.crossEntropy(tf, logits, labels, classes, setup.labelSmoothing()), tf.constant(0));
    // The dampening loss (§1.5) joins the task loss: L = CE + λ · Σ_layers term.
    Operand<TFloat32> dampening = oscillation.dampeningLoss(tf);
    Operand<TFloat32> withDampening = dampening == null ? taskLoss : tf.math.add(taskLoss, dampening);
    // VVTQ's bin regulariser (§3.3) likewise: L += λ(e) · Σ_layers R.
    Operand<TFloat32> bins = oscillation.binRegularizerLoss(tf);
    trainLoss = bins == null ? withDampening : tf.math.add(withDampening, bins);
    trainCorrect = Losses.correctCount(tf, logits, labels);

    List<Param> weightParams = params.withRole(ParamRole.WEIGHT);
    List<Param> quantParams = params.withRole(ParamRole.QUANTIZER);
    List<Param> trainable = new ArrayList<>(weightParams);
    trainable.addAll(quantParams);
    Gradients grads = tf.gradients(trainLoss, trainable.stream().map(Param::variable).toList());
    List<Output<TFloat32>> all = new ArrayList<>();
    List<Op> gradOps = new ArrayList<>();
    for (int i = 0; i < trainable.size(); i++) {
      org.tensorflow.op.core.Identity<TFloat32> g = tf.identity(grads.<TFloat32>dy(i));
      all.add(g.output());
      gradOps.add(g);
    }
    // The optimizers wait for the gradients and for the trackers, which read the weights too.
    List<Op> beforeUpdates = new ArrayList<>(gradOps);
    beforeUpdates.addAll(train.passUpdates());
    Ops gated = tf.withControlDependencies(beforeUpdates);
    List<Op> updates = new ArrayList<>();
    updates.addAll(Optimizers.apply(params, gated, "weights", setup.weights(), weightParams,
        all.subList(0, weightParams.size()), lrWeights));
    List<Op> quantizerUpdates = Optimizers.apply(params, gated, "quantizers", setup.quantizers(), quantParams,
        all.subList(weightParams.size(), all.size()), lrQuantizers);
    updates.addAll(quantizerUpdates);
    // A learnable step size never ends an update below its floor (VVTQ's in-place clamp, §3.1).
    Ops afterQuantizerUpdates = tf.withControlDependencies(quantizerUpdates);
    for (Quantizer q : state.quantizers()) {
      if (q.spec().learnable()) {
        updates.add(q.clampStepSize(afterQuantizerUpdates));
      }
    }
    updates.addAll(train.updates());
    updates.addAll(train.passUpdates());
    step = tf.withControlDependencies(updates).withName("train_step").noOp();

    NetContext eval = new NetContext(state, PassMode.EVAL, null);
    evalLogits = setup.model().forward(eval, images);
    evalLossSum = tf.reduceSum(
        Losses.crossEntropy(tf, evalLogits, labels, classes, 0.0), tf.constant(0));
    evalCorrect = Losses.correctCount(tf, evalLogits, labels);
    evalTracking = eval.passUpdates().isEmpty() ? null
        : tf.withControlDependencies(eval.passUpdates()).withName("eval_tracking").noOp();
    quantizerInputs = eval.quantizerInputs();
    layerInputQuantizers = eval.layerInputQuantizers();

    NetContext bnPass = new NetContext(state, PassMode.BN_STATISTICS, null);
    setup.model().forward(bnPass, images);
    if (bnPass.batchStatistics().isEmpty()) {
      bnReestimation = null;
      bnAccumulate = null;
    } else {
      bnReestimation = new BnReestimation(params, bnPass.batchStatistics());
      List<Op> accumulate = new ArrayList<>(List.of(bnReestimation.accumulate()));
      accumulate.addAll(bnPass.passUpdates());
      bnAccumulate = tf.withControlDependencies(accumulate).withName("bn_reestimation_batch").noOp();
    }
    oscillationStatistics = oscillation.statistics(tf);
    // The gradient ops TensorFlow's C++ gradient builder added carry no device yet.
    device.placeUnplacedOps(graph);
  }

  public Graph graph() {
    return graph;
  }

  public Ops tf() {
    return tf;
  }

  /** The setup as built: its device resolved, its fake-quant kernel the one used on that device. */
  public TrainingSetup setup() {
    return setup;
  }

  /** A session on this graph with the setup's device configuration ({@link DeviceSetting#sessionConfig()}). */
  public Session newSession() {
    return new Session(graph, setup.device().sessionConfig());
  }

  public ParamStore params() {
    return params;
  }

  public List<Quantizer> quantizers() {
    return state.quantizers();
  }

  public ModelInspector.Summary summary() {
    return summary;
  }

  /** Mean loss and correct count of one training step. */
  public record StepOutcome(float loss, float correct) {}

  /**
   * One optimizer step on {@code batch}: the learning rates, the step's random key ({@code seed},
   * {@code globalStep}) and the oscillation schedules at training {@code progress} are fed; the
   * trackers, BN statistics and both optimizer groups update in the same run.
   */
  public StepOutcome trainStep(Session session, Batch batch, double lrWeights, double lrQuantizers,
      double progress, long seed, long globalStep) {
    if (storedSoftLabels != null) {
      throw new IllegalStateException("a graph trained from stored soft labels takes crops (CropBatch)");
    }
    return step(session, r -> r.feed(images, batch.images()).feed(labels, batch.labels()),
        lrWeights, lrQuantizers, progress, seed, globalStep);
  }

  /** One optimizer step on stored crops ({@link StoredSoftLabels}), as {@link #trainStep(Session, Batch, double, double, double, long, long)}. */
  public StepOutcome trainStep(Session session, CropBatch crops, double lrWeights, double lrQuantizers,
      double progress, long seed, long globalStep) {
    if (storedSoftLabels == null) {
      throw new IllegalStateException("this graph was not built for stored soft labels");
    }
    return step(session, r -> r.feed(images, crops.images().images()).feed(labels, crops.labels())
            .feed(cropBoxes, crops.boxes()).feed(cropImages, crops.boxImages()).feed(softTargets, crops.targets()),
        lrWeights, lrQuantizers, progress, seed, globalStep);
  }

  /** The stored soft labels this graph trains from, or null. */
  public StoredSoftLabels storedSoftLabels() {
    return storedSoftLabels;
  }

  private StepOutcome step(Session session, UnaryOperator<Session.Runner> data, double lrWeights,
      double lrQuantizers, double progress, long seed, long globalStep) {
    List<TFloat32> schedules = new ArrayList<>();
    try (TFloat32 lw = TFloat32.scalarOf((float) lrWeights);
        TFloat32 lq = TFloat32.scalarOf((float) lrQuantizers);
        TInt64 key = TInt64.vectorOf(seed, globalStep)) {
      Session.Runner runner = data.apply(session.runner())
          .feed(this.lrWeights, lw)
          .feed(this.lrQuantizers, lq)
          .feed(stepKey, key);
      oscillation.feeds(progress).forEach((placeholder, value) -> {
        TFloat32 t = TFloat32.scalarOf(value);
        schedules.add(t);
        runner.feed(placeholder, t);
      });
      try (Result r = runner.addTarget(step).fetch(trainLoss).fetch(trainCorrect).run()) {
        return new StepOutcome(((TFloat32) r.get(0)).getFloat(), ((TFloat32) r.get(1)).getFloat());
      }
    } finally {
      schedules.forEach(TFloat32::close);
    }
  }

  /** Loss sum and correct count of one batch through the evaluation pass. */
  public record EvalOutcome(double lossSum, double correct) {}

  /** {@code batch} through the evaluation pass (running BN statistics; trackers count it under the parity switch). */
  public EvalOutcome evaluateBatch(Session session, Batch batch) {
    Session.Runner runner = session.runner();
    if (evalTracking != null) {
      runner.addTarget(evalTracking);
    }
    try (Result r = runner.feed(images, batch.images()).feed(labels, batch.labels())
        .fetch(evalLossSum).fetch(evalCorrect).run()) {
      return new EvalOutcome(((TFloat32) r.get(0)).getFloat(), ((TFloat32) r.get(1)).getFloat());
    }
  }

  /** The images placeholder: NHWC floats as the data pipeline feeds them. */
  public Placeholder<TFloat32> images() {
    return images;
  }

  /** The logits of the evaluation pass (running BN statistics). */
  public Operand<TFloat32> evalLogits() {
    return evalLogits;
  }

  /** The logits of {@code batch} through the evaluation pass, [images][classes] (no tracking runs). */
  public float[][] logits(Session session, Batch batch) {
    try (Result r = session.runner().feed(images, batch.images()).fetch(evalLogits).run()) {
      TFloat32 t = (TFloat32) r.get(0);
      float[][] out = new float[(int) t.shape().get(0)][(int) t.shape().get(1)];
      for (int i = 0; i < out.length; i++) {
        for (int j = 0; j < out[i].length; j++) {
          out[i][j] = t.getFloat(i, j);
        }
      }
      return out;
    }
  }

  /** Whether the model has BN layers whose statistics can be re-estimated. */
  public boolean hasBatchNorm() {
    return bnReestimation != null;
  }

  /**
   * BN re-estimation (algorithms.md §1.8): running statistics := the average of the per-batch
   * statistics of the first {@code count} of {@code batches}, quantizers in evaluation mode.
   */
  public void reestimateBn(Session session, Iterator<Batch> batches, int count) {
    session.runner().addTarget(bnReestimation.reset()).run();
    for (int done = 0; done < count && batches.hasNext(); done++) {
      try (Batch b = batches.next()) {
        session.runner().feed(images, b.images()).addTarget(bnAccumulate).run();
      }
    }
    session.runner().addTarget(bnReestimation.apply()).run();
  }

  /** Initialises the step sizes of {@code quantizers} from {@code batches} (algorithms.md §1.2). */
  public void calibrate(Session session, List<Quantizer> quantizers, List<Batch> batches) {
    Calibration.run(session, quantizers, quantizerInputs, images, batches);
  }

  /** The trackers' figures now ({@code threshold}: the tracking setting's), or null without tracking. */
  public OscillationMetrics oscillationMetrics(Session session) {
    if (oscillationStatistics == null) {
      return null;
    }
    List<OscillationMetrics.Layer> layers = new ArrayList<>();
    try (Result r = session.runner().fetch(oscillationStatistics).run()) {
      TFloat32 rows = (TFloat32) r.get(0);
      List<OscillationTracker> trackers = trackers();
      for (int i = 0; i < trackers.size(); i++) {
        double weights = rows.getFloat(i, 4);
        layers.add(new OscillationMetrics.Layer(trackers.get(i).name(), (long) weights,
            rows.getFloat(i, 0) / weights, rows.getFloat(i, 1) / weights, rows.getFloat(i, 2) / weights,
            rows.getFloat(i, 3) / weights));
      }
    }
    return OscillationMetrics.of(setup.oscillations().tracking().threshold(), layers);
  }

  /**
   * The bin regulariser's figures of the weights as the session holds them, with its weight at
   * training {@code progress}; null without the regulariser. Reads variables only: nothing is fed.
   */
  public BinRegularizerMetrics binRegularizerMetrics(Session session, double progress) {
    List<OscillationHooks.BinnedLayer> binned = oscillation.binnedLayers();
    if (binned.isEmpty()) {
      return null;
    }
    Session.Runner runner = session.runner();
    binned.forEach(l -> runner.fetch(l.bins().term()).fetch(l.bins().spread()));
    List<BinRegularizerMetrics.Layer> layers = new ArrayList<>();
    try (Result r = runner.run()) {
      for (int i = 0; i < binned.size(); i++) {
        layers.add(new BinRegularizerMetrics.Layer(binned.get(i).name(), binned.get(i).weights(),
            ((TFloat32) r.get(2 * i)).getFloat(), ((TFloat32) r.get(2 * i + 1)).getFloat()));
      }
    }
    return BinRegularizerMetrics.of(oscillation.binWeightAt(progress), layers);
  }

  /** Loads the distillation teacher's weights, if there is a teacher (after initialising or restoring the rest). */
  public void loadTeacher(Session session) {
    if (teacher != null) {
      teacher.load(session);
    }
  }

  /** Trackers of the quantized weights, in forward order; empty without tracking. */
  public List<OscillationTracker> trackers() {
    return oscillation.trackers();
  }

  /** Weight layer name to the quantizer of its input, for layers whose input is quantized. */
  public Map<String, String> layerInputQuantizers() {
    return layerInputQuantizers;
  }

  /** Quantizer name to the (evaluation-pass) tensor it quantizes. */
  public Map<String, Operand<TFloat32>> quantizerInputs() {
    return quantizerInputs;
  }

  @Override
  public void close() {
    graph.close();
  }
}
