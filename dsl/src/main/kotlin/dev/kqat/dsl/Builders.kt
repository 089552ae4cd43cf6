package dev.kqat.dsl

import dev.kqat.runtime.tf.DeviceSetting

/** Keeps inner blocks from silently calling builders of an outer block (kotlinx.html's pattern). */
@DslMarker
annotation class QatDsl

/**
 * Declares an experiment and validates it as a whole; every problem is reported at once, each
 * naming its field and the script line of its block.
 *
 * ```
 * experiment("quickstart") {
 *     data { fashionMnist(); batchSize = 128 }
 *     model { tinyMbv2() }
 *     pretrain { epochs = 2; optimizer = sgd(lr = cosine(0.05)) }
 *     quantize { weights { bits = 4 }; activations { bits = 4 } }
 *     qat { epochs = 1; optimizer = sgd(lr = cosine(0.01)) }
 * }
 * ```
 */
fun experiment(name: String = "experiment", block: ExperimentBuilder.() -> Unit): Experiment {
    val builder = ExperimentBuilder(name)
    builder.lines["experiment"] = ScriptLine.caller()
    builder.sourceFile = ScriptLine.file()
    builder.block()
    val built = builder.build()
    Validation.requireValid(built)
    return built
}

@QatDsl
class ExperimentBuilder internal constructor(var name: String) {
    /** Seed of weight initialisation, data order and dropout. */
    var seed: Long = 0
    /**
     * Where every phase trains: `device = cpu()` (default), `device = gpu(0)` or `device = auto()`
     * (GPU 0 when TensorFlow sees one, else the CPU); thread counts with [threads].
     */
    var device: DeviceSpec = DeviceSpec()
    private var threads: Pair<Int, Int>? = null
    /** Start from the weights of this checkpoint folder. */
    var initFrom: String? = null
    private var data = DataSpec()
    private var model = ModelSpec()
    private var pretrain: PhaseSpec? = null
    private var quantization: QuantizationSpec? = null
    private var qat: PhaseSpec? = null
    private var oscillations: OscillationsSpec? = null
    private var evaluation = EvaluationSpec()
    internal val lines = linkedMapOf<String, Int>()
    internal var sourceFile: String? = null

    fun cpu(): DeviceSpec = deviceAt(DeviceSpec(DeviceKind.CPU))

    /** GPU [index] as TensorFlow numbers the GPUs it sees (needs the `-Pgpu` build, CUDA 12 and cuDNN 9). */
    fun gpu(index: Int = 0): DeviceSpec = deviceAt(DeviceSpec(DeviceKind.GPU, index))

    fun auto(): DeviceSpec = deviceAt(DeviceSpec(DeviceKind.AUTO))

    /** Remembers the script line of `device = …` for error messages. */
    private fun deviceAt(d: DeviceSpec): DeviceSpec {
        lines["device"] = ScriptLine.caller()
        return d
    }

    /**
     * TensorFlow's thread counts on the [device]: threads one op may use ([intraOp]) and ops run at
     * the same time ([interOp]); 0 leaves the choice to TensorFlow (one per core).
     */
    fun threads(intraOp: Int = DeviceSetting.DEFAULT_THREADS, interOp: Int = DeviceSetting.DEFAULT_THREADS) {
        lines["device"] = ScriptLine.caller()
        threads = intraOp to interOp
    }

    fun data(block: DataBuilder.() -> Unit) {
        lines["data"] = ScriptLine.caller()
        data = DataBuilder(data).apply(block).build()
    }

    fun model(block: ModelBuilder.() -> Unit) {
        lines["model"] = ScriptLine.caller()
        model = ModelBuilder(model).apply(block).build()
    }

    /** Floating-point training before quantization. */
    fun pretrain(block: PhaseBuilder.() -> Unit) {
        lines["pretrain"] = ScriptLine.caller()
        pretrain = PhaseBuilder(pretrain ?: PhaseSpec()).apply(block).build()
    }

    fun quantize(block: QuantizationBuilder.() -> Unit) {
        lines["quantization"] = ScriptLine.caller()
        quantization = QuantizationBuilder(quantization ?: QuantizationSpec()).apply(block).build()
    }

