package dev.kqat.runtime.events;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.summary.SummaryWriter;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * Writes the run's figures as TensorBoard scalars ({@code tensorboard --logdir DIR}) with
 * TensorFlow's own summary-writer ops, in a small graph of its own. Tags are
 * {@code <phase>/<figure>}; the step axis is the phase's optimizer step. Per step (every
 * {@code stepEvery}): loss, accuracy, learning rate; per epoch: train and test figures, accuracy
 * before BN re-estimation, whole-model and per-layer oscillating share, frozen share.
 */
public final class TensorBoardLog implements RunListener, AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TInt64> step;
  private final Placeholder<TString> tag;
  private final Placeholder<TFloat32> value;
  private final Op write;
  private final Op flush;
  private final Op close;
  private final int stepEvery;
  private final Map<String, Long> lastStep = new HashMap<>();

  public TensorBoardLog(Path dir, int stepEvery) {
    this.stepEvery = stepEvery;
    try {
      Files.createDirectories(dir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot create " + dir, e);
    }
    Ops tf = Ops.create(graph);
    SummaryWriter writer = tf.summary.summaryWriter();
    Op open = tf.summary.createSummaryFileWriter(writer, tf.constant(dir.toString()), tf.constant(100),
        tf.constant(10_000), tf.constant(".kqat"));
    step = tf.placeholder(TInt64.class);
    tag = tf.placeholder(TString.class);
    value = tf.placeholder(TFloat32.class);
    write = tf.summary.writeScalarSummary(writer, step, tag, value);
    flush = tf.summary.flushSummaryWriter(writer);
    close = tf.summary.closeSummaryWriter(writer);
    session = new Session(graph);
    session.runner().addTarget(open).run();
  }

  @Override
  public void stepEnded(StepMetrics s) {
    lastStep.put(s.phase(), s.globalStep());
    if (s.globalStep() % stepEvery != 0) {
      return;
    }
    scalar(s.phase() + "/loss", s.globalStep(), s.loss());
    scalar(s.phase() + "/accuracy", s.globalStep(), s.accuracy());
    scalar(s.phase() + "/learning_rate", s.globalStep(), s.learningRate());
  }

  @Override
  public void epochEnded(EpochMetrics e) {
    String p = e.phase() + "/";
    long at = lastStep.getOrDefault(e.phase(), (long) e.epoch());
    scalar(p + "train_loss", at, e.trainLoss());
    scalar(p + "train_top1", at, e.trainTop1());
    scalar(p + "test_loss", at, e.test().loss());
    scalar(p + "test_top1", at, e.test().top1());
    scalar(p + "images_per_sec", at, e.imagesPerSecond());
    if (e.testWithoutBnReestimation() != null) {
      scalar(p + "test_top1_no_bn_reestimation", at, e.testWithoutBnReestimation().top1());
    }
    OscillationMetrics o = e.oscillations();
    if (o != null) {
      scalar(p + "oscillating_fraction", at, o.oscillatingFraction());
      scalar(p + "mean_oscillation_frequency", at, o.meanFrequency());
      scalar(p + "frozen_fraction", at, o.frozenFraction());
      scalar(p + "oscillating_unfrozen_fraction", at, o.oscillatingUnfrozenFraction());
      for (OscillationMetrics.Layer l : o.layers()) {
        scalar(p + "oscillating_share/" + l.name(), at, l.oscillatingFraction());
      }
    }
    session.runner().addTarget(flush).run();
  }

  private void scalar(String name, long atStep, double v) {
    try (TInt64 s = TInt64.scalarOf(atStep);
        TString t = TString.scalarOf(name);
        TFloat32 x = TFloat32.scalarOf((float) v)) {
      session.runner().feed(step, s).feed(tag, t).feed(value, x).addTarget(write).run();
    }
  }

  @Override
  public void close() {
    try {
      session.runner().addTarget(close).run();
    } finally {
      session.close();
      graph.close();
    }
  }
}
