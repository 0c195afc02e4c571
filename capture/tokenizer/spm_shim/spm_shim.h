// The C interface of libheadscope_spm_shim.so, the only code that links Debian's libsentencepiece.
// libsentencepiece carries (and exports) its own protobuf 3.14 runtime, which clashes with the
// protobuf 3.21 that libtorch loads: whichever comes first in the process's symbol order breaks the
// other (a crash at start-up, or "compiled against 3.14" at model load). So the tokenizer library
// dlopen()s this shim with RTLD_LOCAL | RTLD_DEEPBIND: sentencepiece then binds to its own copies and
// stays invisible to everything else. Buffers returned here are malloc'd; free them with hs_spm_free.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hs_spm_model hs_spm_model;

// Loads a serialized ModelProto; on failure returns NULL and a malloc'd message in *error.
hs_spm_model* hs_spm_load(const char* bytes, size_t size, char** error);
void hs_spm_release(hs_spm_model* model);
void hs_spm_free(void* buffer);

int32_t hs_spm_piece_count(const hs_spm_model* model);
int32_t hs_spm_bos_id(const hs_spm_model* model);  // -1 when none
int32_t hs_spm_eos_id(const hs_spm_model* model);
// 0 on success: *ids (malloc'd) and *count; else a malloc'd message in *error.
int hs_spm_encode(const hs_spm_model* model, const char* text, size_t size, int32_t** ids, size_t* count, char** error);
int hs_spm_decode(const hs_spm_model* model, const int32_t* ids, size_t count, char** text, size_t* size, char** error);
// The piece of an id (malloc'd, NUL-terminated) and its kind.
char* hs_spm_piece(const hs_spm_model* model, int32_t id);
int hs_spm_is_byte(const hs_spm_model* model, int32_t id);
int hs_spm_is_control(const hs_spm_model* model, int32_t id);
int hs_spm_is_unknown(const hs_spm_model* model, int32_t id);

#ifdef __cplusplus
}
#endif
