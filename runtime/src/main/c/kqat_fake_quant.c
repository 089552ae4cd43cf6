/*
 * Fused fake-quantization kernels for TensorFlow's CPU device, part of the library
 * dev.kqat.runtime.tf.KqatNativeOps loads through TF_LoadLibrary.
 *
 * KqatFakeQuant(x, s, n, p) -> q          q = s * round(clamp(x / s, n, p))       (one pass)
 * KqatFakeQuantGrad(g, x, s, n, p, lo, hi) -> (dx, ds)                          (one pass)
 *     u = x / s;  dx = g * [lo <= u <= hi];  ds = sum over broadcast axes of g * xi - dx * u
 *
 * algorithms.md §0.1; the plain-op path in FakeQuant.java computes the same values with four
 * forward and five backward passes over the tensor. s is a scalar or spans the trailing axes of
 * x (per-channel); n, p, lo, hi are scalars. Rounding is half to even, the division is the IEEE
 * one, so q matches TensorFlow's Div/Round/Mul bit for bit. Large tensors are split over two threads.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kqat_tf_c_api.h"


/* Inputs of both ops, after the leading g of the gradient. */
typedef struct {
  TF_Tensor* x;
  TF_Tensor* s;
  float n, p, lo, hi;
  int64_t count;    /* elements of x */
  int64_t channels; /* elements of s: x is [count / channels][channels] */
} Args;

/* Reads x, s, n, p[, lo, hi] starting at input `first`; checks that s spans x's trailing axes. */
static int read_args(TF_OpKernelContext* ctx, int first, int bounds, TF_Tensor** held, Args* a,
                     TF_Status* st) {
  for (int i = 0; i < 2 + bounds; i++) {
    TF_GetInput(ctx, first + i, &held[i], st);
    if (TF_GetCode(st) != TF_OK) return 0;
  }
  a->x = held[0];
  a->s = held[1];
  int xr = TF_NumDims(a->x), sr = TF_NumDims(a->s);
  int ok = sr <= xr && xr <= KQAT_MAX_RANK;
  for (int d = 0; ok && d < sr; d++) ok = TF_Dim(a->s, d) == TF_Dim(a->x, xr - sr + d);
  for (int i = 2; ok && i < 2 + bounds; i++) ok = TF_NumDims(held[i]) == 0;
  if (!ok) {
    TF_SetStatus(st, TF_INVALID_ARGUMENT,
                 "KqatFakeQuant: x has at most 8 axes, the step size spans its trailing axes, bounds are scalars");
    return 0;
  }
  float* b[4] = {&a->n, &a->p, &a->lo, &a->hi};
  for (int i = 0; i < bounds; i++) *b[i] = kqat_scalar(held[2 + i]);
  a->count = TF_TensorElementCount(a->x);
  a->channels = TF_TensorElementCount(a->s);
  return 1;
}

static inline float clamp(float u, float n, float p) {
  /* TensorFlow's ClipByValue: min(max(u, n), p). */
  u = u > n ? u : n;
  return u < p ? u : p;
}

/*
 * Half-to-even rounding of |v| < 2^22 (the clamped grid index, bits <= 16): adding and removing
 * 1.5 * 2^23 leaves no fraction bits, so the FPU's default round-to-nearest-even does the rounding.
 * Unlike rintf it vectorises without SSE4.1.
 */
static inline float round_even(float v) {
  const float magic = 12582912.0f;
  return (v + magic) - magic;
}

/* Rows of a [rows][c] block summed in float this many at a time, then in double (precision). */
#define ROW_BLOCK 64
/* A scalar step size is spread over this many columns so that loops vectorise as per-channel. */
#define LANES 16

/* One op's work on x laid out as [rows][c], step size s[k] per column; rows [r0, r1) of it. */
typedef struct {
  const float* g; /* upstream gradient (backward only) */
  const float* x;
  const float* s;
  float* out;     /* q forward, dx backward */
  double* sums;   /* c partial dL/ds (backward only) */
  float* block;   /* c floats of scratch for the float sums (backward only) */
  int64_t c, r0, r1;
  float n, p, lo, hi;
} Job;

static void forward_rows(Job* j) {
  const float n = j->n, p = j->p;
  const float* s = j->s;
  for (int64_t r = j->r0; r < j->r1; r++) {
    const float* xr = j->x + r * j->c;
    float* qr = j->out + r * j->c;
    for (int64_t k = 0; k < j->c; k++) qr[k] = round_even(clamp(xr[k] / s[k], n, p)) * s[k];
  }
}

