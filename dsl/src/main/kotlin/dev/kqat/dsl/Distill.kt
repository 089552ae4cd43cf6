package dev.kqat.dsl

import kotlinx.serialization.Serializable

/**
 * Knowledge distillation in QAT (algorithms.md §3.4): the loss is the soft cross-entropy against an
 * online teacher's softmax on the same images, with no hard-label term; reported accuracy counts the
 * labels.
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

    internal fun build() = spec
}
