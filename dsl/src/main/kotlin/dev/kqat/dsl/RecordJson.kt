package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.LayerOverride
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.runtime.train.OptimizerConfig
import kotlinx.serialization.KSerializer
import kotlinx.serialization.SerializationException
import kotlinx.serialization.descriptors.SerialDescriptor
import kotlinx.serialization.descriptors.buildClassSerialDescriptor
import kotlinx.serialization.encoding.Decoder
import kotlinx.serialization.encoding.Encoder
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonDecoder
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonEncoder
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.booleanOrNull
import kotlinx.serialization.json.doubleOrNull
import kotlinx.serialization.json.longOrNull
import java.lang.reflect.Modifier
import java.lang.reflect.ParameterizedType
import java.lang.reflect.Type

/**
 * JSON for the runtime's settings records (Java records such as [QuantizerSpec] or [Schedule]), so
 * that each setting has one type, the runtime's, and `experiment.json` still reads like the script.
 *
 * - a record is an object of its components, by name;
 * - an enum constant is its name in lower case with '-' (`ROUND_THEN_CLAMP` ↔ `"round-then-clamp"`);
 * - a sealed interface's record carries `"type"`, its simple name in the same style
 *   (`Schedule.PerEpoch` ↔ `"per-epoch"`);
 * - a missing component takes the record's `DEFAULT` value where it has one, else null (an error
 *   for a primitive); unknown keys are ignored, as everywhere in `experiment.json`.
 *
 * A value that does not fit names its place below the record, e.g. `bits: expected an integer, got "x"`.
 */
open class RecordSerializer<T : Any>(private val type: Class<T>) : KSerializer<T> {
    override val descriptor: SerialDescriptor = buildClassSerialDescriptor(type.name)

    override fun serialize(encoder: Encoder, value: T) {
        val json = encoder as? JsonEncoder ?: throw SerializationException("${type.simpleName} is written as JSON only")
        json.encodeJsonElement(RecordJson.encode(value, type))
    }

    override fun deserialize(decoder: Decoder): T {
        val json = decoder as? JsonDecoder ?: throw SerializationException("${type.simpleName} is read from JSON only")
        return type.cast(RecordJson.decode(json.decodeJsonElement(), type, ""))
    }
}

object QuantizerSpecSerializer : RecordSerializer<QuantizerSpec>(QuantizerSpec::class.java)
object QuantPolicySerializer : RecordSerializer<QuantizationPolicy>(QuantizationPolicy::class.java)
object LayerOverrideSerializer : RecordSerializer<LayerOverride>(LayerOverride::class.java)
object ScheduleSerializer : RecordSerializer<Schedule>(Schedule::class.java)
object OptimizerSerializer : RecordSerializer<OptimizerConfig>(OptimizerConfig::class.java)
object OscillationSerializer : RecordSerializer<OscillationSpec>(OscillationSpec::class.java)
object DeviceRecordSerializer : RecordSerializer<DeviceSetting>(DeviceSetting::class.java)

/** The conversions behind [RecordSerializer], by reflection over record components. */
internal object RecordJson {
    const val DISCRIMINATOR = "type"

    /** `ROUND_THEN_CLAMP` → `round-then-clamp`, `PerEpoch` → `per-epoch`. */
    fun word(name: String): String =
        if (name.all { it.isUpperCase() || it == '_' || it.isDigit() }) name.lowercase().replace('_', '-')
        else name.replace(Regex("(?<=[a-z0-9])(?=[A-Z])"), "-").lowercase()

    fun encode(value: Any?, declared: Type): JsonElement = when (value) {
        null -> JsonNull
        is Boolean -> JsonPrimitive(value)
        is Number -> JsonPrimitive(value)
        is String -> JsonPrimitive(value)
        is Enum<*> -> JsonPrimitive(word(value.name))
        is List<*> -> JsonArray(value.map { encode(it, typeArgument(declared, 0)) })
        is Map<*, *> -> JsonObject(value.entries.associate { (k, v) -> k.toString() to encode(v, typeArgument(declared, 1)) })
        is Record -> {
            val fields = linkedMapOf<String, JsonElement>()
            if (rawClass(declared).isSealed) fields[DISCRIMINATOR] = JsonPrimitive(word(value.javaClass.simpleName))
            for (c in value.javaClass.recordComponents) fields[c.name] = encode(c.accessor.invoke(value), c.genericType)
            JsonObject(fields)
        }
        else -> throw SerializationException("cannot write ${value.javaClass.name} as a setting")
    }

