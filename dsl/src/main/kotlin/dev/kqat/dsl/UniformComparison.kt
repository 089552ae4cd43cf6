package dev.kqat.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import org.apache.commons.math3.distribution.BinomialDistribution
import org.apache.commons.math3.stat.descriptive.SummaryStatistics
import java.util.BitSet
import kotlin.math.sqrt

/**
 * A searched configuration against uniform subnet [index] of the same `search.json` (all layers at [bits]),
 * the best uniform subnet within its budget: the top-1 difference, and on the same test images how many
 * only one of the two classifies right, with the exact two-sided McNemar test of those counts. Differences
 * of a few tenths of a point on 10,000 images are often within what the images resolve: [pValue] says so.
 */
@Serializable
data class UniformComparison(
    val index: Int,
    val bits: Int,
    /** The searched configuration's test top-1 minus the uniform subnet's. */
    @SerialName("top1_difference") val top1Difference: Double,
    @SerialName("only_searched_right") val onlySearchedRight: Int? = null,
    @SerialName("only_uniform_right") val onlyUniformRight: Int? = null,
    /** How likely counts at least this uneven are when neither subnet is better (binomial, ½, both tails). */
    @SerialName("p_value") val pValue: Double? = null,
    /**
     * With `search { bnDraws = K }`, K > 1: the top-1 difference averaged over K BN calibrations (draw k of
     * both subnets on the same batches; draw 0 gives [top1Difference]) and its standard error. The counts and
     * [pValue] above are those of draw 0: they do not see what the calibration itself moves.
     */
    @SerialName("bn_draws") val bnDraws: Int? = null,
    @SerialName("mean_top1_difference") val meanTop1Difference: Double? = null,
    @SerialName("se_top1_difference") val seTop1Difference: Double? = null,
) {
    /** With the counts of the test images only [searched] or only [uniform] holds (bit i: image i right). */
    fun paired(searched: BitSet, uniform: BitSet): UniformComparison {
        val onlySearched = (searched.clone() as BitSet).apply { andNot(uniform) }.cardinality()
        val onlyUniform = (uniform.clone() as BitSet).apply { andNot(searched) }.cardinality()
        return copy(onlySearchedRight = onlySearched, onlyUniformRight = onlyUniform, pValue = mcNemar(onlySearched, onlyUniform))
    }

    /** With the differences of each calibration draw, draw 0 first: their mean and its standard error. */
    fun overDraws(differences: List<Double>): UniformComparison {
        val stats = SummaryStatistics().apply { differences.forEach(::addValue) }
        return copy(bnDraws = differences.size, meanTop1Difference = stats.mean,
            seTop1Difference = stats.standardDeviation / sqrt(differences.size.toDouble()))
    }

    companion object {
        /**
         * The uniform subnet to compare with among those within a budget ([within]): the best by mean top-1 over
         * the BN calibrations drawn (one calibration can reorder levels a tenth of a point apart), else by its one.
         */
        fun best(within: List<FoundConfiguration>): FoundConfiguration? = within.maxByOrNull { it.meanTop1() }

        /** Exact two-sided McNemar test: 2·P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), at most 1. */
        fun mcNemar(b: Int, c: Int): Double {
            if (b + c == 0) return 1.0
            return minOf(1.0, 2 * BinomialDistribution(null, b + c, 0.5).cumulativeProbability(minOf(b, c)))
        }
    }
}
