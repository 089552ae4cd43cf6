package dev.kqat.runtime.data;

/**
 * A crop of one image in its own pixels, and whether it is mirrored left–right after cropping: how an
 * image-folder dataset is told which crops to cut (stored soft labels, algorithms.md §3.4).
 *
 * @param top first row
 * @param left first column
 * @param height rows
 * @param width columns
 * @param flip mirrored after cropping
 */
public record PixelCrop(int top, int left, int height, int width, boolean flip) {
  public PixelCrop {
    if (top < 0 || left < 0 || height < 1 || width < 1) {
      throw new IllegalArgumentException("crop out of range: top " + top + ", left " + left + ", " + height + "×" + width);
    }
  }

  /** Chooses the crops of one example once its image size is known. */
  @FunctionalInterface
  public interface Chooser {
    /**
     * @param index the example's position in its dataset
     * @param height the decoded image's rows
     * @param width its columns
     * @return the crops to cut, all inside the image
     */
    PixelCrop[] choose(int index, int height, int width);
  }
}
