package dev.kqat.runtime.mixed

import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.BitRange
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlin.math.cos

/** RFQuant's random subnets (§2.5) and bit-width scheduler (§2.6). */
class SupernetSchedulingSpec : FunSpec({
    val layers = linkedMapOf("a" to BitRange(2, 6), "dw" to BitRange(3, 6), "b" to BitRange(2, 6))

    test("random subnets: a function of (seed, step), every bit-width a current candidate, all candidates drawn") {
        val c = Candidates(layers)
        SubnetSampler.draw(c, 3, 7, 100) shouldBe SubnetSampler.draw(c, 3, 7, 100)
        SubnetSampler.draw(c, 3, 7, 101) shouldNotBe SubnetSampler.draw(c, 3, 7, 100)
        SubnetSampler.draw(c, 3, 8, 100) shouldNotBe SubnetSampler.draw(c, 3, 7, 100)
        val seen = mutableMapOf<String, MutableSet<Int>>()
        for (step in 0L until 200) for (subnet in SubnetSampler.draw(c, 3, 7, step)) {
            subnet.layers().keys.toList() shouldBe listOf("a", "dw", "b")
            subnet.layers().forEach { (layer, bits) ->
                seen.getOrPut("$layer/w") { mutableSetOf() } += bits.weight()
                seen.getOrPut("$layer/a") { mutableSetOf() } += bits.input()
            }
        }
        seen shouldBe mapOf("a/w" to (2..6).toSet(), "a/a" to (2..6).toSet(), "dw/w" to (3..6).toSet(),
            "dw/a" to (3..6).toSet(), "b/w" to (2..6).toSet(), "b/a" to (2..6).toSet())
        SubnetSampler.max(c).layers().values.toSet() shouldBe setOf(BitConfiguration.LayerBits(6, 6))

        // A dropped lowest weight candidate is never drawn for weights, still for inputs.
        BitScheduler.apply(c, mapOf("a" to 0.9, "dw" to 0.1, "b" to 0.2), 0.34)
        c.weights("a") shouldBe BitRange(3, 6)
        val drawn = (0L until 200).flatMap { SubnetSampler.draw(c, 3, 7, it) }.map { it.layers().getValue("a") }
        drawn.minOf { it.weight() } shouldBe 3
        drawn.minOf { it.input() } shouldBe 2
    }

    test("turbulence of a hand-made tensor: the share of weights beyond 0.375 steps from their bin centre, outer bins on their inner side only, over b, averaged") {
        // Step sizes 1.0 at 2 bits (grid -2..1) and 0.5 at 3 bits (grid -4..3).
        val steps = floatArrayOf(1.0f, 0.5f, 0.3f, 0.2f, 0.1f, 0.05f, 0.02f)
        val w = floatArrayOf(0.0f, 0.45f, -0.6f, 1.3f, 0.9f, -2.45f, -1.6f, 3.0f)
        // 2 bits, u = w: bins 0, 0, -1, 1, 1, -2, -2, 1; distances 0, .45, .4, .3, -.1, -.45, .4, 2.0
        //   turbulent: 0.45 (mid), -0.6 (mid, .4), -1.6 (lowest bin, above by .4); not 1.3 (top bin above), -2.45 (below lowest), 3.0 (clamped)
        // 3 bits, u = 2w: 0, .9, -1.2, 2.6, 1.8, -4.9, -3.2, 6.0: bins 0, 1, -1, 3, 2, -4, -3, 3; distances 0, -.1, -.2, -.4, -.2, -.9, -.2, 3
        //   turbulent: 2.6 (top bin 3, below by .4); -4.9 lies below the lowest bin
        val expected = ((3.0 / 8) / 2 + (1.0 / 8) / 3) / 2
        BitScheduler.turbulence(w, steps, BitRange(2, 3)) shouldBe (expected plusOrMinus 1e-12)
        // Only the current candidates count: 3 bits alone.
        BitScheduler.turbulence(w, steps, BitRange(3, 3)) shouldBe ((1.0 / 8) / 3 plusOrMinus 1e-12)
    }

    test("events and ratio of the reference's 150 epochs; the most turbulent layers lose their lowest weight bit, the others get it back") {
        (0 until 150).filter { BitScheduler.runsAt(it, 150) } shouldBe (7..107 step 2).toList() + listOf(119, 134, 149)
        BitScheduler.ratio(5, 150) shouldBe (0.5 plusOrMinus 1e-12)
        BitScheduler.ratio(45, 150) shouldBe (0.2 + 0.15 * (1 + cos(Math.PI * 20 / 75)) plusOrMinus 1e-12)
        BitScheduler.ratio(149, 150) shouldBe (0.2 + 0.15 * (1 + cos(Math.PI * 72 / 75)) plusOrMinus 1e-12)
        BitScheduler.ratio(200, 150) shouldBe (0.2 plusOrMinus 1e-12) // past half of training plus 5 epochs

        val c = Candidates(layers)
        BitScheduler.apply(c, mapOf("a" to 0.3, "dw" to 0.5, "b" to 0.1), 0.7) shouldBe listOf("dw", "a")
        listOf(c.weights("a"), c.weights("dw"), c.weights("b")) shouldBe listOf(BitRange(3, 6), BitRange(4, 6), BitRange(2, 6))
        // Next event: "a" is no longer among the top and is restored; "dw" stays without its lowest.
        BitScheduler.apply(c, mapOf("a" to 0.1, "dw" to 0.5, "b" to 0.3), 0.4) shouldBe listOf("dw")
        listOf(c.weights("a"), c.weights("dw"), c.weights("b")) shouldBe listOf(BitRange(2, 6), BitRange(4, 6), BitRange(2, 6))
        c.inputs("dw") shouldBe BitRange(3, 6)
    }
})
