package dev.kqat.runtime.train;

/** The training loss stopped being finite; the run stops and keeps its last good checkpoint. */
public final class DivergenceException extends RuntimeException {
  private final long step;

  public DivergenceException(String phase, int epoch, long step, double loss, String lastCheckpoint) {
    super("training loss became " + loss + " in phase '" + phase + "', epoch " + epoch + ", step " + step
        + (lastCheckpoint == null ? "; no checkpoint had been written yet"
            : "; the last good checkpoint is " + lastCheckpoint)
        + " (lower the learning rate or check the data)");
    this.step = step;
  }

  public long step() {
    return step;
  }
}
