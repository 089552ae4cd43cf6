package dev.kqat.dsl

import org.tensorflow.proto.Event
import java.io.DataInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path

/** Reads TensorBoard event files (TFRecord frames of `Event` protos) back into tag → values in order. */
object TensorBoardEvents {
    fun read(dir: Path): Map<String, List<Float>> {
        val out = linkedMapOf<String, MutableList<Float>>()
        val files = Files.list(dir).use { s -> s.filter { it.fileName.toString().startsWith("events.out.tfevents") }.sorted().toList() }
        for (file in files) {
            DataInputStream(Files.newInputStream(file).buffered()).use { input ->
                while (true) {
                    val header = ByteArray(12)
                    if (input.read(header) < 12) break
                    val length = ByteBuffer.wrap(header, 0, 8).order(ByteOrder.LITTLE_ENDIAN).long.toInt()
                    val data = ByteArray(length).also { input.readFully(it) }
                    input.readFully(ByteArray(4)) // data CRC
                    val event = Event.parseFrom(data)
                    for (v in event.summary.valueList) {
                        val x = if (v.hasTensor()) v.tensor.floatValList.firstOrNull() ?: Float.NaN else v.simpleValue
                        out.getOrPut(v.tag) { mutableListOf() } += x
                    }
                }
            }
        }
        return out
    }
}
