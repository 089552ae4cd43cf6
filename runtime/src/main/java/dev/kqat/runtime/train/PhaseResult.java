package dev.kqat.runtime.train;

import dev.kqat.runtime.events.EvalMetrics;

/**
 * @param test evaluation after the last epoch
 * @param imagesPerSecond training throughput over the epochs run in this process
 * @param steps optimizer steps of the whole phase
 * @param trainSeconds seconds spent in training steps in this process
 */
public record PhaseResult(EvalMetrics test, double imagesPerSecond, long steps, double trainSeconds) {}
