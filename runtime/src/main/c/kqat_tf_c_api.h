/*
 * The few declarations of TensorFlow's stable C API (tensorflow/c/{c_api.h,tf_tensor.h,tf_status.h,
 * kernels.h,ops.h}) that kqat's CPU kernels use: the TensorFlow Java native jar ships no C headers.
 * Also the op registration every kernel file shares.
 */
#ifndef KQAT_TF_C_API_H
#define KQAT_TF_C_API_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpKernelContext TF_OpKernelContext;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;
typedef struct TF_ShapeHandle TF_ShapeHandle;
typedef enum { TF_FLOAT = 1 } TF_DataType;
typedef enum { TF_OK = 0, TF_INVALID_ARGUMENT = 3, TF_RESOURCE_EXHAUSTED = 8 } TF_Code;

extern TF_Status* TF_NewStatus(void);
extern void TF_DeleteStatus(TF_Status*);
extern void TF_SetStatus(TF_Status*, TF_Code, const char*);
extern TF_Code TF_GetCode(const TF_Status*);
extern int TF_NumDims(const TF_Tensor*);
extern int64_t TF_Dim(const TF_Tensor*, int);
extern int64_t TF_TensorElementCount(const TF_Tensor*);
extern void* TF_TensorData(const TF_Tensor*);
extern void TF_DeleteTensor(TF_Tensor*);
extern TF_KernelBuilder* TF_NewKernelBuilder(const char*, const char*,
    void* (*)(TF_OpKernelConstruction*), void (*)(void*, TF_OpKernelContext*), void (*)(void*));
extern void TF_RegisterKernelBuilder(const char*, TF_KernelBuilder*, TF_Status*);
extern void TF_GetInput(TF_OpKernelContext*, int, TF_Tensor**, TF_Status*);
extern TF_Tensor* TF_AllocateOutput(TF_OpKernelContext*, int, TF_DataType, const int64_t*, int, size_t,
    TF_Status*);
extern void TF_OpKernelContext_Failure(TF_OpKernelContext*, TF_Status*);
extern TF_OpDefinitionBuilder* TF_NewOpDefinitionBuilder(const char*);
extern void TF_OpDefinitionBuilderAddInput(TF_OpDefinitionBuilder*, const char*);
extern void TF_OpDefinitionBuilderAddOutput(TF_OpDefinitionBuilder*, const char*);
extern void TF_OpDefinitionBuilderSetShapeInferenceFunction(TF_OpDefinitionBuilder*,
    void (*)(TF_ShapeInferenceContext*, TF_Status*));
extern void TF_RegisterOpDefinition(TF_OpDefinitionBuilder*, TF_Status*);
extern TF_ShapeHandle* TF_NewShapeHandle(void);
extern void TF_DeleteShapeHandle(TF_ShapeHandle*);
extern void TF_ShapeInferenceContextGetInput(TF_ShapeInferenceContext*, int, TF_ShapeHandle*, TF_Status*);
extern void TF_ShapeInferenceContextSetOutput(TF_ShapeInferenceContext*, int, TF_ShapeHandle*, TF_Status*);
extern void TF_SetOutput(TF_OpKernelContext*, int, const TF_Tensor*, TF_Status*);
extern TF_Tensor* TF_ForwardInputOrAllocateOutput(TF_OpKernelContext*, const int*, int, int, const int64_t*, int,
    int*, TF_Status*);
extern TF_ShapeHandle* TF_ShapeInferenceContextScalar(TF_ShapeInferenceContext*);

/* Most axes a kernel's tensors may have. */
#define KQAT_MAX_RANK 8
/* Tensors with fewer elements are not worth a second thread. */
#define KQAT_PARALLEL_MIN (1 << 16)

/* t's dimensions written into dims (room for KQAT_MAX_RANK), which is returned. */
static inline int64_t* kqat_dims(const TF_Tensor* t, int64_t* dims) {
  for (int d = 0; d < TF_NumDims(t); d++) dims[d] = TF_Dim(t, d);
  return dims;
}

/*
 * run(first) on this thread and run(second) on a thread of its own, both finished on return; second runs
 * here after first when no thread can be made.
 */
static inline void kqat_run_pair(void* (*run)(void*), void* first, void* second) {
  pthread_t helper;
  const int threaded = pthread_create(&helper, NULL, run, second) == 0;
  run(first);
  if (threaded) {
    pthread_join(helper, NULL);
  } else {
    run(second);
  }
}

/* The value of a scalar float tensor. */
static inline float kqat_scalar(TF_Tensor* t) { return *(const float*)TF_TensorData(t); }

/* Deletes the non-NULL ones of k tensors. */
static inline void kqat_release(TF_Tensor** tensors, int k) {
  for (int i = 0; i < k; i++) {
    if (tensors[i] != NULL) TF_DeleteTensor(tensors[i]);
  }
}

/*
 * How every kernel ends: report a failure to TensorFlow, then free its status and the tensor handles it
 * holds, in two arrays (its argument inputs, and the outputs and other tensors it obtained; NULL where
 * never obtained).
 */
static inline void kqat_finish(TF_OpKernelContext* ctx, TF_Status* st, TF_Tensor** held, int k, TF_Tensor** obtained, int n) {
  if (TF_GetCode(st) != TF_OK) TF_OpKernelContext_Failure(ctx, st);
  kqat_release(held, k);
  kqat_release(obtained, n);
  TF_DeleteStatus(st);
}

/* The kernels keep no state between calls. */
static inline void* kqat_no_state(TF_OpKernelConstruction* ctx) {
  (void)ctx;
  return NULL;
}

static inline void kqat_no_state_free(void* kernel) { (void)kernel; }

/* Registers op `name` (inputs and outputs as "name: float", NULL-terminated) and its CPU kernel. */
static inline void kqat_define_op(const char* name, const char** inputs, const char** outputs,
                                  void (*shapes)(TF_ShapeInferenceContext*, TF_Status*),
                                  void (*compute)(void*, TF_OpKernelContext*), TF_Status* st) {
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(name);
  for (; *inputs != NULL; inputs++) TF_OpDefinitionBuilderAddInput(op, *inputs);
  for (; *outputs != NULL; outputs++) TF_OpDefinitionBuilderAddOutput(op, *outputs);
  TF_OpDefinitionBuilderSetShapeInferenceFunction(op, shapes);
  TF_RegisterOpDefinition(op, st);
  if (TF_GetCode(st) != TF_OK) return;
  TF_KernelBuilder* kernel = TF_NewKernelBuilder(name, "CPU", kqat_no_state, compute, kqat_no_state_free);
  TF_RegisterKernelBuilder(name, kernel, st);
}

#endif
