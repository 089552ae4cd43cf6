/*
 * RFQuant's information-distortion loss (algorithms.md §2.5) as two CPU kernels, part of the
 * library dev.kqat.runtime.tf.KqatNativeOps loads through TF_LoadLibrary:
 *
 * KqatMaskedMse(f, ref, mask) -> mse          mse = mask * mean((f - ref)^2)          (one pass)
 * KqatMaskedMseGrad(g, dmse, f, ref, mask) -> dx
 *     dx = g + dmse * mask * 2 * (f - ref) / count                                      (one pass)
 *
 * mask is 0 or 1 per step (1 where the subnet drew the layer's lowest bit-width). At 0 the forward
 * op reads nothing and the backward op hands g through untouched, where plain TensorFlow ops spend
 * about eight passes over the feature map (sub, square, mean forward; tile, div, two products and a
 * sum into the feature's gradient backward) whatever the mask. Sums are kept in double per block.
 */
#include <stdint.h>

#include "kqat_tf_c_api.h"

/* Elements summed in float lanes before the lanes go into the double sum. */
#define BLOCK 1024
#define LANES 16

/* One half of an op's elements [i0, i1). */
typedef struct {
  const float* f;
  const float* ref;
  const float* g; /* backward only */
  float* dx;      /* backward only */
  float k;        /* backward: dmse * mask * 2 / count */
  int64_t i0, i1;
  double sum; /* forward: sum of (f - ref)^2 */
} Span;

static void squared_error_sum(Span* s) {
  double total = 0;
  for (int64_t b0 = s->i0; b0 < s->i1; b0 += BLOCK) {
    const int64_t b1 = b0 + BLOCK < s->i1 ? b0 + BLOCK : s->i1;
    float lanes[LANES] = {0};
    int64_t i = b0;
    for (; i + LANES <= b1; i += LANES) {
      for (int l = 0; l < LANES; l++) {
        const float d = s->f[i + l] - s->ref[i + l];
        lanes[l] += d * d;
      }
    }
    for (; i < b1; i++) {
      const float d = s->f[i] - s->ref[i];
      lanes[0] += d * d;
    }
    for (int l = 0; l < LANES; l++) total += lanes[l];
  }
  s->sum = total;
}

static void add_gradient(Span* s) {
  const float k = s->k;
  for (int64_t i = s->i0; i < s->i1; i++) s->dx[i] = s->g[i] + k * (s->f[i] - s->ref[i]);
}

static void* run_span(void* span) {
  Span* s = span;
  if (s->dx != NULL) {
    add_gradient(s);
  } else {
    squared_error_sum(s);
  }
  return NULL;
}

/* Runs the span, its second half on a thread of its own when large; the forward sums add up. */
static void run_split(Span* s) {
  if (s->i1 - s->i0 < KQAT_PARALLEL_MIN) {
    run_span(s);
    return;
  }
  Span second = *s;
  second.i0 = s->i0 + (s->i1 - s->i0) / 2;
  s->i1 = second.i0;
  kqat_run_pair(run_span, s, &second);
  s->sum += second.sum;
}

/* Reads inputs first.. as f, ref, mask; checks f and ref hold as many elements and mask is a scalar. */
static int read_inputs(TF_OpKernelContext* ctx, int first, TF_Tensor** held, const char* op, TF_Status* st) {
  for (int i = 0; i < 3; i++) {
    TF_GetInput(ctx, first + i, &held[i], st);
    if (TF_GetCode(st) != TF_OK) return 0;
  }
  if (TF_TensorElementCount(held[0]) != TF_TensorElementCount(held[1]) || TF_NumDims(held[2]) != 0) {
    TF_SetStatus(st, TF_INVALID_ARGUMENT, op);
    return 0;
  }
  return 1;
}

static void forward(void* kernel, TF_OpKernelContext* ctx) {
  (void)kernel;
  TF_Status* st = TF_NewStatus();
  TF_Tensor* held[3] = {NULL, NULL, NULL};
  TF_Tensor* mse = NULL;
  if (read_inputs(ctx, 0, held, "KqatMaskedMse: f and ref differ in size, or mask is not a scalar", st)) {
    mse = TF_AllocateOutput(ctx, 0, TF_FLOAT, NULL, 0, sizeof(float), st);
  }
  if (TF_GetCode(st) == TF_OK) {
    const float mask = kqat_scalar(held[2]);
    const int64_t count = TF_TensorElementCount(held[0]);
    float value = 0;
    if (mask != 0 && count > 0) {
      Span s = {TF_TensorData(held[0]), TF_TensorData(held[1]), NULL, NULL, 0, 0, count, 0};
      run_split(&s);
      value = (float)(mask * (s.sum / (double)count));
    }
    *(float*)TF_TensorData(mse) = value;
  }
  TF_Tensor* obtained[1] = {mse};
  kqat_finish(ctx, st, held, 3, obtained, 1);
}

