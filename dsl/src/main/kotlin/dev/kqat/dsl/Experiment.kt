@file:UseSerializers(
    QuantizerSpecSerializer::class, QuantPolicySerializer::class, LayerOverrideSerializer::class,
    ScheduleSerializer::class, OptimizerSerializer::class, OscillationSerializer::class,
)

package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.runtime.train.OptimizerConfig
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import kotlinx.serialization.SerializationException
import kotlinx.serialization.UseSerializers
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.JsonTransformingSerializer

/**
 * The single source of truth of a run (architecture.md rule 5): immutable, serialisable to
 * `experiment.json`, validated as a whole before any graph is built. Settings the runtime consumes
 * are the runtime's own records ([QuantizationPolicy], [OptimizerConfig], [OscillationSpec],
 * [DeviceSetting], schedules), written as JSON by [RecordSerializer]; their defaults and bounds
 * live there once.
 */
@Serializable
data class Experiment(
    val name: String = "experiment",
    /** Seed of weight initialisation, data order and dropout. */
    val seed: Long = 0,
    val data: DataSpec = DataSpec(),
    @Serializable(with = ModelSpecSerializer::class)
    val model: ModelSpec = ModelSpec.TinyMbv2Spec(),
    /** Floating-point (pre-)training; absent when starting from [initFrom] or a cache. */
    val pretrain: PhaseSpec? = null,
    /** How the network is quantized; absent for an FP32-only experiment. */
    val quantization: QuantizationPolicy? = null,
    /**
     * Post-training quantization as a phase of its own (`ptq`): the network of the previous phase
     * (or [initFrom]) is quantized by [quantization], calibrated and evaluated, and nothing trains.
     */
    val ptq: Boolean = false,
    /** Quantization-aware training; needs [quantization]. */
    val qat: PhaseSpec? = null,
    /** Oscillation tracking, dampening and freezing during QAT. */
    val oscillations: OscillationSpec? = null,
    /** Distillation during QAT (an online teacher or stored soft labels); absent: cross-entropy against the labels. */
    val distillation: DistillationSpec? = null,
    /**
     * RFQuant's supernet phase (`supernet`): one set of weights for every per-layer bit-width
     * configuration, from the FP32 network; excludes [quantization] and its phases.
     */
    val mixedPrecision: SupernetSpec? = null,
    /** RFQuant's search after [mixedPrecision], written to `search.json` (also `kqat search RUN_DIR`). */
    val search: SearchSpec? = null,
    /** Evaluation of the quantized phases, PTQ and QAT (BN re-estimation). */
    val evaluation: EvaluationSpec = EvaluationSpec(),
    /**
     * Weights that start the first phase: a checkpoint folder (e.g. another run's FP32 result) or a
     * Keras 2 `.h5` weights file (e.g. `keras.applications` ImageNet weights of the same architecture).
     */
    val initFrom: String? = null,
    /** Where the phases train and with how many threads: `cpu()` (default), `gpu(index)` or `auto()`. */
    @Serializable(with = DeviceSpecSerializer::class)
    val device: DeviceSetting = DeviceSetting.DEFAULT,
    /** Script file and the line where each block (`data`, `model`, …) was written, for errors. */
    val sourceFile: String? = null,
    val sourceLines: Map<String, Int> = emptyMap(),
)

/**
 * [DeviceSetting] as JSON (`{"type": "gpu", "index": 0, "intraOpThreads": 0, "interOpThreads": 0}`),
 * also read from the words `cpu`, `gpu`, `gpu:N` and `auto`: `--set device=gpu:1`, and
 * `experiment.json` files written when the device was a string.
 */
object DeviceSpecSerializer : JsonTransformingSerializer<DeviceSetting>(DeviceRecordSerializer) {
    private val gpuWithIndex = Regex("gpu:(\\d+)")

    override fun transformDeserialize(element: JsonElement): JsonElement {
        if (element !is JsonPrimitive || !element.isString) return element
        val word = element.content.trim()
        val gpu = gpuWithIndex.matchEntire(word)
        return when {
            word in setOf("cpu", "gpu", "auto") -> JsonObject(mapOf("type" to JsonPrimitive(word)))
            gpu != null -> JsonObject(mapOf("type" to JsonPrimitive("gpu"), "index" to JsonPrimitive(gpu.groupValues[1].toInt())))
            else -> throw SerializationException("device: '$word' is not a device; use cpu, gpu, gpu:N or auto")
        }
    }
}

@Serializable
sealed interface DatasetSpec {
    /** Fashion-MNIST IDX files; [path] defaults to Debian's `dataset-fashion-mnist` location. */
    @Serializable @SerialName("fashion-mnist")
    data class FashionMnist(val path: String = "/usr/share/datasets/fashion-mnist") : DatasetSpec

    /**
     * An ImageNet-style folder: `[path]/train/<class>/<image>` and `[path]/val/<class>/<image>` (.jpg, .png).
     * Training images get a random resized crop to [imageSize] and a horizontal flip; validation
     * images are resized (shorter side [resizeSize]) and centre-cropped. Pixels are normalised
     * with [mean] and [std] (RGB, on the [0, 1] scale).
     */
    @Serializable @SerialName("image-folder")
    data class ImageFolder(
        val path: String,
        val imageSize: Int = 224,
        val resizeSize: Int = 256,
        val trainSplit: String = "train",
        val valSplit: String = "val",
        val mean: List<Double> = IMAGENET_MEAN,
        val std: List<Double> = IMAGENET_STD,
    ) : DatasetSpec {
        companion object {
            /** ImageNet channel means and standard deviations (RGB), as torchvision uses them. */
            val IMAGENET_MEAN = listOf(0.485, 0.456, 0.406)
            val IMAGENET_STD = listOf(0.229, 0.224, 0.225)
        }
    }

    /** Generated class prototypes plus noise, for tests and smoke runs. */
    @Serializable @SerialName("synthetic")
    data class Synthetic(
        val trainSize: Int = 512,
        val testSize: Int = 128,
        val height: Int = 28,
        val width: Int = 28,
        val channels: Int = 1,
        val classes: Int = 10,
        val noise: Double = 1.0,
    ) : DatasetSpec
}

@Serializable
data class DataSpec(
    val dataset: DatasetSpec = DatasetSpec.FashionMnist(),
    /** Batch size of training, evaluation and calibration. */
    val batchSize: Int = 128,
    /** Use only the first N training examples (null: all). */
    val trainLimit: Int? = null,
    /** Use only the first N test examples (null: all). */
    val testLimit: Int? = null,
)

@Serializable
data class PhaseSpec(
    val epochs: Int = 1,
    /** Optimizer of the network weights. */
    val optimizer: OptimizerConfig = OptimizerConfig.DEFAULT,
    /** Optimizer of quantizer step sizes (QAT only); default Adam 1e-5 without weight decay. */
    val quantizerOptimizer: OptimizerConfig = OptimizerConfig.QUANTIZER_DEFAULT,
    val labelSmoothing: Double = 0.0,
    /** Pre-training only: reuse the result across runs under this cache key. */
    val cacheKey: String? = null,
)