/* dx = g * [lo <= u <= hi] and sums[k] = sum over the rows of g * xi - dx * u. */
static void backward_rows(Job* j) {
  const float n = j->n, p = j->p, lo = j->lo, hi = j->hi;
  const float* s = j->s;
  const int64_t c = j->c;
  float* block = j->block;
  for (int64_t k = 0; k < c; k++) j->sums[k] = 0;
  for (int64_t r0 = j->r0; r0 < j->r1; r0 += ROW_BLOCK) {
    const int64_t r1 = r0 + ROW_BLOCK < j->r1 ? r0 + ROW_BLOCK : j->r1;
    for (int64_t k = 0; k < c; k++) block[k] = 0;
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = j->x + r * c;
      const float* gr = j->g + r * c;
      float* dxr = j->out + r * c;
      for (int64_t k = 0; k < c; k++) {
        const float u = xr[k] / s[k];
        const float pass = (u >= lo && u <= hi) ? gr[k] : 0.0f;
        dxr[k] = pass;
        block[k] += gr[k] * round_even(clamp(u, n, p)) - pass * u;
      }
    }
    for (int64_t k = 0; k < c; k++) j->sums[k] += block[k];
  }
}

static void* run_job(void* job) {
  Job* j = job;
  if (j->g != NULL) {
    backward_rows(j);
  } else {
    forward_rows(j);
  }
  return NULL;
}

/*
 * Runs the job, its second half on a thread of its own when the tensor is large (the activation
 * quantizers sit on the forward pass's critical path; docs/benchmarks.md). The second half sums
 * into second_sums with second_block as scratch, then into job->sums.
 */
static void run_split(Job* job, double* second_sums, float* second_block) {
  if ((job->r1 - job->r0) * job->c < KQAT_PARALLEL_MIN) {
    run_job(job);
    return;
  }
  Job second = *job;
  second.r0 = job->r0 + (job->r1 - job->r0) / 2;
  second.sums = second_sums;
  second.block = second_block;
  job->r1 = second.r0;
  kqat_run_pair(run_job, job, &second);
  if (job->sums != NULL) {
    for (int64_t k = 0; k < job->c; k++) job->sums[k] += second_sums[k];
  }
}

/*
 * Lays the op's tensors out as [rows][c] (a scalar step size as LANES columns, the rest of the
 * elements as a tail) and runs it: q (forward, g NULL) or dx and dL/ds into out and ds.
 * Returns 0 when out of memory.
 */
static int compute(const Args* a, const float* g, float* out, float* ds) {
  const float* x = TF_TensorData(a->x);
  const float* s = TF_TensorData(a->s);
  float lanes[LANES];
  Job job = {g, x, s, out, NULL, NULL, a->channels, 0, 0, a->n, a->p, a->lo, a->hi};
  int64_t body = a->count;
  if (a->channels == 1) {
    for (int k = 0; k < LANES; k++) lanes[k] = s[0];
    job.s = lanes;
    job.c = LANES;
    body = a->count / LANES * LANES;
  }
  job.r1 = job.c == 0 ? 0 : body / job.c;
  /* Backward: the two halves' double sums, then their float scratch blocks (one allocation). */
  const size_t width = (size_t)job.c + 1;
  double* sums = NULL;
  float* blocks = NULL;
  if (g != NULL) {
    sums = malloc(2 * width * (sizeof(double) + sizeof(float)));
    if (sums == NULL) return 0;
    blocks = (float*)(sums + 2 * width);
    job.sums = sums;
    job.block = blocks;
  }
  run_split(&job, g == NULL ? NULL : sums + width, g == NULL ? NULL : blocks + width);
  if (body < a->count) {
    /* The tail of a scalar step size: fewer than LANES elements. */
    double tail_sum = 0;
    float tail_block = 0;
    Job tail = {g == NULL ? NULL : g + body, x + body, s, out + body, &tail_sum, &tail_block, 1, 0,
                a->count - body, a->n, a->p, a->lo, a->hi};
    run_job(&tail);
    if (sums != NULL) sums[0] += tail_sum;
  }
  if (sums != NULL) {
    if (a->channels == 1) {
      double total = 0;
      for (int k = 0; k < LANES; k++) total += sums[k];
      ds[0] = (float)total;
    } else {
      for (int64_t k = 0; k < a->channels; k++) ds[k] = (float)sums[k];
    }
    free(sums);
  }
  return 1;
}

