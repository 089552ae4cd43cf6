package dev.kqat.runtime.distill;

import dev.kqat.runtime.data.PixelCrop;

/**
 * One stored crop of a training image and the teacher's top-k for it.
 *
 * @param top first row as a fraction of the image height (FKD's coords: row {@code top·H})
 * @param left first column as a fraction of the width
 * @param height crop height as a fraction of the image height
 * @param width crop width as a fraction of the width
 * @param flip mirrored left–right after cropping
 * @param classes the k most probable classes, most probable first
 * @param probabilities their probabilities
 */
public record StoredCrop(float top, float left, float height, float width, boolean flip, int[] classes,
    float[] probabilities) {

  /**
   * The crop as a box of TensorFlow's {@code CropAndResize} ({@code y1, x1, y2, x2}, where 0 and 1 are
   * the centres of the first and last pixel) on an {@code h × w} image: its first to its last pixel,
   * x reversed for a flip. Writer and replay both sample through this box, so the student is trained
   * on exactly the pixels the teacher labelled.
   */
  public void box(int h, int w, float[] out, int offset) {
    float y1 = top * h / (h - 1);
    float y2 = (top * h + height * h - 1) / (h - 1);
    float x1 = left * w / (w - 1);
    float x2 = (left * w + width * w - 1) / (w - 1);
    out[offset] = y1;
    out[offset + 2] = y2;
    out[offset + 1] = flip ? x2 : x1;
    out[offset + 3] = flip ? x1 : x2;
  }

  /**
   * Writes the box of a whole image, corner pixel centre to corner pixel centre: a crop already cut
   * (an image folder's, cut while decoding) passes {@code CropAndResize} unchanged.
   */
  public static void wholeBox(float[] out, int offset) {
    out[offset] = 0f;
    out[offset + 1] = 0f;
    out[offset + 2] = 1f;
    out[offset + 3] = 1f;
  }

  /** The crop in the pixels of an {@code h × w} image (the fractions were written from whole pixels). */
  public PixelCrop pixels(int h, int w) {
    int rows = Math.max(1, Math.min(h, Math.round(height * h)));
    int cols = Math.max(1, Math.min(w, Math.round(width * w)));
    return new PixelCrop(Math.min(Math.round(top * h), h - rows), Math.min(Math.round(left * w), w - cols), rows, cols, flip);
  }
}
