package dev.kqat.scripts

import dev.kqat.dsl.RuntimeMapping
import dev.kqat.dsl.SupernetSpec
import dev.kqat.dsl.adam
import dev.kqat.dsl.constant
import dev.kqat.dsl.experiment
import dev.kqat.dsl.peakRssMb
import dev.kqat.dsl.sgd
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.train.StepBenchmark
import dev.kqat.runtime.train.TrainingSetup

/**
 * `kqat bench`: training throughput of a reference model (tiny-MBV2 of benchmark.md, or the tiny ViT
 * of docs/benchmarks.md) in one process, FP32
 * against W4A4 LSQ QAT (the ViT with VVTQ's quantization map), measured in alternating rounds so that machine load hits both alike.
 * QAT runs with the preferred fake-quant kernel; again with oscillation tracking, dampening and
 * freezing all on (algorithms.md §1.4–1.7, schedules at mid-training); and, where the kernel is the
 * fused one, with plain TF ops as the baseline it replaces; with `--supernet` (tiny-MBV2) also an RFQuant
 * supernet step (max + 3 random subnets, algorithms.md §2.5, reference settings) against the plain QAT step,
 * and where the kernels are fused, again of plain TF ops (fake quantization and IDM). Prints medians and step-time ratios.
 */
object Bench {
    data class Result(
        val kernel: FakeQuantKernel,
        val fp32: Double,
        val qat: Double,
        /** W4A4 with tracking, dampening and freezing. */
        val qatOscillationControl: Double,
        /** W4A4 with plain TF ops, when [kernel] is the fused one. */
        val qatTfOps: Double?,
        val peakRssMb: Double,
        /** The fewest images any one measurement trained on (steps × batch when the data sufficed). */
        val imagesPerMeasurement: Long,
        /** tiny-MBV2 only: an RFQuant supernet step (max + 3 random subnets, the reference's settings). */
        val supernet: Double? = null,
        /** The supernet step of plain TF ops, when [kernel] is the fused one. */
        val supernetTfOps: Double? = null,
    ) {
        /** Supernet step time divided by the plain W4A4 QAT step time. */
        val supernetRatio get() = supernet?.let { qat / it }
        /** The TF-op supernet step's time divided by the fused one's. */
        val supernetTfOpsRatio get() = supernetTfOps?.let { t -> supernet?.let { it / t } }
        /** QAT step time divided by FP32 step time. */
        val stepTimeRatio get() = fp32 / qat
        val tfOpsStepTimeRatio get() = qatTfOps?.let { fp32 / it }
        /** Step time with oscillation control divided by plain QAT step time. */
        val oscillationControlRatio get() = qat / qatOscillationControl
    }

    /** The reference models `kqat bench --model` measures. */
    val models = listOf("tiny-mbv2", "tiny-vit")

    fun run(steps: Int, rounds: Int, batchSize: Int, modelName: String = "tiny-mbv2", supernet: Boolean = false,
            log: (String) -> Unit): Result {
        require(modelName in models) { "unknown bench model '$modelName'; known: ${models.joinToString()}" }
        require(!supernet || modelName == "tiny-mbv2") { "--supernet: the RFQuant supernet is measured on tiny-mbv2, not $modelName" }
        // The DSL's defaults, as a user gets them: W4A4 LSQ with tracking, dampening and freezing; the
        // tiny ViT quantized as VVTQ does (its map and quantizers), its control with the bin regulariser too.
        val vit = modelName == "tiny-vit"
        val e = experiment("bench") {
            data { fashionMnist(); this.batchSize = batchSize }
            model { if (vit) tinyVit() else tinyMbv2() }
            quantize {
                if (vit) vvtq()
                weights { bits = 4 }
                activations { bits = 4 }
            }
            qat { optimizer = sgd(lr = constant(1e-4), weightDecay = 5e-5) }
            oscillations {
                track(); dampen(); freeze()
                if (vit) binRegularizer(weight = constant(0.01))
            }
        }
        val (train, _) = RuntimeMapping.loadData(e)
        val kernel = FakeQuantKernel.preferred()
        val withControl = RuntimeMapping.setup(e, e.qat!!, e.quantization).withKernel(kernel)
        val plain = withControl.withOscillations(OscillationSpec.NONE)
        fun bench(setup: TrainingSetup) = StepBenchmark(setup, train, batchSize)
        val supernetSpec = SupernetSpec()
        val qatTfOps = "W4A4 QAT ${FakeQuantKernel.TF_OPS.label()}"
        val supernetName = "RFQuant supernet (max + ${supernetSpec.randomSubnets})"
        val supernetTfOps = "$supernetName ${FakeQuantKernel.TF_OPS.label()}"
        fun supernetBench(k: FakeQuantKernel) = StepBenchmark.supernet(
            RuntimeMapping.supernetSetup(e, supernetSpec).withKernel(k), supernetSpec.graphSpec(), train, batchSize)
        val setups = buildList {
            add("FP32" to bench(RuntimeMapping.setup(e, e.qat!!, null).withKernel(kernel)))
            add("W4A4 QAT ${kernel.label()}" to bench(plain))
            add("+ oscillation control" to bench(withControl))
            if (kernel == FakeQuantKernel.FUSED) add(qatTfOps to bench(plain.withKernel(FakeQuantKernel.TF_OPS)))
            if (supernet) {
                add(supernetName to supernetBench(kernel))
                if (kernel == FakeQuantKernel.FUSED) add(supernetTfOps to supernetBench(FakeQuantKernel.TF_OPS))
            }
        }
        val rates = setups.map { mutableListOf<Double>() }
        try {
            setups.forEach { (_, b) -> b.imagesPerSecond(10) } // warm-up: first steps pay for kernel selection
            repeat(rounds) { r ->
                setups.forEachIndexed { i, (_, b) -> rates[i] += b.imagesPerSecond(steps) }
                log("round ${r + 1}/$rounds: " + setups.indices.joinToString(", ") { i -> "%s %.0f img/s".format(setups[i].first, rates[i].last()) })
            }
        } finally {
            setups.forEach { (_, b) -> b.close() }
        }
        fun median(name: String) = setups.indexOfFirst { it.first == name }.takeIf { it >= 0 }?.let { rates[it].median() }
        return Result(kernel, rates[0].median(), rates[1].median(), rates[2].median(), median(qatTfOps), peakRssMb(),
            setups.minOf { (_, b) -> b.fewestImagesMeasured() }, median(supernetName), median(supernetTfOps))
    }

    private fun FakeQuantKernel.label() = if (this == FakeQuantKernel.FUSED) "fused kernel" else "TF ops"

    private fun List<Double>.median(): Double = sorted().let { s -> if (s.size % 2 == 1) s[s.size / 2] else (s[s.size / 2 - 1] + s[s.size / 2]) / 2 }
}
