// shim.cpp: the C interface of mnemo_faiss.h over FAISS 1.7.x's C++ API.
// Every extern "C" function runs its body through `guarded`, the single exception boundary:
// faiss::FaissException, std::exception and anything else become a status code plus a
// thread-local message read by mnemo_faiss_last_error().
#include "mnemo_faiss.h"

#include <faiss/IVFlib.h>
#include <faiss/Index.h>
#include <faiss/AutoTune.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/IndexFlat.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// GCC's OpenMP runtime (libgomp), which Debian's libfaiss.a is built against.
extern "C" void omp_set_num_threads(int);
extern "C" int omp_get_max_threads(void);
// BLAS (Debian's OpenBLAS, LP64), declared as FAISS itself does.
extern "C" int sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k, const float *alpha,
                      const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c, const int *ldc);

struct mnemo_faiss_index {
    std::unique_ptr<faiss::Index> index;
};

struct mnemo_faiss_buffer {
    std::vector<uint8_t> bytes;
};

namespace {

thread_local std::string last_error;

/// A shim-level failure with its own status code.
struct ShimError : std::runtime_error {
    int32_t status;
    ShimError(int32_t status, const std::string &message) : std::runtime_error(message), status(status) {}
};

template <typename Body>
int32_t guarded(Body &&body) {
    try {
        last_error.clear();
        body();
        return MNEMO_FAISS_OK;
    } catch (const ShimError &error) {
        last_error = error.what();
        return error.status;
    } catch (const faiss::FaissException &error) {
        last_error = error.msg.empty() ? std::string(error.what()) : error.msg;
        return MNEMO_FAISS_ERROR_FAISS;
    } catch (const std::exception &error) {
        last_error = error.what();
        return MNEMO_FAISS_ERROR_STD;
    } catch (...) {
        last_error = "unknown C++ exception";
        return MNEMO_FAISS_ERROR_UNKNOWN;
    }
}

void require(bool condition, const char *message) {
    if (!condition) throw ShimError(MNEMO_FAISS_ERROR_ARGUMENT, message);
}

faiss::Index &checked(const mnemo_faiss_index_t *handle) {
    require(handle != nullptr && handle->index != nullptr, "null index handle");
    return *handle->index;
}

/// Follows wrappers (IDMap, pre-transforms, refinement) down to the index that owns
/// search-time parameters.
faiss::Index *innermost(faiss::Index *index) {
    for (;;) {
        if (auto *idmap = dynamic_cast<faiss::IndexIDMap *>(index)) {
            index = idmap->index;
        } else if (auto *pre = dynamic_cast<faiss::IndexPreTransform *>(index)) {
            index = pre->index;
        } else if (auto *refine = dynamic_cast<faiss::IndexRefine *>(index)) {
            index = refine->base_index;
        } else {
            return index;
        }
    }
}

/// Sets "efSearch" (HNSW) or "nprobe" (IVF) through faiss::ParameterSpace, which follows
/// IDMap, pre-transform and refine wrappers. (IndexHNSW.h is not included directly: it needs
/// <omp.h>, which the Swift toolchain's clang does not ship.)
void set_parameter(faiss::Index *index, const char *name, double value) {
    require(name != nullptr, "null parameter name");
    std::string key(name);
    require(key == "efSearch" || key == "nprobe", "unknown search parameter (expected efSearch or nprobe)");
    require(value >= 1, "search parameter must be >= 1");
    if (key == "nprobe" && faiss::ivflib::try_extract_index_ivf(innermost(index)) == nullptr) {
        throw ShimError(MNEMO_FAISS_ERROR_ARGUMENT, "index has no search parameter 'nprobe' (not an IVF index)");
    }
    faiss::ParameterSpace space;
    space.set_index_parameter(index, key, value);
}

/// The Flat storage and id map of an IndexIDMap2<IndexFlat>, or nullptrs.
struct FlatView {
    const faiss::IndexFlat *flat = nullptr;
    const faiss::Index::idx_t *ids = nullptr;
};

FlatView flat_view(const faiss::Index &index) {
    const auto *map = dynamic_cast<const faiss::IndexIDMap2 *>(&index);
    if (map == nullptr) return {};
    const auto *flat = dynamic_cast<const faiss::IndexFlat *>(map->index);
    if (flat == nullptr) return {};
    return {flat, map->id_map.data()};
}

/// Result order of `mnemo_faiss_flat_search_many`: better score first (larger inner product, smaller
/// L2), and between equal scores the smaller label (the store's documented tie rule; FAISS's own
/// heaps break ties differently per metric).
template <bool L2>
struct Ranking {
    static bool better(float s1, int64_t l1, float s2, int64_t l2) {
        if (s1 != s2) return L2 ? s1 < s2 : s1 > s2;
        return l1 < l2;
    }
    static float worst() { return L2 ? std::numeric_limits<float>::max() : std::numeric_limits<float>::lowest(); }
};

/// Replaces the top (worst kept) element of a k-heap ordered by `R` (worst at the root) and sifts down.
template <class R>
void replace_worst(int64_t k, float *scores, int64_t *labels, float score, int64_t label) {
    int64_t i = 0;
    while (true) {
        int64_t child = 2 * i + 1;
        if (child >= k) break;
        // The worse of the two children.
        if (child + 1 < k && R::better(scores[child], labels[child], scores[child + 1], labels[child + 1])) child++;
        // Stop when the new element is worse than both children.
        if (R::better(scores[child], labels[child], score, label)) break;
        scores[i] = scores[child];
        labels[i] = labels[child];
        i = child;
    }
    scores[i] = score;
    labels[i] = label;
}

/// Scores query block × database block with sgemm, then pushes every retained candidate through one
/// heap per query.
template <bool L2>
void flat_search_many(const std::vector<FlatView> &views, int64_t min_label, int64_t n, const float *queries, int d,
                      int64_t k, float *distances, int64_t *labels) {
    using R = Ranking<L2>;
    // Blocks of up to 256 queries × 1,024 keys; with few queries (a generated token's heads) longer key
    // blocks, so the keys are read once per block of queries in few sgemm calls.
    constexpr int64_t query_block = 256;
    const int64_t base_block = std::clamp<int64_t>(262144 / std::max<int64_t>(1, std::min(query_block, n)), 1024, 16384);
    std::vector<float> scores(static_cast<size_t>(std::min(query_block, n) * base_block));
    std::vector<float> query_norms, base_norms(base_block);
    if (L2) {
        query_norms.resize(static_cast<size_t>(n));
        faiss::fvec_norms_L2sqr(query_norms.data(), queries, static_cast<size_t>(d), static_cast<size_t>(n));
    }
    std::fill(distances, distances + n * k, R::worst());
    std::fill(labels, labels + n * k, int64_t(-1));
    const float one = 1, zero = 0;
    for (int64_t q0 = 0; q0 < n; q0 += query_block) {
        const int nq = static_cast<int>(std::min(query_block, n - q0));
        for (const FlatView &view : views) {
            const int64_t total = view.flat->ntotal;
            const float *base = view.flat->get_xb();
            for (int64_t b0 = 0; b0 < total; b0 += base_block) {
                const int nb = static_cast<int>(std::min(base_block, total - b0));
                // Skip a block whose labels are all evicted (labels grow with position in a shard).
                if (view.ids[b0 + nb - 1] < min_label) continue;
                // Column-major trick: scores (row-major nq × nb) = queries · baseᵀ.
                sgemm_("Transpose", "Not transpose", &nb, &nq, &d, &one, base + b0 * d, &d, queries + q0 * d, &d, &zero,
                       scores.data(), &nb);
                if (L2) faiss::fvec_norms_L2sqr(base_norms.data(), base + b0 * d, static_cast<size_t>(d), static_cast<size_t>(nb));
                for (int i = 0; i < nq; i++) {
                    float *heap_scores = distances + (q0 + i) * k;
                    int64_t *heap_labels = labels + (q0 + i) * k;
                    const float *row = scores.data() + static_cast<size_t>(i) * nb;
                    for (int j = 0; j < nb; j++) {
                        // L2 as FAISS computes it with BLAS, clamped at 0 against rounding.
                        const float score = L2 ? std::max(0.0f, query_norms[q0 + i] + base_norms[j] - 2 * row[j]) : row[j];
                        const int64_t label = view.ids[b0 + j];
                        if (!R::better(score, label, heap_scores[0], heap_labels[0]) || label < min_label) continue;
                        replace_worst<R>(k, heap_scores, heap_labels, score, label);
                    }
                }
            }
        }
    }
    // Best first; unfilled slots (label -1) last.
    std::vector<std::pair<float, int64_t>> row(static_cast<size_t>(k));
    for (int64_t q = 0; q < n; q++) {
        for (int64_t j = 0; j < k; j++) row[j] = {distances[q * k + j], labels[q * k + j]};
        std::sort(row.begin(), row.end(), [](const auto &a, const auto &b) {
            if ((a.second < 0) != (b.second < 0)) return b.second < 0;
            return R::better(a.first, a.second, b.first, b.second);
        });
        for (int64_t j = 0; j < k; j++) {
            distances[q * k + j] = row[j].first;
            labels[q * k + j] = row[j].second;
        }
    }
}

} // namespace

