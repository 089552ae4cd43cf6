package dev.kqat.dsl

import dev.kqat.runtime.distill.SoftLabelDecoding
import kotlinx.serialization.Serializable

/**
 * Knowledge distillation in QAT (algorithms.md §3.4): the loss is the soft cross-entropy against a
 * teacher's soft labels, with no hard-label term; reported accuracy counts the labels. The teacher
 * runs online on the same images, or labelled stored crops beforehand (`kqat softlabels`) that
 * training replays.
 */
@Serializable
data class DistillationSpec(
    /**
     * A kqat checkpoint folder (or timm `.safetensors` / Keras `.h5` weights); null: the FP32 weights QAT
     * starts from (this run's pre-training, the cache or [Experiment.initFrom]).
     */
    val teacherCheckpoint: String? = null,
    /** The teacher's architecture; null: the student's. */
    @Serializable(with = ModelSpecSerializer::class)
    val teacherModel: ModelSpec? = null,
    /** A soft-label file written by `kqat softlabels`; set, it replaces the online teacher. */
    val softLabels: String? = null,
    /** Stored crops replayed per image per step (FKD's `num_crops`); a pass then counts as this many epochs. */
    val crops: Int = 4,
    /** How the stored top-k become a distribution over all classes. */
    val decoding: SoftLabelDecoding = SoftLabelDecoding.MARGINAL_SMOOTHING,
)

@QatDsl
class DistillationBuilder internal constructor(start: DistillationSpec) {
    private var spec = start

    /**
     * The teacher: `teacher()` is the FP32 network QAT starts from; `teacher("runs/fp32/checkpoints/pretrain/epoch-0015")`
     * a checkpoint of the same architecture; `teacher(path) { tinyMbv2() }` one of another architecture.
     */
    fun teacher(checkpoint: String? = null, model: (ModelBuilder.() -> Unit)? = null) {
        spec = DistillationSpec(checkpoint, model?.let { ModelBuilder(ModelSpec.TinyMbv2Spec()).apply(it).build() })
    }

    /**
     * Stored soft labels: `softLabels("runs/fp32/softlabels.kqsl", crops = 4)` replays [crops] of each
     * image's stored crops per step (FKD, algorithms.md §3.4); the teacher never runs during training.
     */
    fun softLabels(file: String, crops: Int = 4, decoding: SoftLabelDecoding = SoftLabelDecoding.MARGINAL_SMOOTHING) {
        spec = DistillationSpec(softLabels = file, crops = crops, decoding = decoding)
    }

    internal fun build() = spec
}
