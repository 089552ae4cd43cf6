package dev.kqat.runtime.export

import ai.onnxruntime.OnnxTensor
import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtSession
import dev.kqat.runtime.data.Dataset
import dev.kqat.runtime.run.PhaseRunner
import dev.kqat.runtime.toFloatArray
import java.nio.FloatBuffer
import java.nio.file.Path
import kotlin.math.abs
import kotlin.math.max

/**
 * An exported file run by onnxruntime beside kqat's own evaluation pass, image by image.
 *
 * @param samePrediction images whose arg-max agrees
 * @param differing images whose logits differ by more than [tolerance]
 * @param differingOffTie of those, the ones with no quantized activation within [tieWindow] steps of
 *     a rounding tie (a difference there is a translation error, not rounding)
 * @param flippedOffTie images whose arg-max differs although no quantized activation is at a tie
 * @param largestDifference the largest logit difference over all images
 * @param largestAwayFromTies the largest logit difference over images without such a tie
 */
data class OnnxParity(
    val images: Int,
    val samePrediction: Int,
    val differing: Int,
    val differingOffTie: Int,
    val flippedOffTie: Int,
    val largestDifference: Float,
    val largestAwayFromTies: Float,
) {
    override fun toString() = "$samePrediction/$images same prediction, $differing with logits apart by more than " +
        "$tolerance ($differingOffTie of them off a rounding tie), $flippedOffTie other predictions off a tie, largest difference $largestDifference " +
        "($largestAwayFromTies on images without a tie)"

    companion object {
        /** Float rounding of a dot product and a BN: logits are O(10). */
        const val tolerance = 1e-3f

        /** Two float evaluations of the same x/s differ by far less than this many steps. */
        const val tieWindow = 1e-3f

        fun measure(runner: PhaseRunner, onnxFile: Path, data: Dataset, batchSize: Int = 500): OnnxParity {
            val env = OrtEnvironment.getEnvironment()
            // The graph as written: no fusion may change the arithmetic being compared.
            val options = OrtSession.SessionOptions().apply {
                setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT)
                setIntraOpNumThreads(2)
            }
            var images = 0
            var same = 0
            var differing = 0
            var offTie = 0
            var flippedOffTie = 0
            var largest = 0f
            var largestAway = 0f
            env.createSession(onnxFile.toString(), options).use { session ->
                val batches = data.batches(batchSize, false, 0L, false)
                while (batches.hasNext()) {
                    batches.next().use { batch ->
                        val kqat = runner.logits(batch)
                        val pixels = batch.images().toFloatArray()
                        val shape = longArrayOf(batch.size().toLong()) + data.imageShape().map { it.toLong() }
                        @Suppress("UNCHECKED_CAST")
                        val ort = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), shape).use { input ->
                            session.run(mapOf(OnnxExport.INPUT to input)).use { it.get(0).value as Array<FloatArray> }
                        }
                        val apart = kqat.indices.filter { i ->
                            maxDifference(kqat[i], ort[i]) > tolerance || argMax(kqat[i]) != argMax(ort[i])
                        }
                        val margins = if (apart.isEmpty()) null else runner.roundingMargins(batch)
                        for (i in kqat.indices) {
                            val d = maxDifference(kqat[i], ort[i])
                            largest = max(largest, d)
                            val nearTie = margins != null && margins[i] < tieWindow
                            if (!nearTie) largestAway = max(largestAway, d)
                            if (argMax(kqat[i]) == argMax(ort[i])) same++ else if (!nearTie) flippedOffTie++
                            if (d > tolerance) {
                                differing++
                                if (!nearTie) offTie++
                            }
                        }
                        images += batch.size()
                    }
                }
            }
            return OnnxParity(images, same, differing, offTie, flippedOffTie, largest, largestAway)
        }

        private fun maxDifference(a: FloatArray, b: FloatArray) = a.indices.maxOf { abs(a[it] - b[it]) }

        private fun argMax(a: FloatArray) = a.indices.maxBy { a[it] }
    }
}
