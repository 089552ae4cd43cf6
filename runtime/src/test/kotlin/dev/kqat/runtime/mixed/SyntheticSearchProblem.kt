package dev.kqat.runtime.mixed

import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.BitRange

/**
 * A search problem whose best configuration is known, for the searches' specs: three layers of 100
 * MACs; "c" is sensitive below 5 bits, "a" and "b" lose a little per bit, convexly. Under [BUDGET] the
 * best is a and b at W3A3, c at W5A5 (900 + 900 + 2,500).
 */
object SyntheticSearchProblem {
    val layers = linkedMapOf("a" to BitRange(2, 6), "b" to BitRange(2, 6), "c" to BitRange(2, 6))
    val cost = GreedySearch.Cost { cfg -> cfg.layers().values.sumOf { 100.0 * it.weight() * it.input() } }
    const val BUDGET = 4301.0

    fun error(cfg: BitConfiguration): Double {
        fun mild(b: Int) = 0.01 * Math.pow(2.0, 6.0 - b)
        val c = cfg.layers().getValue("c")
        return 1 + listOf("a", "b").sumOf { cfg.layers().getValue(it).let { l -> mild(l.weight()) + mild(l.input()) } } +
            10.0 * (maxOf(0, 5 - c.weight()) + maxOf(0, 5 - c.input()))
    }

    /** Every configuration of the three layers (5^6). */
    fun all(): List<BitConfiguration> = (2..6).flatMap { aw -> (2..6).flatMap { aa -> (2..6).flatMap { bw -> (2..6).flatMap { ba ->
        (2..6).flatMap { cw -> (2..6).map { ca ->
            BitConfiguration(linkedMapOf("a" to BitConfiguration.LayerBits(aw, aa), "b" to BitConfiguration.LayerBits(bw, ba),
                "c" to BitConfiguration.LayerBits(cw, ca)))
        } }
    } } } }
}
