package dev.kqat.runtime.events;

/**
 * @param phase phase name
 * @param epoch 1-based epoch
 * @param stepInEpoch 1-based step within the epoch
 * @param stepsPerEpoch steps in an epoch
 * @param globalStep 1-based step over the phase
 * @param loss mean training loss of the batch
 * @param accuracy training accuracy of the batch
 * @param learningRate weight learning rate used
 * @param imagesPerSecond running throughput of this epoch
 */
public record StepMetrics(
    String phase,
    int epoch,
    int stepInEpoch,
    int stepsPerEpoch,
    long globalStep,
    double loss,
    double accuracy,
    double learningRate,
    double imagesPerSecond) {}
