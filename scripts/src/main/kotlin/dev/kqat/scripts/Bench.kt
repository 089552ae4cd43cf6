package dev.kqat.scripts

import dev.kqat.dsl.RuntimeMapping
import dev.kqat.dsl.experiment
import dev.kqat.dsl.peakRssMb
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.runtime.train.Schedule
import dev.kqat.runtime.train.StepBenchmark
import dev.kqat.runtime.train.TrainingSetup

/**
 * `kqat bench`: training throughput of the reference model (benchmark.md) in one process, FP32
 * against W4A4 LSQ QAT, measured in alternating rounds so that machine load hits both alike.
 * Prints medians and the QAT/FP32 step-time ratio.
 */
object Bench {
    data class Result(val fp32: Double, val qat: Double, val peakRssMb: Double) {
        /** QAT step time divided by FP32 step time. */
        val stepTimeRatio get() = fp32 / qat
    }

    fun run(steps: Int, rounds: Int, batchSize: Int, log: (String) -> Unit): Result {
        val e = experiment("bench") {
            data { fashionMnist(); this.batchSize = batchSize }
            model { tinyMbv2() }
            quantize { weights { bits = 4 }; activations { bits = 4 } }
            qat { }
        }
        val (train, _) = RuntimeMapping.loadData(e)
        val sgd = OptimizerConfig.sgd(Schedule.Constant(1e-4), 0.9, 5e-5)
        val adam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)
        fun setup(policy: QuantPolicy) = TrainingSetup(RuntimeMapping.model(e), policy, sgd, adam, 0.0, 0)
        val fp = mutableListOf<Double>()
        val q = mutableListOf<Double>()
        StepBenchmark(setup(QuantPolicy.FLOAT), train, batchSize).use { fpBench ->
            StepBenchmark(setup(RuntimeMapping.policy(e.quantization)), train, batchSize).use { qBench ->
                fpBench.imagesPerSecond(10)
                qBench.imagesPerSecond(10) // warm-up: first steps pay for kernel selection
                repeat(rounds) { r ->
                    fp += fpBench.imagesPerSecond(steps)
                    q += qBench.imagesPerSecond(steps)
                    log("round ${r + 1}/$rounds: FP32 %.0f img/s, W4A4 QAT %.0f img/s".format(fp.last(), q.last()))
                }
            }
        }
        return Result(fp.median(), q.median(), peakRssMb())
    }

    private fun List<Double>.median(): Double = sorted().let { s -> if (s.size % 2 == 1) s[s.size / 2] else (s[s.size / 2 - 1] + s[s.size / 2]) / 2 }
}
