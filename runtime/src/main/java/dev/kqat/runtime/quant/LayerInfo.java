package dev.kqat.runtime.quant;

/**
 * A weight layer as seen by a quantization policy.
 *
 * @param name unique layer name, e.g. {@code block3/dw}
 * @param kind layer kind
 * @param index position among the model's weight layers, 0-based
 * @param count number of weight layers in the model
 */
public record LayerInfo(String name, LayerKind kind, int index, int count) {
  public boolean isFirst() {
    return index == 0;
  }

  public boolean isLast() {
    return index == count - 1;
  }
}
