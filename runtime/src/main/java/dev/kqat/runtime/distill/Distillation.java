package dev.kqat.runtime.distill;

/**
 * Knowledge distillation in QAT (algorithms.md §3.4): the training loss becomes the soft
 * cross-entropy {@code -(1/N) Σ_i Σ_c t_ic log softmax(z_i)_c} against a teacher's soft labels
 * {@code t}, with no hard-label term; accuracy is still counted against the labels. The soft labels
 * come from a teacher run in the same graph ({@link OnlineTeacher}) or from a file written by a
 * teacher beforehand, replayed crop by crop ({@link StoredSoftLabels}).
 */
public sealed interface Distillation permits OnlineTeacher, StoredSoftLabels {}