    fun decode(element: JsonElement, declared: Type, path: String): Any? {
        val cls = rawClass(declared)
        if (element is JsonNull) {
            if (cls.isPrimitive) fail(path, "expected ${what(cls)}, got null")
            return null
        }
        return when {
            cls == Int::class.javaPrimitiveType || cls == Int::class.javaObjectType -> {
                val n = (element as? JsonPrimitive)?.takeIf { !it.isString }?.longOrNull
                if (n == null || n !in Int.MIN_VALUE..Int.MAX_VALUE) fail(path, "expected an integer, got $element")
                n.toInt()
            }
            cls == Long::class.javaPrimitiveType || cls == Long::class.javaObjectType ->
                (element as? JsonPrimitive)?.takeIf { !it.isString }?.longOrNull ?: fail(path, "expected an integer, got $element")
            cls == Double::class.javaPrimitiveType || cls == Double::class.javaObjectType ->
                (element as? JsonPrimitive)?.takeIf { !it.isString }?.doubleOrNull ?: fail(path, "expected a number, got $element")
            cls == Boolean::class.javaPrimitiveType || cls == Boolean::class.javaObjectType ->
                (element as? JsonPrimitive)?.takeIf { !it.isString }?.booleanOrNull ?: fail(path, "expected true or false, got $element")
            cls == String::class.java ->
                (element as? JsonPrimitive)?.takeIf { it.isString }?.content ?: fail(path, "expected a string, got $element")
            cls.isEnum -> {
                val words = cls.enumConstants.associateBy { word((it as Enum<*>).name) }
                val given = (element as? JsonPrimitive)?.content
                words[given] ?: fail(path, "expected one of ${words.keys.joinToString()}, got $element")
            }
            List::class.java.isAssignableFrom(cls) -> {
                val array = element as? JsonArray ?: fail(path, "expected a list, got $element")
                array.mapIndexed { i, e -> decode(e, typeArgument(declared, 0), "$path[$i]") }
            }
            Map::class.java.isAssignableFrom(cls) -> {
                val obj = element as? JsonObject ?: fail(path, "expected an object, got $element")
                obj.mapValues { (k, e) -> decode(e, typeArgument(declared, 1), "$path[$k]") }
            }
            cls.isSealed -> decodeSealed(element, cls, path)
            cls.isRecord -> decodeRecord(element, cls, path)
            else -> throw SerializationException("cannot read ${cls.name} as a setting")
        }
    }

    private fun decodeSealed(element: JsonElement, sealed: Class<*>, path: String): Any {
        val obj = element as? JsonObject ?: fail(path, "expected an object, got $element")
        val kinds = sealed.permittedSubclasses.associateBy { word(it.simpleName) }
        val given = (obj[DISCRIMINATOR] as? JsonPrimitive)?.content
            ?: fail(path, "needs \"$DISCRIMINATOR\": one of ${kinds.keys.joinToString()}")
        val kind = kinds[given] ?: fail(join(path, DISCRIMINATOR), "unknown '$given'; known: ${kinds.keys.joinToString()}")
        return decodeRecord(obj, kind, path)
    }

    private fun decodeRecord(element: JsonElement, cls: Class<*>, path: String): Any {
        val obj = element as? JsonObject ?: fail(path, "expected an object, got $element")
        val default = defaultOf(cls)
        val components = cls.recordComponents
        val values = components.map { c ->
            val given = obj[c.name]
            when {
                given != null -> decode(given, c.genericType, join(path, c.name))
                default != null -> c.accessor.invoke(default)
                c.type.isPrimitive -> fail(join(path, c.name), "missing")
                else -> null
            }
        }
        val constructor = cls.getDeclaredConstructor(*components.map { it.type }.toTypedArray())
        return try {
            constructor.newInstance(*values.toTypedArray())
        } catch (e: java.lang.reflect.InvocationTargetException) {
            fail(path, e.targetException.message ?: e.targetException.toString())
        }
    }

    /** The record's `public static final DEFAULT` of its own type, if it declares one. */
    private fun defaultOf(cls: Class<*>): Any? = cls.declaredFields
        .firstOrNull { it.name == "DEFAULT" && Modifier.isStatic(it.modifiers) && it.type == cls }
        ?.get(null)

    private fun rawClass(t: Type): Class<*> = when (t) {
        is Class<*> -> t
        is ParameterizedType -> t.rawType as Class<*>
        else -> Any::class.java
    }

    private fun typeArgument(t: Type, index: Int): Type =
        (t as? ParameterizedType)?.actualTypeArguments?.getOrNull(index) ?: Any::class.java

    private fun what(cls: Class<*>) = when (cls) {
        Boolean::class.javaPrimitiveType -> "true or false"
        Double::class.javaPrimitiveType -> "a number"
        else -> "an integer"
    }

    private fun join(path: String, name: String) = if (path.isEmpty()) name else "$path.$name"

    private fun fail(path: String, message: String): Nothing =
        throw SerializationException(if (path.isEmpty()) message else "$path: $message")
}
