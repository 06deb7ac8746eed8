// mnemo_faiss.h: a small C interface over FAISS's C++ API (the only C++ in Mnemo).
//
// Conventions (after MLXCXGrammar's C shim):
// - Opaque handles: `mnemo_faiss_index_t`, `mnemo_faiss_buffer_t`; every handle a function returns
//   is owned by the caller and released with its `_free` function.
// - Every fallible call returns an `int32_t` status: MNEMO_FAISS_OK (0) or a negative code below.
// - After a failing call, `mnemo_faiss_last_error()` returns the message of that failure on the
//   same thread (thread-local), valid until the next shim call on that thread.
// - Output arrays are caller-owned and sized as documented on each function.
// - No C++ exception crosses this interface: each function has one try/catch boundary.
#ifndef MNEMO_FAISS_H
#define MNEMO_FAISS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes.
enum {
    MNEMO_FAISS_OK = 0,
    /// FAISS raised faiss::FaissException (bad description, unsupported operation, ...).
    MNEMO_FAISS_ERROR_FAISS = -1,
    /// Another C++ exception (std::bad_alloc, std::exception, ...).
    MNEMO_FAISS_ERROR_STD = -2,
    /// An argument check in the shim failed (null pointer, negative count, ...).
    MNEMO_FAISS_ERROR_ARGUMENT = -3,
    /// The index must be trained before this call (IVF, PQ, SQ).
    MNEMO_FAISS_ERROR_NOT_TRAINED = -4,
    /// An exception of unknown type.
    MNEMO_FAISS_ERROR_UNKNOWN = -5,
};

/// Metric: inner product (larger is closer) or squared L2 (smaller is closer).
enum {
    MNEMO_FAISS_METRIC_INNER_PRODUCT = 0,
    MNEMO_FAISS_METRIC_L2 = 1,
};

typedef struct mnemo_faiss_index mnemo_faiss_index_t;
typedef struct mnemo_faiss_buffer mnemo_faiss_buffer_t;

/// Message of the last failed call on this thread ("" if none). Never NULL.
const char *mnemo_faiss_last_error(void);

/// Creates an index from a FAISS factory description ("Flat", "HNSW32", "IVF1024,Flat", ...).
/// Indexes without native id support are wrapped in IndexIDMap2 so `add_with_ids` always works.
int32_t mnemo_faiss_index_create(int32_t dimension, const char *description, int32_t metric,
                                 mnemo_faiss_index_t **out_index);
/// Releases an index (NULL is allowed).
void mnemo_faiss_index_free(mnemo_faiss_index_t *index);
/// A deep copy (via write_index/read_index in memory), e.g. of a trained empty index used as a template.
int32_t mnemo_faiss_index_clone(const mnemo_faiss_index_t *index, mnemo_faiss_index_t **out_index);

int32_t mnemo_faiss_index_dimension(const mnemo_faiss_index_t *index);
/// 1 if trained, 0 otherwise.
int32_t mnemo_faiss_index_is_trained(const mnemo_faiss_index_t *index);
int64_t mnemo_faiss_index_ntotal(const mnemo_faiss_index_t *index);
/// MNEMO_FAISS_METRIC_INNER_PRODUCT or MNEMO_FAISS_METRIC_L2 (or -1 for another metric).
int32_t mnemo_faiss_index_metric(const mnemo_faiss_index_t *index);

/// Trains on `n` row-major vectors of `dimension` floats.
int32_t mnemo_faiss_index_train(mnemo_faiss_index_t *index, int64_t n, const float *vectors);
/// Adds `n` vectors with ids (`ids` has n entries).
int32_t mnemo_faiss_index_add_with_ids(mnemo_faiss_index_t *index, int64_t n, const float *vectors,
                                       const int64_t *ids);
/// Searches `n` queries for their `k` nearest: `distances` and `labels` hold n*k entries each,
/// row-major by query; missing results have label -1. Safe to call from several threads at once
/// (FAISS search is const) as long as no write runs concurrently.
int32_t mnemo_faiss_index_search(const mnemo_faiss_index_t *index, int64_t n, const float *queries,
                                 int64_t k, float *distances, int64_t *labels);
/// Exact top-k over several Flat indexes at once, as if they were one: `indexes` holds `count`
/// handles, each a "Flat" index (IndexFlat in IndexIDMap2) of the same dimension and metric; labels
/// below `min_label` are skipped (evicted entries). One heap per query runs across every index, so
/// the cost is one score per stored vector plus about k·ln(total/k) heap updates per query (searching
/// each index for k and merging costs k·ln(size/k) updates per index). `distances` and `labels` hold
/// n*k entries, best first (equal scores: smaller label first, also at the k-th place); missing
/// results have label -1. Scores are computed with BLAS sgemm
/// (L2: |q|² + |x|² − 2 q·x), as FAISS does for 20 or more queries. Fails with
/// MNEMO_FAISS_ERROR_ARGUMENT when an index is not Flat or differs in dimension or metric.
int32_t mnemo_faiss_flat_search_many(const mnemo_faiss_index_t *const *indexes, int64_t count, int64_t min_label,
                                     int64_t n, const float *queries, int64_t k, float *distances, int64_t *labels);
/// Writes the stored vectors of `n` ids into `out` (n*dimension floats, row-major): exact copies
/// for Flat and HNSW<n> (Flat storage), decoded approximations for quantized indexes; fails for an
/// id that is not stored and for index types without reconstruction (IVF without a direct map).
int32_t mnemo_faiss_index_reconstruct(const mnemo_faiss_index_t *index, int64_t n, const int64_t *ids,
                                      float *out);
/// Removes the given ids; `out_removed` receives how many were present.
int32_t mnemo_faiss_index_remove_ids(mnemo_faiss_index_t *index, int64_t n, const int64_t *ids,
                                     int64_t *out_removed);
/// Removes every vector (keeps the training).
int32_t mnemo_faiss_index_reset(mnemo_faiss_index_t *index);

/// Sets a search-time parameter: "efSearch" (HNSW) or "nprobe" (IVF). Fails if the index
/// has no such parameter.
int32_t mnemo_faiss_index_set_parameter(mnemo_faiss_index_t *index, const char *name, double value);
/// Serializes the index (faiss::write_index into memory) into a new buffer.
int32_t mnemo_faiss_index_serialize(const mnemo_faiss_index_t *index, mnemo_faiss_buffer_t **out_buffer);
/// Reads an index from `size` bytes (faiss::read_index). Only pass bytes whose checksum was
/// verified: FAISS's reader trusts sizes inside the stream.
int32_t mnemo_faiss_index_deserialize(const uint8_t *bytes, size_t size, mnemo_faiss_index_t **out_index);

const uint8_t *mnemo_faiss_buffer_data(const mnemo_faiss_buffer_t *buffer);
size_t mnemo_faiss_buffer_size(const mnemo_faiss_buffer_t *buffer);
void mnemo_faiss_buffer_free(mnemo_faiss_buffer_t *buffer);

/// OpenMP threads FAISS uses (omp_set_num_threads); `mnemo_faiss_get_num_threads` reads it back.
void mnemo_faiss_set_num_threads(int32_t count);
int32_t mnemo_faiss_get_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
