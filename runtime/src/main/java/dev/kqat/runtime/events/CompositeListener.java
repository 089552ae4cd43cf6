package dev.kqat.runtime.events;

import java.nio.file.Path;
import java.util.List;

/** Forwards every event to each listener in order. */
final class CompositeListener implements RunListener {
  private final List<RunListener> listeners;

  CompositeListener(List<RunListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  @Override
  public void phaseStarted(String phase, int epochs, int stepsPerEpoch, int startEpoch) {
    listeners.forEach(l -> l.phaseStarted(phase, epochs, stepsPerEpoch, startEpoch));
  }

  @Override
  public void weightsImported(String phase, Path file, int loaded, List<String> skipped) {
    listeners.forEach(l -> l.weightsImported(phase, file, loaded, skipped));
  }

  @Override
  public void calibrated(String phase, int quantizers, double seconds) {
    listeners.forEach(l -> l.calibrated(phase, quantizers, seconds));
  }

  @Override
  public void stepEnded(StepMetrics step) {
    listeners.forEach(l -> l.stepEnded(step));
  }

  @Override
  public void evaluated(String phase, int epoch, EvalMetrics metrics) {
    listeners.forEach(l -> l.evaluated(phase, epoch, metrics));
  }

  @Override
  public void epochEnded(EpochMetrics epoch) {
    listeners.forEach(l -> l.epochEnded(epoch));
  }

  @Override
  public void checkpointSaved(String phase, int epoch, Path dir) {
    listeners.forEach(l -> l.checkpointSaved(phase, epoch, dir));
  }

  @Override
  public void subnetsSampled(String phase, long step, java.util.List<dev.kqat.runtime.quant.BitConfiguration> subnets) {
    listeners.forEach(l -> l.subnetsSampled(phase, step, subnets));
  }

  @Override
  public void bitWidthsScheduled(String phase, long step, int referenceEpoch, java.util.List<String> dropped) {
    listeners.forEach(l -> l.bitWidthsScheduled(phase, step, referenceEpoch, dropped));
  }

  @Override
  public void searchReported(String line) {
    listeners.forEach(l -> l.searchReported(line));
  }

  @Override
  public void phaseEnded(String phase) {
    listeners.forEach(l -> l.phaseEnded(phase));
  }
}
