package dev.kqat.runtime.events;

/**
 * @param loss mean cross-entropy over the evaluation set
 * @param top1 accuracy, fraction in [0, 1]
 * @param examples number of examples evaluated
 */
public record EvalMetrics(double loss, double top1, int examples) {}