static void backward(void* kernel, TF_OpKernelContext* ctx) {
  (void)kernel;
  TF_Status* st = TF_NewStatus();
  TF_Tensor* g = NULL;
  TF_Tensor* dmse = NULL;
  TF_Tensor* held[3] = {NULL, NULL, NULL};
  TF_Tensor* dx = NULL;
  TF_GetInput(ctx, 0, &g, st);
  if (TF_GetCode(st) == TF_OK) TF_GetInput(ctx, 1, &dmse, st);
  if (TF_GetCode(st) == TF_OK &&
      read_inputs(ctx, 2, held, "KqatMaskedMseGrad: f and ref differ in size, or mask is not a scalar", st) &&
      (TF_NumDims(dmse) != 0 || TF_TensorElementCount(g) != TF_TensorElementCount(held[0]))) {
    TF_SetStatus(st, TF_INVALID_ARGUMENT, "KqatMaskedMseGrad: g differs from f in size, or dmse is not a scalar");
  }
  if (TF_GetCode(st) == TF_OK) {
    const int64_t count = TF_TensorElementCount(held[0]);
    const float k = count == 0 ? 0 : (float)(kqat_scalar(dmse) * kqat_scalar(held[2]) * 2.0 / (double)count);
    if (k == 0) {
      /* The feature's gradient is g itself: handed on without a copy. */
      TF_SetOutput(ctx, 0, g, st);
    } else {
      int64_t dims[KQAT_MAX_RANK];
      static const int candidates[] = {0};
      if (TF_NumDims(g) > KQAT_MAX_RANK) {
        TF_SetStatus(st, TF_INVALID_ARGUMENT, "KqatMaskedMseGrad: more than 8 axes");
      } else {
        dx = TF_ForwardInputOrAllocateOutput(ctx, candidates, 1, 0, kqat_dims(g, dims), TF_NumDims(g), NULL, st);
      }
      if (TF_GetCode(st) == TF_OK) {
        Span s = {TF_TensorData(held[0]), TF_TensorData(held[1]), TF_TensorData(g), TF_TensorData(dx), k, 0, count, 0};
        run_split(&s);
      }
    }
  }
  TF_Tensor* obtained[3] = {dx, g, dmse};
  kqat_finish(ctx, st, held, 3, obtained, 3);
}

static void scalar_shape(TF_ShapeInferenceContext* ctx, TF_Status* st) {
  TF_ShapeHandle* h = TF_ShapeInferenceContextScalar(ctx);
  TF_ShapeInferenceContextSetOutput(ctx, 0, h, st);
  TF_DeleteShapeHandle(h);
}

static void gradient_shape(TF_ShapeInferenceContext* ctx, TF_Status* st) {
  TF_ShapeHandle* h = TF_NewShapeHandle();
  TF_ShapeInferenceContextGetInput(ctx, 0, h, st);
  if (TF_GetCode(st) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, 0, h, st);
  TF_DeleteShapeHandle(h);
}

/* TF_LoadLibrary runs this on dlopen; the ops it registers are what it reports back. */
__attribute__((constructor)) static void register_ops(void) {
  static const char* fwd_in[] = {"f: float", "ref: float", "mask: float", NULL};
  static const char* fwd_out[] = {"mse: float", NULL};
  static const char* bwd_in[] = {"g: float", "dmse: float", "f: float", "ref: float", "mask: float", NULL};
  static const char* bwd_out[] = {"dx: float", NULL};
  TF_Status* st = TF_NewStatus();
  kqat_define_op("KqatMaskedMse", fwd_in, fwd_out, scalar_shape, forward, st);
  if (TF_GetCode(st) == TF_OK) kqat_define_op("KqatMaskedMseGrad", bwd_in, bwd_out, gradient_shape, backward, st);
  TF_DeleteStatus(st);
}
