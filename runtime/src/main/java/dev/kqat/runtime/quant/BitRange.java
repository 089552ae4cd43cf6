package dev.kqat.runtime.quant;

/**
 * The bit-widths a searchable layer of a supernet may take, every one from {@code lowest} to
 * {@code highest} (RFQuant's candidate lists are contiguous: 6..2, depth-wise 6..3; algorithms.md §2.2).
 */
public record BitRange(int lowest, int highest) {
  public BitRange {
    if (lowest < QuantizerSpec.SLOT_MIN_BITS || highest > QuantizerSpec.SLOT_MAX_BITS || lowest > highest) {
      throw new IllegalArgumentException("candidate bit-widths need " + QuantizerSpec.SLOT_MIN_BITS + " <= lowest <= highest <= "
          + QuantizerSpec.SLOT_MAX_BITS + ", got " + lowest + ".." + highest);
    }
  }

  /** Number of candidates. */
  public int size() {
    return highest - lowest + 1;
  }

  public boolean contains(int bits) {
    return bits >= lowest && bits <= highest;
  }

  @Override
  public String toString() {
    return lowest + ".." + highest;
  }
}
