package dev.kqat.runtime.distill;

import java.util.Random;

/**
 * Random resized crops as FKD draws them for its soft labels (torchvision's
 * {@code RandomResizedCrop.get_params}, then a horizontal flip with probability ½): up to 10 tries
 * of an area in {@code [minScale, maxScale]} of the image and a log-uniform aspect ratio in
 * [3/4, 4/3] that fits; else the centre crop of the clamped ratio.
 */
public final class CropSampler {
  private static final double MIN_RATIO = 3.0 / 4;
  private static final double MAX_RATIO = 4.0 / 3;

  private final int height;
  private final int width;
  private final double minScale;
  private final double maxScale;

  public CropSampler(int height, int width, double minScale, double maxScale) {
    if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1)) {
      throw new IllegalArgumentException("crop scale: need 0 < min <= max <= 1, got " + minScale + ", " + maxScale);
    }
    if (height < 2 || width < 2) {
      throw new IllegalArgumentException("crop sampler: images of " + height + "×" + width + " pixels are too small to crop");
    }
    this.height = height;
    this.width = width;
    this.minScale = minScale;
    this.maxScale = maxScale;
  }

  /** One crop's box and flip as fractions of the image (no labels yet). */
  public StoredCrop next(Random rnd) {
    double area = (double) height * width;
    for (int attempt = 0; attempt < 10; attempt++) {
      double target = area * (minScale + rnd.nextDouble() * (maxScale - minScale));
      double ratio = Math.exp(Math.log(MIN_RATIO) + rnd.nextDouble() * (Math.log(MAX_RATIO) - Math.log(MIN_RATIO)));
      int w = (int) Math.round(Math.sqrt(target * ratio));
      int h = (int) Math.round(Math.sqrt(target / ratio));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        int i = rnd.nextInt(height - h + 1);
        int j = rnd.nextInt(width - w + 1);
        return crop(i, j, h, w, rnd.nextBoolean());
      }
    }
    double inRatio = (double) width / height;
    int w;
    int h;
    if (inRatio < MIN_RATIO) {
      w = width;
      h = (int) Math.round(w / MIN_RATIO);
    } else if (inRatio > MAX_RATIO) {
      h = height;
      w = (int) Math.round(h * MAX_RATIO);
    } else {
      w = width;
      h = height;
    }
    return crop((height - h) / 2, (width - w) / 2, h, w, rnd.nextBoolean());
  }

  private StoredCrop crop(int i, int j, int h, int w, boolean flip) {
    // A crop of one pixel has no extent for CropAndResize to span: take at least two.
    h = Math.max(h, 2);
    w = Math.max(w, 2);
    i = Math.min(i, height - h);
    j = Math.min(j, width - w);
    return new StoredCrop((float) i / height, (float) j / width, (float) h / height, (float) w / width, flip,
        new int[0], new float[0]);
  }
}