extern "C" {

const char *mnemo_faiss_last_error(void) { return last_error.c_str(); }

int32_t mnemo_faiss_index_create(int32_t dimension, const char *description, int32_t metric,
                                 mnemo_faiss_index_t **out_index) {
    return guarded([&] {
        require(out_index != nullptr, "null output pointer");
        *out_index = nullptr;
        require(description != nullptr, "null description");
        require(dimension > 0, "dimension must be > 0");
        faiss::MetricType faissMetric;
        if (metric == MNEMO_FAISS_METRIC_INNER_PRODUCT) {
            faissMetric = faiss::METRIC_INNER_PRODUCT;
        } else if (metric == MNEMO_FAISS_METRIC_L2) {
            faissMetric = faiss::METRIC_L2;
        } else {
            throw ShimError(MNEMO_FAISS_ERROR_ARGUMENT, "unknown metric code " + std::to_string(metric));
        }
        std::unique_ptr<faiss::Index> index(faiss::index_factory(dimension, description, faissMetric));
        if (faiss::ivflib::try_extract_index_ivf(index.get()) == nullptr &&
            dynamic_cast<faiss::IndexIDMap *>(index.get()) == nullptr) {
            // Flat, HNSW, PQ, SQ...: no native ids, so keep an id map beside them.
            auto *idmap = new faiss::IndexIDMap2(index.get());
            idmap->own_fields = true;
            index.release();
            index.reset(idmap);
        }
        auto handle = std::make_unique<mnemo_faiss_index>();
        handle->index = std::move(index);
        *out_index = handle.release();
    });
}

void mnemo_faiss_index_free(mnemo_faiss_index_t *index) { delete index; }

int32_t mnemo_faiss_index_clone(const mnemo_faiss_index_t *index, mnemo_faiss_index_t **out_index) {
    return guarded([&] {
        require(out_index != nullptr, "null output pointer");
        *out_index = nullptr;
        // A write_index/read_index round trip rather than faiss::clone_index: in FAISS 1.7.3
        // clone_index turns IndexHNSWFlat into a plain IndexHNSW that write_index rejects.
        faiss::VectorIOWriter writer;
        faiss::write_index(&checked(index), &writer);
        faiss::VectorIOReader reader;
        reader.data = std::move(writer.data);
        auto handle = std::make_unique<mnemo_faiss_index>();
        handle->index.reset(faiss::read_index(&reader));
        *out_index = handle.release();
    });
}

int32_t mnemo_faiss_index_dimension(const mnemo_faiss_index_t *index) {
    return index && index->index ? static_cast<int32_t>(index->index->d) : 0;
}

int32_t mnemo_faiss_index_is_trained(const mnemo_faiss_index_t *index) {
    return index && index->index && index->index->is_trained ? 1 : 0;
}

int64_t mnemo_faiss_index_ntotal(const mnemo_faiss_index_t *index) {
    return index && index->index ? static_cast<int64_t>(index->index->ntotal) : 0;
}

int32_t mnemo_faiss_index_metric(const mnemo_faiss_index_t *index) {
    if (!index || !index->index) return -1;
    switch (index->index->metric_type) {
    case faiss::METRIC_INNER_PRODUCT: return MNEMO_FAISS_METRIC_INNER_PRODUCT;
    case faiss::METRIC_L2: return MNEMO_FAISS_METRIC_L2;
    default: return -1;
    }
}

int32_t mnemo_faiss_index_train(mnemo_faiss_index_t *index, int64_t n, const float *vectors) {
    return guarded([&] {
        faiss::Index &target = checked(index);
        require(n >= 0 && (n == 0 || vectors != nullptr), "bad training vectors");
        target.train(n, vectors);
    });
}

int32_t mnemo_faiss_index_add_with_ids(mnemo_faiss_index_t *index, int64_t n, const float *vectors,
                                       const int64_t *ids) {
    return guarded([&] {
        faiss::Index &target = checked(index);
        require(n >= 0 && (n == 0 || (vectors != nullptr && ids != nullptr)), "bad vectors or ids");
        if (!target.is_trained) throw ShimError(MNEMO_FAISS_ERROR_NOT_TRAINED, "index is not trained");
        target.add_with_ids(n, vectors, ids);
    });
}

int32_t mnemo_faiss_index_search(const mnemo_faiss_index_t *index, int64_t n, const float *queries,
                                 int64_t k, float *distances, int64_t *labels) {
    return guarded([&] {
        const faiss::Index &target = checked(index);
        require(k > 0, "k must be > 0");
        require(n >= 0 && (n == 0 || (queries != nullptr && distances != nullptr && labels != nullptr)),
                "bad queries or output buffers");
        if (!target.is_trained) throw ShimError(MNEMO_FAISS_ERROR_NOT_TRAINED, "index is not trained");
        if (n == 0) return;
        target.search(n, queries, k, distances, labels);
    });
}

int32_t mnemo_faiss_flat_search_many(const mnemo_faiss_index_t *const *indexes, int64_t count, int64_t min_label,
                                     int64_t n, const float *queries, int64_t k, float *distances, int64_t *labels) {
    return guarded([&] {
        require(count >= 1 && indexes != nullptr, "no indexes");
        require(k > 0, "k must be > 0");
        require(n >= 0 && (n == 0 || (queries != nullptr && distances != nullptr && labels != nullptr)),
                "bad queries or output buffers");
        std::vector<FlatView> views;
        const faiss::Index &first = checked(indexes[0]);
        for (int64_t i = 0; i < count; i++) {
            const faiss::Index &index = checked(indexes[i]);
            FlatView view = flat_view(index);
            require(view.flat != nullptr, "not a Flat index with an id map");
            require(index.d == first.d && index.metric_type == first.metric_type, "indexes differ in dimension or metric");
            require(first.metric_type == faiss::METRIC_INNER_PRODUCT || first.metric_type == faiss::METRIC_L2,
                    "metric must be inner product or L2");
            if (index.ntotal > 0) views.push_back(view);
        }
        if (n == 0) return;
        if (first.metric_type == faiss::METRIC_L2) {
            flat_search_many<true>(views, min_label, n, queries, first.d, k, distances, labels);
        } else {
            flat_search_many<false>(views, min_label, n, queries, first.d, k, distances, labels);
        }
    });
}

int32_t mnemo_faiss_index_reconstruct(const mnemo_faiss_index_t *index, int64_t n, const int64_t *ids,
                                      float *out) {
    return guarded([&] {
        const faiss::Index &target = checked(index);
        require(n >= 0 && (n == 0 || (ids != nullptr && out != nullptr)), "bad ids or output buffer");
        const size_t d = static_cast<size_t>(target.d);
        // IndexIDMap2::reconstruct looks the id up in its reverse map (std::out_of_range when absent).
        for (int64_t i = 0; i < n; i++) target.reconstruct(ids[i], out + static_cast<size_t>(i) * d);
    });
}

int32_t mnemo_faiss_index_remove_ids(mnemo_faiss_index_t *index, int64_t n, const int64_t *ids,
                                     int64_t *out_removed) {
    return guarded([&] {
        faiss::Index &target = checked(index);
        require(n >= 0 && (n == 0 || ids != nullptr), "bad ids");
        faiss::IDSelectorBatch selector(n, ids);
        size_t removed = target.remove_ids(selector);
        if (out_removed) *out_removed = static_cast<int64_t>(removed);
    });
}

int32_t mnemo_faiss_index_reset(mnemo_faiss_index_t *index) {
    return guarded([&] { checked(index).reset(); });
}

int32_t mnemo_faiss_index_set_parameter(mnemo_faiss_index_t *index, const char *name, double value) {
    return guarded([&] { set_parameter(&checked(index), name, value); });
}

int32_t mnemo_faiss_index_serialize(const mnemo_faiss_index_t *index, mnemo_faiss_buffer_t **out_buffer) {
    return guarded([&] {
        require(out_buffer != nullptr, "null output pointer");
        *out_buffer = nullptr;
        faiss::VectorIOWriter writer;
        faiss::write_index(&checked(index), &writer);
        auto buffer = std::make_unique<mnemo_faiss_buffer>();
        buffer->bytes = std::move(writer.data);
        *out_buffer = buffer.release();
    });
}

int32_t mnemo_faiss_index_deserialize(const uint8_t *bytes, size_t size, mnemo_faiss_index_t **out_index) {
    return guarded([&] {
        require(out_index != nullptr, "null output pointer");
        *out_index = nullptr;
        require(bytes != nullptr || size == 0, "null bytes");
        faiss::VectorIOReader reader;
        reader.data.assign(bytes, bytes + size);
        auto handle = std::make_unique<mnemo_faiss_index>();
        handle->index.reset(faiss::read_index(&reader));
        if (reader.rp != reader.data.size()) {
            throw ShimError(MNEMO_FAISS_ERROR_ARGUMENT,
                            "index stream has " + std::to_string(reader.data.size() - reader.rp) +
                                " trailing bytes");
        }
        *out_index = handle.release();
    });
}

const uint8_t *mnemo_faiss_buffer_data(const mnemo_faiss_buffer_t *buffer) {
    return buffer ? buffer->bytes.data() : nullptr;
}

size_t mnemo_faiss_buffer_size(const mnemo_faiss_buffer_t *buffer) { return buffer ? buffer->bytes.size() : 0; }

void mnemo_faiss_buffer_free(mnemo_faiss_buffer_t *buffer) { delete buffer; }

void mnemo_faiss_set_num_threads(int32_t count) {
    if (count > 0) omp_set_num_threads(count);
}

int32_t mnemo_faiss_get_num_threads(void) { return omp_get_max_threads(); }

} // extern "C"