    /** Quantization-aware training after [quantize]. */
    fun qat(block: PhaseBuilder.() -> Unit) {
        lines["qat"] = ScriptLine.caller()
        qat = PhaseBuilder(qat ?: PhaseSpec()).apply(block).build()
    }

    /**
     * Oscillation control during QAT, e.g.
     * `oscillations { track(); dampen(weight = cosine(0.0, 0.1)); freeze(threshold = cosine(0.1, 0.01)) }`.
     */
    fun oscillations(block: OscillationsBuilder.() -> Unit) {
        lines["oscillations"] = ScriptLine.caller()
        oscillations = OscillationsBuilder(oscillations ?: OscillationsSpec()).apply(block).build()
    }

    /** How QAT evaluates, e.g. `evaluate { bnReestimation(batches = 50) }`. */
    fun evaluate(block: EvaluationBuilder.() -> Unit) {
        lines["evaluation"] = ScriptLine.caller()
        evaluation = EvaluationBuilder(evaluation).apply(block).build()
    }

    internal fun build() = Experiment(
        name = name, seed = seed, data = data, model = model, pretrain = pretrain,
        quantization = quantization, qat = qat, oscillations = oscillations, evaluation = evaluation,
        initFrom = initFrom, device = threads?.let { (intra, inter) -> device.copy(intraOpThreads = intra, interOpThreads = inter) } ?: device,
        sourceFile = sourceFile, sourceLines = lines.filterValues { it > 0 },
    )
}

@QatDsl
class DataBuilder internal constructor(start: DataSpec) {
    var dataset: DatasetSpec = start.dataset
    var batchSize: Int = start.batchSize
    var trainLimit: Int? = start.trainLimit
    var testLimit: Int? = start.testLimit

    /** Fashion-MNIST IDX files (Debian's `dataset-fashion-mnist` location by default). */
    fun fashionMnist(path: String = DatasetSpec.FashionMnist().path) {
        dataset = DatasetSpec.FashionMnist(path)
    }

    /**
     * An ImageNet-style folder (`train/<class>/<image>`, `val/<class>/<image>`) decoded and augmented
     * by TensorFlow ops; [resizeSize] defaults to torchvision's 256/224 ratio of [imageSize].
     */
    fun imageFolder(
        path: String, imageSize: Int = 224, resizeSize: Int = Math.round(imageSize / 0.875).toInt(),
        trainSplit: String = "train", valSplit: String = "val",
        mean: List<Double> = DatasetSpec.ImageFolder.IMAGENET_MEAN, std: List<Double> = DatasetSpec.ImageFolder.IMAGENET_STD,
    ) {
        dataset = DatasetSpec.ImageFolder(path, imageSize, resizeSize, trainSplit, valSplit, mean, std)
    }

    /** Generated prototype-plus-noise images. */
    fun synthetic(
        trainSize: Int = 512, testSize: Int = 128, height: Int = 28, width: Int = 28,
        channels: Int = 1, classes: Int = 10, noise: Double = 1.0,
    ) {
        dataset = DatasetSpec.Synthetic(trainSize, testSize, height, width, channels, classes, noise)
    }

    internal fun build() = DataSpec(dataset, batchSize, trainLimit, testLimit)
}

@QatDsl
class ModelBuilder internal constructor(start: ModelSpec) {
    var architecture: String = start.architecture
    var widthMultiplier: Double = start.widthMultiplier
    var classes: Int? = start.classes
    /** Batch-norm epsilon; null: the architecture's own. */
    var bnEpsilon: Double? = start.bnEpsilon

    /** The reference task's 86,634-parameter MobileNetV2 (benchmark.md). */
    fun tinyMbv2() {
        architecture = "tiny-mbv2"
    }

    /** MobileNetV2 in the ImageNet layout; `bnEpsilon = 1e-3` to start from Keras weights. */
    fun mobilenetV2(widthMultiplier: Double = 1.0, bnEpsilon: Double? = null) {
        architecture = "mobilenet-v2"
        this.widthMultiplier = widthMultiplier
        this.bnEpsilon = bnEpsilon
    }

