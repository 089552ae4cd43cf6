package dev.kqat.dsl

import dev.kqat.runtime.tf.DeviceSetting
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.JsonTransformingSerializer

/**
 * The single source of truth of a run (architecture.md rule 5): immutable, serialisable to
 * `experiment.json`, validated as a whole before any graph is built.
 */
@Serializable
data class Experiment(
    val name: String = "experiment",
    /** Seed of weight initialisation, data order and dropout. */
    val seed: Long = 0,
    val data: DataSpec = DataSpec(),
    val model: ModelSpec = ModelSpec(),
    /** Floating-point (pre-)training; absent when starting from [initFrom] or a cache. */
    val pretrain: PhaseSpec? = null,
    /** How the network is quantized; absent for an FP32-only experiment. */
    val quantization: QuantizationSpec? = null,
    /** Quantization-aware training; needs [quantization]. */
    val qat: PhaseSpec? = null,
    /** Oscillation tracking, dampening and freezing during QAT. */
    val oscillations: OscillationsSpec? = null,
    /** Evaluation of the QAT phase (BN re-estimation). */
    val evaluation: EvaluationSpec = EvaluationSpec(),
    /**
     * Weights that start the first phase: a checkpoint folder (e.g. another run's FP32 result) or a
     * Keras 2 `.h5` weights file (e.g. `keras.applications` ImageNet weights of the same architecture).
     */
    val initFrom: String? = null,
    /** Where the phases train and with how many threads: `cpu()` (default), `gpu(index)` or `auto()`. */
    @Serializable(with = DeviceSpecSerializer::class)
    val device: DeviceSpec = DeviceSpec(),
    /** Script file and the line where each block (`data`, `model`, …) was written, for errors. */
    val sourceFile: String? = null,
    val sourceLines: Map<String, Int> = emptyMap(),
)

@Serializable
enum class DeviceKind {
    @SerialName("cpu") CPU,
    @SerialName("gpu") GPU,
    /** GPU 0 when TensorFlow sees a GPU, else the CPU. */
    @SerialName("auto") AUTO,
}

/**
 * The device of every phase's graph and the session's thread counts; the bounds and defaults are
 * [DeviceSetting]'s. In `experiment.json`:
 * `{"type": "gpu", "index": 0, "intraOpThreads": 0, "interOpThreads": 0}`.
 */
@Serializable
data class DeviceSpec(
    val type: DeviceKind = DeviceKind.CPU,
    /** The GPU as TensorFlow numbers the GPUs it sees (GPU only); a run fails before building when it sees none. */
    val index: Int = 0,
    /** Threads one op may use (0: TensorFlow's default, one per core). */
    val intraOpThreads: Int = DeviceSetting.DEFAULT_THREADS,
    /** Ops run at the same time (0: TensorFlow's default). */
    val interOpThreads: Int = DeviceSetting.DEFAULT_THREADS,
)

/**
 * [DeviceSpec] as JSON, also read from the words `cpu`, `gpu`, `gpu:N` and `auto`: `--set device=gpu:1`,
 * and `experiment.json` files written when the device was a string.
 */
object DeviceSpecSerializer : JsonTransformingSerializer<DeviceSpec>(DeviceSpec.serializer()) {
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
data class ModelSpec(
    /** `tiny-mbv2`, `mobilenet-v2`, `mobilenet-v3-small`, `mobilenet-v3-large`, `efficientnet-lite0` or `resnet18`. */
    val architecture: String = "tiny-mbv2",
    val widthMultiplier: Double = 1.0,
    /** Number of classes; null: the dataset's. */
    val classes: Int? = null,
    /** Batch-norm epsilon; null: the architecture's own (1e-5, MobileNetV3 1e-3; Keras weights want 1e-3). */
    val bnEpsilon: Double? = null,
)

@Serializable
enum class OptimizerKind { @SerialName("sgd") SGD, @SerialName("adam") ADAM }

@Serializable
data class OptimizerSpec(
    val kind: OptimizerKind = OptimizerKind.SGD,
    val learningRate: ScheduleSpec = ScheduleSpec.Constant(0.01),
    /** SGD momentum (PyTorch convention). */
    val momentum: Double = 0.9,
    val nesterov: Boolean = false,
    /** L2 weight decay added to the gradient. */
    val weightDecay: Double = 0.0,
)

@Serializable
data class PhaseSpec(
    val epochs: Int = 1,
    /** Optimizer of the network weights. */
    val optimizer: OptimizerSpec = OptimizerSpec(),
    /** Optimizer of quantizer step sizes (QAT only); default Adam 1e-5 without weight decay. */
    val quantizerOptimizer: OptimizerSpec = OptimizerSpec(OptimizerKind.ADAM, ScheduleSpec.Constant(1e-5)),
    val labelSmoothing: Double = 0.0,
    /** Pre-training only: reuse the result across runs under this cache key. */
    val cacheKey: String? = null,
)

@Serializable
enum class Convention {
    /** OSC: clamp(round(x/s)); the STE window is half a bin wider. */
    @SerialName("round-then-clamp") ROUND_THEN_CLAMP,
    /** LSQ/RFQuant/VVTQ: round(clamp(x/s)). */
    @SerialName("clamp-then-round") CLAMP_THEN_ROUND,
}

@Serializable
enum class RangeInitKind { @SerialName("mse") MSE, @SerialName("min-max") MIN_MAX }

@Serializable
data class QuantizerDef(
    val bits: Int = 8,
    /** One step size per output channel (kernels only). */
    val perChannel: Boolean = false,
    val convention: Convention = Convention.ROUND_THEN_CLAMP,
    /** LSQ step-size gradient scaling 1/sqrt(p·N). */
    val gradientScaling: Boolean = false,
    val init: RangeInitKind = RangeInitKind.MSE,
    /** MSE grid size. */
    val candidates: Int = 100,
    /** Learn the step size (LSQ) or keep the initial one. */
    val learnable: Boolean = true,
)

@Serializable
data class LayerOverrideSpec(
    val weightBits: Int? = null,
    val inputBits: Int? = null,
    val floatingPoint: Boolean = false,
)

@Serializable
data class QuantizationSpec(
    val weights: QuantizerDef? = QuantizerDef(bits = 4),
    val activations: QuantizerDef? = QuantizerDef(bits = 4),
    /** Bits of the first and last weight layers (their inputs: image FP, last layer input at these bits). */
    val firstLastBits: Int = 8,
    /** Exceptions by exact layer name. */
    val layers: Map<String, LayerOverrideSpec> = emptyMap(),
    /** Training batches used to initialise ranges. */
    val calibrationBatches: Int = 1,
)
