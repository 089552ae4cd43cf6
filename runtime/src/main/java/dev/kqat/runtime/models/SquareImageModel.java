package dev.kqat.runtime.models;

/** An ImageNet-style classifier of square images: holds the input size, channels and class count. */
abstract class SquareImageModel implements Model {
  protected final int numClasses;
  protected final int inputSize;
  protected final int inputChannels;

  SquareImageModel(int numClasses, int inputSize, int inputChannels) {
    this.numClasses = numClasses;
    this.inputSize = inputSize;
    this.inputChannels = inputChannels;
  }

  @Override
  public int[] inputShape() {
    return new int[] {inputSize, inputSize, inputChannels};
  }

  @Override
  public int numClasses() {
    return numClasses;
  }
}
