package dev.kqat.runtime.events;

/**
 * @param phase phase name
 * @param epoch 1-based epoch
 * @param trainLoss mean training loss over the epoch
 * @param trainTop1 training accuracy over the epoch
 * @param test evaluation after the epoch (after BN re-estimation when the phase asks for it)
 * @param testWithoutBnReestimation evaluation with the running BN statistics; null without BN re-estimation
 * @param imagesPerSecond training throughput of the epoch (data loading included)
 * @param trainSeconds time spent in training steps
 * @param oscillations oscillation figures of the tracked weights, or null without tracking
 * @param binRegularizer VVTQ's bin regulariser per layer and in total, or null without it
 */
public record EpochMetrics(
    String phase,
    int epoch,
    double trainLoss,
    double trainTop1,
    EvalMetrics test,
    EvalMetrics testWithoutBnReestimation,
    double imagesPerSecond,
    double trainSeconds,
    OscillationMetrics oscillations,
    BinRegularizerMetrics binRegularizer) {}
