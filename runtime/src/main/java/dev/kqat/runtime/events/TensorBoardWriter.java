package dev.kqat.runtime.events;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * Writes scalars to a TensorBoard event file ({@code tensorboard --logdir DIR}) with TensorFlow's
 * own summary-writer ops, in a small graph of its own. What to write is decided by the caller
 * (the DSL's TensorBoard sink, from the run's metric records).
 */
public final class TensorBoardWriter implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TInt64> step;
  private final Placeholder<TString> tag;
  private final Placeholder<TFloat32> value;
  private final Op write;
  private final Op flush;
  private final Op close;

  public TensorBoardWriter(Path dir) {
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

  /** One scalar {@code name} at x = {@code atStep}. */
  public void scalar(String name, long atStep, double v) {
    try (TInt64 s = TInt64.scalarOf(atStep);
        TString t = TString.scalarOf(name);
        TFloat32 x = TFloat32.scalarOf((float) v)) {
      session.runner().feed(step, s).feed(tag, t).feed(value, x).addTarget(write).run();
    }
  }

  /** Writes what is buffered to the event file. */
  public void flush() {
    session.runner().addTarget(flush).run();
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
