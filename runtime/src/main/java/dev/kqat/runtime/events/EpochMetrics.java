package dev.kqat.runtime.events;

/**
 * @param phase phase name
 * @param epoch 1-based epoch
 * @param trainLoss mean training loss over the epoch
 * @param trainTop1 training accuracy over the epoch
 * @param test evaluation after the epoch
 * @param imagesPerSecond training throughput of the epoch (data loading included)
 * @param trainSeconds time spent in training steps
 */
public record EpochMetrics(
    String phase,
    int epoch,
    double trainLoss,
    double trainTop1,
    EvalMetrics test,
    double imagesPerSecond,
    double trainSeconds) {}
