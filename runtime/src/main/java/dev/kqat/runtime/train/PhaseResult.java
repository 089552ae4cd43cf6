package dev.kqat.runtime.train;

import dev.kqat.runtime.events.OscillationMetrics;

import dev.kqat.runtime.events.EvalMetrics;

/**
 * @param test evaluation after the last epoch (after BN re-estimation when the plan asks for it)
 * @param testWithoutBnReestimation the same evaluation with the running BN statistics of training;
 *     null without BN re-estimation
 * @param oscillations the trackers' figures after the last epoch; null without tracking
 * @param imagesPerSecond training throughput over the epochs run in this process
 * @param steps optimizer steps of the whole phase
 * @param trainSeconds seconds spent in training steps in this process
 * @param beforeTraining the evaluation after calibration, before the first step (running BN
 *     statistics): the post-training-quantized network of a quantized phase; null when the plan
 *     does not evaluate before training or the phase was resumed
 */
public record PhaseResult(EvalMetrics test, EvalMetrics testWithoutBnReestimation, double imagesPerSecond,
    long steps, double trainSeconds, OscillationMetrics oscillations, EvalMetrics beforeTraining) {}