static void forward(void* kernel, TF_OpKernelContext* ctx) {
  (void)kernel;
  TF_Status* st = TF_NewStatus();
  TF_Tensor* held[4] = {NULL, NULL, NULL, NULL};
  TF_Tensor* q = NULL;
  Args a = {0};
  if (read_args(ctx, 0, 2, held, &a, st)) {
    int64_t dims[KQAT_MAX_RANK];
    q = TF_AllocateOutput(ctx, 0, TF_FLOAT, kqat_dims(a.x, dims), TF_NumDims(a.x),
                          (size_t)a.count * sizeof(float), st);
  }
  if (TF_GetCode(st) == TF_OK && !compute(&a, NULL, TF_TensorData(q), NULL)) {
    TF_SetStatus(st, TF_RESOURCE_EXHAUSTED, "KqatFakeQuant: out of memory");
  }
  TF_Tensor* obtained[1] = {q};
  kqat_finish(ctx, st, held, 4, obtained, 1);
}

static void backward(void* kernel, TF_OpKernelContext* ctx) {
  (void)kernel;
  TF_Status* st = TF_NewStatus();
  TF_Tensor* g = NULL;
  TF_Tensor* held[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  TF_Tensor* dx = NULL;
  TF_Tensor* ds = NULL;
  Args a = {0};
  TF_GetInput(ctx, 0, &g, st);
  if (TF_GetCode(st) == TF_OK && read_args(ctx, 1, 4, held, &a, st)) {
    int64_t dims[KQAT_MAX_RANK];
    dx = TF_AllocateOutput(ctx, 0, TF_FLOAT, kqat_dims(a.x, dims), TF_NumDims(a.x),
                           (size_t)a.count * sizeof(float), st);
    if (TF_GetCode(st) == TF_OK) {
      ds = TF_AllocateOutput(ctx, 1, TF_FLOAT, kqat_dims(a.s, dims), TF_NumDims(a.s),
                             (size_t)a.channels * sizeof(float), st);
    }
  }
  if (TF_GetCode(st) == TF_OK && TF_TensorElementCount(g) != a.count) {
    TF_SetStatus(st, TF_INVALID_ARGUMENT, "KqatFakeQuantGrad: the gradient's shape differs from x's");
  }
  if (TF_GetCode(st) == TF_OK && !compute(&a, TF_TensorData(g), TF_TensorData(dx), TF_TensorData(ds))) {
    TF_SetStatus(st, TF_RESOURCE_EXHAUSTED, "KqatFakeQuantGrad: out of memory");
  }
  TF_Tensor* obtained[3] = {dx, ds, g};
  kqat_finish(ctx, st, held, 6, obtained, 3);
}


/* Output i has the shape of input j. */
static void same_shapes(TF_ShapeInferenceContext* ctx, TF_Status* st, const int* from, int outputs) {
  TF_ShapeHandle* h = TF_NewShapeHandle();
  for (int i = 0; i < outputs && TF_GetCode(st) == TF_OK; i++) {
    TF_ShapeInferenceContextGetInput(ctx, from[i], h, st);
    if (TF_GetCode(st) == TF_OK) TF_ShapeInferenceContextSetOutput(ctx, i, h, st);
  }
  TF_DeleteShapeHandle(h);
}

static void forward_shapes(TF_ShapeInferenceContext* ctx, TF_Status* st) {
  static const int from[] = {0};
  same_shapes(ctx, st, from, 1);
}

static void backward_shapes(TF_ShapeInferenceContext* ctx, TF_Status* st) {
  static const int from[] = {1, 2};
  same_shapes(ctx, st, from, 2);
}

/* TF_LoadLibrary runs this on dlopen; the ops it registers are what it reports back. */
__attribute__((constructor)) static void register_ops(void) {
  static const char* fwd_in[] = {"x: float", "s: float", "n: float", "p: float", NULL};
  static const char* fwd_out[] = {"q: float", NULL};
  static const char* bwd_in[] = {"g: float", "x: float", "s: float", "n: float", "p: float",
                                 "lo: float", "hi: float", NULL};
  static const char* bwd_out[] = {"dx: float", "ds: float", NULL};
  TF_Status* st = TF_NewStatus();
  kqat_define_op("KqatFakeQuant", fwd_in, fwd_out, forward_shapes, forward, st);
  if (TF_GetCode(st) == TF_OK) kqat_define_op("KqatFakeQuantGrad", bwd_in, bwd_out, backward_shapes, backward, st);
  TF_DeleteStatus(st);
}
