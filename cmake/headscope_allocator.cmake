# A caching allocator for the programs that run models. glibc's malloc hands large blocks back to the kernel
# after every tensor op, and fresh pages cost ~0.34 GB/s to fault in on these machines, so a forward pass
# spends its time zeroing pages; tcmalloc keeps them (Llama-3.2-1B shape: 1.9x faster, docs/benchmarks.md).
# Debian's libtcmalloc-minimal4 (installed by scripts/install-deps.sh) ships only the versioned .so.
option(HEADSCOPE_WITH_TCMALLOC "Link the headscope executable and the benchmarks with tcmalloc when found" ON)
find_library(HEADSCOPE_TCMALLOC_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4)

function(headscope_link_allocator target)
  if(HEADSCOPE_WITH_TCMALLOC AND HEADSCOPE_TCMALLOC_LIBRARY AND NOT HEADSCOPE_SANITIZE AND NOT HEADSCOPE_FUZZ)
    # No symbol of it is named by our code: keep it as a dependency so its malloc comes before glibc's.
    # Not in sanitizer or fuzz builds: AddressSanitizer brings its own malloc.
    target_link_libraries(${target} PRIVATE -Wl,--push-state,--no-as-needed ${HEADSCOPE_TCMALLOC_LIBRARY}
                                            -Wl,--pop-state)
  endif()
endfunction()
