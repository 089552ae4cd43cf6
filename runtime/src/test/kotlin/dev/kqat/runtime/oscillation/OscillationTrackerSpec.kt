package dev.kqat.runtime.oscillation

import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.toFloatArray
import dev.kqat.runtime.schedule.Schedule
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32

/** algorithms.md §1.4 (tracking) and §1.7 (freezing) on hand-made integer sequences. */
class OscillationTrackerSpec : FunSpec({

    /**
     * Feeds each row of [sequence] as one tracked forward; returns per step the pinned integers, the state
     * and the report's `statistics` with an oscillation threshold of [STATISTICS_THRESHOLD].
     */
    fun track(
        sequence: List<FloatArray>,
        momentum: Double,
        freezing: OscillationSpec.Freezing? = null,
        thresholds: List<Float> = List(sequence.size) { 0f },
    ): List<Map<String, FloatArray>> = Graph().use { g ->
        val tf = Ops.create(g)
        val params = ParamStore(tf, 0)
        val size = sequence[0].size.toLong()
        val spec = OscillationSpec(OscillationSpec.Tracking(4, momentum, 0.005, false), null, freezing)
        val tracker = OscillationTracker(params, "layer/weight", Shape.of(size), spec)
        val integers = tf.placeholder(TFloat32::class.java)
        val threshold = tf.placeholder(TFloat32::class.java)
        val pinned = tracker.pinIntegers(tf, tf.reshape(integers, tf.constant(longArrayOf(size))))
        val updates = tracker.update(tf, pinned, if (freezing == null) null else threshold, pinned)
        val statistics = tracker.statistics(tf, STATISTICS_THRESHOLD)
        val state = listOf("frequency", "direction", "previous_integer") +
            (if (freezing == null) emptyList() else listOf("frozen", "frozen_integer"))
        Session(g).use { s ->
            s.initialize()
            sequence.indices.map { i ->
                TFloat32.vectorOf(*sequence[i]).use { x ->
                    TFloat32.scalarOf(thresholds[i]).use { t ->
                        val r = s.runner().feed(integers, x).feed(threshold, t).fetch(pinned)
                        updates.forEach { r.addTarget(it) }
                        val used = r.run().use { (it.get(0) as TFloat32).toFloatArray() }
                        val fetch = s.runner()
                        state.forEach { fetch.fetch(params.get("layer/weight/oscillation/$it").variable()) }
                        fetch.fetch(statistics)
                        fetch.run().use { res ->
                            mapOf("used" to used, "statistics" to (res.get(state.size) as TFloat32).toFloatArray()) +
                                state.indices.associate { k -> state[k] to (res.get(k) as TFloat32).toFloatArray() }
                        }
                    }
                }
            }
        }
    }

    test("an oscillation is counted only when an integer change reverses the previous change") {
        // Columns: up, down (osc), up (osc), stay, up (same way: no osc), down (osc);
        //          constant; three ups, down (osc), stay, up (osc). The first row is only recorded.
        val columns = listOf(
            floatArrayOf(0f, 1f, 0f, 1f, 1f, 2f, 1f),
            floatArrayOf(2f, 2f, 2f, 2f, 2f, 2f, 2f),
            floatArrayOf(0f, 1f, 2f, 3f, 2f, 2f, 3f),
        )
        val oscillates = listOf(
            listOf(0, 1, 1, 0, 0, 1),
            listOf(0, 0, 0, 0, 0, 0),
            listOf(0, 0, 0, 1, 0, 1),
        )
        val m = 0.25
        val rows = (0 until 7).map { t -> FloatArray(3) { columns[it][t] } }
        val steps = track(rows, m)
        for (k in 0 until 3) {
            var f = 0.0
            for (t in 1 until 7) {
                f = m * oscillates[k][t - 1] + (1 - m) * f
                withClue("column $k after step $t") {
                    steps[t].getValue("frequency")[k].toDouble() shouldBe (f plusOrMinus 1e-6)
                }
            }
            steps[6].getValue("previous_integer")[k] shouldBe columns[k][6]
        }
        // The last non-zero move is remembered through a step without change.
        steps[4].getValue("direction")[0] shouldBe steps[3].getValue("direction")[0]
        steps[0].getValue("frequency").toList() shouldBe listOf(0f, 0f, 0f)
    }

    test("freezing pins the rounded running average of the integers since it began, for good") {
        // Column 0 flips every step; column 1 flips 0,1 but mostly sits at 1; column 2 never moves.
        val rows = listOf(
            floatArrayOf(0f, 1f, 5f), floatArrayOf(1f, 1f, 5f), floatArrayOf(0f, 0f, 5f),
            floatArrayOf(1f, 1f, 5f), floatArrayOf(0f, 1f, 5f), floatArrayOf(1f, 0f, 5f),
            floatArrayOf(0f, 1f, 5f), floatArrayOf(3f, 3f, 3f), floatArrayOf(-2f, -2f, -2f),
        )
        val m = 0.5
        // Off for the first two steps, then on with threshold 0.3.
        val thresholds = listOf(0f, 0f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f)
        val freezing = OscillationSpec.Freezing(Schedule.Constant(0.3), 0.25, true)
        val steps = track(rows, m, freezing, thresholds)

        // Reference: §1.4 then §1.7, with the forward integers pinned by the state before the step.
        val frozen = BooleanArray(3)
        val frozenValue = FloatArray(3)
        val average = DoubleArray(3)
        var averageStarted = false
        val previous = FloatArray(3)
        val direction = IntArray(3)
        val frequency = DoubleArray(3)
        var everFrozen = false
        var frozenStillAboveThreshold = false
        for ((t, row) in rows.withIndex()) {
            val used = FloatArray(3) { if (frozen[it]) frozenValue[it] else row[it] }
            withClue("step $t pinned integers") { steps[t].getValue("used").toList() shouldBe used.toList() }
            val on = thresholds[t] > 0
            val before = DoubleArray(3) { if (averageStarted) average[it] else used[it].toDouble() }
            for (k in 0 until 3) {
                val delta = if (t == 0) 0 else Math.round(previous[k] - used[k]).toInt()
                val dir = Integer.signum(delta)
                frequency[k] = m * (if (direction[k] * dir == -1) 1 else 0) + (1 - m) * frequency[k]
                if (dir != 0) direction[k] = dir
                previous[k] = used[k]
                if (on && !frozen[k] && frequency[k] > thresholds[t]) {
                    frozen[k] = true
                    frozenValue[k] = Math.rint(before[k]).toFloat()
                    everFrozen = true
                }
                if (on) average[k] = m * used[k] + (1 - m) * before[k]
            }
            if (on) averageStarted = true
            withClue("step $t") {
                steps[t].getValue("frozen").toList() shouldBe frozen.map { if (it) 1f else 0f }
                steps[t].getValue("frozen_integer").toList() shouldBe frozenValue.toList()
                // Report figures: oscillating, frequency sum, frozen, oscillating and not frozen, elements.
                val above = BooleanArray(3) { frequency[it] > STATISTICS_THRESHOLD }
                val statistics = steps[t].getValue("statistics")
                statistics[0] shouldBe above.count { it }.toFloat()
                statistics[1].toDouble() shouldBe (frequency.sum() plusOrMinus 1e-6)
                statistics[2] shouldBe frozen.count { it }.toFloat()
                statistics[3] shouldBe (0 until 3).count { above[it] && !frozen[it] }.toFloat()
                statistics[4] shouldBe 3f
            }
            if ((0 until 3).any { frozen[it] && frequency[it] > STATISTICS_THRESHOLD }) frozenStillAboveThreshold = true
        }
        everFrozen shouldBe true
        // A just-frozen weight still counts as oscillating but not as oscillating and not frozen.
        frozenStillAboveThreshold shouldBe true
        // Column 0 froze while oscillating and then ignored the jumps to 3 and -2.
        frozen[0] shouldBe true
        steps[7].getValue("used")[0] shouldBe steps[8].getValue("used")[0]
        frozen[2] shouldBe false
        steps[8].getValue("used")[2] shouldBe -2f
    }
})

private const val STATISTICS_THRESHOLD = 0.2f