    /** MobileNetV3-Small (squeeze-excite and hard-swish; BN epsilon 1e-3 as torchvision and Keras). */
    fun mobilenetV3Small(widthMultiplier: Double = 1.0) {
        architecture = "mobilenet-v3-small"
        this.widthMultiplier = widthMultiplier
    }

    /** MobileNetV3-Large. */
    fun mobilenetV3Large(widthMultiplier: Double = 1.0) {
        architecture = "mobilenet-v3-large"
        this.widthMultiplier = widthMultiplier
    }

    /** EfficientNet-lite0 as timm's `efficientnet_lite0` (no width multiplier). */
    fun efficientNetLite0() {
        architecture = "efficientnet-lite0"
    }

    fun resnet18() {
        architecture = "resnet18"
    }

    internal fun build() = ModelSpec(architecture, widthMultiplier, classes, bnEpsilon)
}

@QatDsl
class PhaseBuilder internal constructor(start: PhaseSpec) {
    var epochs: Int = start.epochs
    /** Optimizer of the network weights. */
    var optimizer: OptimizerSpec = start.optimizer
    /** Optimizer of quantizer step sizes (default Adam, constant 1e-5, no weight decay). */
    var quantizerOptimizer: OptimizerSpec = start.quantizerOptimizer
    var labelSmoothing: Double = start.labelSmoothing
    /** Reuse this phase's result across runs (pre-training only); see README "Pre-training cache". */
    var cacheKey: String? = start.cacheKey

    internal fun build() = PhaseSpec(epochs, optimizer, quantizerOptimizer, labelSmoothing, cacheKey)
}

/** SGD with momentum (PyTorch convention); weight decay is added to the gradient. */
fun sgd(lr: ScheduleSpec, momentum: Double = 0.9, weightDecay: Double = 0.0, nesterov: Boolean = false) =
    OptimizerSpec(OptimizerKind.SGD, lr, momentum, nesterov, weightDecay)

fun adam(lr: ScheduleSpec, weightDecay: Double = 0.0) =
    OptimizerSpec(OptimizerKind.ADAM, lr, 0.0, false, weightDecay)

@QatDsl
class QuantizationBuilder internal constructor(start: QuantizationSpec) {
    private var weights: QuantizerDef? = start.weights
    private var activations: QuantizerDef? = start.activations
    /** Bits of the first and last weight layers. */
    var firstLastBits: Int = start.firstLastBits
    var calibrationBatches: Int = start.calibrationBatches
    private val layers = start.layers.toMutableMap()

    fun weights(block: QuantizerBuilder.() -> Unit) {
        weights = QuantizerBuilder(weights ?: QuantizerDef(bits = 4)).apply(block).build()
    }

    fun activations(block: QuantizerBuilder.() -> Unit) {
        activations = QuantizerBuilder(activations ?: QuantizerDef(bits = 4)).apply(block).build()
    }

    /** Keep weights in floating point. */
    fun noWeightQuantization() {
        weights = null
    }

    /** Keep activations in floating point. */
    fun noActivationQuantization() {
        activations = null
    }

    /** An exception for one layer, by its exact name (see `kqat layers` / the model summary). */
    fun layer(name: String, block: LayerOverrideBuilder.() -> Unit) {
        layers[name] = LayerOverrideBuilder().apply(block).build()
    }

    internal fun build() = QuantizationSpec(weights, activations, firstLastBits, layers.toMap(), calibrationBatches)
}

@QatDsl
class QuantizerBuilder internal constructor(start: QuantizerDef) {
    var bits: Int = start.bits
    var perChannel: Boolean = start.perChannel
    var convention: Convention = start.convention
    var gradientScaling: Boolean = start.gradientScaling
    var init: RangeInitKind = start.init
    var candidates: Int = start.candidates
    var learnable: Boolean = start.learnable

    internal fun build() = QuantizerDef(bits, perChannel, convention, gradientScaling, init, candidates, learnable)
}

@QatDsl
class LayerOverrideBuilder internal constructor() {
    var weightBits: Int? = null
    var inputBits: Int? = null
    var floatingPoint: Boolean = false

    internal fun build() = LayerOverrideSpec(weightBits, inputBits, floatingPoint)
}
