package dev.kqat.runtime.distill;

/** How a stored top-k becomes a distribution over all classes (FKD's {@code --soft_label_type}). */
public enum SoftLabelDecoding {
  /** FKD's {@code marginal_smoothing_k*}: the k stored probabilities, {@code (1 - Σv)/(C - k)} on every other class. */
  MARGINAL_SMOOTHING,
  /** FKD's {@code marginal_renorm}: the k stored probabilities, 0 elsewhere, L1-normalised. */
  MARGINAL_RENORM;

  /** Writes the {@code numClasses}-long target of one crop into {@code out[offset ...]}. */
  public void decode(int[] classes, float[] probabilities, int numClasses, float[] out, int offset) {
    double kept = 0;
    for (float p : probabilities) {
      kept += p;
    }
    int k = classes.length;
    float rest = this == MARGINAL_SMOOTHING && k < numClasses ? (float) Math.max(0, (1 - kept) / (numClasses - k)) : 0f;
    java.util.Arrays.fill(out, offset, offset + numClasses, rest);
    float scale = this == MARGINAL_RENORM ? (float) (1 / Math.max(kept, 1e-12)) : 1f;
    for (int j = 0; j < k; j++) {
      out[offset + classes[j]] = probabilities[j] * scale;
    }
  }
}
