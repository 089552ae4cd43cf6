package dev.kqat.runtime

import org.tensorflow.Graph
import org.tensorflow.Operand
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32

/** Builds a graph with [build], runs it once and returns the fetched float tensors as arrays. */
fun runGraph(build: (Ops) -> List<Operand<TFloat32>>): List<FloatArray> =
    Graph().use { g ->
        val tf = Ops.create(g)
        val outputs = build(tf)
        Session(g).use { s ->
            val runner = s.runner()
            outputs.forEach { runner.fetch(it) }
            runner.run().use { r -> (0 until outputs.size).map { (r.get(it) as TFloat32).toFloatArray() } }
        }
    }

fun TFloat32.toFloatArray(): FloatArray {
    val out = FloatArray(shape().size().toInt())
    copyTo(DataBuffers.of(out, false, false))
    return out
}

fun Ops.floats(shape: Shape, values: FloatArray): Operand<TFloat32> =
    constant(shape, DataBuffers.of(values, true, false))

/** Runs [targets] (assignments) in one run of this session, fetching nothing. */
fun Session.runTargets(vararg targets: org.tensorflow.op.Op) {
    val r = runner()
    targets.forEach { r.addTarget(it) }
    r.run().close()
}

/** Fetches [outputs] in one run of this session and returns them as arrays. */
fun Session.fetchFloats(vararg outputs: Operand<TFloat32>): List<FloatArray> {
    val r = runner()
    outputs.forEach { r.fetch(it) }
    return r.run().use { res -> outputs.indices.map { (res.get(it) as TFloat32).toFloatArray() } }
}
