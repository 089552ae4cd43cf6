package dev.kqat.runtime.models;

/** A classifier with a name, an input shape and a class count fixed at construction. */
abstract class ImageClassifier implements Model {
  private final String name;
  protected final int numClasses;
  protected final int[] inputShape;

  ImageClassifier(String name, int numClasses, int[] inputShape) {
    this.name = name;
    this.numClasses = numClasses;
    this.inputShape = inputShape.clone();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int[] inputShape() {
    return inputShape.clone();
  }

  @Override
  public int numClasses() {
    return numClasses;
  }
}
