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
