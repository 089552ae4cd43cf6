package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.BackwardConvention
import dev.kqat.runtime.quant.GradientScaling
import dev.kqat.runtime.quant.QuantMap
import dev.kqat.runtime.quant.Signedness
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.LayerOverride
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.RangeInit
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.runtime.train.OptimizerConfig

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
    var device: DeviceSetting = DeviceSetting.DEFAULT
    private var threads: Pair<Int, Int>? = null
    /** Start from the weights of this checkpoint folder. */
    var initFrom: String? = null
    private var data = DataSpec()
    private var model: ModelSpec = ModelSpec.TinyMbv2Spec()
    private var pretrain: PhaseSpec? = null
    private var quantization: QuantizationPolicy? = null
    private var ptq = false
    private var qat: PhaseSpec? = null
    private var oscillations: OscillationSpec? = null
    private var distillation: DistillationSpec? = null
    private var evaluation = EvaluationSpec()
    private var mixedPrecision: SupernetSpec? = null
    private var search: SearchSpec? = null
    internal val lines = linkedMapOf<String, Int>()
    internal var sourceFile: String? = null

    fun cpu(): DeviceSetting = deviceAt(DeviceSetting.cpu())

    /** GPU [index] as TensorFlow numbers the GPUs it sees (needs the `-Pgpu` build, CUDA 12 and cuDNN 9). */
    fun gpu(index: Int = 0): DeviceSetting = deviceAt(DeviceSetting.gpu(index))

    fun auto(): DeviceSetting = deviceAt(DeviceSetting.auto())

    /** Remembers the script line of `device = …` for error messages. */
    private fun deviceAt(d: DeviceSetting): DeviceSetting {
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
        quantization = QuantizationBuilder(quantization ?: QuantizationPolicy.DEFAULT).apply(block).build()
    }

    /**
     * Post-training quantization after [quantize]: calibrate the quantizers on the previous phase's
     * network and evaluate it, without training (a phase of its own, `ptq`, before any [qat]).
     */
    fun ptq() {
        lines["ptq"] = ScriptLine.caller()
        ptq = true
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
        oscillations = OscillationsBuilder(oscillations ?: OscillationSpec.DEFAULT).apply(block).build()
    }

    /**
     * Distillation during QAT (algorithms.md §3.4) from an online teacher, e.g. `distill { teacher() }`
     * (the FP32 network QAT starts from) or `distill { teacher("path/to/checkpoint") { tinyMbv2() } }`,
     * or from stored soft labels, `distill { softLabels("runs/fp32/softlabels-r8-k5.kqsl", crops = 4) }`.
     */
    fun distill(block: DistillationBuilder.() -> Unit) {
        lines["distillation"] = ScriptLine.caller()
        distillation = DistillationBuilder(distillation ?: DistillationSpec()).apply(block).build()
    }

    /**
     * RFQuant's supernet (algorithms.md §2), trained from the FP32 network, e.g.
     * `mixedPrecision { epochs = 2; candidates(6 downTo 2); randomSubnets = 3; idm(0.01); bitScheduler(); ema(0.9997) }`.
     */
    fun mixedPrecision(block: MixedPrecisionBuilder.() -> Unit) {
        lines["mixedPrecision"] = ScriptLine.caller()
        mixedPrecision = MixedPrecisionBuilder(mixedPrecision ?: SupernetSpec()).apply(block).build()
    }

    /** The retraining-free search after [mixedPrecision], e.g. `search { bitops(uniform(3), uniform(4)) }`. */
    fun search(block: SearchBuilder.() -> Unit) {
        lines["search"] = ScriptLine.caller()
        search = SearchBuilder(search ?: SearchSpec()).apply(block).build()
    }

    /** How QAT evaluates, e.g. `evaluate { bnReestimation(batches = 50) }`. */
    fun evaluate(block: EvaluationBuilder.() -> Unit) {
        lines["evaluation"] = ScriptLine.caller()
        evaluation = EvaluationBuilder(evaluation).apply(block).build()
    }

    internal fun build() = Experiment(
        name = name, seed = seed, data = data, model = model, pretrain = pretrain,
        quantization = quantization, ptq = ptq, qat = qat, oscillations = oscillations, distillation = distillation,
        mixedPrecision = mixedPrecision, search = search, evaluation = evaluation,
        initFrom = initFrom, device = threads?.let { (intra, inter) -> device.withThreads(intra, inter) } ?: device,
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

/** Chooses the architecture ([ModelSpec]); `classes` overrides the dataset's class count. */
@QatDsl
class ModelBuilder internal constructor(start: ModelSpec) {
    private var spec = start
    /** Number of classes; null: the dataset's. */
    var classes: Int? = start.classes

    /** The reference task's 86,634-parameter MobileNetV2 (benchmark.md). */
    fun tinyMbv2() {
        spec = ModelSpec.TinyMbv2Spec()
    }

    /** MobileNetV2 in the ImageNet layout; `bnEpsilon = 1e-3` to start from Keras weights. */
    fun mobilenetV2(widthMultiplier: Double = 1.0, bnEpsilon: Double? = null) {
        spec = ModelSpec.MobileNetV2Spec(widthMultiplier, bnEpsilon)
    }

    /** MobileNetV3-Small (squeeze-excite and hard-swish; BN epsilon 1e-3 as torchvision and Keras). */
    fun mobilenetV3Small(widthMultiplier: Double = 1.0) {
        spec = ModelSpec.MobileNetV3SmallSpec(widthMultiplier)
    }

    /** MobileNetV3-Large. */
    fun mobilenetV3Large(widthMultiplier: Double = 1.0) {
        spec = ModelSpec.MobileNetV3LargeSpec(widthMultiplier)
    }

    /** EfficientNet-lite0 as timm's `efficientnet_lite0` (no width multiplier). */
    fun efficientNetLite0() {
        spec = ModelSpec.EfficientNetLite0Spec()
    }

    fun resnet18() {
        spec = ModelSpec.ResNet18Spec()
    }

    /** DeiT-Tiny at 224 px (5.7 M weights at 1000 classes); [dropPath]: stochastic depth of the last block. */
    fun deitTiny(dropPath: Double = 0.1) {
        spec = ModelSpec.DeitTinySpec(dropPath)
    }

    /** DeiT-Small at 224 px (22 M weights at 1000 classes). */
    fun deitSmall(dropPath: Double = 0.1) {
        spec = ModelSpec.DeitSmallSpec(dropPath)
    }

    /** Swin-T at 224 px (28.3 M weights at 1000 classes): shifted windows of 7, patch merging. */
    fun swinTiny(dropPath: Double = 0.2) {
        spec = ModelSpec.SwinTinySpec(dropPath)
    }

    /** The Fashion-MNIST reference ViT: patch 4, width 64, 3 blocks of 4 heads (155 k weights). */
    fun tinyVit(dropPath: Double = 0.0) {
        spec = ModelSpec.TinyVitSpec(dropPath)
    }

    internal fun build() = spec.withClasses(classes)
}

@QatDsl
class PhaseBuilder internal constructor(start: PhaseSpec) {
    var epochs: Int = start.epochs
    /** Optimizer of the network weights. */
    var optimizer: OptimizerConfig = start.optimizer
    /** Optimizer of quantizer step sizes (default Adam, constant 1e-5, no weight decay). */
    var quantizerOptimizer: OptimizerConfig = start.quantizerOptimizer
    var labelSmoothing: Double = start.labelSmoothing
    /** Reuse this phase's result across runs (pre-training only); see README "Pre-training cache". */
    var cacheKey: String? = start.cacheKey

    internal fun build() = PhaseSpec(epochs, optimizer, quantizerOptimizer, labelSmoothing, cacheKey)
}

/** SGD with momentum (PyTorch convention); weight decay is added to the gradient. */
fun sgd(
    lr: Schedule,
    momentum: Double = OptimizerConfig.DEFAULT.momentum(),
    weightDecay: Double = OptimizerConfig.DEFAULT.weightDecay(),
    nesterov: Boolean = OptimizerConfig.DEFAULT.nesterov(),
): OptimizerConfig = OptimizerConfig.sgd(lr, momentum, weightDecay, nesterov)

/** Adam (β 0.9/0.999, ε 1e-8); weight decay is added to the gradient. */
fun adam(lr: Schedule, weightDecay: Double = 0.0): OptimizerConfig = OptimizerConfig.adam(lr, weightDecay)

/**
 * AdamW (β 0.9/0.999, ε 1e-8) as PyTorch and timm: decoupled weight decay `w *= 1 - lr·wd` on weights of
 * two or more dimensions only (no decay on biases, norms, class token, position embedding, step sizes).
 */
fun adamW(lr: Schedule, weightDecay: Double = 0.05): OptimizerConfig = OptimizerConfig.adamW(lr, weightDecay)

/** The quantization policy ([QuantizationPolicy]): weight and activation quantizers, exceptions by layer. */
@QatDsl
class QuantizationBuilder internal constructor(start: QuantizationPolicy) {
    private var weights: QuantizerSpec? = start.weights()
    private var activations: QuantizerSpec? = start.activations()
    /** Bits of the first and last weight layers. */
    var firstLastBits: Int = start.firstLastBits()
    /** Training batches that initialise the quantizers' ranges. */
    var calibrationBatches: Int = start.calibrationBatches()
    /** Images per calibration batch; 0: the batch size. */
    var calibrationImages: Int = start.calibrationImages()
    /** Where activations are quantized: [QuantMap.LAYER_INPUTS] (every layer's input) or [QuantMap.VVTQ]. */
    var map: QuantMap = start.map()
    private val layers = start.layers().toMutableMap()

    /**
     * VVTQ's quantization of a transformer (algorithms.md §3.1–3.2), keeping the bits already set:
     * its activation map, clamp-then-round quantizers with VVTQ's gradient scaling and a step size per
     * bit-width, least-squares weight init, 2·mean|x|/√p activation init on 64 images, 8-bit ends.
     * Then e.g. `weights { bits = 3 }`; `activations { offset = true }` is the reference's `--use-offset`.
     */
    fun vvtq() {
        weights = QuantizerSpec.vvtqWeights(weights?.bits() ?: QuantizerSpec.DEFAULT.bits())
        activations = QuantizerSpec.vvtqActivations(activations?.bits() ?: QuantizerSpec.DEFAULT.bits())
        firstLastBits = 8
        calibrationBatches = 1
        calibrationImages = QuantizationPolicy.VVTQ_CALIBRATION_IMAGES
        map = QuantMap.VVTQ
    }

    fun weights(block: QuantizerBuilder.() -> Unit) {
        weights = QuantizerBuilder(weights ?: QuantizerSpec.DEFAULT).apply(block).build()
    }

    fun activations(block: QuantizerBuilder.() -> Unit) {
        activations = QuantizerBuilder(activations ?: QuantizerSpec.DEFAULT).apply(block).build()
    }

    /** Keep weights in floating point. */
    fun noWeightQuantization() {
        weights = null
    }

    /** Keep activations in floating point. */
    fun noActivationQuantization() {
        activations = null
    }

    /**
     * A configuration found by `kqat search` (`"runs/rfq/search.json#1"`; `#0` when no number is
     * given): each searched layer's weight and input bits become its exceptions, the first and last
     * layers take the supernet's fixed bits, so QAT fine-tunes that mixed-precision network as
     * ordinary fixed-bit QAT (start it from the supernet's FP32 checkpoint or any other).
     */
    fun fromSearch(reference: String) {
        val (file, n) = SupernetSearch.read(reference)
        for ((layer, bits) in file.configuration(n).layers) {
            layers[layer] = LayerOverride(bits.w, bits.a, false)
        }
        firstLastBits = file.fixedBits
    }

    /** An exception for one layer, by its exact name (see `kqat layers` / the model summary). */
    fun layer(name: String, block: LayerOverrideBuilder.() -> Unit) {
        layers[name] = LayerOverrideBuilder().apply(block).build()
    }

    internal fun build() =
        QuantizationPolicy(weights, activations, firstLastBits, layers.toMap(), calibrationBatches, map, calibrationImages)
}

/**
 * One quantizer ([QuantizerSpec]): `convention = BackwardConvention.CLAMP_THEN_ROUND`,
 * `init = RangeInit.MIN_MAX`, …
 */
@QatDsl
class QuantizerBuilder internal constructor(start: QuantizerSpec) {
    var bits: Int = start.bits()
    /** One step size per output channel (kernels only). */
    var perChannel: Boolean = start.perChannel()
    var convention: BackwardConvention = start.convention()
    /** Step-size gradient factor: OFF, LSQ's 1/sqrt(p·N), or VVTQ's (algorithms.md §0.2). */
    var gradientScaling: GradientScaling = start.gradientScaling()
    var init: RangeInit = start.init()
    /** MSE grid size. */
    var candidates: Int = start.candidates()
    /** Learn the step size (LSQ) or keep the initial one. */
    var learnable: Boolean = start.learnable()
    /** FROM_DATA (decided at calibration), SIGNED or UNSIGNED; the VVTQ map sets it per point. */
    var signedness: Signedness = start.signedness()
    /** A learnable offset (LSQ+), activations only. */
    var offset: Boolean = start.offset()
    /** A step size per bit-width 2..8 (VVTQ): a trained model changes bits without a new init. */
    var perBitWidth: Boolean = start.perBitWidth()

    /** The smallest step size; a learnable one is clamped to it after every update (VVTQ: 1e-4). */
    var minStepSize: Double = start.minStepSize()

    internal fun build() = QuantizerSpec(
        bits, perChannel, convention, gradientScaling, init, candidates, learnable, signedness, offset, perBitWidth,
        minStepSize,
    )
}

@QatDsl
class LayerOverrideBuilder internal constructor() {
    var weightBits: Int? = LayerOverride.DEFAULT.weightBits()
    var inputBits: Int? = LayerOverride.DEFAULT.inputBits()
    var floatingPoint: Boolean = LayerOverride.DEFAULT.floatingPoint()

    internal fun build() = LayerOverride(weightBits, inputBits, floatingPoint)
}
